"""`g2g-train`: headless training from the command line, alone or under `torchrun`.

    g2g-train --approach naive --data faces/ --out runs/naive --steps 20000 --set weights.gamma=0.4
    g2g-train --config run.yaml --set batch_size=8 --dry-run       # print the resolved config as JSON
    g2g-train --resume runs/naive                                  # continue that run in place
    g2g-train --recipe identity --data photos/ --out runs/mine     # docs/study.md's best recipe without ground truth
    torchrun --nproc_per_node 2 -m trainer.cli --approach funit2funit --data list.txt::images/ --out runs/f2f

The config is built in layers: a resumed run folder's config.json, the `--recipe` (how to train:
trainer/presets.py's RECIPES), the `--preset` sizes (fresh runs), the config file (YAML or JSON,
TrainConfig field names), then the flags, then each `--set name=value` (`weights.lambda_long=0.5`,
`model.nf=32` reach inside). It is checked before any data is read; a bad
value exits with one line naming it. The engine runs in a worker thread so Ctrl-C / SIGTERM only ask
it to stop: it finishes the step and writes a checkpoint (a second Ctrl-C aborts at once). A tqdm bar
shows steps/s and the time left. The run folder gets config.json, metrics.jsonl, eval.jsonl,
previews/, checkpoints/ and model_latest.safetensors from the engine, and TensorBoard scalars under
tb/ when `tensorboard` is installed.
"""

from __future__ import annotations

import argparse
import sys

from g2g_desktop import use_passive_openmp_wait
from trainer import approach_registry as registry
from trainer.presets import PRESET_TITLES, RECIPES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="g2g-train", description="Train a G2G model (naive, CycleFUNIT, FUNIT2FUNIT)."
    )
    required = parser.add_argument_group(
        "required", "Each run needs these three, as flags, in --config, or from the run folder --resume continues."
    )
    required.add_argument("--approach", choices=registry.names(),
                          help="(required) training approach (paper §IV-A/B/C); a --recipe gives one")
    required.add_argument(
        "--data", help="(required) identity folder tree, CelebA root, FUNIT list file (LIST::ROOT) or 'procedural'"
    )
    required.add_argument("--out", help="(required) run folder: checkpoints, metrics, previews")
    parser.add_argument("--align", action=argparse.BooleanOptionalAction, default=None,
                        help="photo data: train on MTCNN-aligned face crops, as the mixer aligns (cached on disk)")
    parser.add_argument("--resume", help="run folder, training state, FUNIT gen_*.pt (dis_*.pt beside it), or a "
                        "model file (.safetensors: warm start, its generator as G and EMA)")
    parser.add_argument("--steps", type=int, help="total steps of the run (a resumed run keeps its own)")
    parser.add_argument("--preset", choices=list(PRESET_TITLES),
                        help="model size: tiny (CPU, minutes), small (CPU, hours) or funit (GPU); "
                             "default tiny on the CPU, funit on a GPU; a resumed run keeps its sizes")
    parser.add_argument("--recipe", choices=list(RECIPES),
                        help="how to train, under --config, the flags and --set: "
                             + "; ".join(f"{name}: {recipe.description}" for name, recipe in RECIPES.items()))
    parser.add_argument("--config", help="YAML or JSON file with TrainConfig fields")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                        help="override one field, e.g. batch_size=8 or weights.lambda_long=0.5 (repeatable)")
    parser.add_argument("--dry-run", action="store_true", help="print the resolved config as JSON and exit")
    parser.add_argument("--device", help="cpu, cuda or cuda:N (default: CUDA when available)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, then hand them to `trainer.train_command` (torch and the engine load only then,
    so `--help` answers at once)."""
    use_passive_openmp_wait()
    parser = build_parser()
    args = parser.parse_args(argv)
    from trainer.train_command import run

    return run(args, parser)


if __name__ == "__main__":
    sys.exit(main())
