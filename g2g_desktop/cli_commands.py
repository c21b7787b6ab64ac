"""The work behind the `g2g-desktop` sub-commands (`cli.py` parses the arguments and prints the outcome)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from .cli_output import is_folder_target, numbered, output_file, output_folder
from .core.checkpoint import load_generator_with_info
from .core.export import fade_alphas, matrix_canvas, save_gif, save_png_sequence
from .core.face_align import Detector, MtcnnDetector
from .core.images import ImageLoadError, display_name, list_images, tensor_to_pil, upscale
from .core.model_file import ModelInfo
from .core.photo_mix import Photo, mix_folder, mix_output, open_photo, photo_suffix, save_image
from .core.pipeline import G2GPipeline
from .core.resources import default_model_path
from .core.safe_io import CheckpointError


class UserError(Exception):
    """A problem the user can fix; printed as one line."""


def _load_model(path: Path | None, device: str | None) -> tuple[G2GPipeline, ModelInfo]:
    if path is None:
        path = default_model_path()
        if not path.exists():
            raise UserError(
                f"no --model given and the bundled default model is missing ({path}); run `make default-model`"
            )
    generator, info = load_generator_with_info(path)
    try:
        return G2GPipeline(generator, device), info
    except RuntimeError as exc:
        raise UserError(str(exc)) from None


@dataclass
class MixJob:
    """What every mix mode needs: the model, whether to align, and the lines reported at the end."""

    pipeline: G2GPipeline
    info: ModelInfo
    detector: Detector | None
    notes: list[str] = field(default_factory=list)

    def photo(self, path: Path) -> Photo:
        photo = open_photo(path, self.pipeline.image_size, self.detector)
        if self.detector is not None and not photo.has_face:
            self.notes.append(f"{display_name(path)}: no face found, the whole image is used")
        return photo

    def report(self, line: str) -> str:
        return "\n".join([line, *self.notes])


def _check_mode(args: argparse.Namespace) -> None:
    if args.batch is not None or args.content is not None:
        if not args.identity:
            raise UserError("--content and --batch need --identity IMG... (the person whose identity is used)")
        if args.batch is not None and args.content is not None:
            raise UserError("give either --content IMG or --batch DIR, not both")
    if args.identity:
        if args.batch is None and args.content is None:
            raise UserError("--identity needs --content IMG or --batch DIR")
        if args.images or args.matrix or args.fade is not None:
            raise UserError("--identity does not combine with positional images, --matrix or --fade")
        if args.scale != 1:
            raise UserError("--scale enlarges the grid, --fade and --matrix, not --identity outputs")
        return
    if args.matrix is not None:
        if args.images:
            raise UserError("give the images after --matrix only")
        if args.paste_back or args.fade is not None:
            raise UserError("--matrix does not combine with --paste-back or --fade")
        return
    if len(args.images) != 2:
        raise UserError(f"mix needs exactly two images A B (got {len(args.images)}); use --matrix for more")
    if args.fade is not None and args.paste_back:
        raise UserError("--paste-back does not combine with --fade")
    if args.paste_back and args.scale != 1:
        raise UserError("--scale enlarges the grid, --fade and --matrix; pasted photos keep their own size")


def run_mix(args: argparse.Namespace) -> str:
    _check_mode(args)
    pipeline, info = _load_model(args.model, args.device)
    align = args.align if args.align is not None else (info.aligned or args.paste_back)
    if args.paste_back and not align:
        raise UserError("--paste-back needs aligned faces; drop --no-align")
    job = MixJob(pipeline, info, MtcnnDetector() if align else None)
    if args.batch is not None:
        return _batch(job, args)
    if args.identity:
        return _kshot(job, args)
    if args.matrix is not None:
        return _matrix(job, args)
    if args.fade is not None:
        return _fade(job, args)
    return _pair(job, args)


def _pair(job: MixJob, args: argparse.Namespace) -> str:
    a, b = (job.photo(p) for p in args.images)
    result = job.pipeline.run(a.tensor, b.tensor)
    if not args.paste_back:
        out = output_file(args.output, f"{a.path.stem}_{b.path.stem}_grid.png")
        save_image(result.grid_image(scale=args.scale, resample=args.resample), out)
        return job.report(f"wrote 3x2 grid (original / mixed / reconstructed) to {out} ({job.info.summary()})")
    written = []
    for index, (photo, other, mix) in enumerate([(a, b, result.mixed[0]), (b, a, result.mixed[1])], start=1):
        if not photo.has_face:
            raise UserError(f"{display_name(photo.path)}: no face found to paste the mix back onto")
        if is_folder_target(args.output):
            out = output_file(args.output, f"{photo.path.stem}_with_{other.path.stem}{photo_suffix(photo.path)}")
        else:
            out = numbered(output_file(args.output, ""), index)
        mask = job.pipeline.mask(photo.tensor, other.tensor[None])  # a mask head's own paste-back mask, or None
        written.append(save_image(photo.paste(mix, mask=mask), out))
    return job.report("wrote pasted photos " + " and ".join(map(str, written)) + f" ({job.info.summary()})")


def _fade(job: MixJob, args: argparse.Namespace) -> str:
    a, b = (job.photo(p) for p in args.images)
    frames = job.pipeline.fade_frames(a.tensor, b.tensor, fade_alphas(args.fade, *args.fade_range))
    frames = upscale(frames, args.scale, args.resample)
    if not is_folder_target(args.output) and Path(args.output).suffix.lower() == ".gif":
        out = output_file(args.output, "")
        save_gif(frames, out, bounce=args.bounce)
        count = len(frames) + (max(len(frames) - 2, 0) if args.bounce else 0)
        return job.report(f"wrote {count}-frame fade GIF to {out}")
    if not is_folder_target(args.output):
        raise UserError(f"{args.output}: a fade is written as .gif or into a folder of PNG frames")
    written = save_png_sequence(frames, output_folder(args.output))
    return job.report(f"wrote {len(written)} fade frames to {written[0].parent}/")


def _matrix(job: MixJob, args: argparse.Namespace) -> str:
    """The swap matrix of the named images and of the images directly inside the named folders; a file that
    is not a usable image is skipped and named (one bad photo in a folder does not cost the whole matrix)."""
    missing = [p for p in args.matrix if not p.exists()]
    if missing:
        raise UserError(f"{display_name(missing[0])}: no such file or folder")
    tensors = []
    for path in (q for p in args.matrix for q in (list_images(p) if p.is_dir() else [p])):
        try:
            tensors.append(job.photo(path).tensor)
        except ImageLoadError as exc:
            job.notes.append(f"skipped {exc}")
    if len(tensors) < 2:
        raise UserError(f"--matrix needs at least two usable images (got {len(tensors)}"
                        + (f"; {'; '.join(job.notes)})" if job.notes else ")"))
    images = torch.stack(tensors)
    matrix = job.pipeline.matrix(images)
    out = output_file(args.output, "matrix.png")
    scaled = (upscale(x, args.scale, args.resample) for x in (images, matrix))
    save_image(tensor_to_pil(matrix_canvas(*scaled)), out)
    return job.report(f"wrote {len(images)}x{len(images)} swap matrix to {out} ({job.info.summary()})")


def _identity_codes(job: MixJob, args: argparse.Namespace) -> torch.Tensor:
    return torch.stack([job.photo(p).tensor for p in args.identity])


def _kshot(job: MixJob, args: argparse.Namespace) -> str:
    identities = _identity_codes(job, args)
    content = job.photo(args.content)
    if args.paste_back and not content.has_face:
        raise UserError(f"{display_name(args.content)}: no face found to paste the mix back onto")
    image, name = mix_output(job.pipeline, content, identities, paste=args.paste_back, crop_only=args.crop)
    out = output_file(args.output, name)
    save_image(image, out)
    return job.report(f"wrote the {len(identities)}-shot mix to {out} ({job.info.summary()})")


def _batch(job: MixJob, args: argparse.Namespace) -> str:
    if not args.batch.is_dir():
        raise UserError(f"{display_name(args.batch)}: --batch needs a folder of images")
    if not is_folder_target(args.output):
        raise UserError(f"{args.output}: --batch writes one file per image; -o must be a folder")
    files = list_images(args.batch)
    if not files:
        raise UserError(f"{display_name(args.batch)}: no images in this folder")
    identities = _identity_codes(job, args)
    folder = output_folder(args.output)
    with tqdm(total=len(files), desc="mixing", unit="image", disable=None) as bar:

        def progress(done: int, total: int) -> bool:
            bar.update(done - bar.n)
            return True

        report = mix_folder(job.pipeline, files, identities, folder, detector=job.detector,
                            paste=args.paste_back, crop_only=args.crop, progress=progress)
    return job.report("\n".join(report.lines(len(files), folder)))


def run_info(args: argparse.Namespace) -> str:
    path = args.model or default_model_path()
    generator, info = load_generator_with_info(path)
    params = sum(p.numel() for p in generator.parameters())
    lines = [
        f"file:          {info.path}",
        f"source:        {info.source} ({info.weights} weights)",
        f"architecture:  {info.architecture}",
        f"image size:    {info.image_size}",
        f"step:          {info.step}",
        f"approach:      {info.approach}",
        f"trained on:    {info.trained_on}"
        + (f" (aligned faces, template {info.provenance.get('template')})" if info.aligned else ""),
        f"parameters:    {params:,}",
        "config:        " + ", ".join(f"{k}={v}" for k, v in info.config.items()),
    ]
    return "\n".join(lines)


HANDLERS = {"mix": run_mix, "info": run_info}
# Problems of the user's files or arguments: one line and exit status 2 (OSError is worded by `cli.main`).
USER_ERRORS = (UserError, ImageLoadError, CheckpointError, ValueError)
