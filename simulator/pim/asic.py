"""Timing of the ASIC's vector datapath (PIM-GPT's non-linear ops and partial-sum reduction).

The datapath is pipelined (PIM-GPT, Wu, Wang, Lu, arXiv 2310.09385, Sec. "ASIC design": a
synthesised vector unit): each of ``asic.lanes`` lanes accepts one element per cycle, and the
number of dependent steps of an algorithm sets its pipeline depth, i.e. latency, not throughput.
An op makes ``passes`` streaming passes over its ``elements`` (a reduction must finish before
the pass that uses its result), so

    cycles = passes x rows x ceil(row_elems / lanes) + depth

where ``depth`` is the sum of the passes' pipeline depths and the scalar steps between them
(paid once: independent rows, e.g. attention heads, follow each other through the pipeline
without draining it). The depths come from the algorithms simulator/pim/functional.py runs
(``asic_stages``: Taylor degree of exp, Newton steps of the reciprocal and of the inverse
square root) and the adder/comparator tree over the lanes (ceil(log2 lanes) levels, plus one
to add into the running total), times ``asic.stage_cycles`` cycles per operation (1 in the
presets: an assumption, PIM-GPT gives no stage counts).

Cycle counts are for one op; simulator/pim/system.py turns them into nanoseconds at the
ASIC clock and decides what overlaps what.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .functional import asic_stages


@dataclass(frozen=True)
class AsicCost:
    """Cycles of one ASIC op: ``total`` with its input all present; ``first`` until its first
    global-buffer chunk of output is ready; ``tail`` from the arrival of its input's last chunk
    to the end (what stays on the critical path when the op streams behind its producer)."""
    total: int
    first: int
    tail: int


def tree_depth(lanes: int) -> int:
    """Levels of the adder (or max) tree over the lanes, plus one to add into the running value."""
    return max(1, math.ceil(math.log2(max(lanes, 1)))) + 1


def op_shape(kind: str, fn: str, lanes: int) -> tuple:
    """(passes, per-element depth of each pass, depth of the scalar steps between passes) of an
    ASIC op, following the functional core's algorithm for it (functional.py)."""
    st = asic_stages()
    tree = tree_depth(lanes)
    if kind == "layernorm":       # asic_layernorm: sum -> mean; (x-mu)^2 sum -> rsqrt; (x-mu)*r*g+b
        return 3, (tree, 2 + tree, 4), 1 + 2 + st["rsqrt"]
    if kind == "rmsnorm":         # asic_rmsnorm: x^2 sum -> rsqrt; x*r*g
        return 2, (1 + tree, 2), 2 + st["rsqrt"]
    if kind == "softmax":         # asic_softmax per row: max; exp(s-max) and its sum; * 1/sum
        return 3, (tree, 1 + st["exp"] + tree, 1), st["reciprocal"]
    if kind == "activation":
        if fn == "gelu":          # asic_gelu: u = c(x + a x^3); 1 - 2/(e^{2u}+1); 0.5 x (1+t)
            return 1, (5 + 1 + st["exp"] + 1 + st["reciprocal"] + 5,), 0
        if fn in ("silu", "silu_mul"):   # asic_silu_mul: g / (1 + e^-g) * u
            return 1, (1 + st["exp"] + 1 + st["reciprocal"] + 2,), 0
        return 1, (1,), 0         # relu: one compare
    if kind == "rope":            # rotate pairs: 2 multiplies and an add (cos/sin from a table: assumed)
        return 1, (3,), 0
    if kind == "psum":            # partial sums of a tiled GEMV added in the ASIC (one add)
        return 1, (1,), 0
    return 1, (1,), 0             # residual add, embedding copy


def asic_cycles(kind: str, fn: str, rows: int, row_elems: int, lanes: int, chunk_elems: int,
                stage_cycles: int = 1) -> AsicCost:
    """Cycles of an ASIC op over ``rows`` rows of ``row_elems`` elements; ``chunk_elems`` is
    the granularity at which a single row's input arrives and its output is consumed (the
    global buffer). Several rows (attention heads) are independent: the first row's output
    is ready after that row's passes, and the last row needs only its own passes.
    ``stage_cycles``: clock cycles per floating-point operation stage (1: assumed)."""
    passes, depths, scalar = op_shape(kind, fn, lanes)
    per_row = -(-row_elems // lanes)
    per_pass = rows * per_row
    depth = (sum(depths) + scalar) * stage_cycles
    total = passes * per_pass + depth
    if rows > 1:
        first = tail = passes * per_row + depth
    else:
        chunk = min(-(-chunk_elems // lanes), per_pass)
        first = (passes - 1) * per_pass + chunk + depth
        tail = chunk + (passes - 1) * per_pass + depth
    return AsicCost(total, min(first, total), min(tail, total))
