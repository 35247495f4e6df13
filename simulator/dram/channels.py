"""A multi-channel replay run as one replay per channel, in threads, for as long as that is exact, then on
together from the last point known to be exact.

Channels share nothing but the frontend: it offers requests in trace order, at most ``requests_per_cycle`` per
cycle, and a request refused by its full queue holds back every later request, of every channel. So while, in
the replays on their own channels, every request enters its queue at its arrival cycle (closed loop: request r at
cycle r // requests_per_cycle, as the frontend offers them while no queue is full), and no cycle has more
arrivals than the frontend's width, the whole replay's frontend accepts each at that same cycle, and each channel
sees the same requests at the same cycles: its commands are the same. (Evaluating a channel at more cycles, as the
whole replay does when another channel is busy, changes nothing: a skipped cycle is one in which nothing
changes.) The channels advance chunk by chunk; after each chunk the acceptance cycles are checked and every
channel's state is kept (:class:`_Snapshot`). When a chunk shows a request that waited for room, every channel
goes back to the last snapshot, their states are put together into one replay (:func:`_merge`: per-channel
rows stacked, request numbers translated) and that replay goes on with all channels, as :func:`.core.simulate`
would have from there.

The one other link is the end: the whole replay stops when the last request of any channel retires, and until
then every channel keeps refreshing; each channel on its own is therefore run on to that cycle.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import core
from .state import (C_CAS_REQ, C_FWD_REQ, C_N_PRIORITY, G_HEAD, G_OTHER, K_LOG, K_MAX_CYCLES,
                    K_REQUESTS_PER_CYCLE, K_RUN_UNTIL, N_BUF, QB_HIT_REQ, QB_OTHER_REQ, S_EVALUATED_CYCLES,
                    S_SCANNED_ENTRIES)

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
    """:func:`.core.simulate`'s replay (same arguments and results) of a trace on ``sizes[0] > 1`` channels, as
    one replay per channel on ``jobs`` threads while that is exact, then on together (see the module's
    docstring). Returns (results, frontend cycle up to which the channels ran on their own), or None for one
    channel, or when some cycle has more timed arrivals than the frontend's width. Raises what
    :func:`.core.simulate` raises.

    Counters: ``S_EVALUATED_CYCLES`` and ``S_SCANNED_ENTRIES`` add up each channel's own evaluations while they
    run on their own."""
    nch = int(sizes[0])
    n = req_vec.shape[0]
    width = int(cfg[K_REQUESTS_PER_CYCLE])
    if nch < 2 or n == 0:
        return None
    if req_time.shape[0]:
        if np.unique(req_time, return_counts=True)[1].max() > width:
            return None      # some cycle has more arrivals than the frontend takes
        arrival = req_time
    else:
        arrival = np.arange(n, dtype=np.int64) // width     # closed loop while no queue is full
    one = sizes.copy()
    one[0] = 1
    parts = []
    for ch in range(nch):
        idx = np.flatnonzero(req_vec[:, 0] == ch)
        vec = req_vec[idx]
        vec[:, 0] = 0
        parts.append(_Part(idx, (cfg.copy(), one, flags, sel, cmd_bus, cmd_cycles, req_addr[idx], line_mask, vec,
                                 req_is_write[idx], arrival[idx]), core.start(one, flags, cons_ptr, cons, cfg, vec)))
    limit = int(cfg[K_MAX_CYCLES])
    alone, end = True, 0
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, nch))) as pool:
        upto, chunk = -1, FIRST_CHUNK_CYCLES
        while not all(p.done for p in parts) and upto < limit:
            upto = min(limit, upto + chunk)
            chunk = min(2 * chunk, MAX_CHUNK_CYCLES)
            if not all(pool.map(lambda p: p.advance(upto), parts)):
                alone = False
                break
            for p in parts:
                p.keep(upto + 1)
        if alone and all(p.done for p in parts):
            # every channel refreshes until the frontend cycle at which the last request retired
            end = max(p.frontend_cycle for p in parts)
            list(pool.map(lambda p: p.run_on(end), parts))
    if not alone:
        for p in parts:
            p.back()
    no_log = cfg.copy()
    no_log[K_LOG] = 0           # the merged log replaces it
    run = core.start(sizes, flags, cons_ptr, cons, no_log, req_vec)
    _merge(parts, run)
    if alone:
        return core.finish(run, run.st[3]), end
    alone_until = int(run.st[2])
    core.advance(run, cfg, sizes, flags, sel, cmd_bus, cmd_cycles, req_addr, line_mask, req_vec, req_is_write,
                 req_time)
    return core.finish(run, run.st[3]), alone_until


class _Snapshot:
    """A channel's replay state to go back to: its per-channel arrays, and the per-request values of the
    requests in its queues (``queued``): those retired no longer change, those not yet accepted (from ``hi`` on)
    still have their initial values."""

    def __init__(self, run, resume):
        self.arrays = {name: getattr(run, name).copy() for name in _PER_CHANNEL + _NODE_ROWS}
        self.st = run.st.copy()
        self.hi = int(run.st[0])
        self.queued = np.concatenate([run.buf[0, q, :run.chan[0, q]] for q in range(N_BUF)])
        self.requests = {name: getattr(run, name)[self.queued] for name in _PER_REQUEST}
        self.resume = resume      # the frontend cycle the replay goes on from


class _Part:
    """One channel's replay: its requests' positions in the trace (``idx``), :func:`.core.advance`'s arguments
    (its own ``cfg`` first, its arrival cycles last) and its :class:`.core.Run`."""

    def __init__(self, idx, args, run):
        self.idx, self.args, self.run = idx, args, run
        self.checked = 0         # requests known to have entered their queue at their arrival cycle
        self.snapshot = _Snapshot(run, 0)

    @property
    def done(self):
        return self.run.st[1] == self.idx.shape[0] and self.run.st[0] == self.idx.shape[0]

    @property
    def frontend_cycle(self):
        return int(self.run.st[2])

    def advance(self, upto):
        """Replay up to frontend cycle ``upto``; False when a request had to wait for room in its queue."""
        self.args[0][K_MAX_CYCLES] = upto
        core.advance(self.run, *self.args)
        accepted = int(self.run.st[0])
        arrival = self.args[-1]
        if not (self.run.accept[self.checked:accepted] == arrival[self.checked:accepted]).all():
            return False
        self.checked = accepted
        # the next request, once its cycle has been evaluated, was refused by a full queue
        return accepted == arrival.shape[0] or arrival[accepted] >= self.run.st[2]

    def keep(self, resume):
        """Keep the state (exact up to here) to go back to; the replay goes on from frontend cycle ``resume``."""
        self.snapshot = _Snapshot(self.run, resume)

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

    def run_on(self, end):
        """Go on (refreshing) to frontend cycle ``end``, after the cycle at which its last request retired."""
        if self.run.st[2] >= end:
            return
        cfg = self.args[0]
        cfg[K_RUN_UNTIL] = end
        cfg[K_MAX_CYCLES] = end
        self.run.st[2] += 1      # its last cycle was evaluated
        core.advance(self.run, *self.args)


def _trace_positions(idx):
    """Translation of a channel's request numbers (its requests' positions ``idx`` in the trace) to trace
    positions; -1 (none) stays -1, as does any number in a channel without requests."""
    if len(idx) == 0:
        return lambda x: np.minimum(x, -1)
    return lambda x: np.where(x >= 0, idx[np.clip(x, 0, len(idx) - 1)], x)


def _merge(parts, run):
    """Put the per-channel replays ``parts`` (channel order) together into ``run``, a fresh :class:`.core.Run` of
    the whole replay: per-channel rows and node-row blocks stacked, per-request values put back in trace order,
    request numbers (queues, bank groups, chains, the CAS continuation) translated to trace positions, command
    logs merged in the whole replay's order (by cycle, then channel). The loop's counters in ``run.st``: requests
    accepted and retired added up, the latest completion, the frontend cycle to go on from (the latest)."""
    rows = run.ready.shape[0] // len(parts)
    logs = []
    for ch, p in enumerate(parts):
        pr, idx = p.run, p.idx
        trace_pos = _trace_positions(idx)
        for name in _PER_CHANNEL:
            getattr(run, name)[ch] = getattr(pr, name)[0]
        for name in _NODE_ROWS:
            getattr(run, name)[ch * rows:(ch + 1) * rows] = getattr(pr, name)
        for name in _PER_REQUEST:
            getattr(run, name)[idx] = getattr(pr, name)
        run.link[idx] = trace_pos(pr.link)
        for q in range(N_BUF):
            m = int(pr.chan[0, q])
            run.buf[ch, q, :m] = trace_pos(pr.buf[0, q, :m])
        run.grp[ch, :, :, G_HEAD:G_OTHER + 1] = trace_pos(pr.grp[0, :, :, G_HEAD:G_OTHER + 1])
        for j in (QB_HIT_REQ, QB_OTHER_REQ):
            run.qbanks[ch, :, :, j] = trace_pos(pr.qbanks[0, :, :, j])
        run.chan[ch, C_CAS_REQ] = trace_pos(pr.chan[0, C_CAS_REQ])
        run.chan[ch, C_FWD_REQ] = -1                 # a cache: found again
        run.pq_vec[ch, :pr.chan[0, C_N_PRIORITY], 0] = ch
        lg = pr.log[:pr.st[4]].copy()
        lg[:, 2] = ch
        logs.append(lg)
    for s in (S_EVALUATED_CYCLES, S_SCANNED_ENTRIES):
        run.stats[0, s] = run.stats[:, s].sum()
        run.stats[1:, s] = 0
    log = np.concatenate(logs)
    n_log = log.shape[0]
    room = 6 * run.accept.shape[0] + 1024 if n_log else 1024    # as core.start's log (core.advance grows it)
    run.log = np.zeros((max(room, 2 * n_log), log.shape[1]), np.int64)
    run.log[:n_log] = log[np.argsort(log[:, 0], kind="stable")]     # in channel order within a cycle
    st = np.array([p.run.st for p in parts])
    run.st[:] = (st[:, 0].sum(), st[:, 1].sum(), st[:, 2].max(), st[:, 3].max(), n_log)
