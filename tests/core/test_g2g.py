"""The one G2G cross pass (core.g2g) and the callers that must all go through it."""

from __future__ import annotations

import gc
import weakref

import pytest
import torch

from g2g_desktop.core import g2g
from g2g_desktop.core.g2g import cross_pass, mix, noisy, swap_sides
from g2g_desktop.core.pipeline import G2GPipeline


def G(gen, content_img, class_img):
    return gen.decode(gen.encode_content(content_img), gen.encode_class(class_img))


@torch.no_grad()
def test_cross_pass_is_the_papers_equation(tiny_funit, images):
    x1, x2 = images[:2], images[2:]
    p = cross_pass(tiny_funit, x1, x2)
    m1, m2 = G(tiny_funit, x1, x2), G(tiny_funit, x2, x1)
    torch.testing.assert_close(p.x, images)
    torch.testing.assert_close(p.mixed, torch.cat([m1, m2]), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(p.recon, torch.cat([G(tiny_funit, m1, m2), G(tiny_funit, m2, m1)]), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(p.mixed_identity, tiny_funit.encode_class(p.mixed))
    torch.testing.assert_close(mix(tiny_funit, images).mixed, p.mixed)


@torch.no_grad()
def test_given_codes_replace_the_encoding(tiny_naive, images):
    x1, x2 = images[:2], images[2:]
    plain = cross_pass(tiny_naive, x1, x2)
    given = cross_pass(tiny_naive, x1, x2, codes=(plain.content, plain.identity))
    torch.testing.assert_close(given.recon, plain.recon)
    # another class code for side 1 (a person's mean code): side 2's mix carries it
    other = torch.zeros_like(plain.identity)
    swapped = cross_pass(tiny_naive, x1, x2, codes=(plain.content, other))
    torch.testing.assert_close(swapped.mixed[2:], tiny_naive.decode(plain.content[2:], other[:2]))


def test_swap_sides_and_noise():
    t = torch.arange(6)
    assert swap_sides(t).tolist() == [3, 4, 5, 0, 1, 2]
    code = torch.ones(3)
    assert noisy(code, 0.0) is code


@pytest.mark.parametrize("batched", [False, True])
def test_pipeline_run_goes_through_the_one_cross_pass(tiny_funit, images, monkeypatch, batched):
    calls = []
    real = g2g.cross_pass

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr("g2g_desktop.core.pipeline.cross_pass", spy)
    pipe = G2GPipeline(tiny_funit, "cpu")
    result = pipe.run(images[:2], images[2:]) if batched else pipe.run(images[0], images[1])
    assert len(calls) == 1
    with torch.no_grad():
        expected = real(tiny_funit, images[:2], images[2:]) if batched else real(tiny_funit, images[:1], images[1:2])
    n = 2 if batched else 1
    mixed = result.mixed.reshape(2 * n, *result.mixed.shape[-3:])
    torch.testing.assert_close(mixed, expected.mixed, atol=1e-5, rtol=1e-4)


def test_a_dropped_pipeline_is_freed_at_once(tiny_funit, images):
    """The guarded wrapper the pipeline hands to `cross_pass` makes no reference cycle: dropping a
    pipeline (the app switching models) frees it and its codes without waiting for the cyclic GC."""
    pipe = G2GPipeline(tiny_funit, "cpu")
    pipe.run(images[0], images[1])
    pipe.run(images[:2], images[2:])
    ref = weakref.ref(pipe)
    gc.disable()
    try:
        del pipe
        assert ref() is None
    finally:
        gc.enable()
