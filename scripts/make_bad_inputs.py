"""Generate the bad-input corpus: files a user might drop on the app or pass to the CLI.

    python scripts/make_bad_inputs.py OUTDIR

Every case is made here from code (no binaries are committed), so the corpus is reproducible and the
tests can build it into a temporary folder. `OUTDIR/manifest.json` lists each case with what the image
loader must do with it:

* ``"ok"``: it is a valid picture; loading gives an upright RGB image of ``size`` (width, height).
* ``"error"``: loading raises `ImageLoadError` whose one-line message names the file and contains one
  of the words in ``cause``.
* ``"either"``: platform-dependent (e.g. permissions when running as root); only the error contract holds.

File names may be non-UTF-8 bytes, so the manifest stores each name as a list of byte values.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

SEED = 20261123


@dataclass
class Case:
    """One corpus entry: the file name (bytes, relative to the corpus folder) and the expected outcome."""

    name: bytes
    expect: str  # "ok" | "error" | "either"
    size: tuple[int, int] | None = None  # (width, height) after EXIF rotation, for "ok"
    cause: list[str] = field(default_factory=list)  # any of these words appears in the error message
    note: str = ""

    def path(self, root: Path) -> bytes:
        return os.path.join(os.fsencode(root), self.name)

    def to_json(self) -> dict:
        data = asdict(self)
        data["name"] = list(self.name)
        return data

    @classmethod
    def from_json(cls, data: dict) -> Case:
        data = dict(data)
        data["name"] = bytes(data["name"])
        data["size"] = tuple(data["size"]) if data["size"] else None
        return cls(**data)


# --------------------------------------------------------------------------- building blocks


def _encode(image: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def _pattern(w: int, h: int, mode: str = "RGB") -> Image.Image:
    """A picture whose left half is red and right half blue, so rotations are visible."""
    image = Image.new("RGB", (w, h), (230, 20, 20))
    image.paste((20, 20, 230), (w // 2, 0, w, h))
    return image.convert(mode) if mode != "RGB" else image


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _raw_png(width: int, height: int, bit_depth: int, colour_type: int, idat: bytes, crc_ok: bool = True) -> bytes:
    header = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0))
    body = _png_chunk(b"IDAT", idat)
    if not crc_ok:
        body = body[:-4] + bytes(b ^ 0xFF for b in body[-4:])
    return b"\x89PNG\r\n\x1a\n" + header + body + _png_chunk(b"IEND", b"")


def _png_bomb(side: int) -> bytes:
    """A PNG declaring side×side 1-bit pixels with one compressed row of data: tiny file, huge image."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    return _raw_png(side, side, 1, 0, zlib.compress(row * 4, 9))


def _png_rgb16(w: int, h: int) -> bytes:
    """48-bit RGB PNG (PIL cannot write one): a ramp so the 16→8-bit conversion is visible."""
    ramp = [x * 65535 // (w - 1) for x in range(w)]
    row = b"\x00" + b"".join(struct.pack(">HHH", v, 0, 65535 - v) for v in ramp)
    return _raw_png(w, h, 16, 2, zlib.compress(row * h))


def _jpeg_with_exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _encode(_pattern(40, 20), "JPEG", exif=exif.tobytes(), quality=95)


def _jpeg_corrupt_exif() -> bytes:
    """A JPEG whose APP1 'Exif' segment is garbage (a broken camera or editor)."""
    jpeg = _encode(_pattern(16, 16), "JPEG")
    payload = b"Exif\x00\x00" + b"MM\x00\x2a\xff\xff\xff\xf0" + bytes(range(40))
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + app1 + jpeg[2:]


def _jpeg_huge_header() -> bytes:
    """A JPEG whose frame header declares 65500×65500 pixels (a decompression bomb)."""
    jpeg = bytearray(_encode(_pattern(16, 16), "JPEG"))
    sof = jpeg.find(b"\xff\xc0")
    jpeg[sof + 5 : sof + 9] = struct.pack(">HH", 65500, 65500)
    return bytes(jpeg)


def _gif_huge_screen() -> bytes:
    gif = bytearray(_encode(_pattern(8, 8, "P"), "GIF"))
    gif[6:10] = struct.pack("<HH", 65535, 65535)
    return bytes(gif)


def _tiff_float_nan() -> bytes:

    arr = np.linspace(-1.0, 1.0, 64, dtype=np.float32).reshape(8, 8)
    arr[0, 0], arr[1, 1], arr[2, 2] = np.nan, np.inf, -np.inf
    return _encode(Image.fromarray(arr, mode="F"), "TIFF")


def _animated_gif() -> bytes:
    frames = [_pattern(24, 24).rotate(90 * i).convert("P") for i in range(3)]
    return _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
    b'<circle cx="32" cy="32" r="20" fill="red"/></svg>\n'
)


def _no_face_photo() -> bytes:
    """A smooth landscape-like picture (sky, hills) with no face in it."""
    image = Image.new("RGB", (96, 64))
    for y in range(64):
        colour = (90 + y, 150 + y, 235) if y < 36 else (40, 120 + (y - 36) * 3, 40)
        image.paste(colour, (0, y, 96, y + 1))
    return _encode(image, "JPEG", quality=90)


# --------------------------------------------------------------------------- the corpus


def _file_cases(rng: random.Random) -> list[tuple[Case, Callable[[], bytes]]]:
    """Cases that are plain files: (case, function returning the file's bytes)."""
    png = _encode(_pattern(32, 32), "PNG")
    jpeg = _encode(_pattern(32, 32), "JPEG", quality=90)
    noise = rng.randbytes(4096)
    return [
        (Case(b"empty.png", "error", cause=["empty"]), lambda: b""),
        (Case(b"random.png", "error", cause=["not an image", "corrupt"]), lambda: noise),
        (Case(b"random.jpg", "error", cause=["not an image", "corrupt"]), lambda: noise[::-1]),
        (
            Case(b"png_header_only.png", "error", cause=["truncated", "corrupt", "not an image"]),
            lambda: png[:8],
        ),
        (Case(b"truncated.png", "error", cause=["truncated", "corrupt"]), lambda: png[: len(png) // 2]),
        (Case(b"truncated.jpg", "error", cause=["truncated", "corrupt"]), lambda: jpeg[: len(jpeg) // 2]),
        (
            Case(b"bad_crc.png", "either", size=(4, 4), cause=["corrupt", "truncated"], note="IDAT CRC wrong"),
            lambda: _raw_png(4, 4, 8, 2, zlib.compress(b"\x00" + b"\x80" * 12) * 1, crc_ok=False),
        ),
        (
            Case(b"zero_size.png", "error", cause=["corrupt", "no pixels", "not an image"]),
            lambda: _raw_png(0, 0, 8, 2, zlib.compress(b"")),
        ),
        (
            Case(b"bomb.png", "error", cause=["bomb", "too large"], note="100000x100000 in ~100 bytes"),
            lambda: _png_bomb(100_000),
        ),
        (
            Case(
                b"bomb_moderate.png",
                "error",
                cause=["bomb", "too large"],
                note="9000x9000: over MAX_PIXELS only",
            ),
            lambda: _png_bomb(9000),
        ),
        (Case(b"bomb.jpg", "error", cause=["bomb", "too large"]), _jpeg_huge_header),
        (Case(b"bomb.gif", "error", cause=["bomb", "too large"]), _gif_huge_screen),
        (
            Case(b"gray16.png", "ok", size=(16, 8)),
            lambda: _encode(Image.fromarray(np.full((8, 16), 40000, dtype=np.uint16)), "PNG"),
        ),
        (Case(b"rgb48.png", "ok", size=(8, 4)), lambda: _png_rgb16(8, 4)),
        (Case(b"cmyk.jpg", "ok", size=(32, 32)), lambda: _encode(_pattern(32, 32, "CMYK"), "JPEG")),
        (Case(b"cmyk.tif", "ok", size=(32, 32)), lambda: _encode(_pattern(32, 32, "CMYK"), "TIFF")),
        (Case(b"palette.png", "ok", size=(32, 32)), lambda: _encode(_pattern(32, 32, "P"), "PNG")),
        (
            Case(b"palette_transparent.png", "ok", size=(32, 32)),
            lambda: _encode(_pattern(32, 32, "P"), "PNG", transparency=0),
        ),
        (Case(b"rgba.png", "ok", size=(32, 32)), lambda: _encode(_pattern(32, 32, "RGBA"), "PNG")),
        (Case(b"la.png", "ok", size=(32, 32)), lambda: _encode(_pattern(32, 32, "LA"), "PNG")),
        (Case(b"bilevel.png", "ok", size=(32, 32)), lambda: _encode(_pattern(32, 32, "1"), "PNG")),
        (Case(b"float_nan.tif", "ok", size=(8, 8), note="mode F with NaN/Inf pixels"), _tiff_float_nan),
        (
            Case(b"exif_rotated.jpg", "ok", size=(20, 40), note="stored 40x20, EXIF orientation 6"),
            lambda: _jpeg_with_exif(6),
        ),
        (Case(b"exif_invalid_orientation.jpg", "ok", size=(40, 20)), lambda: _jpeg_with_exif(9)),
        (Case(b"exif_corrupt.jpg", "either", size=(16, 16), cause=["corrupt"]), _jpeg_corrupt_exif),
        (
            Case(b"one_pixel.png", "ok", size=(1, 1)),
            lambda: _encode(Image.new("RGB", (1, 1), (9, 99, 199)), "PNG"),
        ),
        (Case(b"wide_20000x20.png", "ok", size=(20000, 20)), lambda: _encode(_pattern(20000, 20), "PNG")),
        (Case(b"animated.gif", "ok", size=(24, 24)), _animated_gif),
        (
            Case(b"lossless.webp", "ok", size=(32, 32)),
            lambda: _encode(_pattern(32, 32), "WEBP", lossless=True),
        ),
        (Case(b"plain.tiff", "ok", size=(32, 32)), lambda: _encode(_pattern(32, 32), "TIFF")),
        (Case(b"plain.bmp", "ok", size=(32, 32)), lambda: _encode(_pattern(32, 32), "BMP")),
        (Case(b"png_named.jpg", "ok", size=(32, 32), note="content sniffed, not the suffix"), lambda: png),
        (Case(b"drawing.svg", "error", cause=["not an image"]), lambda: SVG),
        (
            Case(b"text_named.png", "error", cause=["not an image"]),
            lambda: b"hello, I am not a picture\n" * 10,
        ),
        (Case(b"no_face.jpg", "ok", size=(96, 64), note="a landscape: no face to find"), _no_face_photo),
        (Case(b"latin1_\xe9\xff\xfe.png", "ok", size=(32, 32), note="non-UTF-8 file name"), lambda: png),
        (
            Case(
                b"broken_\xff.png",
                "error",
                cause=["truncated", "corrupt", "not an image"],
                note="non-UTF-8 name, bad data",
            ),
            lambda: png[:40],
        ),
        (Case(b"line\nbreak.png", "error", cause=["empty"], note="newline in the name"), lambda: b""),
    ]


def _writer(make: Callable[[], bytes]) -> Callable[[bytes], None]:
    def write(path: bytes) -> None:
        with open(path, "wb") as fh:
            fh.write(make())

    return write


def _symlink_to(target: bytes) -> Callable[[bytes], None]:
    def write(path: bytes) -> None:
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(target, path)

    return write


def _sparse(size: int) -> Callable[[bytes], None]:
    def write(path: bytes) -> None:
        with open(path, "wb") as fh:
            fh.truncate(size)

    return write


def _fifo(path: bytes) -> None:
    if not os.path.lexists(path):
        os.mkfifo(path)


def _unreadable_png(path: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(_encode(_pattern(32, 32), "PNG"))
    os.chmod(path, 0)


def corpus_cases() -> list[tuple[Case, Callable[[bytes], None]]]:
    """Every case with the function that creates it at a given path (nothing is written yet)."""
    cases = [(case, _writer(make)) for case, make in _file_cases(random.Random(SEED))]
    cases.append(
        (
            Case(b"folder.png", "error", cause=["folder"], note="a directory named like an image"),
            lambda path: os.makedirs(path, exist_ok=True),
        )
    )
    cases.append(
        (
            Case(b"huge_sparse.png", "error", cause=["too large"], note="sparse 201 MB file"),
            _sparse(201 * 1024 * 1024),
        )
    )
    if hasattr(os, "symlink"):
        cases.append(
            (
                Case(b"loop.png", "error", cause=["symbolic links", "loop"], note="symlink to itself"),
                _symlink_to(b"loop.png"),
            )
        )
        cases.append(
            (
                Case(b"dangling.jpg", "error", cause=["no such file"], note="symlink to a missing file"),
                _symlink_to(b"does_not_exist.jpg"),
            )
        )
    if hasattr(os, "mkfifo"):
        cases.append(
            (
                Case(
                    b"fifo.png",
                    "error",
                    cause=["empty", "not a regular file"],
                    note="named pipe: reading it would block",
                ),
                _fifo,
            )
        )
    cases.append(
        (
            Case(
                b"unreadable.png",
                "either",
                size=(32, 32),
                cause=["permission"],
                note="mode 000 (readable anyway when running as root)",
            ),
            _unreadable_png,
        )
    )
    return cases


def make_corpus(outdir: str | os.PathLike) -> list[Case]:
    """Write every case into `outdir` (created if needed) and return the list; also writes manifest.json."""
    root = Path(outdir)
    root.mkdir(parents=True, exist_ok=True)
    cases = []
    for case, write in corpus_cases():
        write(case.path(root))
        cases.append(case)
    (root / "manifest.json").write_text(json.dumps([c.to_json() for c in cases], indent=1))
    return cases


def load_manifest(outdir: str | os.PathLike) -> list[Case]:
    return [Case.from_json(d) for d in json.loads((Path(outdir) / "manifest.json").read_text())]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", help="folder to write the corpus into (created if missing)")
    args = parser.parse_args(argv)
    cases = make_corpus(args.outdir)
    for case in cases:
        print(f"{case.expect:6s} {os.fsdecode(case.name)!r} {case.note}")
    print(f"{len(cases)} cases written to {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
