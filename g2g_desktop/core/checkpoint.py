"""Reading and writing generator checkpoints.

Two formats:
* FUNIT's own files: `gen_XXXXXXXX.pt` = {'gen': ..., 'gen_test': ...} and `dis_XXXXXXXX.pt` =
  {'dis': ...} (FUNIT_FACTS §9). They carry no config, so sizes are inferred from tensor shapes.
* The project's self-describing model file: safetensors weights whose header metadata holds a JSON
  document (architecture + config, approach, image size, normalisation, step, provenance).

Nothing here unpickles arbitrary objects: torch files are read with `weights_only=True`, so a file
that tries to run code is refused before anything runs. Every failure is a `CheckpointError` whose
message names the file and what is wrong with it.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import stat
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from .config import (
    ConfigError,
    FunitDiscriminatorConfig,
    FunitGeneratorConfig,
    GeneratorConfig,
    generator_config_from_dict,
)
from .funit import FunitDiscriminator, FunitGenerator
from .generator import DisentanglingGenerator
from .images import display_name
from .naive import NaiveGenerator

MODEL_FORMAT = "g2g-desktop-model"
MODEL_FORMAT_VERSION = 1
METADATA_KEY = "g2g"
NORMALISATION = {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "range": [-1.0, 1.0]}
MAX_METADATA_BYTES = 1 << 20
MODEL_WEIGHTS = ("gen_test", "gen")  # a model file's `weights`: the EMA copy or the raw training generator


class CheckpointError(Exception):
    """A checkpoint that cannot be used; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{display_name(path)}: {' '.join(problem.split())}")


@dataclass
class ModelInfo:
    """What the UI and CLI show about a loaded model."""

    path: Path
    source: str  # "funit" (official FUNIT file) or "g2g" (project model file)
    architecture: str
    config: dict[str, Any]
    image_size: int
    step: int | None = None
    approach: str | None = None
    weights: str = "gen"  # which copy it holds: 'gen_test' (EMA), 'gen' (raw) or 'unrecorded' (older model files)
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def aligned(self) -> bool:
        """Whether the model was trained on faces aligned by `face_align` (the app and CLI align by default then)."""
        return bool(self.provenance.get("aligned", False))

    @property
    def trained_on(self) -> str:
        """'procedural', 'photos', 'animals' (official FUNIT) or 'unknown': what the model is for."""
        if self.source == "funit":
            return "animals"
        data = self.provenance.get("data")
        if not isinstance(data, str) or not data:
            return "unknown"
        return "procedural" if data.startswith("procedural") else "photos"

    def summary(self) -> str:
        step = "?" if self.step is None else f"{self.step:,}"
        return (
            f"{self.architecture} {self.image_size}px · step {step} · "
            f"{self.approach or self.source} · {self.path.name}"
        )


def build_generator(config: GeneratorConfig) -> DisentanglingGenerator:
    return NaiveGenerator(config) if config.architecture == "naive" else FunitGenerator(config)


# --------------------------------------------------------------------------- safe file access


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Write via `write(tmp_path)` into a temp file beside `path`, fsync it, then rename over `path`.

    A crash or a full disk at any point leaves either the old file or the new one, never a mix.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, _replacement_mode(path))  # mkstemp makes 0600 files; keep what open() would give
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_leftovers(folder: str | os.PathLike) -> list[Path]:
    """Temp files `atomic_write` left in `folder` because its process was killed mid-write."""
    try:
        return sorted(p for p in Path(folder).iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _replacement_mode(path: Path) -> int:
    """The mode of the file being replaced, else that of a new file: 0o666 minus the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask, read without setting it (os.umask would race with threads creating files)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise CheckpointError(path, "file not found")
    if path.is_dir():
        raise CheckpointError(path, "is a directory, not a checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(path, "file is empty (0 bytes)")


def safe_torch_load(path: str | os.PathLike) -> Any:
    """`torch.load` restricted to tensors and plain containers, with errors that name the file."""
    path = Path(path)
    _check_readable(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "Weights only load failed" in first_line or "Unsupported" in str(exc):
            raise CheckpointError(
                path,
                "refused: the file contains Python objects other than tensors (it could run code when "
                "unpickled); nothing from it was executed",
            ) from None
        raise CheckpointError(path, f"not a readable torch file ({first_line})") from None
    except Exception as exc:  # corrupt bytes make the restricted unpickler raise anything (KeyError, ...)
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        zip_damage = "central directory" in message or "failed finding" in message
        if zip_damage or not isinstance(exc, (RuntimeError, OSError)):
            message = f"truncated or corrupt ({message})"
        raise CheckpointError(path, f"not a readable torch checkpoint: {message}") from None


ZIP_MAGIC = b"PK\x03\x04"  # torch.save's default (zip) container
PICKLE_PROTOCOLS = range(2, 6)  # legacy torch.save writes protocol 2; `\x80 N` opens every pickle of protocol N >= 2


def _file_kind(path: Path) -> str:
    """'safetensors', 'torch' or 'unknown', from the first bytes of the file (never its name).

    A safetensors file opens with its header length as a little-endian u64 and then `{`; the low byte
    of that length is anything, 0x80 (a pickle's PROTO opcode) included. So a length that fits in the
    file followed by `{` wins over the pickle test; zip magic and `\x80 protocol` come next; an
    implausible length before `{` is still safetensors, so its reader explains what is wrong.
    """
    with open(path, "rb") as fh:
        head = fh.read(9)
        size = os.fstat(fh.fileno()).st_size
    header_opens = len(head) == 9 and head[8:9] == b"{"
    if header_opens and 2 <= int.from_bytes(head[:8], "little") <= size - 8:
        return "safetensors"
    if head[:4] == ZIP_MAGIC or (len(head) >= 2 and head[0] == 0x80 and head[1] in PICKLE_PROTOCOLS):
        return "torch"
    return "safetensors" if header_opens else "unknown"


# --------------------------------------------------------------------------- state-dict checks


def load_state_dict_checked(module: nn.Module, state: Mapping[str, Any], path: Path, what: str) -> None:
    """Strict load that explains itself: missing and unexpected keys, shape and dtype mismatches."""
    check_state_dict(module, state, path, what)
    expected = module.state_dict()
    module.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()}, strict=True)


def build_checked(make: Callable[[], nn.Module], states: Mapping[str, Any], path: Path) -> list[nn.Module]:
    """One network per entry of `states` (what → state dict), built only after every state fits it.

    The sizes come from the file (its metadata or its tensor shapes), so a small hostile file could
    describe a network of terabytes: the shapes are first checked against a skeleton on the meta
    device, which allocates nothing, and memory is spent only on a network the file really fills.
    """
    with torch.device("meta"):
        skeleton = make()
    for what, state in states.items():
        check_state_dict(skeleton, state, path, what)
    nets = []
    for what, state in states.items():
        net = make()
        load_state_dict_checked(net, state, path, what)
        nets.append(net)
    return nets


def check_state_dict(module: nn.Module, state: Mapping[str, Any], path: Path, what: str) -> None:
    """Raise a `CheckpointError` listing every way `state` does not fit `module` (which may be on 'meta')."""
    if not isinstance(state, Mapping):
        raise CheckpointError(path, f"{what}: expected a state dict, found {type(state).__name__}")
    expected = module.state_dict()
    problems = []
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing:
        problems.append(f"missing keys: {_few(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_few(unexpected)}")
    wrong = []
    for key, ref in expected.items():
        value = state.get(key)
        if value is None:
            continue
        if not isinstance(value, torch.Tensor):
            wrong.append(f"{key} is {type(value).__name__}, not a tensor")
        elif value.numel() * value.element_size() > value.untyped_storage().nbytes():
            wrong.append(f"{key} declares {value.numel():,} values but the file stores fewer (overlapping strides)")
        elif tuple(value.shape) != tuple(ref.shape):
            wrong.append(f"{key} has shape {tuple(value.shape)}, model expects {tuple(ref.shape)}")
        elif not value.is_floating_point():
            wrong.append(f"{key} has dtype {value.dtype}, expected a floating-point tensor")
        elif not torch.isfinite(value).all():
            wrong.append(f"{key} contains NaN or Inf")
    if wrong:
        problems.append("; ".join(wrong[:5]) + (f" (+{len(wrong) - 5} more)" if len(wrong) > 5 else ""))
    if problems:
        raise CheckpointError(path, f"{what} does not match the model: " + " | ".join(problems))


def _few(keys: list[str], n: int = 4) -> str:
    return ", ".join(keys[:n]) + (f" (+{len(keys) - n} more)" if len(keys) > n else "")


# --------------------------------------------------------------------------- FUNIT files


def _indexed(state: Mapping[str, Any], pattern: str) -> dict[int, Any]:
    regex = re.compile(pattern)
    found = {}
    for key, value in state.items():
        m = regex.fullmatch(key)
        if m:
            found[int(m.group(1))] = value
    return found


def infer_funit_generator_config(state: Mapping[str, Any], path: Path, image_size: int = 128):
    """Read the sizes of a FUNIT generator from its tensor shapes (FUNIT files carry no config)."""
    try:
        content_convs = _indexed(state, r"enc_content\.model\.(\d+)\.conv\.weight")
        class_convs = _indexed(state, r"enc_class_model\.model\.(\d+)\.conv\.weight")
        res = _indexed(state, r"enc_content\.model\.\d+\.model\.(\d+)\.model\.0\.conv\.weight")
        mlp = _indexed(state, r"mlp\.model\.(\d+)\.fc\.weight")
        final = [v for k, v in state.items() if re.fullmatch(r"enc_class_model\.model\.\d+\.weight", k)]
        config = FunitGeneratorConfig(
            nf=int(content_convs[0].shape[0]),
            n_res_blks=len(res),
            nf_mlp=int(mlp[0].shape[0]),
            latent_dim=int(final[0].shape[0]),
            n_mlp_blks=len(mlp),
            n_downs_content=len(content_convs) - 1,
            n_downs_class=len(class_convs) - 1,
            image_size=image_size,
        )
        config.validate()
    except (KeyError, IndexError, AttributeError, ConfigError) as exc:
        raise CheckpointError(
            path, f"does not look like a FUNIT generator (cannot infer its sizes: {exc!r})"
        ) from None
    return config


def infer_funit_discriminator_config(state: Mapping[str, Any], path: Path) -> FunitDiscriminatorConfig:
    try:
        blocks = _indexed(state, r"cnn_f\.(\d+)\.conv_0\.conv\.weight")
        widths = [int(v.shape[0]) for v in _indexed(state, r"cnn_f\.(\d+)\.conv_1\.conv\.weight").values()]
        config = FunitDiscriminatorConfig(
            nf=int(state["cnn_f.0.conv.weight"].shape[0]),
            n_res_blks=len(blocks),
            num_classes=int(state["cnn_c.0.conv.weight"].shape[0]),
            max_nf=max(widths),
        )
        config.validate()
    except (KeyError, IndexError, AttributeError, ValueError, ConfigError) as exc:
        raise CheckpointError(
            path, f"does not look like a FUNIT discriminator (cannot infer its sizes: {exc!r})"
        ) from None
    return config


def load_funit_generators(path: str | os.PathLike, image_size: int = 128):
    """Both copies of an official `gen_*.pt`: returns (gen, gen_test or None)."""
    path = Path(path)
    data = safe_torch_load(path)
    if not isinstance(data, Mapping) or ("gen" not in data and "gen_test" not in data):
        keys = list(data)[:5] if isinstance(data, Mapping) else type(data).__name__
        raise CheckpointError(path, f"not a FUNIT generator file: expected keys 'gen'/'gen_test', found {keys}")
    reference = data.get("gen_test", data.get("gen"))
    config = infer_funit_generator_config(reference, path, image_size)
    keys = [key for key in ("gen", "gen_test") if key in data]
    nets = build_checked(lambda: FunitGenerator(config), {f"'{key}'": data[key] for key in keys}, path)
    built = dict(zip(keys, nets))
    return (
        built["gen"].eval() if "gen" in built else None,
        built["gen_test"].eval() if "gen_test" in built else None,
    )


def load_funit_discriminator(path: str | os.PathLike) -> FunitDiscriminator:
    path = Path(path)
    data = safe_torch_load(path)
    if not isinstance(data, Mapping) or "dis" not in data:
        raise CheckpointError(path, "not a FUNIT discriminator file: expected key 'dis'")
    config = infer_funit_discriminator_config(data["dis"], path)
    return build_checked(lambda: FunitDiscriminator(config), {"'dis'": data["dis"]}, path)[0]


def save_funit_generators(path: str | os.PathLike, gen: FunitGenerator, gen_test: FunitGenerator) -> None:
    """Write a file in FUNIT's own layout, loadable by FUNIT's `trainer.resume`/`load_ckpt`."""
    state = {"gen": gen.state_dict(), "gen_test": gen_test.state_dict()}
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def save_funit_discriminator(path: str | os.PathLike, dis: FunitDiscriminator) -> None:
    atomic_write(path, lambda tmp: torch.save({"dis": dis.state_dict()}, tmp))


def funit_step_from_name(path: Path) -> int | None:
    m = re.search(r"(\d{8})\.pt$", path.name)
    return int(m.group(1)) if m else None


# --------------------------------------------------------------------------- project model files


def save_model(
    path: str | os.PathLike,
    generator: DisentanglingGenerator,
    *,
    approach: str | None = None,
    step: int | None = None,
    provenance: dict[str, Any] | None = None,
    weights: str = "gen",
) -> None:
    """Save an inference snapshot: weights (safetensors) + self-describing JSON metadata.

    `weights` says which copy of the generator this is: 'gen_test' for the EMA (what trainers with
    an EMA export), 'gen' for the raw training generator.
    """
    if weights not in MODEL_WEIGHTS:
        raise ValueError(f"weights must be one of {', '.join(MODEL_WEIGHTS)}, got {weights!r}")
    metadata = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "architecture": generator.architecture,
        "config": generator.config.to_dict(),
        "approach": approach,
        "image_size": generator.config.image_size,
        "normalization": NORMALISATION,
        "step": step,
        "weights": weights,
        "provenance": provenance or {},
    }
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in generator.state_dict().items()}
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata={METADATA_KEY: json.dumps(metadata)}))


def parse_model_metadata(raw: Mapping[str, str] | None, path: Path) -> dict[str, Any]:
    """Validate the JSON metadata of a project model file; every problem names the file."""
    if not raw or METADATA_KEY not in raw:
        raise CheckpointError(path, "safetensors file without G2G metadata (not a G2G Desktop model)")
    text = raw[METADATA_KEY]
    if len(text) > MAX_METADATA_BYTES:
        raise CheckpointError(path, "metadata is implausibly large")
    try:
        meta = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise CheckpointError(path, f"metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(path, "metadata must be a JSON object")
    if meta.get("format") != MODEL_FORMAT:
        raise CheckpointError(path, f"unknown model format {meta.get('format')!r}")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > MODEL_FORMAT_VERSION:
        raise CheckpointError(path, f"model format version {version!r} is newer than this program supports")
    config = meta.get("config")
    if not isinstance(config, dict) or not isinstance(meta.get("architecture"), str):
        raise CheckpointError(path, "metadata lacks 'architecture' and 'config'")
    try:
        meta["config_obj"] = generator_config_from_dict(meta["architecture"], config)
    except ConfigError as exc:
        raise CheckpointError(path, f"metadata describes an invalid architecture: {exc}") from None
    step = meta.get("step")
    if step is not None and (not isinstance(step, int) or isinstance(step, bool) or step < 0):
        raise CheckpointError(path, f"metadata 'step' must be a non-negative integer, got {step!r}")
    if not isinstance(meta.get("provenance", {}), dict):
        raise CheckpointError(path, "metadata 'provenance' must be an object")
    if meta.get("weights", "unrecorded") not in (*MODEL_WEIGHTS, "unrecorded"):
        raise CheckpointError(path, f"metadata 'weights' must be one of {', '.join(MODEL_WEIGHTS)}, "
                                    f"got {meta['weights']!r}")
    return meta


def _read_safetensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str] | None]:
    try:
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            raw_meta = fh.metadata()
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    except (SafetensorError, OSError, ValueError, RuntimeError, OverflowError) as exc:
        raise CheckpointError(path, f"not a valid safetensors file ({exc})") from None
    return tensors, raw_meta


def load_model(path: str | os.PathLike) -> tuple[DisentanglingGenerator, ModelInfo]:
    path = Path(path)
    _check_readable(path)
    tensors, raw_meta = _read_safetensors(path)
    meta = parse_model_metadata(raw_meta, path)
    # Each layer holds at least one tensor: more layers than tensors is a lie, and building its
    # skeleton alone could take minutes (n_res_blks=100000).
    too_many = [f"{k}={v}" for k, v in meta["config"].items() if k.startswith("n_") and v > len(tensors)]
    if too_many:
        raise CheckpointError(
            path, f"metadata declares more layers ({', '.join(too_many)}) than the file has tensors ({len(tensors)})"
        )
    (generator,) = build_checked(lambda: build_generator(meta["config_obj"]), {"weights": tensors}, path)
    info = ModelInfo(
        path=path,
        source="g2g",
        architecture=meta["architecture"],
        config=meta["config"],
        image_size=meta["config_obj"].image_size,
        step=meta.get("step"),
        approach=meta.get("approach"),
        weights=meta.get("weights", "unrecorded"),
        provenance=meta.get("provenance", {}),
    )
    return generator.eval(), info


# --------------------------------------------------------------------------- entry point


def load_generator_with_info(
    path: str | os.PathLike, device: str | torch.device = "cpu", *, prefer_ema: bool = True
) -> tuple[DisentanglingGenerator, ModelInfo]:
    path = Path(path)
    _check_readable(path)
    kind = _file_kind(path)
    if kind == "safetensors":
        generator, info = load_model(path)
    elif kind == "torch":
        gen, gen_test = load_funit_generators(path)
        use_ema = gen_test is not None and (prefer_ema or gen is None)
        generator = gen_test if use_ema else gen
        info = ModelInfo(
            path=path,
            source="funit",
            architecture="funit",
            config=generator.config.to_dict(),
            image_size=generator.config.image_size,
            step=funit_step_from_name(path),
            approach="funit",
            weights="gen_test" if use_ema else "gen",
        )
    else:
        raise CheckpointError(path, "unrecognised file: neither a FUNIT .pt checkpoint nor a G2G .safetensors model")
    for p in generator.parameters():
        p.requires_grad_(False)
    return generator.to(device).eval(), info


def load_generator(path: str | os.PathLike, device: str | torch.device = "cpu") -> DisentanglingGenerator:
    """Stable API: a FUNIT `gen_*.pt` (EMA `gen_test` preferred) or a project model, in eval mode."""
    return load_generator_with_info(path, device)[0]
