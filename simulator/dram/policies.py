"""Controller policies as data: scheduling policies of the read/write buffers and row (page) policies,
each a named set of switches the numba controller (:mod:`.core`) interprets. A new policy is a new
entry (``register_scheduler`` / ``register_row_policy``, or a mapping of switches under
``controller.scheduler`` / ``controller.row_policy`` in a standard's YAML), not an edit of the core.

Kept apart from ``core`` so that loading a standard (:mod:`.standard`) or keying a cache does not
import numba and compile the core.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scheduler:
    """A scheduling policy of the read and write buffers (the active buffer always serves its oldest
    ready request; the priority buffer goes first). Without switches: FR-FCFS as Ramulator 2.1 does it,
    the oldest request whose next command is timing-ready wins.

    open_row_rule: no PRE while a request of the buffer being served hits the bank's open row (Rixner et
        al., "Memory Access Scheduling", ISCA 2000).
    row_hit_cap: at most ``controller.row_hit_cap`` column accesses per activation bypass an older
        request to another row of the same bank (Ramulator's FRFCFS with a cap).
    oldest_only: FCFS: only the oldest eligible request may issue; the buffer waits until it is ready.
    column_first: among ready requests, a column access (row hit) goes before an ACT or PRE, then the
        oldest (Rixner et al.'s "first ready" ordering)."""

    open_row_rule: bool = False
    row_hit_cap: bool = False
    oldest_only: bool = False
    column_first: bool = False
    description: str = ""


@dataclass(frozen=True)
class RowPolicy:
    """When a bank's row is closed other than by a conflicting request's PRE.

    close_without_hit: a column access auto-precharges (RDA/WRA) when no other queued request hits the
        same bank and row (close page with a pending-hit exception).
    close_after: the ``close_after``-th column access since the activation auto-precharges (Ramulator
        2's ClosedCAP row policy, without its explicit-PRE fallback); 0: never.
    Both upgrade RD/WR to RDA/WRA only when the auto-precharge command is timing-ready in that cycle
    (else the plain access issues and the row stays open), as Ramulator 2's ClosedCAP does."""

    close_without_hit: bool = False
    close_after: int = 0
    description: str = ""


@dataclass(frozen=True)
class RefreshManager:
    """How refreshes fall due. per_bank: each refresh unit (rank or pseudo-channel, else the channel)
    refreshes its next bank (REFpb, round robin) every ``refresh.interval``; else every node of the
    all-bank refresh command's scope refreshes all its banks (REFab) every ``refresh.interval``."""

    per_bank: bool = False
    description: str = ""


SCHEDULERS = {
    "frfcfs": Scheduler(open_row_rule=True, description="FR-FCFS with Rixner et al.'s open-row precharge rule"),
    "frfcfs-ramulator2": Scheduler(description="FR-FCFS as Ramulator 2.1: an older conflict's ready PRE may "
                                               "close a row younger requests hit"),
    "frfcfs-cap": Scheduler(row_hit_cap=True, description="FR-FCFS with a row-hit cap (controller.row_hit_cap)"),
    "fcfs": Scheduler(oldest_only=True, description="first come, first served"),
}
ROW_POLICIES = {
    "open": RowPolicy(description="rows stay open until a conflicting request or a refresh closes them"),
    "closed": RowPolicy(close_without_hit=True, description="auto-precharge when no queued request hits the row"),
    "closed-after-4": RowPolicy(close_after=4, description="auto-precharge on the 4th access since the ACT"),
}


REFRESH_MANAGERS = {
    "all-bank": RefreshManager(description="REFab per node of the refresh command's scope every interval"),
    "per-bank": RefreshManager(per_bank=True, description="REFpb to the next bank of each rank every interval"),
}


def _register(table, kind, name, spec):
    if not isinstance(name, str) or not name:
        raise ValueError(f"{kind} name must be a non-empty string")
    if name in table and table[name] != spec:
        raise ValueError(f"{kind} '{name}' is already registered with other switches")
    table[name] = spec
    return spec


def register_scheduler(name: str, spec: Scheduler) -> Scheduler:
    """Add a scheduling policy under ``name`` (then usable as ``controller.scheduler``, ``--scheduler``
    and ``ControllerConfig(scheduler=...)``). Raises ValueError for an empty name or a name already
    registered with different switches."""
    return _register(SCHEDULERS, "scheduler", name, spec)


def register_row_policy(name: str, spec: RowPolicy) -> RowPolicy:
    """Add a row policy under ``name`` (then usable as ``controller.row_policy`` and
    ``ControllerConfig(row_policy=...)``). Raises ValueError as :func:`register_scheduler`."""
    return _register(ROW_POLICIES, "row policy", name, spec)


# Bump when the controller's semantics change (result caches key on it).
CORE_VERSION = 5
