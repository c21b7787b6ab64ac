"""Property-based fuzzing of every parser that reads user-controlled bytes or text.

Each target has one allowed failure type (`ImageLoadError`, `CheckpointError`; the trainer's config parser,
`TrainConfigError`, is fuzzed in tests/trainer/test_config_fuzz.py);
anything else escaping is a bug that would reach the user as a traceback. Example counts are sized so
the whole file stays well under 30 s on two cores; the checkpoint target is bounded to ~20 s.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from g2g_desktop.core.checkpoint import load_generator
from g2g_desktop.core.generator import DisentanglingGenerator
from g2g_desktop.core.images import ImageLoadError, decode_image, pil_to_tensor
from g2g_desktop.core.model_file import parse_model_metadata
from g2g_desktop.core.safe_io import CheckpointError
from tests.factories import TINY_NAIVE_SIZES, run_limited, tiny_funit_generator, tiny_naive_generator

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _seed_images() -> list[bytes]:
    base = Image.new("RGB", (12, 10), (200, 30, 30))
    base.paste((30, 30, 200), (6, 0, 12, 10))
    out = []
    for fmt, mode, params in [
        ("PNG", "RGB", {}),
        ("PNG", "P", {}),
        ("PNG", "RGBA", {}),
        ("JPEG", "RGB", {"quality": 80}),
        ("GIF", "P", {}),
        ("BMP", "RGB", {}),
        ("TIFF", "CMYK", {}),
        ("WEBP", "RGB", {"lossless": True}),
    ]:
        buf = io.BytesIO()
        base.convert(mode).save(buf, fmt, **params)
        out.append(buf.getvalue())
    return out


SEED_IMAGES = _seed_images()


def mutate(data: bytes, rnd: random.Random, edits: int) -> bytes:
    """Byte flips, overwrites with boundary values, insertions, deletions and truncation."""
    buf = bytearray(data)
    for _ in range(edits):
        if not buf:
            break
        i = rnd.randrange(len(buf))
        op = rnd.randrange(5)
        if op == 0:
            buf[i] ^= 1 << rnd.randrange(8)
        elif op == 1:
            buf[i] = rnd.choice([0x00, 0x01, 0x7F, 0x80, 0xFF])
        elif op == 2:
            buf[i:i] = rnd.randbytes(rnd.randrange(1, 9))
        elif op == 3:
            del buf[i : i + rnd.randrange(1, 9)]
        else:
            del buf[i:]
    return bytes(buf)


def check_decoded(data: bytes) -> None:
    try:
        image = decode_image(data, "fuzz.png")
    except ImageLoadError as error:
        assert "\n" not in str(error) and str(error).startswith("fuzz.png: ")
        return
    assert image.mode == "RGB" and min(image.size) >= 1
    x = pil_to_tensor(image)
    assert torch.isfinite(x).all() and x.min() >= -1 and x.max() <= 1


# --------------------------------------------------------------------------- image decoder


@pytest.mark.timeout(60)
@FAST
@given(st.binary(max_size=2048))
@example(b"")
@example(b"\x89PNG\r\n\x1a\n")
@example(b"GIF89a")
@example(b"\xff\xd8\xff")
def test_decode_arbitrary_bytes(data):
    check_decoded(data)


@pytest.mark.timeout(60)
@FAST
@given(st.sampled_from(range(len(SEED_IMAGES))), st.integers(0, 2**32 - 1), st.integers(1, 12))
@example(6, 2536, 2)  # a TIFF whose strip offset became a rational: Pillow raised TypeError, not OSError
def test_decode_mutated_valid_images(index, seed, edits):
    check_decoded(mutate(SEED_IMAGES[index], random.Random(seed), edits))


# --------------------------------------------------------------------------- model metadata

VALID_META = {
    "format": "g2g-desktop-model",
    "format_version": 1,
    "architecture": "naive",
    "config": dict(TINY_NAIVE_SIZES),
    "approach": "naive",
    "step": 3,
    "provenance": {},
}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def check_metadata(raw) -> None:
    try:
        meta = parse_model_metadata(raw, Path("fuzz.safetensors"))
    except CheckpointError as error:
        assert str(error).startswith("fuzz.safetensors: ") and "\n" not in str(error)
        return
    assert meta["config_obj"].to_dict() == {**type(meta["config_obj"])().to_dict(), **meta["config"]}


@pytest.mark.timeout(60)
@FAST
@given(st.text(max_size=300))
def test_metadata_arbitrary_text(text):
    check_metadata({"g2g": text})


@pytest.mark.timeout(60)
@FAST
@given(st.dictionaries(st.sampled_from([*VALID_META, "config.nf", "extra"]), json_values, max_size=4))
def test_metadata_valid_document_with_fields_replaced(changes):
    meta = dict(VALID_META)
    for key, value in changes.items():
        if key.startswith("config.") and isinstance(meta["config"], dict):
            meta["config"] = {**meta["config"], key.split(".", 1)[1]: value}
        else:
            meta[key] = value
    check_metadata({"g2g": json.dumps(meta, allow_nan=True)})


@pytest.mark.timeout(60)
@FAST
@given(st.dictionaries(st.sampled_from(list(TINY_NAIVE_SIZES)), st.integers(-(2**21), 2**21), max_size=3))
def test_metadata_integer_sizes(config):
    check_metadata({"g2g": json.dumps({**VALID_META, "config": {**TINY_NAIVE_SIZES, **config}})})


# --------------------------------------------------------------------------- checkpoint files


@pytest.fixture(scope="module")
def seed_checkpoints(tmp_path_factory):
    from g2g_desktop.core.funit_files import save_funit_generators
    from g2g_desktop.core.model_file import save_model

    root = tmp_path_factory.mktemp("fuzz_seeds")
    save_model(root / "m.safetensors", tiny_naive_generator(), step=1)
    save_funit_generators(root / "gen.pt", tiny_funit_generator(), tiny_funit_generator())
    return [(root / "m.safetensors").read_bytes(), (root / "gen.pt").read_bytes()]


CHECKPOINT_EXAMPLES = int(os.environ.get("G2G_FUZZ_EXAMPLES", "500"))


@pytest.mark.timeout(max(120, CHECKPOINT_EXAMPLES // 5))
def test_checkpoint_loading_mutated_files(seed_checkpoints, tmp_path):
    """Mutated tiny checkpoints (~10 s at the default 500 examples; header-focused edits hit the JSON
    header and the zip directory more often than uniform edits would). G2G_FUZZ_EXAMPLES=20000 runs longer."""

    @settings(max_examples=CHECKPOINT_EXAMPLES, deadline=None, database=None)
    @given(st.sampled_from([0, 1]), st.integers(0, 2**32 - 1), st.integers(1, 6), st.booleans())
    def target(which, seed, edits, near_start):
        rnd = random.Random(seed)
        data = seed_checkpoints[which]
        if near_start:
            head = min(len(data), 600)
            data = mutate(data[:head], rnd, edits) + data[head:]
        else:
            data = mutate(data, rnd, edits)
        path = tmp_path / ("f.safetensors" if which == 0 else "gen_00000001.pt")
        path.write_bytes(data)
        try:
            generator = load_generator(path)
        except CheckpointError as error:
            assert "\n" not in str(error) and str(error).startswith(str(path))
            return
        assert isinstance(generator, DisentanglingGenerator)

    target()


@pytest.mark.timeout(60)
def test_astronomical_layer_count_is_a_config_error():
    """validate() used to compute 2**n_downs before bounding n_downs (a 128 GB integer for 2**40). Run in a
    memory-limited child that imports config.py alone (no torch), so a regression fails fast."""
    code = (
        "import importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location('cfg', 'g2g_desktop/core/config.py')\n"
        "cfg = sys.modules['cfg'] = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(cfg)\n"
        "for cls, key in [(cfg.NaiveConfig, 'n_downs'), (cfg.FunitGeneratorConfig, 'n_downs_class')]:\n"
        "    try:\n"
        "        cls.from_dict({key: 2**40})\n"
        "    except cfg.ConfigError as e:\n"
        "        print('REFUSED', e)\n"
    )
    try:
        proc = run_limited(code, memory_gb=1.0, timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail("validating n_downs=2**40 still computing after 5 s")
    assert proc.returncode == 0 and proc.stdout.count("REFUSED") == 2, proc.stderr[-500:]
