"""Peak memory of a large trace replay: ``decodesim dram`` on an n-request DDR4-3200 random trace.

The trace comes from the reference's own generator (../shared/oracle/trace_gen.py, the oracle's
`rand` kind and seed), written once under the reference-data cache. The replay runs in a child
process; its peak RSS (ru_maxrss of the child) and wall time are printed. Issue #15's target:
10^7 requests in <= 1 GB.

    python benchmarks/dram_memory.py [--requests 1e7] [--standard ddr4-3200]
"""

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.dram.refdata import cache_dir, large_trace, oracle_dir  # noqa: E402

SEED = 1592590337           # the oracle README's DDR4_3200 rand seed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=float, default=1e7, help="requests in the trace (default 1e7)")
    ap.add_argument("--standard", default="ddr4-3200", help="preset to replay on (default ddr4-3200)")
    args = ap.parse_args()
    n = int(args.requests)
    if n < 1:
        sys.exit(f"--requests: {args.requests} is not >= 1")
    if oracle_dir() is None:
        sys.exit("reference data (../shared/oracle) not found: the trace generator lives there")
    print(f"trace: {n} requests (DDR4_3200 rand, seed {SEED}) under {cache_dir()} ...", file=sys.stderr)
    trace = large_trace("DDR4_3200", "rand", n, SEED, None)
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "simulator.cli", "dram", str(trace), "--standard", args.standard,
                        "--json"], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(p.stderr[-2000:])
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{n} requests on {args.standard}: peak RSS {rss_mb:.0f} MB (target <= 1024 MB for 1e7), "
          f"wall {wall:.1f} s (trace parsing, replay and output)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
