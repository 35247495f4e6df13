"""Fill the numba cache of the DRAM core once: ``python -m simulator.dram.warm``.

Run by the Makefile's set-up stamp (after ``pip install``), so that the first ``decodesim
dram`` (and ``make test`` / ``make demo``) loads compiled code instead of compiling it
(about 15-40 s cold, depending on the machine). It replays a 64-request trace closed loop
with the command log (``--commands`` / ``--check`` path), timed open loop without it, checks
the log with the physical checker, and runs a short PIM-style command stream (and the frontend cycles of a
replay split by channel); every call
uses the argument types the CLI uses, so it fills exactly the specialisations a user hits.
Prints the wall time. Errors: none expected; a failure here is a bug (traceback).
"""

from __future__ import annotations

import sys
import time

import numpy as np


def warm() -> float:
    """Compile or load every numba entry point of the DRAM core; returns wall seconds."""
    t = time.perf_counter()
    from .channels import frontend_cycles
    from .checker import check_result
    from .core import simulate_stream
    from .run import run_trace
    from .standard import load_standard

    std = load_standard("ddr4-3200")
    n = 64
    addrs = (np.arange(n, dtype=np.uint64) * np.uint64(std.tx_bytes * 977)) % np.uint64(std.capacity_bytes)
    writes = np.arange(n) % 3 == 0
    res = run_trace(std, addrs, writes, log=True)
    check_result(res)
    run_trace(std, addrs, writes, arrival_cycle=np.arange(n, dtype=np.int64) * 4)
    frontend_cycles(np.zeros(n, np.int64), 2)         # a frontend wider than one request per cycle
    arr = std.arrays()
    simulate_stream(arr["sizes"], arr["cmd_flags"], arr["sel"], arr["cons_ptr"], arr["cons"],
                    arr["refresh_interval"], res.log[:8, 1].copy(), np.ascontiguousarray(res.log[:8, 2:-1]))
    return time.perf_counter() - t


def main() -> int:
    s = warm()
    print(f"decodesim: DRAM core compiled / loaded from the numba cache in {s:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
