"""Memory-request trace files.

Two line formats are read (one request per line, ``#`` comments allowed):

* ``LD 0x1f00`` / ``ST 0x1f00`` (load/store; the reference simulator's format)
* ``0x1f00 R`` / ``0x1f00 W`` (address first, common in DRAM simulators)

Requests are replayed closed-loop: offered in order, one per cycle, and
retried while the controller's queue is full.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ConfigError

_OPS = {"LD": 0, "R": 0, "RD": 0, "READ": 0, "ST": 1, "W": 1, "WR": 1, "WRITE": 1}


def read_trace(path):
    """Return (addresses uint64, is_write bool) arrays."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read trace ({exc.strerror})") from None
    addrs, writes = [], []
    for no, line in enumerate(lines, 1):
        s = line.split("#", 1)[0].strip()
        if not s:
            continue
        parts = s.split()
        if len(parts) != 2:
            raise ConfigError(path, f"line {no}", f"expected 'LD|ST <addr>' or '<addr> R|W', got {line!r}")
        a, b = parts
        if a.upper() in _OPS:
            op, addr = a.upper(), b
        elif b.upper() in _OPS:
            op, addr = b.upper(), a
        else:
            raise ConfigError(path, f"line {no}", f"no operation (LD/ST or R/W) in {line!r}")
        try:
            v = int(addr, 0)
        except ValueError:
            raise ConfigError(path, f"line {no}", f"bad address {addr!r}") from None
        if not 0 <= v < 1 << 64:
            raise ConfigError(path, f"line {no}", f"address {addr} out of range [0, 2^64)")
        addrs.append(v)
        writes.append(_OPS[op])
    if not addrs:
        raise ConfigError(path, None, "trace has no requests")
    return np.array(addrs, np.uint64), np.array(writes, np.bool_)


def write_trace(path, addrs, is_write):
    with open(path, "w") as f:
        for a, w in zip(addrs, is_write):
            f.write(f"{'ST' if w else 'LD'} 0x{int(a):x}\n")
