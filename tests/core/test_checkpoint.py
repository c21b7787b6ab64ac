import pickle
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from g2g_desktop.core.checkpoint import load_generator, load_generator_with_info
from g2g_desktop.core.config import FunitDiscriminatorConfig, FunitGeneratorConfig
from g2g_desktop.core.funit import FunitDiscriminator, FunitGenerator, init_kaiming
from g2g_desktop.core.funit_files import load_funit_discriminator, save_funit_discriminator, save_funit_generators
from g2g_desktop.core.model_file import save_model
from g2g_desktop.core.safe_io import CheckpointError

ODD_CONFIG = FunitGeneratorConfig(
    nf=12, n_res_blks=3, nf_mlp=20, latent_dim=10, n_mlp_blks=4, n_downs_content=2, n_downs_class=3, image_size=128
)


def _pair(config):
    torch.manual_seed(3)
    gen, ema = FunitGenerator(config), FunitGenerator(config)
    init_kaiming(gen)
    init_kaiming(ema)
    return gen, ema


def test_funit_file_round_trip_infers_sizes_and_prefers_ema(tmp_path):
    gen, ema = _pair(ODD_CONFIG)
    path = tmp_path / "gen_00005000.pt"
    save_funit_generators(path, gen, ema)
    loaded, info = load_generator_with_info(path)
    assert loaded.config == ODD_CONFIG
    assert info.weights == "gen_test" and info.step == 5000 and info.source == "funit"
    for key, value in ema.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    assert not loaded.training
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x, x), ema(x, x))


def test_funit_file_with_only_gen_loads_gen(tmp_path, tiny_funit):
    gen, _ = _pair(tiny_funit.config)
    path = tmp_path / "gen_only.pt"
    torch.save({"gen": gen.state_dict()}, path)
    loaded, info = load_generator_with_info(path)
    assert info.weights == "gen"
    assert torch.equal(loaded.state_dict()["mlp.model.0.fc.weight"], gen.state_dict()["mlp.model.0.fc.weight"])


def test_funit_discriminator_round_trip(tmp_path):
    cfg = FunitDiscriminatorConfig(nf=8, n_res_blks=6, num_classes=7, max_nf=24)
    dis = FunitDiscriminator(cfg)
    save_funit_discriminator(tmp_path / "dis_00000010.pt", dis)
    loaded = load_funit_discriminator(tmp_path / "dis_00000010.pt")
    assert loaded.config == cfg
    x = torch.randn(2, 3, 32, 32)
    y = torch.tensor([1, 6])
    torch.testing.assert_close(loaded(x, y)[0], dis(x, y)[0])


def test_project_model_round_trip(tmp_path, tiny_funit, tiny_naive):
    for net in (tiny_funit, tiny_naive):
        path = tmp_path / f"{net.architecture}.safetensors"
        save_model(path, net, approach="naive", step=42, provenance={"seed": 1})
        loaded, info = load_generator_with_info(path)
        assert type(loaded) is type(net) and loaded.config == net.config
        assert info.step == 42 and info.provenance == {"seed": 1} and info.image_size == 32
        for key, value in net.state_dict().items():
            assert torch.equal(loaded.state_dict()[key], value)


class Payload:
    marker: Path

    def __reduce__(self):
        return (Path.write_text, (self.marker, "payload ran"))


@pytest.mark.parametrize("container", ["torch_zip", "raw_pickle"])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, container):
    marker = tmp_path / "pwned.txt"
    payload = Payload()
    payload.marker = marker
    path = tmp_path / "gen_00000001.pt"
    if container == "torch_zip":
        torch.save({"gen": payload}, path)
    else:
        path.write_bytes(pickle.dumps({"gen": payload}, protocol=2))
    with pytest.raises(CheckpointError) as err:
        load_generator(path)
    assert not marker.exists(), "the pickle payload was executed"
    assert str(path) in str(err.value)
    assert "refused" in str(err.value) or "not a readable" in str(err.value)


def test_truncated_file_names_the_file(tmp_path, tiny_funit):
    path = tmp_path / "gen_00000001.pt"
    save_funit_generators(path, tiny_funit, tiny_funit)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"gen_00000001.pt: .*(truncated|corrupt|not a readable)"):
        load_generator(path)


def test_mismatched_checkpoint_lists_missing_keys_and_shapes(tmp_path, tiny_funit):
    state = tiny_funit.state_dict()
    del state["mlp.model.0.fc.bias"]
    state["dec.model.0.model.0.model.0.conv.bias"] = torch.zeros(3)
    path = tmp_path / "broken.pt"
    torch.save({"gen": state}, path)
    with pytest.raises(CheckpointError) as err:
        load_generator(path)
    message = str(err.value)
    assert "missing keys: mlp.model.0.fc.bias" in message
    assert "dec.model.0.model.0.model.0.conv.bias has shape (3,)" in message


def test_lying_metadata_is_reported(tmp_path, tiny_funit):
    path = tmp_path / "liar.safetensors"
    save_model(path, tiny_funit)
    tensors = {k: v.contiguous() for k, v in tiny_funit.state_dict().items()}
    import json

    from safetensors import safe_open

    with safe_open(str(path), "pt") as fh:
        meta = json.loads(fh.metadata()["g2g"])
    meta["config"]["nf"] = 16
    save_file(tensors, str(path), metadata={"g2g": json.dumps(meta)})
    with pytest.raises(CheckpointError, match=r"liar.safetensors: weights does not match the model"):
        load_generator(path)


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.mkdir(), "is a folder without model_latest.safetensors"),  # not a run folder
        (lambda p: p.write_bytes(b"hello world, not a model"), "unrecognised"),
        (lambda p: p.write_bytes(struct.pack("<Q", 2**60) + b"{}"), "not a valid safetensors"),
    ],
)
def test_unusable_files_are_named(tmp_path, make, expected):
    path = tmp_path / "model.safetensors"
    make(path)
    with pytest.raises(CheckpointError, match=expected) as err:
        load_generator(path)
    assert str(path) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_generator(tmp_path / "nope.pt")


def _with_header_length(path: Path, length: int) -> None:
    """Rewrite a safetensors file so its JSON header (padded with spaces, as safetensors pads) is `length` bytes."""
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = data[8 : 8 + n].rstrip(b" ")
    assert length >= len(header)
    path.write_bytes(struct.pack("<Q", length) + header + b" " * (length - len(header)) + data[8 + n :])


def test_model_files_open_whatever_the_low_byte_of_their_header_length(tmp_path, tiny_funit):
    """The low byte of a safetensors header length is anything, 0x80 (pickle's PROTO opcode) included."""
    path = tmp_path / "model_latest.safetensors"
    save_model(path, tiny_funit, step=3)
    base = struct.unpack("<Q", path.read_bytes()[:8])[0] + 256
    for low in range(256):
        _with_header_length(path, (base & ~0xFF) + low)
        assert path.read_bytes()[0] == low
        info = load_generator_with_info(path)[1]
        assert info.source == "g2g" and info.step == 3, low


def test_torch_files_are_still_told_apart(tmp_path, tiny_funit):
    state = {"gen": tiny_funit.state_dict()}
    legacy = tmp_path / "gen_legacy.pt"
    torch.save(state, legacy, _use_new_zipfile_serialization=False)
    assert legacy.read_bytes()[:2] == b"\x80\x02"
    assert load_generator_with_info(legacy)[1].source == "funit"
    lookalike = tmp_path / "fake.pt"
    lookalike.write_bytes(b"\x80\x00 not a pickle protocol")
    with pytest.raises(CheckpointError, match="unrecognised"):
        load_generator(lookalike)


def test_model_files_say_which_weights_they_hold(tmp_path, tiny_funit):
    for weights in ("gen_test", "gen"):
        path = tmp_path / f"{weights}.safetensors"
        save_model(path, tiny_funit, weights=weights)
        assert load_generator_with_info(path)[1].weights == weights
    with pytest.raises(ValueError, match="weights must be one of"):
        save_model(tmp_path / "bad.safetensors", tiny_funit, weights="ema")
