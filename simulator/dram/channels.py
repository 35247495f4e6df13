"""A multi-channel replay run, wherever that is exact, as one replay per channel in threads, else together.

Channels share nothing but the frontend: it offers requests in trace order, at most ``requests_per_cycle`` per
cycle, and a request refused by its full queue holds back every later request, of every channel. So while, in
the replays on their own channels, every request enters its queue at the cycle the whole replay's frontend would
take it if no queue were ever full (:func:`frontend_cycles`: its arrival cycle, later where more requests arrive
in a cycle than the frontend's width; closed loop: request r at cycle r // requests_per_cycle), the whole
replay's frontend takes each at that same cycle, and each channel sees the same requests at the same cycles: its
commands are the same. (Evaluating a channel at more cycles, as the
whole replay does when another channel is busy, changes nothing: a skipped cycle is one in which nothing
changes.) The replay starts whole (:class:`_Whole`), chunk by chunk; after a chunk with no request waiting for
room (closed loop: none has yet) it is split into the channels' replays (:meth:`_Whole.split`: per-channel rows,
request numbers translated), which advance chunk by chunk; after each chunk their acceptance cycles are checked
and every channel's state is kept (:class:`_Snapshot`). When a chunk shows a request that waited for room, every
channel goes back to its last snapshot, their states are put together again (:meth:`_Whole.merge`) and the whole
replay goes on, as :func:`.core.simulate` would have from there, until the next chunk end with no request
waiting (timed replay; a closed-loop one stays whole).

The one other link is the end: the whole replay stops when the last request of any channel retires, and until
then every channel keeps refreshing; each channel on its own is therefore run on to that cycle.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from . import core
from .state import (C_CAS_REQ, C_FWD_REQ, C_N_PRIORITY, G_HEAD, G_OTHER, K_MAX_CYCLES,
                    K_REQUESTS_PER_CYCLE, K_RUN_UNTIL, N_BUF, QB_HIT_REQ, QB_OTHER_REQ)

# core.Run arrays: one value per request (with their initial values), one row per channel, one block of node rows
# per channel; the rest are the same for every channel
_PER_REQUEST = {"rcmd": 0, "rcmd_epoch": -1, "rready": 0, "stat_done": False, "accept": -1, "complete": -1,
                "link": -1}
_PER_CHANNEL = ("memo", "chan", "bank", "buf", "grp", "qbanks", "bus_free", "pq_vec", "rank_open", "stats",
                "cmd_count")
_NODE_ROWS = ("ready", "hist")
FIRST_CHUNK_CYCLES = 1 << 10     # frontend cycles of the first chunk; each next one is twice as long, up to
MAX_CHUNK_CYCLES = 1 << 16       # this: a short first chunk finds a saturated replay at little cost


def simulate_channels(sizes, flags, sel, cons_ptr, cons, cmd_bus, cmd_cycles, cfg, req_addr, line_mask, req_vec,
                      req_is_write, req_time, jobs):
    """:func:`.core.simulate`'s replay (same arguments and results) of a trace on ``sizes[0] > 1`` channels:
    together, chunk by chunk, and whenever no request waits for room (closed loop, or timed arrivals the
    frontend's width spreads over later cycles: while none has yet), one replay per channel on ``jobs`` threads
    for as long as that stays exact (see the module's docstring). Returns (results, frontend cycles replayed
    channel by channel), or None for one channel. Raises what :func:`.core.simulate` raises.

    Counters: ``S_EVALUATED_CYCLES`` and ``S_SCANNED_ENTRIES`` count in each channel's row what its own
    replay evaluated, in row 0 what the whole replay did (their sum is the total)."""
    nch = int(sizes[0])
    n = req_vec.shape[0]
    width = int(cfg[K_REQUESTS_PER_CYCLE])
    if nch < 2 or n == 0:
        return None
    arrival = frontend_cycles(req_time if req_time.shape[0] else np.zeros(n, np.int64), width)
    # while the arrival cycles hold, the whole replay may be split again after a wait; else only while none
    # has waited (closed loop, or arrivals the frontend's width spreads: later ones depend on the waits)
    again = req_time.shape[0] > 0 and bool((arrival == req_time).all())
    args = (sizes, flags, sel, cmd_bus, cmd_cycles, req_addr, line_mask, req_vec, req_is_write, req_time)
    whole = _Whole(core.start(sizes, flags, cons_ptr, cons, cfg, req_vec), cfg.copy(), args, arrival, again)
    limit = int(cfg[K_MAX_CYCLES])
    parts = None
    alone_cycles, whole_chunk = 0, FIRST_CHUNK_CYCLES
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, nch))) as pool:
        while not whole.advance(whole_chunk, limit):
            if not whole.arrival_ahead():
                whole_chunk = min(2 * whole_chunk, MAX_CHUNK_CYCLES)
                continue
            parts = parts or _parts(sizes, flags, sel, cons_ptr, cons, cmd_bus, cmd_cycles, cfg, req_addr,
                                    line_mask, req_vec, req_is_write, arrival)
            whole.split(parts)
            first = parts[0].frontend_cycle
            exact = _alone(parts, pool, limit)
            if exact and all(p.done for p in parts):
                end = max(p.retired_at for p in parts)     # every channel refreshes until the last request retired
                list(pool.map(lambda p: p.run_to(end, end), parts))
                alone_cycles += end + 1 - first
            else:
                alone_cycles += (limit + 1 if exact else parts[0].frontend_cycle) - first
            # after a short stretch on their own, stay together for longer next time
            long_stretch = parts[0].frontend_cycle - first >= MAX_CHUNK_CYCLES
            whole_chunk = FIRST_CHUNK_CYCLES if long_stretch else min(2 * whole_chunk, MAX_CHUNK_CYCLES)
            whole.merge(parts)
            if exact:
                break                    # done, or stopped at the cycle limit
    return core.finish(whole.run, whole.run.st[3]), alone_cycles


def frontend_cycles(req_time, width):
    """The frontend cycle at which each request enters its queue while none waits for room (int64, n): in trace
    order, at most ``width`` per cycle, none before its arrival cycle ``req_time`` (non-decreasing; all 0 in a
    closed-loop replay, which gives r // width) nor before the request ahead of it."""
    n = req_time.shape[0]
    if width == 1:      # r + the largest (arrival - position) so far
        return np.arange(n, dtype=np.int64) + np.maximum.accumulate(req_time - np.arange(n, dtype=np.int64))
    return _frontend_cycles(req_time, width)


@njit(cache=True)
def _frontend_cycles(req_time, width):
    """:func:`frontend_cycles` for any width, one request after the other."""
    out = np.empty(req_time.shape[0], np.int64)
    cycle, taken = -1, 0
    for r in range(req_time.shape[0]):
        if req_time[r] > cycle:
            cycle, taken = req_time[r], 0
        elif taken == width:
            cycle, taken = cycle + 1, 0
        out[r] = cycle
        taken += 1
    return out


def _parts(sizes, flags, sel, cons_ptr, cons, cmd_bus, cmd_cycles, cfg, req_addr, line_mask, req_vec, req_is_write,
           arrival):
    """One :class:`_Part` per channel, in its initial state: its requests, numbered from 0, in channel 0 of a
    one-channel replay."""
    one = sizes.copy()
    one[0] = 1
    parts = []
    for ch in range(int(sizes[0])):
        idx = np.flatnonzero(req_vec[:, 0] == ch)
        vec = req_vec[idx]
        vec[:, 0] = 0
        parts.append(_Part(idx, (cfg.copy(), one, flags, sel, cmd_bus, cmd_cycles, req_addr[idx], line_mask, vec,
                                 req_is_write[idx], arrival[idx]), core.start(one, flags, cons_ptr, cons, cfg, vec)))
    return parts


def _alone(parts, pool, limit):
    """Advance every channel on its own, chunk by chunk (each twice the last, up to MAX_CHUNK_CYCLES), keeping
    each one's state after each chunk, until all have finished or the cycle ``limit`` is passed (True), or
    until a request had to wait for room in its queue (False: every channel is back at its last kept state)."""
    upto, chunk = parts[0].frontend_cycle - 1, FIRST_CHUNK_CYCLES
    while not all(p.done for p in parts) and upto < limit:
        upto = min(limit, upto + chunk)
        chunk = min(2 * chunk, MAX_CHUNK_CYCLES)
        going = [p for p in parts if not p.done]
        if not all(list(pool.map(lambda p: p.advance(upto), going))):     # list: wait for every one
            for p in parts:
                p.back()
            return False
        if all(p.done for p in parts):
            break               # the caller runs the finished ones on to the last retirement
        # some request retires after upto: the channels done (before or in this chunk) refresh until then
        list(pool.map(lambda p: p.run_to(upto, upto + 1), [p for p in parts if p.done]))
        for p in parts:
            p.keep(upto + 1)
    return True


def _queued(run, ch):
    """The requests in channel ch's queues of ``run`` (request numbers)."""
    return np.concatenate([run.buf[ch, q, :run.chan[ch, q]] for q in range(N_BUF)])


def _since(queued, next_req, run):
    """Requests whose values may have changed in ``run`` since a moment when ``queued`` were in its queues and
    ``next_req`` was the next to be accepted: those, and the ones accepted since."""
    return np.concatenate([queued, np.arange(next_req, run.st[0])])


def _on_time(run, arrival, checked):
    """Did the requests ``run`` accepted from number ``checked`` on enter their queue at their cycle in
    ``arrival``? Returns how many it has accepted in all, or -1 when one did not."""
    accepted = int(run.st[0])
    return accepted if (run.accept[checked:accepted] == arrival[checked:accepted]).all() else -1


def _copy_channel(dst, dc, src, sc, rows, dst_req, src_req, translate):
    """Copy channel ``sc`` of replay ``src`` into channel ``dc`` of replay ``dst`` (both :class:`.core.Run`):
    its per-channel rows, its block of ``rows`` node rows, the per-request values of requests ``src_req``
    (``src``'s numbers) into ``dst_req``, request numbers (queues, bank groups, chains, the CAS continuation)
    translated by ``translate``; the forwarding cache is dropped (it is found again)."""
    for name in _PER_CHANNEL:
        getattr(dst, name)[dc] = getattr(src, name)[sc]
    for name in _NODE_ROWS:
        getattr(dst, name)[dc * rows:(dc + 1) * rows] = getattr(src, name)[sc * rows:(sc + 1) * rows]
    for name in _PER_REQUEST:
        getattr(dst, name)[dst_req] = getattr(src, name)[src_req]
    dst.link[dst_req] = translate(src.link[src_req])
    for q in range(N_BUF):
        m = int(src.chan[sc, q])
        dst.buf[dc, q, :m] = translate(src.buf[sc, q, :m])
    dst.grp[dc, :, :, G_HEAD:G_OTHER + 1] = translate(src.grp[sc, :, :, G_HEAD:G_OTHER + 1])
    for j in (QB_HIT_REQ, QB_OTHER_REQ):
        dst.qbanks[dc, :, :, j] = translate(src.qbanks[sc, :, :, j])
    dst.chan[dc, C_CAS_REQ] = translate(src.chan[sc, C_CAS_REQ])
    dst.chan[dc, C_FWD_REQ] = -1


def _translated(table):
    """Translation of request numbers by ``table`` (numbers -> numbers); -1 (none) stays -1, as does any
    number when the table is empty (a channel without requests)."""
    if len(table) == 0:
        return lambda x: np.minimum(x, -1)
    return lambda x: np.where(x >= 0, table[np.clip(x, 0, len(table) - 1)], x)


class _Snapshot:
    """A channel's replay state to go back to: its per-channel arrays, and the per-request values of the
    requests in its queues (``queued``): those retired no longer change, those not yet accepted (from ``hi`` on)
    still have their initial values."""

    def __init__(self, run, resume, retired_at):
        self.retired_at = retired_at
        self.arrays = {name: getattr(run, name).copy() for name in _PER_CHANNEL + _NODE_ROWS}
        self.st = run.st.copy()
        self.hi = int(run.st[0])
        self.queued = _queued(run, 0)
        self.requests = {name: getattr(run, name)[self.queued] for name in _PER_REQUEST}
        self.resume = resume      # the frontend cycle the replay goes on from


class _Part:
    """One channel's replay: its requests' positions in the trace (``idx``), :func:`.core.advance`'s arguments
    (its own ``cfg`` first, its arrival cycles last) and its :class:`.core.Run`; what changed in it since it was
    last split from the whole replay (requests then queued, ``split_queued``, or accepted since, from
    ``split_next`` on)."""

    def __init__(self, idx, args, run):
        self.idx, self.args, self.run = idx, args, run
        self.checked = 0         # requests known to have entered their queue at their arrival cycle
        self.retired_at = -1     # the frontend cycle at which its last request retired (once done on its own)
        self.snapshot = _Snapshot(run, 0, -1)
        self.split_next, self.split_queued = 0, np.zeros(0, np.int64)

    @property
    def done(self):
        return self.run.st[1] == self.idx.shape[0] and self.run.st[0] == self.idx.shape[0]

    @property
    def frontend_cycle(self):
        return int(self.run.st[2])

    def advance(self, upto):
        """Replay up to frontend cycle ``upto``; False when a request had to wait for room in its queue."""
        self.args[0][K_MAX_CYCLES] = upto
        self.args[0][K_RUN_UNTIL] = 0
        core.advance(self.run, *self.args)
        if self.done:
            self.retired_at = int(self.run.st[2]) - 1      # it stopped after that cycle
        arrival = self.args[-1]
        accepted = _on_time(self.run, arrival, self.checked)
        if accepted < 0:
            return False
        self.checked = accepted
        # the next request, once its cycle has been evaluated, was refused by a full queue
        return accepted == arrival.shape[0] or arrival[accepted] >= self.run.st[2]

    def keep(self, resume):
        """Keep the state (exact up to here) to go back to; the replay goes on from frontend cycle ``resume``."""
        self.snapshot = _Snapshot(self.run, resume, self.retired_at)

    def back(self):
        """Go back to the state kept last."""
        s, run = self.snapshot, self.run
        for name, a in s.arrays.items():
            getattr(run, name)[...] = a
        for name, initial in _PER_REQUEST.items():
            values = getattr(run, name)
            values[s.queued] = s.requests[name]
            values[s.hi:] = initial
        run.st[:] = s.st
        run.st[2] = s.resume
        self.checked, self.retired_at = s.hi, s.retired_at

    def run_to(self, upto, until):
        """Every request retired: go on (refreshing) through frontend cycle ``upto``; ``until`` (the loop's
        K_RUN_UNTIL): ``upto`` to stop there for good, ``upto + 1`` to go on later."""
        cfg = self.args[0]
        cfg[K_RUN_UNTIL] = until
        cfg[K_MAX_CYCLES] = upto
        core.advance(self.run, *self.args)


class _Whole:
    """The replay of all channels together (:class:`.core.Run` ``run``, its own ``cfg``, :func:`.core.advance`'s
    other arguments ``args``), and what changed in it since the channels' states were last merged into it
    (requests then queued, ``merged_queued``, or accepted since, from ``merged_next`` on)."""

    def __init__(self, run, cfg, args, arrival, again):
        self.run, self.cfg, self.args, self.arrival, self.again = run, cfg, args, arrival, again
        self.merged_next, self.merged_queued = 0, np.zeros(0, np.int64)
        self.checked = 0         # closed loop: requests known to have entered their queue at their arrival cycle
        self.local_of = None     # trace position -> number in its channel (set at the first split)

    def advance(self, cycles, limit):
        """Replay ``cycles`` more frontend cycles; True when done or past ``limit``."""
        run = self.run
        self.cfg[K_MAX_CYCLES] = min(limit, int(run.st[2]) + cycles - 1)
        core.advance(run, self.cfg, *self.args)
        n = run.accept.shape[0]
        return (run.st[0] == n and run.st[1] == n) or run.st[2] > limit

    def arrival_ahead(self):
        """Is no request waiting for room (the next one's arrival cycle not yet evaluated)? Unless a split may
        come again after a wait (``again``): has none ever (each entered its queue at its cycle in ``arrival``)?
        Once one has, never again."""
        run, arrival = self.run, self.arrival
        accepted = int(run.st[0])
        if not self.again:
            self.checked = -1 if self.checked < 0 else _on_time(run, arrival, self.checked)
            if self.checked < 0:
                return False
        return accepted < arrival.shape[0] and arrival[accepted] >= run.st[2]

    def merge(self, parts):
        """Put the per-channel replays ``parts`` (channel order) together into ``run``: per-channel rows and
        node-row blocks stacked, per-request values of the requests that changed put back in trace order,
        request numbers (queues, bank groups, chains, the CAS continuation) translated to trace positions,
        command logs appended in the whole replay's order (by cycle, then channel). The loop's counters: requests
        accepted and retired added up, the latest completion, the frontend cycle to go on from (the latest)."""
        run = self.run
        rows = run.ready.shape[0] // len(parts)
        logs = [run.log[:run.st[4]]]
        for ch, p in enumerate(parts):
            local = _since(p.split_queued, p.split_next, p.run)
            _copy_channel(run, ch, p.run, 0, rows, p.idx[local], local, _translated(p.idx))
            run.pq_vec[ch, :p.run.chan[0, C_N_PRIORITY], 0] = ch
            lg = p.run.log[:p.run.st[4]].copy()
            lg[:, 2] = ch
            logs.append(lg)
        new = np.concatenate(logs[1:])
        n_log = len(logs[0]) + len(new)
        if run.log.shape[0] < n_log + 1024:
            core.grow_log(run, 2 * n_log + 1024)
        run.log[len(logs[0]):n_log] = new[np.argsort(new[:, 0], kind="stable")]   # channel order within a cycle
        st = np.array([p.run.st for p in parts])
        run.st[:] = (st[:, 0].sum(), st[:, 1].sum(), st[:, 2].max(), st[:, 3].max(), n_log)
        self.merged_next = int(run.st[0])
        self.merged_queued = np.concatenate([_queued(run, ch) for ch in range(len(parts))])

    def split(self, parts):
        """The inverse of :meth:`merge`: each channel's replay takes its rows, node rows and the per-request
        values that changed since the merge from ``run``, request numbers translated to its own; its log starts
        empty (what ``run`` logged so far stays there)."""
        run = self.run
        rows = run.ready.shape[0] // len(parts)
        changed = _since(self.merged_queued, self.merged_next, run)
        if self.local_of is None:
            self.local_of = np.empty(run.accept.shape[0], np.int64)
            for p in parts:
                self.local_of[p.idx] = np.arange(len(p.idx))
        channel = self.args[7][changed, 0]           # req_vec's channel column
        to_local = _translated(self.local_of)
        for ch, p in enumerate(parts):
            mine = changed[channel == ch]
            _copy_channel(p.run, 0, run, ch, rows, self.local_of[mine], mine, to_local)
            pr = p.run
            accepted = int(np.searchsorted(p.idx, run.st[0]))
            pr.st[:] = (accepted, accepted - len(_queued(pr, 0)), run.st[2], run.st[3], 0)
            p.checked = p.split_next = accepted
            p.split_queued = _queued(pr, 0)
            p.retired_at = -1    # a channel done already retired its last request before the split
            p.keep(int(run.st[2]))
