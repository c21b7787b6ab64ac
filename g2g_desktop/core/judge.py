"""An independent identity judge: dlib's face-recognition ResNet (128-d descriptors, same person < 0.6).

The mixing models are trained with their own encoders and, optionally, a facenet identity loss; a score from
any of those would grade the model with its own yardstick. dlib's recogniser had no part in training, so it
is an honest judge of whether a mix carries the other person's identity. It finds the face itself (dlib's
HOG detector, then its five-point shape predictor): where it finds none — a procedural face, a failed mix —
the answer is "no face", never a made-up distance.

`dlib-bin` (a prebuilt wheel) and `face-recognition-models` (the weights, inside the package) install from the
package registry; nothing is downloaded at run time. The models load on first use (~0.5 s).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

SAME_PERSON_THRESHOLD = 0.6
"""dlib's documented decision threshold: descriptors of one person are closer than this (99.38% on LFW)."""


class JudgeUnavailable(RuntimeError):
    """dlib or its model files are not installed; the message says which package to install."""


@dataclass(frozen=True)
class Verdict:
    """The judge's reading of one mix against the two people it was made from."""

    to_first: float | None  # descriptor distance to person 1; None: no face found (in the mix or person 1)
    to_second: float | None
    mix_found: bool = True  # False: dlib found no face in the mix itself

    @property
    def found(self) -> bool:
        return self.to_first is not None and self.to_second is not None

    @property
    def closer(self) -> int | None:
        """1 or 2: the person the mix is closer to (None without a face)."""
        if not self.found:
            return None
        return 1 if self.to_first <= self.to_second else 2


MODEL_FILES = ("shape_predictor_5_face_landmarks.dat", "dlib_face_recognition_resnet_model_v1.dat")


def judge_available() -> bool:
    return importlib.util.find_spec("dlib") is not None and _find_model_folder() is not None


def _find_model_folder() -> Path | None:
    """`face_recognition_models/models`, located without importing the package (its __init__ needs
    pkg_resources, gone from new setuptools); in the frozen app the two model files travel as data, and a
    bundle looks only there (a missing file is then named by `IdentityJudge.load`)."""
    if getattr(sys, "frozen", False) and hasattr(sys, "_MEIPASS"):
        return Path(sys._MEIPASS) / "face_recognition_models" / "models"
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _model_folder() -> Path:
    folder = _find_model_folder()
    if folder is None:
        raise JudgeUnavailable("the identity judge needs the 'face-recognition-models' package (pip install it)")
    return folder


def recogniser_model_path() -> Path:
    """dlib's face-recognition network file (the judge's recogniser; `trainer.dlib_face_net` ports it to torch)."""
    path = _model_folder() / MODEL_FILES[1]
    if not path.is_file():
        raise JudgeUnavailable(f"{path.parent}: model file missing: {path.name}")
    return path


class IdentityJudge:
    """Face descriptors and distances; thread-safe (one lock around dlib), models loaded on first use."""

    def __init__(self, threshold: float = SAME_PERSON_THRESHOLD):
        self.threshold = threshold
        self._lock = threading.Lock()
        self._models = None

    def load(self) -> Path:
        """Load dlib and the two model files now (else on first use); returns the model folder.

        Raises JudgeUnavailable naming what is missing: dlib's native module or a model file.
        """
        with self._lock:
            self._load()
        return _model_folder()

    def _load(self):
        if self._models is None:
            try:
                import dlib
            except ImportError as exc:
                raise JudgeUnavailable(f"the identity judge cannot import dlib ({exc}); it needs the 'dlib-bin' "
                                       "package (pip install it)") from None
            folder = _model_folder()
            files = [folder / name for name in MODEL_FILES]
            missing = [f.name for f in files if not f.is_file()]
            if missing:
                raise JudgeUnavailable(f"{folder}: model file(s) missing: {', '.join(missing)}")
            self._models = (
                dlib.get_frontal_face_detector(),
                dlib.shape_predictor(str(files[0])),
                dlib.face_recognition_model_v1(str(files[1])),
                dlib.rectangle,
            )
        return self._models

    def descriptor(self, image: Image.Image, box: tuple[int, int, int, int] | None = None) -> np.ndarray | None:
        """The 128-d descriptor of the largest face dlib finds in `image`, or None when it finds none.

        `box` (left, top, right, bottom) skips the detector and describes the face there (the self-test's
        fixed box on a face the HOG detector may not find).
        """
        pixels = np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))
        side = min(pixels.shape[:2])
        upsample = 0 if side >= 300 else 1 if side >= 120 else 2  # HOG needs faces of ~80 px and more
        with self._lock:
            detector, shapes, recogniser, rectangle = self._load()
            if box is not None:
                face = rectangle(*box)
            else:
                found = list(detector(pixels, upsample))
                if not found:
                    return None
                face = max(found, key=lambda r: r.width() * r.height())
            return np.asarray(recogniser.compute_face_descriptor(pixels, shapes(pixels, face)), dtype=np.float64)

    @staticmethod
    def distance(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
        if a is None or b is None:
            return None
        return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))

    def same_person(self, a: np.ndarray | None, b: np.ndarray | None) -> bool | None:
        d = self.distance(a, b)
        return None if d is None else d < self.threshold

    def verdict(self, mix: Image.Image, first: np.ndarray | None, second: np.ndarray | None) -> Verdict:
        """Distances of `mix` to the descriptors of person 1 and person 2 (each None where a face is missing)."""
        found = self.descriptor(mix)
        return Verdict(self.distance(found, first), self.distance(found, second), found is not None)
