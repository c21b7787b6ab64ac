"""Hostile and broken checkpoint files through `core.checkpoint`.

Every file is refused with a one-line `CheckpointError` naming the file, nothing inside a file ever
runs (pickle payloads leave no marker), and no file can make the loader allocate a network larger than
the bytes it stores.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from g2g_desktop.core.checkpoint import load_generator, load_generator_with_info
from g2g_desktop.core.funit_files import load_funit_discriminator, load_funit_generators
from g2g_desktop.core.images import display_name
from g2g_desktop.core.safe_io import CheckpointError, safe_torch_load
from tests.factories import run_limited, tiny_funit_generator

pytestmark = pytest.mark.timeout(30)


class Payload:
    """Unpickling this object runs a shell command that creates `marker`."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


class ExecPayload:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


def refused(load, path, *words: str) -> str:
    """Assert `load(path)` raises a one-line CheckpointError naming `path` with one of `words`."""
    with pytest.raises(CheckpointError) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(display_name(path) + ": "), message
    assert any(w.lower() in message.lower() for w in words), f"{message!r} lacks any of {words}"
    return message


# --------------------------------------------------------------------------- code execution


@pytest.mark.parametrize("payload_cls", [Payload, ExecPayload])
@pytest.mark.parametrize("container", ["raw_pickle", "raw_pickle_p5", "torch_zip", "torch_legacy", "nested"])
def test_pickle_payloads_never_run(tmp_path, payload_cls, container):
    marker = tmp_path / "PAYLOAD_RAN"
    payload = payload_cls(marker)
    path = tmp_path / "gen_00001000.pt"
    if container == "raw_pickle":
        path.write_bytes(pickle.dumps({"gen": payload}, protocol=2))
    elif container == "raw_pickle_p5":
        path.write_bytes(pickle.dumps(payload, protocol=5))
    elif container == "torch_zip":
        torch.save({"gen": payload, "gen_test": payload}, path)
    elif container == "torch_legacy":
        torch.save({"gen": payload}, path, _use_new_zipfile_serialization=False)
    else:  # a real state dict with one poisoned entry deep inside
        state = tiny_funit_generator().state_dict()
        state["mlp.model.0.fc.weight"] = payload
        torch.save({"gen": state, "gen_test": state}, path)
    for load in (load_generator, load_funit_generators, load_funit_discriminator, safe_torch_load):
        refused(load, path, "refused", "not a readable")
        assert not marker.exists(), f"{load.__name__} executed the payload"
    assert "refused" in refused(load_generator, path, "refused")


def test_payload_would_run_with_plain_pickle(tmp_path):
    """Guard for the test above: the payload is real (plain pickle.loads does run it)."""
    marker = tmp_path / "PAYLOAD_RAN"
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.exists()


# --------------------------------------------------------------------------- FUNIT .pt files


def test_overlapping_strides_cannot_declare_a_giant_network(tmp_path):
    """A 10 kB file whose stride-0 tensors describe a FUNIT generator of ~140 GB: refused before any
    network is built (it used to crash with an allocation error or exhaust memory)."""
    state = {
        k: torch.zeros(1).expand(v.shape[0] * 4096, *v.shape[1:]) if v.dim() else v
        for k, v in tiny_funit_generator().state_dict().items()
    }
    path = tmp_path / "gen_00000001.pt"
    torch.save({"gen": state}, path)
    assert path.stat().st_size < 100_000
    start = time.perf_counter()
    refused(load_generator, path, "overlapping strides")
    assert time.perf_counter() - start < 5


def _funit_file(tmp_path, name, data):
    path = tmp_path / name
    torch.save(data, path)
    return path


def test_funit_files_with_missing_or_wrong_entries(tmp_path):
    good = tiny_funit_generator().state_dict()
    missing = {k: v for k, v in good.items() if not k.startswith("dec.")}
    cut = {k: v for k, v in good.items() if k != "mlp.model.1.fc.bias"}
    extra = {**good, "surprise.weight": torch.zeros(3)}
    conv = next(k for k, v in good.items() if k.startswith("dec.") and v.dim() == 4)
    reshaped = {**good, conv: good[conv].flatten()}
    nan = {k: v.clone() for k, v in good.items()}
    nan[next(k for k, v in nan.items() if v.is_floating_point())].view(-1)[0] = float("nan")
    ints = {k: v.to(torch.int64) if v.is_floating_point() else v for k, v in good.items()}
    cases = {
        "no_gen_keys": ({"model": good}, ["expected keys 'gen'/'gen_test'"]),
        "list": ([good], ["expected keys"]),
        "tensor_as_gen": ({"gen": torch.zeros(3)}, ["does not look like a FUNIT generator", "state dict"]),
        "missing_decoder": ({"gen": missing}, ["does not look like", "missing keys"]),
        "one_key_missing": ({"gen": cut, "gen_test": good}, ["missing keys: mlp.model.1.fc.bias"]),
        "extra_key": ({"gen": extra}, ["unexpected keys: surprise.weight"]),
        "wrong_shape": ({"gen": reshaped}, ["has shape", "does not look like"]),
        "nan_weights": ({"gen_test": nan}, ["NaN or Inf"]),
        "integer_weights": ({"gen": ints}, ["floating-point"]),
        "empty_dict": ({}, ["expected keys"]),
        "strings": ({"gen": {"enc_content.model.0.conv.weight": "x"}}, ["does not look like", "not a tensor"]),
    }
    for name, (data, words) in cases.items():
        refused(load_generator, _funit_file(tmp_path, f"{name}.pt", data), *words)


def test_discriminator_file_with_missing_keys(tmp_path):
    path = _funit_file(tmp_path, "dis_00000001.pt", {"dis": {"cnn_f.0.conv.weight": torch.zeros(8, 3, 7, 7)}})
    refused(load_funit_discriminator, path, "does not look like a FUNIT discriminator")
    refused(load_funit_discriminator, _funit_file(tmp_path, "d.pt", {"gen": {}}), "expected key 'dis'")


def test_truncated_and_garbage_torch_files(tmp_path, tiny_model_files):
    _, funit = tiny_model_files
    data = funit.read_bytes()
    for fraction in (0.05, 0.5, 0.95):
        path = tmp_path / f"cut_{fraction}.pt"
        path.write_bytes(data[: int(len(data) * fraction)])
        refused(load_generator, path, "truncated", "corrupt", "not a readable")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"PK\x03\x04" + os.urandom(2000))
    refused(load_generator, garbage, "not a readable", "corrupt")
    pickled_junk = tmp_path / "junk.pt"
    pickled_junk.write_bytes(b"\x80\x04" + os.urandom(500))
    refused(load_generator, pickled_junk, "not a readable", "refused")


# --------------------------------------------------------------------------- files that are not files


def test_empty_missing_directory_and_unknown(tmp_path):
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    refused(load_generator, empty, "empty")
    refused(load_generator, tmp_path / "missing.pt", "not found")
    folder = tmp_path / "model.safetensors"
    folder.mkdir()
    refused(load_generator, folder, "directory")
    text = tmp_path / "notes.pt"
    text.write_text("just some text\n")
    refused(load_generator, text, "unrecognised file")
    loop = tmp_path / "loop.pt"
    loop.symlink_to(loop)
    refused(load_generator, loop, "not found", "symbolic")


def test_non_utf8_and_newline_names_give_printable_one_line_messages(tmp_path):
    for raw in (b"model_\xff\xfe.pt", b"two\nlines.pt"):
        path = os.path.join(os.fsencode(tmp_path), raw)
        with open(path, "wb") as fh:
            fh.write(b"")
        with pytest.raises(CheckpointError) as info:
            load_generator(os.fsdecode(path))
        message = str(info.value)
        message.encode("utf-8")
        assert "\n" not in message and "empty" in message


# --------------------------------------------------------------------------- safetensors files


def _split(path: Path) -> tuple[dict, bytes]:
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


def _write(path: Path, header: dict, body: bytes) -> Path:
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + body)
    return path


def _with_meta(header: dict, **changes) -> dict:
    header = json.loads(json.dumps(header))
    meta = json.loads(header["__metadata__"]["g2g"])
    for key, value in changes.items():
        if value is None:
            meta.pop(key, None)
        elif key == "config":
            meta["config"] = {**meta["config"], **value}
        else:
            meta[key] = value
    header["__metadata__"]["g2g"] = json.dumps(meta)
    return header


def test_safetensors_headers_that_lie_about_the_data(tmp_path, tiny_model_files):
    model, _ = tiny_model_files
    header, body = _split(model)
    first = next(k for k in header if k != "__metadata__")

    def edit(**field):
        h = json.loads(json.dumps(header))
        h[first].update(field)
        return h

    cases = {
        "offset_past_end": (edit(data_offsets=[0, 10**15]), body, ["not a valid safetensors"]),
        "huge_shape": (edit(shape=[10**6, 10**6]), body, ["not a valid safetensors"]),
        "negative_shape": (edit(shape=[-1]), body, ["not a valid safetensors"]),
        "f16_same_bytes": (edit(dtype="F16"), body, ["not a valid safetensors"]),
        "unknown_dtype": (edit(dtype="Q99"), body, ["not a valid safetensors"]),
        "int32_weights": (edit(dtype="I32"), body, ["floating-point"]),
        "truncated_body": (header, body[: len(body) // 2], ["not a valid safetensors"]),
        "no_metadata": ({k: v for k, v in header.items() if k != "__metadata__"}, body, ["without G2G metadata"]),
    }
    for name, (h, b, words) in cases.items():
        refused(load_generator, _write(tmp_path / f"{name}.safetensors", h, b), *words)
    huge_len = tmp_path / "huge_header_len.safetensors"
    huge_len.write_bytes(struct.pack("<Q", 2**62) + b"{}")
    refused(load_generator, huge_len, "not a valid safetensors")
    cut = tmp_path / "cut_header.safetensors"
    cut.write_bytes(model.read_bytes()[:40])
    refused(load_generator, cut, "not a valid safetensors", "unrecognised")


def test_wrong_shapes_and_dtypes_from_real_tensors(tmp_path, tiny_model_files):
    model, _ = tiny_model_files
    header, _ = _split(model)
    gen, _ = load_generator_with_info(model)
    state = {k: v.clone() for k, v in gen.state_dict().items()}
    key = next(k for k, v in state.items() if v.dim() == 4)
    meta = header["__metadata__"]
    for name, change, words in [
        ("transposed", lambda s: s.__setitem__(key, s[key].transpose(0, 1).contiguous()), ["has shape"]),
        ("bool", lambda s: s.__setitem__(key, s[key] > 0), ["floating-point"]),
        ("inf", lambda s: s[key].view(-1).__setitem__(0, float("inf")), ["NaN or Inf"]),
        ("missing", lambda s: s.pop(key), ["missing keys"]),
    ]:
        broken = {k: v.clone() for k, v in state.items()}
        change(broken)
        path = tmp_path / f"{name}.safetensors"
        save_file(broken, str(path), metadata=meta)
        refused(load_generator, path, *words)
    wide = {k: v.double() for k, v in state.items()}
    path = tmp_path / "float64.safetensors"
    save_file(wide, str(path), metadata=meta)
    assert next(load_generator(path).parameters()).dtype == torch.float32  # works, converted


@pytest.mark.parametrize(
    ("name", "changes", "words"),
    [
        ("huge_width", {"config": {"nf": 10**6, "max_nf": 10**6}}, ["has shape"]),
        ("huge_code", {"config": {"content_dim": 10**9}}, ["has shape", "out of range"]),
        ("many_blocks", {"config": {"n_downs": 100_000}}, ["more layers", "invalid architecture"]),
        ("other_architecture", {"architecture": "funit", "config": {}}, ["invalid architecture", "missing keys"]),
        ("unknown_architecture", {"architecture": "stylegan9"}, ["unknown architecture"]),
        ("float_width", {"config": {"nf": 8.0}}, ["must be a whole number"]),
        ("bool_width", {"config": {"nf": True}}, ["must be a whole number"]),
        ("unknown_field", {"config": {"evil": 1}}, ["unknown field"]),
        ("zero_width", {"config": {"nf": 0}}, ["positive"]),
        ("future_version", {"format_version": 99}, ["newer than this program"]),
        ("other_format", {"format": "pickle"}, ["unknown model format"]),
        ("no_config", {"config": None}, ["lacks 'architecture' and 'config'"]),
        ("negative_step", {"step": -5}, ["non-negative integer"]),
        ("string_step", {"step": "12"}, ["non-negative integer"]),
        ("list_provenance", {"provenance": [1, 2]}, ["must be an object"]),
    ],
)
def test_metadata_that_lies_about_the_architecture(tmp_path, tiny_model_files, name, changes, words):
    model, _ = tiny_model_files
    header, body = _split(model)
    path = _write(tmp_path / f"{name}.safetensors", _with_meta(header, **changes), body)
    start = time.perf_counter()
    refused(load_generator, path, *words)
    assert time.perf_counter() - start < 5, "refusing a lying file must not build the network it describes"


def test_many_layers_for_funit_metadata_are_refused_before_building(tmp_path, tiny_model_files):
    """n_res_blks=100000 would take minutes just to build an empty skeleton."""
    _, funit = tiny_model_files
    from g2g_desktop.core.model_file import save_model

    model = tmp_path / "funit.safetensors"
    save_model(model, load_generator(funit))
    header, body = _split(model)
    path = _write(tmp_path / "lie.safetensors", _with_meta(header, config={"n_res_blks": 100_000}), body)
    start = time.perf_counter()
    refused(load_generator, path, "more layers")
    assert time.perf_counter() - start < 2


@pytest.mark.parametrize(
    "text",
    ["", "not json", "[1, 2]", "null", "{", '"string"', "[" * 100_000 + "]" * 100_000, "x" * (2 << 20)],
    ids=["empty", "not_json", "list", "null", "open_brace", "string", "deep_nesting", "oversized"],
)
def test_garbage_metadata_json(tmp_path, tiny_model_files, text):
    model, _ = tiny_model_files
    header, body = _split(model)
    header = json.loads(json.dumps(header))
    header["__metadata__"]["g2g"] = text
    path = _write(tmp_path / "garbage_meta.safetensors", header, body)
    refused(load_generator, path, "metadata", "not a valid safetensors")


@pytest.mark.timeout(120)
def test_astronomical_layer_counts_are_refused_without_computing_them(tmp_path, tiny_model_files):
    """n_downs=2**40 made the config's divisibility check compute 2**(2**40), a 128 GB integer: a 2 kB
    model file could exhaust the machine's memory. Run in a memory-limited child in case it regresses."""
    model, _ = tiny_model_files
    header, body = _split(model)
    lies = {"downs": {"n_downs": 2**40}, "negative": {"n_downs": -(2**40)}, "width": {"nf": 2**62}}
    paths = [_write(tmp_path / f"{k}.safetensors", _with_meta(header, config=v), body) for k, v in lies.items()]
    code = (
        "import sys\n"
        "from g2g_desktop.core.checkpoint import load_generator\n"
        "from g2g_desktop.core.safe_io import CheckpointError\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        load_generator(path)\n"
        "    except CheckpointError as e:\n"
        "        print('REFUSED', e)\n"
    )
    proc = run_limited(code.replace("sys.argv[1:]", repr([str(p) for p in paths])))
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert len(lines) == 3 and all(line.startswith("REFUSED") and "out of range" in line for line in lines), lines


def test_atomic_writes_get_ordinary_file_modes(tmp_path):
    """Files written through the temp-file-and-rename path used to keep mkstemp's 0600: a saved model or
    config was unreadable to the user's group. New files now get 0666 minus the umask, replaced files keep
    their mode."""
    from g2g_desktop.core.safe_io import atomic_write

    umask = os.umask(0o022)
    os.umask(umask)
    fresh = tmp_path / "fresh.json"
    atomic_write(fresh, lambda tmp: Path(tmp).write_text("{}"))
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask
    kept = tmp_path / "kept.json"
    kept.write_text("old")
    kept.chmod(0o640)
    atomic_write(kept, lambda tmp: Path(tmp).write_text("new"))
    assert kept.stat().st_mode & 0o777 == 0o640 and kept.read_text() == "new"


def test_cli_info_and_mix_refuse_hostile_models_in_one_line(tmp_path, tiny_model_files, capsys):
    """The same files through `g2g-desktop info` / `mix --model`: exit status 2 and one line, nothing run."""
    from g2g_desktop import cli

    model, _ = tiny_model_files
    marker = tmp_path / "PAYLOAD_RAN"
    evil = tmp_path / "gen_00000001.pt"
    torch.save({"gen": Payload(marker)}, evil)
    header, body = _split(model)
    lying = _write(tmp_path / "lying.safetensors", _with_meta(header, config={"nf": 10**6, "max_nf": 10**6}), body)
    truncated = tmp_path / "cut.safetensors"
    truncated.write_bytes(model.read_bytes()[:1000])
    folder = tmp_path / "folder.pt"
    folder.mkdir()
    image = tmp_path / "a.png"
    from PIL import Image

    Image.new("RGB", (32, 32), (10, 200, 30)).save(image)
    for path in (evil, lying, truncated, folder):
        for argv in (["info", str(path)], ["mix", str(image), str(image), "-o", str(tmp_path / "o.png"),
                                            "--model", str(path)]):  # fmt: skip
            assert cli.main(argv) == 2
            err = capsys.readouterr().err
            assert len(err.splitlines()) == 1 and err.startswith("g2g-desktop: error: ") and path.name in err, err
    assert not marker.exists()
