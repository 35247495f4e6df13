"""Wall time of the 1,000-point PIM design-space sweep (hw_configs/sweeps/pim-dse.yaml)
on this machine's cores (target: <= 10 minutes on 2 cores). Every point is simulated, including the
4-channel ones whose model exceeds the memory capacity (``allow_overcommit``); failures are counted, not fatal.

    python benchmarks/sweep_speed.py [--limit N] [--workers W] [--executor local|dask]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.dse.run import run_sweep  # noqa: E402
from simulator.dse.spec import expand, load_spec  # noqa: E402
from simulator.dse.store import read_store  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--executor", default="local")
    a = ap.parse_args()
    spec = ROOT / "hw_configs" / "sweeps" / "pim-dse.yaml"
    n_points = len(expand(load_spec(spec)))
    with tempfile.TemporaryDirectory() as td:
        store = Path(td) / "dse.parquet"
        t = time.perf_counter()
        # a speed measurement: the 4-channel points, where GPT-2 XL exceeds the preset's capacity, are
        # simulated too (a sweep run by a user refuses them with the capacity message)
        info = run_sweep(spec, store, executor=a.executor, workers=a.workers, limit=a.limit, keep_going=True,
                         allow_overcommit=True)
        dt = time.perf_counter() - t
        df = read_store(store)
    ran = info["ran"]
    print(f"{ran} of {n_points} points in {dt:.1f} s on {a.workers} worker(s) ({ran / dt:.2f} points/s); "
          f"{int((df.error != '').sum())} failed")
    if ran < n_points:
        print(f"extrapolated full sweep: {n_points / (ran / dt) / 60:.1f} min")


if __name__ == "__main__":
    main()
