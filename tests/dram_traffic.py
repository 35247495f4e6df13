"""Mixed-locality request traffic for DRAM tests: a fraction of the requests go to a few hot lines'
neighbourhoods (row hits), the rest anywhere in the device (misses, conflicts), a fraction are writes.
One generator for the tests that fuzz the core (the draw order is part of each test's trace)."""

import numpy as np


def mixed_traffic(std, n, seed, hot_frac, write_frac=0.3):
    """(byte addresses uint64 (n,), is_write bool (n,)) for ``std``: ``hot_frac`` of the requests within
    8 lines after one of 8 random hot lines, the others uniform over every line of the device."""
    rng = np.random.default_rng(seed)
    lines = std.capacity_bytes // std.tx_bytes
    hot = rng.integers(0, lines, 8)
    a = np.where(rng.random(n) < hot_frac, (hot[rng.integers(0, 8, n)] + rng.integers(0, 8, n)) % lines,
                 rng.integers(0, lines, n))
    return (a * std.tx_bytes).astype(np.uint64), rng.random(n) < write_frac
