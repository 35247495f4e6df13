"""Memory-request trace files.

Line formats (one request per line, ``#`` comments allowed):

* ``ramulator``: ``LD 0x1f00`` / ``ST 0x1f00`` (the reference simulator's format), or
  ``0x1f00 R`` / ``0x1f00 W``. Replayed closed loop: offered in order, one per
  cycle, retried while the controller's queue is full.
* ``dramsim3``: ``0x1f00 READ 120`` / ``0x1f00 WRITE 125`` (DRAMsim3's trace format:
  address, operation, arrival cycle in command-clock cycles, non-decreasing). Replayed
  timed and open loop: a request enters its queue at its cycle, or as soon as there is
  room.

``auto`` picks the format from the first request line (three fields: dramsim3; two:
ramulator); every line must then be in that format.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError

FORMATS = ("auto", "ramulator", "dramsim3")
_OPS = {"LD": 0, "R": 0, "RD": 0, "READ": 0, "ST": 1, "W": 1, "WR": 1, "WRITE": 1}
_DRAMSIM3_OPS = {"READ": 0, "WRITE": 1}


@dataclass
class Trace:
    """A parsed request trace: byte addresses, write flags, arrival cycles (timed formats
    only, else None) and each request's line number in the file (see :meth:`line_of`)."""

    addrs: np.ndarray          # uint64
    is_write: np.ndarray       # bool
    arrival_cycle: np.ndarray | None
    line_no: np.ndarray | None     # int64, 1-based; None: request k is on line k + 1 (no skipped lines)
    format: str
    path: Path

    def line_of(self, k: int) -> int:
        """1-based line number of request ``k``."""
        return int(self.line_no[k]) if self.line_no is not None else k + 1


def read_trace(path):
    """Return (addresses uint64, is_write bool) arrays (any untimed or timed format)."""
    t = load_trace(path)
    return t.addrs, t.is_write


def load_trace(path, fmt: str = "auto") -> Trace:
    """Parse a trace file; errors name the file and line (ConfigError).

    Streamed: the file is read line by line into compact typed buffers (8 bytes per address,
    arrival cycle and line number, 1 per write flag), never held whole as text, so a 10^7-line
    trace parses in about 0.3 GB."""
    path = Path(path)
    if fmt not in FORMATS:
        raise ConfigError("--format", fmt, f"not one of: {', '.join(FORMATS)}")
    addrs, writes, times = array("Q"), array("B"), array("q")
    lines = None        # line numbers, kept only once a blank or comment line was skipped
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read trace ({exc.strerror})") from None
    with f:
        offset = 0
        for no, raw in enumerate(f, 1):
            line = _decode(path, raw, offset, no == 1)
            offset += len(raw)
            s = line.split("#", 1)[0].strip()
            if not s:
                if lines is None:       # first skipped line: line numbers stop being 1..n
                    lines = array("q", range(1, len(addrs) + 1))
                continue
            parts = s.split()
            if fmt == "auto":
                fmt = "dramsim3" if len(parts) == 3 else "ramulator"
            if fmt == "dramsim3":
                op, v, t = _dramsim3_line(path, no, line.rstrip("\r\n"), parts)
                if times and t < times[-1]:
                    raise ConfigError(path, f"line {no}", f"arrival cycle {t} is before the previous line's "
                                      f"{times[-1]}; cycles must not decrease")
                times.append(t)
            else:
                op, v = _ramulator_line(path, no, line.rstrip("\r\n"), parts)
            addrs.append(v)
            writes.append(op)
            if lines is not None:
                lines.append(no)
    if not addrs:
        raise ConfigError(path, None, "trace has no requests")
    return Trace(np.frombuffer(addrs, np.uint64), np.frombuffer(writes, np.uint8).view(np.bool_),
                 np.frombuffer(times, np.int64) if fmt == "dramsim3" else None,
                 None if lines is None else np.frombuffer(lines, np.int64), fmt, path)


def _decode(path, raw: bytes, offset: int, first: bool) -> str:
    """One line as text; a non-UTF-8 or binary file is a ConfigError naming the byte offset."""
    try:
        text = raw.decode("utf-8-sig" if first else "utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(path, None, f"not a UTF-8 text trace (byte 0x{raw[exc.start]:02x} at offset "
                          f"{offset + exc.start}; binary or UTF-16 file?)") from None
    if "\x00" in text:
        raise ConfigError(path, None, f"not a text trace (NUL byte at offset {offset + raw.index(0)}; binary file?)")
    return text


def _address(path, no, text):
    try:
        v = int(text, 0)
    except ValueError:
        raise ConfigError(path, f"line {no}", f"bad address {text!r}") from None
    if not 0 <= v < 1 << 64:
        raise ConfigError(path, f"line {no}", f"address {text} out of range [0, 2^64)")
    return v


def _ramulator_line(path, no, line, parts):
    if len(parts) != 2:
        raise ConfigError(path, f"line {no}", f"expected 'LD|ST <addr>' or '<addr> R|W' (format ramulator), "
                          f"got {line!r}")
    a, b = parts
    if a.upper() in _OPS:
        op, addr = a.upper(), b
    elif b.upper() in _OPS:
        op, addr = b.upper(), a
    else:
        raise ConfigError(path, f"line {no}", f"no operation (LD/ST or R/W) in {line!r}")
    return _OPS[op], _address(path, no, addr)


def _dramsim3_line(path, no, line, parts):
    if len(parts) != 3 or parts[1].upper() not in _DRAMSIM3_OPS:
        raise ConfigError(path, f"line {no}", f"expected '0x<addr> READ|WRITE <cycle>' (format dramsim3), "
                          f"got {line!r}")
    try:
        t = int(parts[2], 0)
    except ValueError:
        raise ConfigError(path, f"line {no}", f"bad arrival cycle {parts[2]!r}") from None
    if not 0 <= t < 1 << 62:
        raise ConfigError(path, f"line {no}", f"arrival cycle {t} out of range [0, 2^62)")
    return _DRAMSIM3_OPS[parts[1].upper()], _address(path, no, parts[0]), t


def check_capacity(trace: Trace, std, wrap: bool = False) -> np.ndarray:
    """Addresses within ``std``'s capacity. Beyond it: a ConfigError naming the first
    offending line and the capacity, or (``wrap``) the addresses modulo the capacity."""
    cap = std.capacity_bytes
    over = trace.addrs >= np.uint64(cap)
    if not over.any():
        return trace.addrs
    if wrap:
        return trace.addrs % np.uint64(cap)
    k = int(np.argmax(over))
    raise ConfigError(trace.path, f"line {trace.line_of(k)}",
                      f"address 0x{int(trace.addrs[k]):x} is beyond the capacity of {std.name} x "
                      f"{std.channels} channel(s): {cap} bytes (0x{cap:x}); {int(over.sum())} request(s) "
                      f"out of range (pass --wrap to fold addresses modulo the capacity)")


def write_trace(path, addrs, is_write):
    with open(path, "w") as f:
        for a, w in zip(addrs, is_write):
            f.write(f"{'ST' if w else 'LD'} 0x{int(a):x}\n")
