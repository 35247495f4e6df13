"""Command-log identity of the DRAM core between two checkouts (for speed work on simulator/dram/core.py).

Replays the same seeded traces on both trees, each in its own process (PYTHONPATH = the tree), and
compares a SHA-256 of every run's command log, per-request accept and completion cycles and last
completion cycle. Cases: presets x traces (uniform random lines, 30% writes; row-hit-heavy runs of
16 sequential lines with repeats, 40% writes) x controllers (default, frfcfs-cap, fcfs, frfcfs-ramulator2,
closed and closed-after-4 row policies, FR-FCFS with column_first, a 4-wide frontend with 8-entry queues) x closed loop / timed
arrivals. A controller setting the older tree does not know is reported as skipped, not as equal.

    python benchmarks/dram_identity.py --before /path/to/old/checkout [--presets ddr4-3200,hbm2] [--requests 6000]

Exit code 0 when every case both trees ran is identical, 1 otherwise.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRESETS = "ddr4-3200,lpddr5-6400,hbm2,gddr6-16000,ddr4-3200-ramulator2,lpddr5-6400-ramulator2,hbm3,ddr5-4800"
CONTROLLERS = {"default": {}, "frfcfs-cap": {"scheduler": "frfcfs-cap"}, "fcfs": {"scheduler": "fcfs"},
               "frfcfs-ramulator2": {"scheduler": "frfcfs-ramulator2"}, "closed": {"row_policy": "closed"},
               "closed-after-4": {"row_policy": "closed-after-4"},
               "column-first": {"scheduler": "frfcfs-column-first"},
               "wide-frontend": {"requests_per_cycle": 4, "read_queue": 8, "write_queue": 8}}


def _traces(std, n):
    import numpy as np
    rng = np.random.default_rng(7)
    tx = std.tx_bytes
    rand = (rng.integers(0, (1 << 30) // tx, n) * tx).astype(np.uint64)
    base = rng.integers(0, 64, n // 16) * (1 << 20)
    hit = np.concatenate([b + np.arange(16) * tx for b in base]).astype(np.uint64)
    k = len(hit[::13])
    hit[::7][:k] = hit[::13]           # repeats: forwarded reads and coalesced writes
    return {"rand": (rand, rng.random(n) < 0.3), "row-hits": (hit, rng.random(len(hit)) < 0.4)}


def _child(presets, n):
    """Print {case: digest or 'skipped: reason'} for the tree on PYTHONPATH."""
    import hashlib

    import numpy as np

    from simulator.dram.run import ControllerConfig, run_trace
    from simulator.dram.standard import load_standard
    try:        # the column-first switch, registered as a user would (a tree without it skips the case)
        from simulator.dram.policies import Scheduler, register_scheduler
        register_scheduler("frfcfs-column-first", Scheduler(open_row_rule=True, column_first=True))
    except (ImportError, TypeError):
        pass
    out = {}
    for p in presets:
        std = load_standard(p)
        for tn, (addrs, writes) in _traces(std, n).items():
            arrival = np.cumsum(np.random.default_rng(3).integers(0, 6, len(addrs)))
            for cn, kw in CONTROLLERS.items():
                for mode, arr in (("closed-loop", None), ("timed", arrival)):
                    key = f"{p}/{tn}/{cn}/{mode}"
                    try:
                        ctrl = ControllerConfig(**kw)
                    except (TypeError, ValueError) as exc:
                        out[key] = f"skipped: {exc}"
                        continue
                    r = run_trace(std, addrs, writes, controller=ctrl, log=True, arrival_cycle=arr)
                    h = hashlib.sha256()
                    for x in (r.log, r.accept_cycle, r.complete_cycle):
                        h.update(np.ascontiguousarray(x).tobytes())
                    h.update(str(r.cycles).encode())
                    out[key] = h.hexdigest()
    print(json.dumps(out))


def _run(tree, presets, n):
    env = dict(os.environ, PYTHONPATH=str(tree))
    p = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", presets, str(n)],
                       capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"{tree}: replay failed:\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", help="folder of the other decodesim checkout")
    ap.add_argument("--presets", default=PRESETS, help=f"comma-separated DRAM presets (default {PRESETS})")
    ap.add_argument("--requests", type=int, default=6000, help="requests per random trace (default 6000)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return _child(args.child[0].split(","), int(args.child[1]))
    if not args.before:
        sys.exit("--before: the folder of the checkout to compare with is required")
    if not (Path(args.before) / "simulator").is_dir():
        sys.exit(f"--before: {args.before} has no simulator/ package")
    if args.requests < 16:
        sys.exit(f"--requests: {args.requests} is not >= 16")
    before, after = _run(Path(args.before).resolve(), args.presets, args.requests), \
        _run(ROOT, args.presets, args.requests)
    differ = [k for k in after if not before[k].startswith("skipped") and not after[k].startswith("skipped")
              and before[k] != after[k]]
    skipped = [k for k in after if before[k].startswith("skipped") or after[k].startswith("skipped")]
    for k in differ:
        print(f"DIFFERS {k}")
    print(f"{len(after) - len(skipped) - len(differ)} identical, {len(differ)} differ, {len(skipped)} skipped "
          f"(a setting one tree does not know) of {len(after)} cases")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
