"""The trace file format (JSON Lines), version 1. See docs/trace_format.md."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ConfigError
from .trace import OP_KINDS, DecodeTrace, Op

FORMAT = "decodesim-trace"
VERSION = 1
_OP_FIELDS = {"kind", "name", "layer", "shape", "dtype", "weight_bytes", "kv_read_bytes",
              "kv_write_bytes", "act_read_bytes", "act_write_bytes", "flops"}


def write_trace(trace: DecodeTrace, path) -> None:
    with open(path, "w") as f:
        f.write(json.dumps(trace.header, sort_keys=True) + "\n")
        for op in trace.ops:
            f.write(json.dumps(op.as_dict(), sort_keys=True) + "\n")


def read_trace(path) -> DecodeTrace:
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read trace ({exc.strerror})") from None
    if not lines:
        raise ConfigError(path, "line 1", "empty file; expected a header line")
    try:
        header = json.loads(lines[0])
    except json.JSONDecodeError as exc:
        raise ConfigError(path, "line 1", f"header is not JSON: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ConfigError(path, "line 1", f"not a {FORMAT} file (header 'format' must be {FORMAT!r})")
    if header.get("version") != VERSION:
        raise ConfigError(path, "line 1: version", f"{header.get('version')!r} unsupported; this reader reads {VERSION}")
    ops = []
    for no, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(path, f"line {no}", f"not JSON: {exc}") from None
        if not isinstance(d, dict) or set(d) != _OP_FIELDS:
            missing = _OP_FIELDS - set(d) if isinstance(d, dict) else _OP_FIELDS
            raise ConfigError(path, f"line {no}", f"op must have exactly the fields {sorted(_OP_FIELDS)}; "
                              f"missing {sorted(missing)}")
        if d["kind"] not in OP_KINDS:
            raise ConfigError(path, f"line {no}: kind", f"{d['kind']!r} is not one of {', '.join(OP_KINDS)}")
        _check_op_values(path, no, d)
        ops.append(Op(**d))
    return DecodeTrace(header, ops)


_COUNT_FIELDS = ("weight_bytes", "kv_read_bytes", "kv_write_bytes", "act_read_bytes", "act_write_bytes", "flops")


def _check_op_values(path, no, d):
    """Byte and flop counts are non-negative integers; layer an integer >= -1; shape a mapping of ints (or names)."""
    for k in _COUNT_FIELDS + ("layer",):
        v = d[k]
        lo = -1 if k == "layer" else 0
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ConfigError(path, f"line {no}: {k}", f"must be an integer >= {lo}, got {v!r}")
    if not isinstance(d["shape"], dict) or not all(isinstance(x, (int, str)) and not isinstance(x, bool)
                                                     for x in d["shape"].values()):
        raise ConfigError(path, f"line {no}: shape", f"must map names to integers or names, got {d['shape']!r}")
    for k in ("name", "dtype"):
        if not isinstance(d[k], str):
            raise ConfigError(path, f"line {no}: {k}", f"must be a string, got {d[k]!r}")


def diff_traces(a: DecodeTrace, b: DecodeTrace, fields=("kind", "layer", "shape", "weight_bytes",
                                                         "kv_read_bytes", "kv_write_bytes", "act_read_bytes",
                                                         "act_write_bytes", "flops")) -> list:
    """Op-by-op differences as readable strings (empty when the traces agree)."""
    out = []
    if len(a.ops) != len(b.ops):
        out.append(f"op count: {len(a.ops)} vs {len(b.ops)}")
    for i, (x, y) in enumerate(zip(a.ops, b.ops)):
        for f in fields:
            vx, vy = getattr(x, f), getattr(y, f)
            if vx != vy:
                out.append(f"op {i} ({x.name} / {y.name}): {f}: {vx} vs {vy}")
    return out
