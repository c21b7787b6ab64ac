"""Datasets of identity-labelled images and the pair sampler the G2G approaches train on.

Every dataset is an `IdentityDataset`: a list of items, each with an integer identity label, whose
image can be fetched by index as an RGB PIL image. Folder trees, CelebA, FUNIT list files and the
procedural faces all implement it, so the pair sampler and the trainer treat them alike.

Files are checked when a dataset is opened (header only, so opening stays fast): unreadable ones are
skipped with one `DatasetWarning` naming them, and a dataset with fewer than two identities is an
error, because G2G trains on pairs of *different* identities.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from g2g_desktop.core.images import CORRUPT_FILE_ERRORS, IMAGE_SUFFIXES, open_image
from trainer.identity_dataset import IdentityDataset
from trainer.procedural_dataset import ProceduralFaceDataset
from trainer.procedural_faces import SIZES

LIST_ROOT_SEPARATOR = "::"  # `--data LIST.txt::ROOT` names a FUNIT list file and its image folder


class DatasetError(ValueError):
    """A dataset that cannot be trained on; the message names the path and the problem."""


class DatasetWarning(UserWarning):
    """Files skipped while opening a dataset."""


class FileDataset(IdentityDataset):
    """Items that are image files on disk, each with an identity name; the base of the three file formats."""

    def __init__(self, source: Path, items: Iterable[tuple[Path, str]]):
        self.source = source
        readable: list[tuple[Path, str]] = []
        skipped: list[str] = []
        for path, identity in items:
            problem = _header_problem(path)
            if problem is None:
                readable.append((path, identity))
            else:
                skipped.append(f"{path} ({problem})")
        if skipped:
            shown = "; ".join(skipped[:5]) + (f"; +{len(skipped) - 5} more" if len(skipped) > 5 else "")
            warnings.warn(f"{source}: skipped {len(skipped)} unreadable file(s): {shown}", DatasetWarning,
                          stacklevel=3)
        self.class_names, self.paths, self.labels = _labelled(readable, source, "{} with readable images")

    def get_image(self, index: int) -> Image.Image:
        return open_image(self.paths[index])

    def describe(self, index: int) -> str:
        return str(self.paths[index])

    def fingerprint(self, index: int) -> str:
        """The name, size and modification time of the file: a photo replaced under its old name changes it."""
        try:
            stat = self.paths[index].stat()
        except OSError:
            return self.describe(index)  # gone since the data set was opened: reading it will name the problem
        return f"{self.describe(index)}\t{stat.st_size}\t{stat.st_mtime_ns}"


class FolderDataset(FileDataset):
    """`root/<identity>/<image>`: one sub-folder per identity (person, animal species, ...)."""

    def __init__(self, root: str | os.PathLike):
        root = Path(root)
        if not root.is_dir():
            raise DatasetError(f"{root}: not a folder")
        items = [
            (path, folder.name)
            for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
            for path in sorted(folder.iterdir())
            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
        ]
        try:
            super().__init__(root, items)
        except DatasetError as exc:
            raise DatasetError(f"{exc}. A dataset folder holds one sub-folder of images per person, e.g. "
                               f"{root / 'alice' / '1.jpg'} and {root / 'bob' / '1.jpg'}") from None


class CelebADataset(FileDataset):
    """CelebA: `root/img_align_celeba/*.jpg` with identities from `identity_CelebA.txt` ("000001.jpg 2880")."""

    def __init__(self, root: str | os.PathLike):
        root = Path(root)
        images = root / "img_align_celeba"
        identity_file = next(
            (p for p in (root / "identity_CelebA.txt", root / "Anno" / "identity_CelebA.txt") if p.is_file()), None
        )
        if not images.is_dir() or identity_file is None:
            raise DatasetError(f"{root}: a CelebA folder needs img_align_celeba/ and identity_CelebA.txt")
        items = []
        for number, line in enumerate(_read_lines(identity_file), start=1):
            parts = line.split()
            if len(parts) != 2:
                raise DatasetError(f"{identity_file}:{number}: expected 'IMAGE IDENTITY', got {line!r}")
            items.append((images / parts[0], parts[1]))
        super().__init__(root, items)


class FunitListDataset(FileDataset):
    """FUNIT list file: one `class/image.jpg` per line (the first path component is the class), under `root`."""

    def __init__(self, list_file: str | os.PathLike, root: str | os.PathLike | None = None):
        list_file = Path(list_file)
        root = Path(root) if root is not None else list_file.parent
        if not root.is_dir():
            raise DatasetError(f"{root}: image folder of {list_file} not found")
        items = []
        for number, line in enumerate(_read_lines(list_file), start=1):
            relative = Path(line.strip())
            if len(relative.parts) < 2 or relative.is_absolute() or ".." in relative.parts:
                raise DatasetError(f"{list_file}:{number}: expected 'class/image.jpg', got {line!r}")
            items.append((root / relative, relative.parts[0]))
        super().__init__(list_file, items)


ALIGNED_RESIZE_RATIO = 140 / 128  # the pair sampler's RESIZE_RATIO (FUNIT: resize to 140, crop 128)


class AlignedDataset(IdentityDataset):
    """A file dataset seen through the mixer's aligner: every photo becomes its aligned face crop.

    Fine-tuning must see the crops the mixer will feed the model, not whole full-body photos squashed to
    64 px. Crops come from the on-disk `AlignedCropCache` (keyed by file content, crop size and template), so a
    second epoch or a second run detects nothing; photos without a face are skipped and counted. The crop is
    aligned at the sampler's resize size (image_size·140/128) with the template shrunk to match, so the
    sampler's centre crop is exactly the mixer's crop and its random crops jitter around it.
    """

    def __init__(self, base: FileDataset, image_size: int, cache_dir: str | os.PathLike | None = None):
        from tqdm import tqdm

        from g2g_desktop.core.face_align import DEFAULT_ZOOM
        from g2g_desktop.core.face_cache import AlignedCropCache
        from g2g_desktop.core.images import ImageLoadError

        size = round(image_size * ALIGNED_RESIZE_RATIO)
        self.cache = AlignedCropCache(size, cache_dir, zoom=DEFAULT_ZOOM * image_size / size)
        self.source = base.source
        crops: list[tuple[Path, str]] = []
        no_face: list[str] = []
        unreadable: list[str] = []
        for path, label in tqdm(list(zip(base.paths, base.labels)), desc="aligning faces", unit="photo",
                                disable=None):
            try:
                entry = self.cache.ensure(path)
            except ImageLoadError as exc:
                unreadable.append(str(exc))
                continue
            if entry is None:
                no_face.append(path.name)
            else:
                crops.append((entry, base.class_names[label]))
        self.no_face, self.unreadable = no_face, unreadable
        if no_face:
            shown = ", ".join(no_face[:5]) + (f", +{len(no_face) - 5} more" if len(no_face) > 5 else "")
            warnings.warn(f"{self.source}: skipped {len(no_face)} image(s) without a face: {shown}",
                          DatasetWarning, stacklevel=2)
        if unreadable:
            warnings.warn(f"{self.source}: skipped {len(unreadable)} unreadable image(s): {unreadable[0]}",
                          DatasetWarning, stacklevel=2)
        self.class_names, self.paths, self.labels = _labelled(crops, self.source, "faces of {}")

    def get_image(self, index: int) -> Image.Image:
        return open_image(self.paths[index])

    def describe(self, index: int) -> str:
        return f"aligned crop {self.paths[index]}"


def faces_provenance(align: bool) -> dict[str, object]:
    """What a model file records about its training faces, so the app and CLI align (or not) to match."""
    from g2g_desktop.core.face_align import template_id

    return {"aligned": True, "template": template_id()} if align else {"aligned": False}


def open_dataset(spec: str, image_size: int, *, align: bool = False,
                 cache_dir: str | os.PathLike | None = None) -> IdentityDataset:
    """The dataset named by `spec`: "procedural" (or "procedural:IDENTITIES:SAMPLES"), a FUNIT list file
    (`LIST.txt` or `LIST.txt::ROOT`), a CelebA root (has img_align_celeba/), or a folder with one
    sub-folder per identity. `align` turns photos into the mixer's aligned face crops (`AlignedDataset`)."""
    if spec == "procedural" or spec.startswith("procedural:"):
        if align:
            raise DatasetError(f"{spec}: procedural faces are rendered in place; 'align' is for photo datasets")
        return _procedural(spec, image_size)
    list_part, _, root = spec.partition(LIST_ROOT_SEPARATOR)
    path = Path(list_part)
    if not path.exists():
        raise DatasetError(f"{path}: dataset not found (give a folder, a FUNIT list file or 'procedural')")
    if path.is_file():
        base: FileDataset = FunitListDataset(path, root or None)
    elif (path / "img_align_celeba").is_dir():
        base = CelebADataset(path)
    else:
        base = FolderDataset(path)
    return AlignedDataset(base, image_size, cache_dir) if align else base


def _procedural(spec: str, image_size: int) -> IdentityDataset:
    counts = spec.split(":")[1:]
    try:
        sizes = [int(c) for c in counts]
    except ValueError:
        sizes = []
    if len(counts) not in (0, 2) or len(sizes) != len(counts) or min(sizes, default=2) < 1:
        raise DatasetError(f"{spec}: expected 'procedural' or 'procedural:IDENTITIES:SAMPLES' (positive integers)")
    render_size = next((s for s in SIZES if s >= image_size), SIZES[-1])  # the sampler resizes to image_size
    if sizes:
        return ProceduralFaceDataset(num_identities=sizes[0], samples_per_identity=sizes[1], image_size=render_size)
    return ProceduralFaceDataset(image_size=render_size)


def _read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _header_problem(path: Path) -> str | None:
    """Why `path` cannot be an image, from its header alone (full decoding happens when it is sampled)."""
    try:
        with Image.open(path) as image:
            width, height = image.size
    except FileNotFoundError:
        return "missing"
    except UnidentifiedImageError:
        return "not an image"
    except CORRUPT_FILE_ERRORS as exc:
        return str(exc) or type(exc).__name__
    return None if width > 0 and height > 0 else "image has no pixels"


def _labelled(items: list[tuple[Path, str]], source: Path, found: str) -> tuple[list[str], list[Path], list[int]]:
    """(sorted identity names, paths, integer labels) of (path, identity) items; fewer than 2 identities is an
    error naming `source` and what was `found` (a template for the identity count)."""
    names = sorted({identity for _, identity in items})
    if len(names) < 2:
        raise DatasetError(f"{source}: found {found.format(_count(len(names)))}; "
                           "need at least 2 (training and evaluation mix pairs of different identities)")
    index = {name: i for i, name in enumerate(names)}
    return names, [path for path, _ in items], [index[identity] for _, identity in items]


def _count(n: int) -> str:
    return f"{n} identity" if n == 1 else f"{n} identities"
