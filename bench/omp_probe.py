"""Child process for the OpenMP wait-policy probe: prints the median slider-decode time as one JSON line.

OpenMP reads OMP_WAIT_POLICY once, when torch loads its runtime, so the policy under test
(`G2G_OMP_WAIT_POLICY`: "default" or "PASSIVE") is applied here before anything imports torch.
"""

import os
import sys

if os.environ.get("G2G_OMP_WAIT_POLICY") == "PASSIVE":
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
else:
    os.environ.pop("OMP_WAIT_POLICY", None)

import json

import torch

from bench.harness import measure
from bench.workloads import default_model, images, tiny_model


def main(argv: list[str]) -> int:
    model = tiny_model() if "--quick" in argv else default_model()
    gen = model.generator
    x = images(2, model.image_size)
    with torch.inference_mode():
        content, identity = gen.encode_content(x), gen.encode_class(x)
        timing = measure(lambda: gen.decode(content, identity), repeats=9, warmup=1)
    print(json.dumps({"policy": os.environ.get("OMP_WAIT_POLICY", "default"), "median_ms": timing.median_ms}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
