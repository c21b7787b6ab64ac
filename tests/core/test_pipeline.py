import pytest
import torch

from g2g_desktop.core.pipeline import ALPHA_LIMITS, G2GPipeline


@pytest.fixture(params=["funit", "naive"])
def setup(request, tiny_funit, tiny_naive, images):
    gen = tiny_funit if request.param == "funit" else tiny_naive
    return gen, G2GPipeline(gen, "cpu"), images


def G(gen, content_img, class_img):
    with torch.no_grad():
        return gen.decode(gen.encode_content(content_img), gen.encode_class(class_img))


def test_run_follows_the_g2g_equations(setup):
    gen, pipe, x = setup
    x1, x2 = x[0:1], x[1:2]
    result = pipe.run(x[0], x[1])
    assert result.original.shape == result.mixed.shape == result.reconstructed.shape == (2, 3, 32, 32)
    m1, m2 = G(gen, x1, x2), G(gen, x2, x1)
    torch.testing.assert_close(result.mixed[0], m1[0], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(result.mixed[1], m2[0], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(result.reconstructed[0], G(gen, m1, m2)[0], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(result.reconstructed[1], G(gen, m2, m1)[0], atol=1e-5, rtol=1e-4)
    assert result.grid().shape == (3, 3 * 32 + 4 * 2, 2 * 32 + 3 * 2)


def test_identical_inputs_mix_to_the_short_reconstruction(setup):
    gen, pipe, x = setup
    result = pipe.run(x[0], x[0])
    gxx = G(gen, x[:1], x[:1])[0]
    torch.testing.assert_close(result.mixed[0], gxx, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(pipe.reconstruct(x[0]), gxx, atol=1e-5, rtol=1e-4)


def test_batched_pairs_match_single_pairs(setup):
    _, pipe, x = setup
    batched = pipe.run(x[:2], x[2:])
    assert batched.mixed.shape == (2, 2, 3, 32, 32)
    single = pipe.run(x[1], x[3])
    torch.testing.assert_close(batched.mixed[:, 1], single.mixed, atol=1e-5, rtol=1e-4)


def test_fade_endpoints_equal_unmixed_and_mixed_decodes(setup):
    gen, pipe, x = setup
    at0 = pipe.fade(x[0], x[1], 0.0)
    at1 = pipe.fade(x[0], x[1], 1.0)
    torch.testing.assert_close(at0[0], G(gen, x[:1], x[:1])[0], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(at0[1], G(gen, x[1:2], x[1:2])[0], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(at1, pipe.run(x[0], x[1]).mixed, atol=1e-5, rtol=1e-4)
    middle = pipe.fade(x[0], x[1], 0.5)
    assert not torch.allclose(middle, at0) and not torch.allclose(middle, at1)


def test_fade_decodes_from_cached_codes_only(setup):
    gen, pipe, x = setup
    pipe.run(x[0], x[1])
    calls = []
    handle = gen.register_forward_pre_hook(lambda *a: calls.append(1))
    enc_calls = []
    hooks = [
        m.register_forward_pre_hook(lambda *a: enc_calls.append(1))
        for name, m in gen.named_children()
        if name in ("enc_content", "enc_class_model", "enc_a", "enc_b")
    ]
    pipe.fade(x[0], x[1], 0.3, 0.7)
    handle.remove()
    for h in hooks:
        h.remove()
    assert enc_calls == [], "a fade must not run the encoders"


def test_fade_frames_and_alpha_limits(setup):
    _, pipe, x = setup
    frames = pipe.fade_frames(x[0], x[1], [0.0, 0.5, 1.0])
    assert frames.shape == (3, 3, 32, 32)
    far = pipe.fade(x[0], x[1], 100.0)
    torch.testing.assert_close(far, pipe.fade(x[0], x[1], ALPHA_LIMITS[1]))
    with pytest.raises(ValueError, match="finite"):
        pipe.fade(x[0], x[1], float("nan"))


def test_people_stand_for_their_side_alike_in_run_fade_and_fade_frames(setup):
    """K-shot: a side's identity is the mean class code of its person's images, in all three decodes."""
    gen, pipe, x = setup
    person2 = x[2:4]  # person 2's images; side 1 keeps its own image's code
    with torch.no_grad():
        rest1, rest2 = gen.encode_content(x[:1]), gen.encode_content(x[1:2])
        mean2 = gen.encode_class(person2).mean(0, keepdim=True)
        m1, m2 = gen.decode(rest1, mean2), gen.decode(rest2, gen.encode_class(x[:1]))
    run = pipe.run(x[0], x[1], (None, person2))
    torch.testing.assert_close(run.mixed, torch.cat([m1, m2]), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(pipe.fade(x[0], x[1], 1.0, people=(None, person2)), run.mixed, atol=1e-5, rtol=1e-4)
    frames = pipe.fade_frames(x[0], x[1], [0.0, 1.0], people=(None, person2))
    torch.testing.assert_close(frames[1], m1[0], atol=1e-5, rtol=1e-4)
    assert not torch.allclose(frames[1], pipe.fade_frames(x[0], x[1], [1.0])[0], atol=1e-4)  # not x2's own code
    # the fade cache keys a person by their images: the plain pair at α=1 is not served from the K-shot entry
    torch.testing.assert_close(pipe.fade(x[0], x[1], 1.0), pipe.run(x[0], x[1]).mixed, atol=1e-5, rtol=1e-4)


def test_matrix_rows_are_rest_and_columns_identity(setup):
    gen, pipe, x = setup
    m = pipe.matrix(x, batch_size=5)
    assert m.shape == (4, 4, 3, 32, 32)
    for i in range(4):
        torch.testing.assert_close(m[i, i], G(gen, x[i : i + 1], x[i : i + 1])[0], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(m[2, 0], G(gen, x[2:3], x[0:1])[0], atol=1e-5, rtol=1e-4)


def test_codes_are_cached_per_image(setup):
    _, pipe, x = setup
    pipe.run(x[0], x[1])
    assert pipe.cached_count == 2
    pipe.run(x[1], x[0])
    assert pipe.cached_count == 2
    pipe.clear_cache()
    assert pipe.cached_count == 0


def test_non_finite_inputs_are_rejected(setup):
    _, pipe, x = setup
    bad = x[0].clone()
    bad[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        pipe.run(bad, x[1])


def test_the_cpu_label_counts_threads_in_plain_english():
    from g2g_desktop.core.device import pick_device, torch_threads

    with torch_threads(1):
        assert pick_device("cpu").label == "CPU (1 thread)"  # the training log said "CPU (1 threads)"
    with torch_threads(2):
        assert pick_device("cpu").label == "CPU (2 threads)"
