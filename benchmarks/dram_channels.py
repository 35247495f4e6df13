"""Channels replayed on their own (simulator.dram.channels) versus the whole replay, side by side.

For each case, a multi-channel trace is replayed three ways in one process, interleaved, ``--runs`` times (the
minimum is kept): the whole replay only (every channel in one cycle loop), and with the channels split off
whenever that is exact, on one thread and on ``--jobs`` threads. All three must give the same result (accept and
completion cycles, commands, refreshes); the script stops with an error when they do not. Printed: wall time of
each (the replay only; a first, compiling or cache-loading run is not counted), the speed-up over the whole
replay, and the frontend cycles in which the channels ran on their own (the others were replayed whole).

    python benchmarks/dram_channels.py [--requests 1e6] [--runs 3] [--jobs 2]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import simulator.dram.run as run_mod  # noqa: E402
from simulator.dram.standard import load_standard  # noqa: E402

# (preset, channels, cycles between arrivals or None for closed loop, what it shows)
CASES = [
    ("ddr4-3200", 8, 6, "timed, light: no queue fills"),
    ("ddr4-3200", 8, 3, "timed, heavier: queues fill now and then"),
    ("hbm2", 8, 2, "timed, HBM2 (two command buses)"),
    ("gddr6-16000", 8, None, "closed loop: queues fill at once"),
]
SPLIT = run_mod.simulate_channels


def _replay(std, addrs, writes, arrival, jobs, whole):
    run_mod.simulate_channels = (lambda *a, **k: None) if whole else SPLIT
    try:
        t = time.perf_counter()
        res = run_mod.run_trace(std, addrs, writes, arrival_cycle=arrival, jobs=jobs)
        return res, time.perf_counter() - t
    finally:
        run_mod.simulate_channels = SPLIT


def _same(a, b):
    return ((a.accept_cycle == b.accept_cycle).all() and (a.complete_cycle == b.complete_cycle).all()
            and a.command_counts == b.command_counts and a.refreshes == b.refreshes and a.cycles == b.cycles)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=float, default=1e6, help="requests per trace (default 1e6)")
    ap.add_argument("--runs", type=int, default=3, help="interleaved runs per way; the minimum is kept (default 3)")
    ap.add_argument("--jobs", type=int, default=2, help="threads of the parallel way (default 2)")
    args = ap.parse_args()
    n = int(args.requests)
    if n < 1 or args.runs < 1 or args.jobs < 1:
        sys.exit("--requests, --runs and --jobs must be >= 1")
    print(f"| case | requests | cycles on their own, of all | whole replay s | 1 thread s | {args.jobs} threads s |")
    print("|---|---|---|---|---|---|")
    for preset, nch, gap, what in CASES:
        std = load_standard(preset).with_channels(nch)
        rng = np.random.default_rng(1)
        addrs = rng.integers(0, std.capacity_bytes // std.tx_bytes, n).astype(np.uint64) * np.uint64(std.tx_bytes)
        writes = rng.random(n) < 0.3
        arrival = None if gap is None else np.arange(n, dtype=np.int64) * gap
        ways = [("whole", 1, True), ("1", 1, False), ("jobs", args.jobs, False)]
        for _name, jobs, whole in ways:        # compile or load the compiled code first
            _replay(std, addrs[:2000], writes[:2000], None if arrival is None else arrival[:2000], jobs, whole)
        best = {}
        results = {}
        for _ in range(args.runs):
            for name, jobs, whole in ways:
                res, s = _replay(std, addrs, writes, arrival, jobs, whole)
                best[name] = min(best.get(name, s), s)
                results[name] = res
        ref = results["whole"]
        for name in ("1", "jobs"):
            if not _same(ref, results[name]):
                sys.exit(f"{preset} x{nch} ({what}): the replay by channel ({name}) differs from the whole replay")
        w = best["whole"]
        print(f"| {preset} x{nch}, {what} | {n:,} | {results['jobs'].alone_cycles:,} of {ref.cycles:,} | "
              f"{w:.2f} | {best['1']:.2f} ({w / best['1']:.2f}x) | {best['jobs']:.2f} ({w / best['jobs']:.2f}x) |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
