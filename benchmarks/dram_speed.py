"""Speed of the DRAM core on the reference's large traces, as a ratio to the
reference simulator's own speed (``driver_req_per_s`` in ../shared/oracle/results.csv,
measured on a 2-core Xeon).

Numba compile time is measured separately in a cold cache. Trace parsing and
address mapping are excluded from the core time; the end-to-end time
(``run_trace``: mapping + core + result assembly) is reported beside it.

    python benchmarks/dram_speed.py [--csv out.csv]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="decodesim-numba-")   # cold compile
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from simulator.dram.refdata import STD_NAMES, large_cases, large_trace, oracle_dir  # noqa: E402
from simulator.dram.run import run_trace  # noqa: E402
from simulator.dram.standard import load_standard  # noqa: E402
from simulator.dram.trace_io import read_trace  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", help="also write the table as CSV")
    args = ap.parse_args()
    if oracle_dir() is None:
        sys.exit("reference data (../shared/oracle) not found")
    std0 = load_standard("ddr4-3200")
    t = time.perf_counter()
    run_trace(std0, np.array([0, 64], np.uint64), np.array([False, True]))
    compile_s = time.perf_counter() - t
    print(f"numba compile (cold cache): {compile_s:.2f} s\n")
    rows = []
    hdr = (f"{'standard':12s} {'trace':18s} {'requests':>9s} {'core s':>7s} {'e2e s':>7s} "
           f"{'ours req/s':>11s} {'ref req/s':>10s} {'ratio':>6s} {'cycles match':>12s}")
    print(hdr)
    for r in large_cases().itertuples():
        path = large_trace(r.standard, r.trace, int(r.requests), int(r.seed), r.trace_sha256)
        addrs, writes = read_trace(path)
        std = load_standard(STD_NAMES[r.standard])
        t = time.perf_counter()
        res = run_trace(std, addrs, writes)
        e2e = time.perf_counter() - t
        core = e2e - _mapping_time(std, addrs)
        ours = r.requests / core
        ratio = ours / r.driver_req_per_s
        rows.append(dict(standard=r.standard, trace=r.trace, requests=r.requests, core_s=core, e2e_s=e2e,
                         ours_req_per_s=ours, ref_req_per_s=r.driver_req_per_s, ratio=ratio,
                         cycles=res.cycles, ref_cycles=r.cycles_drain))
        print(f"{r.standard:12s} {r.trace:18s} {r.requests:9d} {core:7.2f} {e2e:7.2f} {ours:11,.0f} "
              f"{r.driver_req_per_s:10,.0f} {ratio:6.2f} {str(res.cycles == r.cycles_drain):>12s}", flush=True)
    ratios = [x["ratio"] for x in rows]
    print(f"\nratio ours/reference: min {min(ratios):.2f}x, geomean {np.exp(np.mean(np.log(ratios))):.2f}x, "
          f"max {max(ratios):.2f}x (target 50x)")
    if args.csv:
        import pandas as pd
        pd.DataFrame(rows).to_csv(args.csv, index=False)


def _mapping_time(std, addrs):
    from simulator.dram.mapping import map_addresses
    t = time.perf_counter()
    map_addresses(addrs, std)
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
