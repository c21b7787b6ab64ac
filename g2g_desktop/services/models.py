"""Loading models for the mixing view, Qt-free (the GUI runs these on a task thread)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from g2g_desktop.core.checkpoint import load_generator_with_info
from g2g_desktop.core.model_file import ModelInfo, save_model
from g2g_desktop.core.pipeline import G2GPipeline
from g2g_desktop.core.resources import default_model_path


@dataclass(frozen=True)
class LoadedModel:
    pipeline: G2GPipeline
    name: str  # file name, or "training run (step N)"
    path: Path | None  # None for a snapshot of the model being trained
    info: ModelInfo | None
    default_align: bool  # face alignment on by default for this model (off for synthetic faces)
    snapshot: bool = False  # a copy of the model being trained (`path`: the file it was kept in, if any)

    @property
    def image_size(self) -> int:
        return self.pipeline.image_size

    def summary(self) -> str:
        """One line for the status bar: architecture, image size, step, device."""
        if self.info is not None:
            text = self.info.summary()
        else:
            text = f"{self.pipeline.generator.architecture} {self.image_size}px · {self.name}"
        return f"{text} · {self.pipeline.settings.label}"

    def details(self) -> dict[str, str]:
        """Rows of the model info panel."""
        rows = {"Name": self.name, "Architecture": self.pipeline.generator.architecture,
                "Image size": f"{self.image_size}×{self.image_size}", "Device": self.pipeline.settings.label}
        if self.info is not None:
            rows["Step"] = "?" if self.info.step is None else f"{self.info.step:,}"
            rows["Approach"] = self.info.approach or self.info.source
            if self.info.source == "funit":  # a FUNIT file holds two copies; say which one mixes
                rows["Weights"] = "gen_test (EMA)" if self.info.weights == "gen_test" else "gen (no EMA copy)"
            else:
                rows["Weights"] = {"gen_test": "EMA generator", "gen": "raw generator"}.get(self.info.weights,
                                                                                             "not recorded")
            rows["File"] = str(self.info.path)
        config = self.pipeline.generator.config.to_dict()
        rows["Config"] = ", ".join(f"{k}={v}" for k, v in config.items())
        return rows


def is_synthetic(path: Path | None, info: ModelInfo | None) -> bool:
    """Models trained on the procedural faces: MTCNN finds no real faces there, so alignment starts off."""
    if path is not None:
        try:
            if os.path.samefile(path, default_model_path()):
                return True
        except OSError:  # either file missing (or unreadable): not the bundled model
            pass
    if info is None:
        return False
    text = json.dumps({"approach": info.approach, "provenance": info.provenance}, default=str).lower()
    return "procedural" in text


def load_model_file(path: str | os.PathLike, device: str | None = None) -> LoadedModel:
    """A project model or an official FUNIT `gen_*.pt`; raises CheckpointError naming the file."""
    path = Path(path)
    generator, info = load_generator_with_info(path)
    pipeline = G2GPipeline(generator, device)
    return LoadedModel(pipeline, path.name, path, info, default_align=info.aligned or not is_synthetic(path, info))


def model_from_snapshot(snapshot: Any, device: str | None = None, keep: Path | None = None) -> LoadedModel:
    """A pipeline over a `trainer.events.ModelSnapshot`: a CPU copy, the trainer's modules stay untouched.

    With `keep`, the copy is also saved there (one file, replaced by the next copy), so the next start can
    reopen the model the session mixed with; where it cannot be written the copy is mixed with all the same
    and the model's `path` stays None (the session then keeps the model it had before)."""
    generator = snapshot.build()
    for p in generator.parameters():
        p.requires_grad_(False)
    pipeline = G2GPipeline(generator, device)
    name = f"training run ({snapshot.approach}, step {snapshot.step:,})"
    info = None
    if keep is not None:
        try:
            save_model(keep, generator, approach=snapshot.approach, step=snapshot.step,
                       provenance=snapshot.provenance, weights=snapshot.weights)
            info = ModelInfo(Path(keep), "g2g", generator.architecture, generator.config.to_dict(),
                             generator.config.image_size, snapshot.step, snapshot.approach, snapshot.weights,
                             dict(snapshot.provenance))
        except OSError:
            info = None
    path = info.path if info is not None else None
    return LoadedModel(pipeline, name, path, info, default_align=False, snapshot=True)
