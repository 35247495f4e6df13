"""`make demo`: the default job on the shipped defaults.

PIM-GPT (8-channel GDDR6-PIM + ASIC) against this project's T4 and Xeon Gold 6154 models on
the 8 GPT models of the PIM-GPT paper, at context 128: the comparison table, and a speed-up
figure in ``out/demo_speedup.{png,pdf}``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .cli import main as cli_main
from .pim.compare import PIM_GPT_MODELS


def main(out_dir="out", models=None) -> int:
    """Print the comparison table and write ``out_dir/demo_speedup.{png,pdf}`` (the folder is
    created). Returns the exit code of the first failing step, else 0."""
    models = models or PIM_GPT_MODELS
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    args = ["compare", "--hw", "pim-gpt-gddr6", "--hw", "t4", "--hw", "xeon-gold-6154", "--context", "128"]
    for m in models:
        args += ["--workload", m]
    rc = cli_main(args)
    plot = ["plot", "speedup", "--out", str(Path(out_dir) / "demo_speedup"), "--context", "128",
            "--hw", "pim-gpt-gddr6", "--hw", "t4", "--hw", "xeon-gold-6154"]
    for m in models:
        plot += ["--workload", m]
    return rc or cli_main(plot)


if __name__ == "__main__":
    sys.exit(main())
