"""Real-photo costs (issue 14): paste-back at 12 MP, the dlib judge per crop, the alignment cache.

    python -m bench.photos                      # writes bench/results/photos.json and prints a table
    python -m bench.photos --quick --out /tmp   # one repeat (the smoke test)

Uses ../shared/photos when present (the same person_a_1.jpg upscaled to 12 MP), otherwise a synthetic
photo with a known face position (paste-back only; the judge and detector then have no face to find).
The alignment cache figure is the hit rate and the time of a second pass over the same photo folder.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from bench.harness import machine_info, measure
from g2g_desktop.core.face_align import Face, MtcnnDetector, prepare_image, template_points
from g2g_desktop.core.face_cache import AlignedCropCache
from g2g_desktop.core.judge import IdentityJudge, judge_available
from g2g_desktop.core.paste_back import paste_back

PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "photos"
TWELVE_MP = 12_000_000


def _twelve_megapixel(photo: Image.Image) -> Image.Image:
    scale = (TWELVE_MP / (photo.width * photo.height)) ** 0.5
    return photo.resize((round(photo.width * scale), round(photo.height * scale)), Image.Resampling.BICUBIC)


def paste_row(repeats: int, size: int = 128) -> dict:
    if PHOTOS.is_dir():
        photo = _twelve_megapixel(Image.open(PHOTOS / "person_a_1.jpg").convert("RGB"))
        aligned = prepare_image(photo, size, detector=MtcnnDetector())
        source = "person_a_1.jpg upscaled"
    else:
        photo = Image.new("RGB", (4000, 3000), (120, 110, 100))
        points = template_points(size) * 10 + np.array([1400, 900])
        face = Face((0, 0, 1, 1), tuple(map(tuple, points)), 1.0)
        aligned = prepare_image(photo, size, detector=None, faces=[face])
        source = "synthetic"
    mix = aligned.crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)  # any crop of the right size
    timing = measure(lambda: paste_back(photo, mix, aligned.matrix), repeats=repeats)
    return {"photo": f"{photo.width}x{photo.height} ({source})", "crop": size, "paste_back": timing.to_dict()}


def judge_row(repeats: int) -> dict | None:
    if not (PHOTOS.is_dir() and judge_available()):
        return None
    judge, detector = IdentityJudge(), MtcnnDetector()
    photo = Image.open(PHOTOS / "person_a_1.jpg")
    rows = {}
    for size in (64, 128):
        crop = prepare_image(photo, size, detector=detector).crop
        judge.descriptor(crop)  # loads the models
        rows[f"crop_{size}"] = measure(lambda c=crop: judge.descriptor(c), repeats=repeats).to_dict()
    return rows


def cache_row() -> dict | None:
    if not PHOTOS.is_dir():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        for path in sorted(PHOTOS.glob("*.jpg")):
            image = Image.open(path)
            image.save(folder / path.name)
            ImageOps.mirror(image).save(folder / f"mirrored_{path.name}")  # other content, other key
        files = sorted(folder.iterdir())
        detector = MtcnnDetector()
        passes = []
        for _ in range(2):
            cache = AlignedCropCache(70, Path(tmp) / "cache", detector=detector)
            start = time.perf_counter()
            for path in files:
                cache.ensure(path)
            passes.append({"seconds": round(time.perf_counter() - start, 3), "hits": cache.stats.hits,
                           "misses": cache.stats.misses, "hit_rate": cache.stats.hit_rate})
    return {"photos": len(files), "first_pass": passes[0], "second_pass": passes[1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.photos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one repeat (smoke test)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results", help="result folder")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else 7
    result = {"machine": machine_info(), "paste": paste_row(repeats), "judge": judge_row(repeats),
              "cache": cache_row()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "photos.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    paste = result["paste"]
    print(f"paste-back into {paste['photo']}: median {paste['paste_back']['median_ms']:.0f} ms")
    if result["judge"]:
        for key, timing in result["judge"].items():
            print(f"judge, {key}: median {timing['median_ms']:.0f} ms")
    if result["cache"]:
        second = result["cache"]["second_pass"]
        print(f"alignment cache, second pass over {result['cache']['photos']} photos: hit rate "
              f"{second['hit_rate']:.0%} in {second['seconds']:.2f} s (first pass "
              f"{result['cache']['first_pass']['seconds']:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
