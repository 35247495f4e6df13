"""`make demo`: the default job.

For now (until the PIM and device models land) this replays generated decode-like
traffic on every DRAM preset: a GEMV weight stream (sequential reads) and a KV-cache
gather (scattered reads), and prints bandwidth, row-hit rate and energy per bit.
"""

from __future__ import annotations

import numpy as np

from .dram.energy import energy_of
from .dram.run import ControllerConfig, run_trace
from .dram.standard import list_standards, load_standard


def traffic(std, kind: str, n: int, seed: int = 0):
    lines = std.channels * std.banks_per_channel * std.rows * std.column_bursts
    if kind == "weights (sequential)":
        idx = np.arange(n)
    else:
        idx = np.random.default_rng(seed).integers(0, lines, n)
    return (idx * std.tx_bytes).astype(np.uint64), np.zeros(n, bool)


def main(n: int = 20_000) -> None:
    print(f"{'standard':12s} {'traffic':22s} {'GB/s':>8s} {'% peak':>7s} {'row hit':>8s} {'pJ/bit':>7s}")
    for name in list_standards():
        std = load_standard(name)
        ctrl = ControllerConfig(requests_per_cycle=std.channels * std.data_buses_per_channel)
        for kind in ("weights (sequential)", "KV gather (random)"):
            a, w = traffic(std, kind, n)
            res = run_trace(std, a, w, controller=ctrl)
            e = energy_of(res)
            print(f"{std.name:12s} {kind:22s} {res.achieved_gbps:8.1f} {res.pct_of_peak:7.1f} "
                  f"{res.row_hit_rate:8.3f} {e.total_pj / (n * std.tx_bytes * 8):7.2f}")


if __name__ == "__main__":
    main()
