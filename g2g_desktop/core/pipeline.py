"""The G2G pipeline (paper §IV, fig. 1): disassemble, mix, reassemble, plus identity fades and swap matrices.

    mixed          m1 = G(E_A(x1), E_B(x2))      m2 = G(E_A(x2), E_B(x1))
    reconstructed  x̂1 = G(E_A(m1), E_B(m2))      x̂2 = G(E_A(m2), E_B(m1))

`run` is core.g2g's `cross_pass` over the generator wrapped in the pipeline's precision and memory guard.
Codes of input images are computed once and cached, so a fade slider runs only the class-code mix and
the decoder. Everything runs under `torch.inference_mode()` with the generator in eval mode.

On a CPU with native bf16 the decoder (every decode: the grid, the fade slider, the swap matrix and the
fade export) runs under bf16 autocast where the model is large enough for it to pay and a check at load
shows the whole cross pass — mixed and reconstructed rows — within `decode_precision.BF16_MAX_DIFF` of fp32
(`cpu_bf16`/$G2G_CPU_BF16: auto, on, off; core/decode_precision.py). The encoders stay fp32: they run
once per image and their codes are cached.

A generator with a mask head (`has_mask_head`) blends every decoded image onto its content image (the rest
image of that mix, or the mix itself for the reconstruction), as in training; `mask` shows the mask.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from PIL import Image

from .decode_precision import Bf16Check, cached_bf16_check, probe_pair
from .device import DeviceSettings, cpu_bf16_mode, cpu_has_native_bf16, pick_device
from .g2g import cross_pass, encode
from .generator import DisentanglingGenerator, blend
from .images import tensor_to_pil, tile, upscale
from .lru import LruCache

FADE_CACHE_SIZE = 8
"""Decoded fade images kept (each 1×3×H×W): enough for both sides of the last few slider positions."""

ALPHA_LIMITS = (-2.0, 3.0)
"""Fade weights are clamped to this range: the slider offers [-0.5, 1.5]; beyond ±2 past the endpoints
extrapolated AdaIN parameters only produce saturated noise."""

People = tuple[torch.Tensor | None, torch.Tensor | None]
"""K×3×H×W images of person 1 and of person 2 (None for a side: its own image) whose mean class code stands
for that person's identity (FUNIT's K-shot)."""


@dataclass(frozen=True)
class Codes:
    content: torch.Tensor  # E_A(x): the rest (pose, expression, background, lighting)
    identity: torch.Tensor  # E_B(x): the class/identity code


@dataclass
class G2GResult:
    """Each field stacks side 1 and side 2 along dim 0: `mixed[0]` is m1, `mixed[1]` is m2."""

    original: torch.Tensor
    mixed: torch.Tensor
    reconstructed: torch.Tensor

    def grid(self, pad: int = 2, scale: int = 1, resample: str = "nearest") -> torch.Tensor:
        """The paper's 3×2 plot (rows Original / Mixed / Reconstructed) as one 3×H'×W' tensor, each picture
        scaled up `scale` times (`images.upscale`) inside the same `pad`."""
        rows = [self.original, self.mixed, self.reconstructed]
        if self.original.dim() == 5:  # batched pairs: first pair only
            rows = [r[:, 0] for r in rows]
        return tile(upscale(torch.cat(rows), scale, resample), rows=3, cols=2, pad=pad)

    def grid_image(self, pad: int = 2, scale: int = 1, resample: str = "nearest") -> Image.Image:
        return tensor_to_pil(self.grid(pad, scale, resample))


class PipelineMemoryError(MemoryError):
    """A batch did not fit in the device's memory. The message is one line a user can act on; the
    pipeline has released its cached blocks and keeps working for smaller requests."""


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc)  # the CPU allocator's words


def clamp_alpha(alpha: float) -> float:
    if not math.isfinite(alpha):
        raise ValueError(f"fade weight must be a finite number, got {alpha!r}")
    return min(max(float(alpha), ALPHA_LIMITS[0]), ALPHA_LIMITS[1])


def fade_identity(c1: torch.Tensor, c2: torch.Tensor, alpha: float) -> torch.Tensor:
    """c(α) = (1−α)·c1 + α·c2: α=0 is c1, α=1 is c2, outside [0, 1] extrapolates."""
    return torch.lerp(c1, c2, clamp_alpha(alpha))


class _Guarded:
    """The pipeline's generator as `cross_pass` sees it: each call under the pipeline's precision
    (bf16 decode where measured faster) and memory guard. Made per use, so that the pipeline holds no
    reference cycle and frees its generator as soon as it is dropped."""

    def __init__(self, pipeline: G2GPipeline):
        self.pipeline = pipeline

    def encode_content(self, x: torch.Tensor) -> torch.Tensor:
        with self.pipeline._memory_guard(x.shape[0]), self.pipeline.settings.autocast():
            return self.pipeline.generator.encode_content(x)

    def encode_class(self, x: torch.Tensor) -> torch.Tensor:
        with self.pipeline._memory_guard(x.shape[0]), self.pipeline.settings.autocast():
            return self.pipeline.generator.encode_class(x)

    @property
    def has_mask_head(self) -> bool:
        return self.pipeline.generator.has_mask_head

    def decode(self, content: torch.Tensor, identity: torch.Tensor) -> torch.Tensor:
        return self.pipeline._decode(content, identity)

    def decode_parts(self, content: torch.Tensor, identity: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        with self.pipeline._memory_guard(content.shape[0]), self.pipeline.settings.decode_autocast():
            image, mask = self.pipeline.generator.decode_parts(content, identity)
        return image.float(), None if mask is None else mask.float()


class G2GPipeline:
    """Inference over one generator. Not tied to Qt: the UI's render worker calls it off the GUI thread."""

    def __init__(
        self,
        generator: DisentanglingGenerator,
        device: DeviceSettings | str | None = None,
        *,
        cache_size: int = 256,
        cpu_bf16: str | None = None,
    ):
        self.settings = device if isinstance(device, DeviceSettings) else pick_device(device)
        self.generator = generator.to(self.settings.device).eval()
        if self.settings.channels_last:
            self.generator = self.generator.to(memory_format=torch.channels_last)
        self._cache: LruCache[str, Codes] = LruCache(cache_size)
        # Decoded fade images per side, keyed by (rest image, identity pair, α): dragging one slider
        # leaves the other side's α unchanged, so only one image is decoded per update (bench/results).
        self._faded: LruCache[tuple[str, str, float], torch.Tensor] = LruCache(FADE_CACHE_SIZE)
        self.image_size: int = generator.config.image_size
        self.bf16_check: Bf16Check | None = None  # the load-time verdict under "auto" on a CPU with native bf16
        self._choose_decode_precision(cpu_bf16_mode(cpu_bf16))

    # ------------------------------------------------------------------ decode precision
    def _choose_decode_precision(self, mode: str) -> None:
        if self.settings.device.type != "cpu" or self.settings.decode_bf16 or mode == "off":
            return
        if mode == "on":
            self.settings = self.settings.with_decode_bf16("bf16 decode, forced")
            return
        if not cpu_has_native_bf16():
            return
        check = self.bf16_check = cached_bf16_check(self.generator, self.image_size, self.probe_pass)
        if check.bf16:
            self.settings = self.settings.with_decode_bf16(check.note)

    @torch.inference_mode()
    def probe_pass(self, bf16: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """(mixed, reconstructed) of `decode_precision.probe_pair`, computed as `run` does, decoding in bf16 or fp32."""
        x = self._prepare(probe_pair(self.image_size))
        settings = self.settings
        self.settings = settings.with_decode_bf16("bf16 decode") if bf16 else settings.with_decode_bf16("")
        try:
            p = cross_pass(_Guarded(self), x[:1], x[1:])
        finally:
            self.settings = settings
        return p.mixed.float(), p.shown_recon.float()

    # ------------------------------------------------------------------ helpers
    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            x = x.unsqueeze(0)
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected an image tensor 3×H×W or B×3×H×W, got shape {tuple(x.shape)}")
        if not torch.isfinite(x).all():
            raise ValueError("input image contains NaN or Inf values")
        x = x.to(self.settings.device, torch.float32)
        if self.settings.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def _decode(self, content: torch.Tensor, identity: torch.Tensor, base: torch.Tensor | None = None) -> torch.Tensor:
        """G; blended onto `base` (the content images, from `_base`) when the generator has a mask head."""
        if base is not None:
            return blend(*_Guarded(self).decode_parts(content, identity), base)
        with self._memory_guard(content.shape[0]), self.settings.decode_autocast():
            out = self.generator.decode(content, identity)
        return out.float()

    def _base(self, *images: torch.Tensor, repeat: int = 1) -> torch.Tensor | None:
        """The content images a mask head blends onto (each repeated `repeat` times); None without a mask head."""
        if not self.generator.has_mask_head:
            return None
        base = torch.cat([self._prepare(x) for x in images])
        return base.repeat_interleave(repeat, dim=0) if repeat > 1 else base

    def _encode(self, x: torch.Tensor) -> Codes:
        return Codes(*encode(_Guarded(self), x))

    @contextlib.contextmanager
    def _memory_guard(self, images: int):
        """Turn an out-of-memory failure of `images` images into a `PipelineMemoryError`."""
        try:
            yield
        except RuntimeError as exc:  # torch.OutOfMemoryError is one
            if not is_out_of_memory(exc):
                raise
            if self.settings.device.type == "cuda":
                torch.cuda.empty_cache()
            where = "GPU" if self.settings.device.type == "cuda" else "main"
            raise PipelineMemoryError(
                f"out of {where} memory computing {images} image(s) of {self.image_size}×{self.image_size} on "
                f"{self.settings.label}: use fewer images at once"
                + (" or the CPU (G2G_DEVICE=cpu)" if where == "GPU" else "")
            ) from None

    @staticmethod
    def image_key(x: torch.Tensor) -> str:
        """Content hash of an image tensor: the same pixels always hit the same cache entry."""
        data = x.detach().to("cpu", torch.float32).contiguous().numpy().tobytes()
        return hashlib.blake2b(data, digest_size=16).hexdigest() + str(tuple(x.shape))

    # ------------------------------------------------------------------ encoding
    @torch.inference_mode()
    def codes(self, x: torch.Tensor, key: str | None = None) -> Codes:
        """Codes of one image (3×H×W), from the cache when the same image was encoded before."""
        key = key or self.image_key(x)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        codes = self._encode(self._prepare(x))
        self._cache.put(key, codes)
        return codes

    def clear_cache(self) -> None:
        self._cache.clear()
        self._faded.clear()

    @property
    def cached_count(self) -> int:
        return len(self._cache)

    # ------------------------------------------------------------------ G2G
    @torch.inference_mode()
    def person_code(self, images: torch.Tensor) -> torch.Tensor:
        """The class code of one person from K images (K×3×H×W): the mean of their codes (FUNIT's K-shot)."""
        return torch.stack([self.codes(x).identity for x in images]).mean(0)

    def _identities(self, c1: Codes, c2: Codes, people: People | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The class codes that stand for side 1 and side 2: each image's own, or a person's mean code."""
        ids = [c1.identity, c2.identity]
        for side, images in enumerate(people or (None, None)):
            if images is not None:
                ids[side] = self.person_code(images)
        return ids[0], ids[1]

    @torch.inference_mode()
    def run(self, x1: torch.Tensor, x2: torch.Tensor, people: People | None = None) -> G2GResult:
        """Original / mixed / reconstructed for one pair (3×H×W each) or a batch of pairs (B×3×H×W).

        `people` (single pairs only): images of each person whose mean class code stands for that side's
        identity in the mix (`People`).
        """
        single = x1.dim() == 3
        originals = torch.stack([x1, x2]).float()
        if single:
            c1, c2 = self.codes(x1), self.codes(x2)
            (a1, a2), (b1, b2) = (c1.content, c2.content), self._identities(c1, c2, people)
            x1, x2 = self._prepare(x1), self._prepare(x2)  # what a mask head blends the mixes onto
        else:
            x1, x2 = self._prepare(x1), self._prepare(x2)
            k1, k2 = self._encode(x1), self._encode(x2)
            a1, b1, a2, b2 = k1.content, k1.identity, k2.content, k2.identity
        n = a1.shape[0]
        p = cross_pass(_Guarded(self), x1, x2, codes=(torch.cat([a1, a2]), torch.cat([b1, b2])))
        shape = (2, n, *p.mixed.shape[1:])
        mixed, recon = p.mixed.view(shape).cpu(), p.shown_recon.view(shape).cpu()
        if single:
            mixed, recon = mixed[:, 0], recon[:, 0]
        return G2GResult(original=originals.cpu(), mixed=mixed, reconstructed=recon)

    @torch.inference_mode()
    def mix_identities(self, content: torch.Tensor, identities: torch.Tensor) -> torch.Tensor:
        """K-shot mix G(E_A(content), mean_k E_B(identities[k])) of one 3×H×W content image: 3×H×W.

        FUNIT averages the class codes of K images of one class; several photos of one person give a steadier
        identity than one. K copies of one image are exactly the 1-shot mix.
        """
        return self._decode(self.codes(content).content, self.person_code(identities), self._base(content))[0].cpu()

    @torch.inference_mode()
    def mask(self, content: torch.Tensor, identities: torch.Tensor) -> torch.Tensor | None:
        """The mask head's 1×H×W blend mask of `mix_identities(content, identities)`; None without a mask head.

        1 where the mix shows G's image, 0 where it shows the content image: a learned paste-back mask.
        """
        if not self.generator.has_mask_head:
            return None
        mask = _Guarded(self).decode_parts(self.codes(content).content, self.person_code(identities))[1]
        return mask[0].cpu()

    @torch.inference_mode()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """The short reconstruction G(E_A(x), E_B(x)) from cached codes."""
        c = self.codes(x)
        return self._decode(c.content, c.identity, self._base(x))[0].cpu()

    @torch.inference_mode()
    def fade(self, x1: torch.Tensor, x2: torch.Tensor, alpha1: float, alpha2: float | None = None,
             people: People | None = None) -> torch.Tensor:
        """Mixed images with faded identity, decoder only: 2×3×H×W.

        m1(α1) = G(E_A(x1), (1−α1)·E_B(x1) + α1·E_B(x2)) and m2(α2) = G(E_A(x2), (1−α2)·E_B(x2) + α2·E_B(x1)):
        α=0 keeps the image's own identity, α=1 is the plain mix. `people` as in `run`: a person's identity is
        the mean code of their images.
        """
        alpha2 = alpha1 if alpha2 is None else alpha2
        k1, k2 = self.image_key(x1), self.image_key(x2)
        c1, c2 = self.codes(x1, k1), self.codes(x2, k2)
        b1, b2 = self._identities(c1, c2, people)
        if people is not None:  # a person's identity is keyed by their images too
            k1 = k1 if people[0] is None else k1 + self.image_key(people[0])
            k2 = k2 if people[1] is None else k2 + self.image_key(people[1])
        # side i keeps its rest code and fades its identity from its own towards the other side's
        alphas = (clamp_alpha(alpha1), clamp_alpha(alpha2))
        rest, own, other = (c1.content, c2.content), (b1, b2), (b2, b1)
        keys = [(k1, k2, alphas[0]), (k2, k1, alphas[1])]
        images = [self._faded.get(key) for key in keys]
        todo = [i for i, image in enumerate(images) if image is None]
        if todo:
            content = torch.cat([rest[i] for i in todo])
            identity = torch.cat([fade_identity(own[i], other[i], alphas[i]) for i in todo])
            decoded = self._decode(content, identity, self._base(*[(x1, x2)[i] for i in todo])).cpu()
            for j, i in enumerate(todo):
                images[i] = decoded[j : j + 1]
                self._faded.put(keys[i], images[i])
        return torch.cat(images)

    @torch.inference_mode()
    def fade_frames(self, x1: torch.Tensor, x2: torch.Tensor, alphas: list[float], batch_size: int = 16,
                    people: People | None = None) -> torch.Tensor:
        """m1 for each α in `alphas` (the rest of x1, identity fading from x1 to x2): F×3×H×W.

        `people` as in `run`: the identities faded between are the mean codes of each person's images.
        """
        c1, c2 = self.codes(x1), self.codes(x2)
        b1, b2 = self._identities(c1, c2, people)
        frames = []
        for start in range(0, len(alphas), batch_size):
            chunk = alphas[start : start + batch_size]
            identity = torch.cat([fade_identity(b1, b2, a) for a in chunk])
            content = c1.content.expand(len(chunk), *c1.content.shape[1:])
            frames.append(self._decode(content, identity, self._base(x1, repeat=len(chunk))).cpu())
        return torch.cat(frames)

    def matrix(self, images: torch.Tensor, batch_size: int = 16) -> torch.Tensor:
        """N×N swap matrix, N×N×3×H×W: entry [i, j] = G(E_A(x_i), E_B(x_j)) (row = rest, column = identity).

        The diagonal is the short reconstruction G(x_i, x_i).
        """
        return torch.stack(list(self.matrix_rows(images, batch_size)))

    def matrix_rows(self, images: torch.Tensor, batch_size: int = 16) -> Iterator[torch.Tensor]:
        """The swap matrix one row at a time (N×3×H×W each), so a caller can show progress and stop early."""
        with torch.inference_mode():
            codes = [self.codes(x) for x in images]
            identity = torch.cat([c.identity for c in codes])
        n = len(codes)
        for i in range(n):
            with torch.inference_mode():
                row = [
                    self._decode(codes[i].content.expand(len(chunk), *codes[i].content.shape[1:]), chunk,
                                 self._base(images[i], repeat=len(chunk))).cpu()
                    for chunk in identity.split(batch_size)
                ]
            yield torch.cat(row)
