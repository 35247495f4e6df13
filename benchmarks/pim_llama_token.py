"""Wall time to simulate one LLaMA-2-7B (target: <= 2 s unmemoised) and one LLaMA-2-70B decode
token on the PIM-GPT preset at command level, with and without memoisation of identical GEMV
shapes (numba compile measured apart), side by side in one run.

    python benchmarks/pim_llama_token.py [--context 2048] [--models llama-2-7b,llama-2-70b]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.pim import load_pim  # noqa: E402
from simulator.pim import lowering  # noqa: E402
from simulator.pim.system import simulate_token  # noqa: E402
from simulator.workload import Workload, load_model  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--context", type=int, default=2048, help="KV-cache length in tokens")
    ap.add_argument("--models", default="llama-2-7b,llama-2-70b", help="comma-separated model names")
    a = ap.parse_args()
    pim = load_pim("pim-gpt-gddr6")
    t = time.perf_counter()
    lowering.gemv_cost(pim, 64, 64, memo=False)
    print(f"numba compile / cache load: {time.perf_counter() - t:.2f} s")
    for model in a.models.split(","):
        w = Workload(load_model(model))
        for memo in (True, False):
            lowering._MEMO.clear()
            t = time.perf_counter()
            s = simulate_token(pim, w, a.context, memo=memo)
            dt = time.perf_counter() - t
            print(f"{model:12s} memo={memo!s:5s}: {dt:6.2f} s wall for one token -> {s.latency_ms:.3f} ms simulated "
                  f"(row hit {s.row_hit_rate:.4f}, schedule {pim.schedule})")


if __name__ == "__main__":
    main()
