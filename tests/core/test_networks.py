import json
from pathlib import Path

import pytest
import torch

from g2g_desktop.core.config import ConfigError, FunitDiscriminatorConfig, FunitGeneratorConfig, NaiveConfig
from g2g_desktop.core.funit import FunitDiscriminator, FunitGenerator
from g2g_desktop.core.naive import NaiveGenerator

FACTS = Path(__file__).resolve().parents[3] / "shared" / "funit" / "funit_animals_state_dict.json"


@pytest.fixture(scope="module")
def reference() -> dict:
    if not FACTS.exists():
        pytest.skip(f"{FACTS} not available")
    return json.loads(FACTS.read_text())


def _listing(module: torch.nn.Module) -> list[tuple[str, list[int]]]:
    return [(k, list(v.shape)) for k, v in module.state_dict().items()]


def test_generator_state_dict_equals_funit_animals(reference):
    expected = [(e["key"], e["shape"]) for e in reference["generator_state_dict"]]
    gen = FunitGenerator()
    assert _listing(gen) == expected
    assert sum(p.numel() for p in gen.parameters()) == reference["param_counts"]["gen_total"]
    for part in ("enc_content", "enc_class_model", "mlp", "dec"):
        count = sum(p.numel() for p in getattr(gen, part).parameters())
        assert count == reference["param_counts"][f"gen.{part}"]


def test_discriminator_state_dict_equals_funit_animals(reference):
    expected = [(e["key"], e["shape"]) for e in reference["discriminator_state_dict"]]
    dis = FunitDiscriminator()
    assert _listing(dis) == expected
    assert sum(p.numel() for p in dis.parameters()) == reference["param_counts"]["dis_total"]


def test_funit_shapes_follow_the_facts(tiny_funit):
    cfg = FunitGeneratorConfig(nf=8, n_res_blks=1, nf_mlp=16, latent_dim=8, n_downs_content=3, image_size=64)
    gen = FunitGenerator(cfg)
    x = torch.randn(2, 3, 64, 64)
    content, code = gen.encode_content(x), gen.encode_class(x)
    assert content.shape == (2, 64, 8, 8)
    assert code.shape == (2, 8, 1, 1)
    y = gen.decode(content, code)
    assert y.shape == x.shape and y.abs().max() <= 1


def test_k_shot_class_code_is_the_mean_over_k(tiny_funit):
    x = torch.randn(2, 3, 3, 32, 32)
    with torch.no_grad():
        averaged = tiny_funit.encode_class(x)
        manual = torch.stack([tiny_funit.encode_class(x[:, k]) for k in range(3)]).mean(0)
    torch.testing.assert_close(averaged, manual)


def test_decode_uses_per_sample_codes(tiny_funit, images):
    with torch.no_grad():
        content = tiny_funit.encode_content(images[:2])
        codes = tiny_funit.encode_class(images[:2])
        both = tiny_funit.decode(content, codes)
        first = tiny_funit.decode(content[:1], codes[:1])
    torch.testing.assert_close(both[:1], first, atol=1e-5, rtol=1e-5)


def test_discriminator_outputs_class_map_and_features():
    dis = FunitDiscriminator(FunitDiscriminatorConfig(nf=8, n_res_blks=4, num_classes=5, max_nf=32))
    x = torch.randn(3, 3, 32, 32)
    out, feat = dis(x, torch.tensor([0, 4, 2]))
    assert out.shape == (3, 16, 16)
    assert feat.shape == (3, 32, 16, 16)
    # The features are returned after the LeakyReLU (FUNIT_FACTS §6): negatives are scaled by 0.2.
    raw = dis.cnn_f(x)
    torch.testing.assert_close(feat, torch.nn.functional.leaky_relu(raw, 0.2))
    logits = dis.cnn_c[0].conv(feat)
    torch.testing.assert_close(out[1], logits[1, 4])


def test_identity_shortcut_block_adds_the_activated_input():
    from g2g_desktop.core.blocks import ActFirstResBlock

    block = ActFirstResBlock(4, 4)
    x = torch.randn(1, 4, 8, 8)
    residual = block.conv_1(block.conv_0(x))
    torch.testing.assert_close(block(x), torch.nn.functional.leaky_relu(x, 0.2) + residual)


def test_naive_generator_round_trip_shapes(tiny_naive, images):
    with torch.no_grad():
        a, b = tiny_naive.encode_content(images), tiny_naive.encode_class(images)
        assert a.shape == (4, 16) and b.shape == (4, 8)
        assert tiny_naive.decode(a, b).shape == images.shape


def test_invalid_sizes_are_rejected_with_a_message():
    with pytest.raises(ConfigError, match="divisible"):
        FunitGeneratorConfig(image_size=100).validate()
    with pytest.raises(ConfigError, match="unknown field"):
        FunitGeneratorConfig.from_dict({"nf": 8, "bogus": 1})
    with pytest.raises(ConfigError):
        NaiveGenerator(NaiveConfig(image_size=30))


def test_bad_image_shapes_raise_value_error(tiny_funit):
    with pytest.raises(ValueError, match="B×3×H×W"):
        tiny_funit.encode_content(torch.randn(3, 32, 32))
