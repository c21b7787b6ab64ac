"""`g2g-eval`: measure how well any model disentangles, on procedural faces or an identity folder.

    g2g-eval                                  # the bundled model on held-out procedural faces
    g2g-eval --model runs/naive               # a run folder: its model_latest.safetensors
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
import sys

from g2g_desktop import use_passive_openmp_wait


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="g2g-eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model file (.safetensors), FUNIT gen_*.pt or a g2g-train run folder "
                                        "(default: the bundled model)")
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


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, then hand them to `trainer.eval_command` (torch loads only then, so `--help`
    answers at once)."""
    use_passive_openmp_wait()
    args = build_parser().parse_args(argv)
    from trainer.eval_command import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
