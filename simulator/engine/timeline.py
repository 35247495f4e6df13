"""One row of a step's timeline: the record every backend's SimPy processes append (engine
kernels, PIM channel and ASIC ops) and every reader (breakdown, roofline plot, Chrome trace) uses
by field name."""

from __future__ import annotations

from typing import NamedTuple


class TimelineRow(NamedTuple):
    """One op on one unit: ``start_ns``/``end_ns`` in ns from the step's start; ``bytes`` moved
    (B), ``flops`` (floating-point operations), ``bound`` the breakdown part it counts towards
    (memory / compute / host / pim_gemv / asic / ...), ``kernels`` launched for it."""

    op: str
    kind: str
    layer: int
    device: str
    start_ns: float
    end_ns: float
    bytes: int
    flops: float
    bound: str
    kernels: int


COLUMNS = list(TimelineRow._fields)
