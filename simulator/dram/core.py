"""The numba DRAM core: per-channel controllers and the device timing state.

Everything is structure-of-arrays with named columns (:mod:`.state`); there is no Python object per
request or per command. Commands are known by their flags (opens / closes / read / write / refresh /
all banks / WCK sync, ``cmd_flags``) and by the controller's selectors (``sel``: which command
activates, precharges, reads ...), both derived from the standard's YAML. Semantics (chosen to match
the reference controller, Ramulator 2.1's GenericDDR/LPDDR5 controllers):

* One command per command bus per channel per cycle (one shared bus unless the
  standard lists ``command_buses``; HBM has a row and a column bus, served
  column first). For each bus a controller considers, in order: the *active*
  buffer (requests whose row it has opened), the *priority* buffer (refresh),
  and - only when no refresh is pending - the read or the write buffer, chosen by write-drain hysteresis
  (enter write mode when the write queue exceeds the high watermark or the read queue is empty;
  leave when it falls below the low watermark and reads wait).
* Within a buffer, the scheduling policy (:mod:`.policies`, switches in ``cfg``): by default FR-FCFS,
  among eligible requests one whose next command is timing-ready wins, ties to the oldest arrival. A
  request whose next command would close a row another in-flight request opened is not eligible.
  ``open_row_rule`` (on in ``frfcfs``) adds Rixner et al.'s rule: a PRE is not eligible while a request
  of the buffer being served hits the open row; ``row_hit_cap``, ``oldest_only`` (FCFS) and
  ``column_first`` are the other switches.
* A request's next command comes from its bank state (closed -> ACT, other
  row open -> PRE, its row open -> RD/WR); refresh needs all banks closed
  (PREab first). A row policy (``close_without_hit`` / ``close_after``) may turn the RD/WR into
  RDA/WRA when that is timing-ready in the same cycle.
* Timing: every node (channel, rank/pseudo-channel, bank group, bank) keeps,
  per command, the earliest cycle it may issue. Issuing A at a node applies
  the constraint table rows (level, A -> B, latency, window) to that node and
  its descendants, and the ``sibling`` rows to the other children of its
  parent.
* LPDDR5: ACT1 moves the request to an *activating* buffer; its ACT2 issues
  when no other command is ready, or at the tAAD deadline. A read or write
  after WCK went idle issues CAS first and its RD/WR on the next ready cycle.
* Cycles where no command can issue and no request can arrive are skipped by
  jumping to the earliest cycle any eligible command becomes ready (exact:
  nothing in the state changes in between).

Speed (none of these changes a command or a cycle): FR-FCFS scans the read/write buffer by bank groups,
not entry by entry: all queued requests to one bank that hit its open row share one next command, ready
cycle and eligibility, as do all the others, so each (channel, buffer, bank) keeps its entries chained
oldest first and the oldest of each group (``grp``, :mod:`.state` G_*), found again only after the bank's
state changes, and the winner is the oldest head among the ready eligible groups (a row-hit cap and FCFS
keep the entry scan: their choice is not per group). Each bank with entries keeps a lower bound of its
groups' ready cycles (``QB_BOUND``; ready cycles only grow), each buffer one of those (``C_BOUND_MIN``) and
the active buffer one of its entries' (``C_ACTIVE_BOUND``, lowered to a joining entry's ready cycle, kept
when one leaves), so a scan passes over banks, or whole buffers, whose bound lies ahead; while a bank's bound
is known its slot also keeps its eligible groups' heads and commands (``QB_HIT_*``, ``QB_OTHER_*``), so a
visit only takes their ready cycles along the bank's path (``bank_rows``); elsewhere a ready cycle computed
for one (bank, command) is shared while the channel's timing state is unchanged (``memo``,
``C_TIMING_EPOCH``); the forwarding check keeps its answer for the request refused by a full queue until
the write queue changes (``C_WQ_VERSION``). The constraint table is regrouped once per run
(``_timing_program``: per level and command, plain / sibling / windowed rows), so an issued command's update
tests no row flags, and keeps and shifts a node's issue history only where a windowed row reads it, only as
deep as it reads. The cycle loop is called from Python (:func:`simulate`): a copy linked into a compiled
caller, loaded from the numba cache, ran up to a third slower.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .policies import CORE_VERSION  # noqa: F401 (re-exported)
from .state import (BIG_CYCLE, C_ACTIVE_BOUND, BK_ACT2_DEADLINE, BK_ACT2_OWNER, BK_ACTIVATING, BK_ACTIVE_REQS, BK_CLOSED,
                    BK_EPOCH, BK_OPEN, BK_ROW, BK_STATE, BK_STREAK, BUF_ACTIVATING, BUF_ACTIVE, BUF_READ,
                    BUF_WRITE, C_CAS_BUF, C_CAS_REQ, C_N_ACTIVATING, C_N_ACTIVE, C_N_PRIORITY, C_N_READ,
                    C_N_WRITE, C_NEXT_REF,
                    C_REF_RR, C_TIMING_EPOCH, C_BOUND_MIN, C_WQ_VERSION, C_FWD_REQ, C_FWD_VERSION, C_FWD_HIT,
                    C_N_BANKS_QUEUED, C_WCK_EXPIRY, C_WRITE_MODE, F_ALL_BANKS, F_BANK_PAIR, F_CLOSES, F_DATA,
                    F_OPEN_BEGIN, F_OPENS, F_REFRESH, F_WRITE, G_EPOCH, G_HEAD, G_HIT, G_OTHER, G_SLOT, G_TAIL,
                    K_AAD_CYCLES,
                    QB_BANK, QB_BOUND, QB_HIT_REQ, QB_OTHER_REQ, N_QB, K_CLOSE_AFTER, K_CLOSE_WITHOUT_HIT,
                    K_COLUMN_FIRST, K_LOG, K_MAX_CYCLES, K_N_BUSES, K_OLDEST_ONLY, K_OPEN_ROW_RULE,
                    K_PER_BANK_REFRESH, K_READ_LATENCY, K_REFRESH_INTERVAL, K_REFRESH_SCOPE,
                    K_REFRESH_UNIT_LEVEL, K_REQUESTS_PER_CYCLE, K_ROW_HIT_CAP, K_RQ_CAP, K_RUN_UNTIL,
                    K_WCK_ENABLED, K_WCK_READ_CYCLES, K_WCK_WRITE_CYCLES, K_WQ_CAP, K_WRITE_HIGH, K_WRITE_LOW, N_BANK,
                    N_BUF, N_CHAN, N_GRP, N_RANK_OPEN, N_STATS, PRIORITY_DEPTH, RO_CYCLES, RO_OPEN_BANKS, RO_SINCE,
                    S_COALESCED_WRITES, S_EVALUATED_CYCLES, S_FORWARDED_READS, S_READ_HITS, S_READS_DONE, S_ROW_HITS,
                    S_REFRESHES, S_SCANNED_ENTRIES, S_SUM_READ_LATENCY, SEL_ACT, SEL_ACT1, SEL_ACT2, SEL_PRE,
                    SEL_PREA, SEL_RD, SEL_RDA, SEL_REFAB, SEL_REFPB, SEL_WR, SEL_WRA, SEL_CASRD, SEL_CASWR)

BIG = np.int64(BIG_CYCLE)

# where a slot's candidate came from (_choose)
SRC_CAS_CONTINUATION, SRC_URGENT_ACT2, SRC_SCHEDULER = 0, 1, 2
# a (level, command)'s entries in the regrouped constraint table (_timing_program): row kinds, history depth
T_PLAIN, T_SIBLING, T_WINDOWED, T_HISTORY, T_END = range(5)


@njit(cache=True, inline="always")
def _node_range(sizes, a, lvl):
    """Range [lo, hi) of node indices at level ``lvl`` (within a channel) that
    the address vector ``a`` selects; -1 entries select every child."""
    lo = 0
    hi = 1
    for l in range(1, lvl + 1):
        s = sizes[l]
        if a[l] >= 0:
            lo = lo * s + a[l]
            hi = lo + 1
        else:
            lo = lo * s
            hi = hi * s
    return lo, hi


@njit(cache=True)
def _ready_time(ready, base, off, sizes, nlev, cmd, a):
    """Earliest cycle at which ``cmd`` at address ``a`` meets all constraints."""
    t = 0
    lo = 0
    hi = 1
    for l in range(nlev):
        if l > 0:
            s = sizes[l]
            if a[l] >= 0:
                lo = lo * s + a[l]
                hi = lo + 1
            else:
                lo = lo * s
                hi = hi * s
        for n in range(lo, hi):
            r = ready[base + off[l] + n, cmd]
            if r > t:
                t = r
    return t


@njit(cache=True)
def _update_timing(ready, hist, base, off, sizes, nlev, ncmd, cons_ptr, cons, cmd, a, clk, first):
    """Apply the constraint rows of ``cmd`` issued at ``clk`` at address ``a`` to channel ``base``'s
    nodes at levels ``first`` and below (``first`` > 0: the second bank of a paired refresh, whose levels
    above the first bank's update covered). ``cons_ptr``/``cons`` is the table regrouped by
    :func:`_timing_program`: per (level, cmd) its plain rows (``ready >= clk + latency`` at the touched
    nodes), sibling rows (the same at the other children of the touched node's parent, where the address
    selects one child), windowed rows (``ready >= (w-th latest issue of cmd at the node) + latency``, from
    the issue history ``hist``) and the depth that history is kept and shifted to (0: no windowed row reads it)."""
    lo = 0
    hi = 1
    for l in range(nlev):
        k = (l * ncmd + cmd) * T_END
        if l > 0:
            s = sizes[l]
            if a[l] >= 0:
                parent = lo
                lo = parent * s + a[l]
                hi = lo + 1
                s0 = base + off[l] + parent * s
                for ci in range(cons_ptr[k + T_SIBLING], cons_ptr[k + T_WINDOWED] if l >= first else 0):
                    f = cons[ci, 0]
                    v = clk + cons[ci, 1]
                    for sib in range(s0, s0 + s):
                        if v > ready[sib, f] and sib != s0 + a[l]:
                            ready[sib, f] = v
            else:
                lo = lo * s
                hi = hi * s
        if l < first:
            continue
        c0 = cons_ptr[k + T_PLAIN]
        c1 = cons_ptr[k + T_SIBLING]
        w0 = cons_ptr[k + T_WINDOWED]
        depth = cons_ptr[k + T_HISTORY]
        if c1 == c0 and depth == 0:
            continue
        for n in range(lo, hi):
            g = base + off[l] + n
            for ci in range(c0, c1):
                f = cons[ci, 0]
                v = clk + cons[ci, 1]
                if v > ready[g, f]:
                    ready[g, f] = v
            if depth > 0:
                for w in range(depth - 1, 0, -1):
                    hist[g, cmd, w] = hist[g, cmd, w - 1]
                hist[g, cmd, 0] = clk
                for ci in range(w0, cons_ptr[k + T_END]):
                    past = hist[g, cmd, cons[ci, 2] - 1]
                    if past >= 0 and past + cons[ci, 1] > ready[g, cons[ci, 0]]:
                        ready[g, cons[ci, 0]] = past + cons[ci, 1]


@njit(cache=True)
def _timing_program(sizes, cons_ptr, cons, ncmd):
    """The constraint table (rows: target command, latency, window, sibling, per (level, command) from
    ``cons_ptr``) regrouped for :func:`_update_timing`: returns (``ptr``, ``rows``); for k = (level *
    ncmd + cmd) * T_END, rows ``ptr[k + T_PLAIN] .. ptr[k + T_SIBLING]`` are the plain rows (window 1),
    ``.. ptr[k + T_WINDOWED]`` the sibling rows at a level with more than one child (the window does
    not apply to them), ``.. ptr[k + T_END]`` the windowed rows; ``ptr[k + T_HISTORY]`` holds the depth
    of the issue history those read (0: none; a level's history is read only by its windowed rows).
    ``rows`` keep the table's columns."""
    nlev = sizes.shape[0]
    nk = nlev * ncmd
    ptr = np.zeros(nk * T_END + 1, np.int64)
    rows = np.zeros((cons.shape[0], 4), np.int64)
    n = 0
    for kk in range(nk):
        k = kk * T_END
        depth = 0
        for kind in (T_PLAIN, T_SIBLING, T_WINDOWED):
            ptr[k + kind] = n
            for ci in range(cons_ptr[kk], cons_ptr[kk + 1]):
                sib = cons[ci, 3] == 1
                if sib:
                    take = kind == T_SIBLING and sizes[kk // ncmd] > 1
                else:
                    take = kind == (T_PLAIN if cons[ci, 2] == 1 else T_WINDOWED)
                    if cons[ci, 2] > 1 and cons[ci, 2] > depth:
                        depth = cons[ci, 2]
                if take:
                    rows[n] = cons[ci]
                    n += 1
        ptr[k + T_HISTORY] = depth
        ptr[k + T_END] = n
    return ptr, rows


@njit(cache=True, inline="always")
def _req_ready(ready, req_vec, r, cmd, nlev, sizes, off, nodes_per_ch):
    """Ready time of ``cmd`` for request ``r`` (a full address: one node per level; node
    indices are derived from the address vector, not stored per request)."""
    base = req_vec[r, 0] * nodes_per_ch
    t = ready[base, cmd]
    idx = 0
    for l in range(1, nlev):
        idx = idx * sizes[l] + req_vec[r, l]
        v = ready[base + off[l] + idx, cmd]
        if v > t:
            t = v
    return t



# ---------------------------------------------------------------- requests' next commands
@njit(cache=True, inline="always")
def _hits_row(r, ch, b, bank, req_vec, row_i):
    """Does request ``r`` (to bank ``b``) hit the bank's open row?"""
    return bank[ch, b, BK_STATE] == BK_OPEN and req_vec[r, row_i] == bank[ch, b, BK_ROW]


@njit(cache=True, inline="always")
def _bank_cmd(ch, b, bank, sel):
    """Next command of a request to bank ``b`` that does not hit an open row: ACT (ACT1) while the bank
    is closed, ACT2 while it activates, else PRE."""
    st = bank[ch, b, BK_STATE]
    if st == BK_CLOSED:
        return sel[SEL_ACT] if sel[SEL_ACT] >= 0 else sel[SEL_ACT1]
    if st == BK_ACTIVATING:
        return sel[SEL_ACT2]
    return sel[SEL_PRE]


@njit(cache=True, inline="always")
def _req_preq(fin, r, req_bank, req_vec, row_i, bank, sel, ch):
    """Next command of a read/write request whose column command is ``fin``, from its bank's state."""
    b = req_bank[r]
    return fin if _hits_row(r, ch, b, bank, req_vec, row_i) else _bank_cmd(ch, b, bank, sel)


@njit(cache=True, inline="always")
def _req_next(fin, r, ch, req_bank, req_vec, row_i, bank, sel, rcmd, rcmd_epoch, rr):
    """Next command of request ``r``, cached: recomputed only when its bank's state changed
    since (``BK_EPOCH`` counts a bank's state changes); a recomputed command's cached
    ready cycle is reset to 0 (unknown)."""
    e = bank[ch, req_bank[r], BK_EPOCH]
    if rcmd_epoch[r] != e:
        rcmd[r] = _req_preq(fin, r, req_bank, req_vec, row_i, bank, sel, ch)
        rcmd_epoch[r] = e
        rr[0][r] = 0
    return rcmd[r]


@njit(cache=True, inline="always")
def _bank_ready(ready, req_vec, r, cmd, nlev, sizes, off, nodes_per_ch, memo, ch, b, chan):
    """Ready cycle of ``cmd`` at bank ``b`` (``r``: a request to it). ``memo[ch, b, cmd]`` = (timing epoch,
    ready cycle) shares one computation among the requests to one bank while the channel's timing
    state is unchanged (``chan[ch, C_TIMING_EPOCH]`` counts its updates)."""
    e = chan[ch, C_TIMING_EPOCH]
    if memo[ch, b, cmd, 0] == e:
        return memo[ch, b, cmd, 1]
    t = _req_ready(ready, req_vec, r, cmd, nlev, sizes, off, nodes_per_ch)
    memo[ch, b, cmd, 0] = e
    memo[ch, b, cmd, 1] = t
    return t


@njit(cache=True, inline="always")
def _req_ready_cached(ready, req_vec, r, cmd, nlev, sizes, off, nodes_per_ch, rr, clk, ch, b, chan):
    """Ready cycle of request ``r``'s next command ``cmd`` (``b``: its bank). ``rr`` = (rready, memo):
    ``rready[r]`` is a lower bound (timing state only grows), recomputed (:func:`_bank_ready`) only once
    ``clk`` reaches it, so a request whose bound lies in the future costs one load."""
    rready, memo = rr
    t = rready[r]
    if t <= clk:
        t = _bank_ready(ready, req_vec, r, cmd, nlev, sizes, off, nodes_per_ch, memo, ch, b, chan)
        rready[r] = t
    return t


@njit(cache=True)
def _refresh_preq(final, pre, a, nlev, sizes, bank, ch):
    """Next command of a refresh request: ``pre`` (precharge-all for all-bank refresh,
    the bank's precharge for per-bank refresh) while a bank under it is open."""
    lo, hi = _node_range(sizes, a, nlev - 1)
    for b in range(lo, hi):
        if bank[ch, b, BK_STATE] != BK_CLOSED:
            return pre
    return final


@njit(cache=True)
def _would_close_active(cmd, a, ch, nlev, sizes, flags, bank, chan):
    """Would ``cmd`` at ``a`` close a row that a request in the active buffer opened?"""
    if not (flags[cmd] & F_CLOSES) or chan[ch, C_N_ACTIVE] == 0:
        return False
    lo, hi = _node_range(sizes, a, nlev - 1)
    for b in range(lo, hi):
        if bank[ch, b, BK_ACTIVE_REQS] > 0:
            return True
    return False


@njit(cache=True)
def _blocks_activating(cmd, a, ch, nlev, sizes, flags, bank, chan):
    """LPDDR5: while a split activation is in flight (ACT1 issued, ACT2 not
    yet), only its owner may issue ACT2, no other ACT1 starts, and no close or
    refresh may touch the activating bank."""
    if chan[ch, C_N_ACTIVATING] == 0:
        return False
    f = flags[cmd]
    if f & (F_OPENS | F_OPEN_BEGIN):
        return True
    if not (f & (F_CLOSES | F_REFRESH)):
        return False
    lo, hi = _node_range(sizes, a, nlev - 1)
    for b in range(lo, hi):
        if bank[ch, b, BK_ACT2_OWNER]:
            return True
    return False


# ---------------------------------------------------------------- buffers and bank state
@njit(cache=True, inline="always")
def _next_of_kind(x, hit, ch, b, bank, req_vec, row_i, link):
    """Along bank b's chain from request ``x`` on (``link``; -1: none): the first entry that hits the
    bank's open row (``hit``) / that does not (-1: none)."""
    while x >= 0 and _hits_row(x, ch, b, bank, req_vec, row_i) != hit:
        x = link[x]
    return x


@njit(cache=True, inline="always")
def _group_heads(grp, ch, q, b, bank, req_vec, row_i, link):
    """Bring the heads of bank b's two groups in channel ch's buffer ``q`` (G_HIT, G_OTHER) up to date:
    after a change of the bank's state they are found again along its chain."""
    e = bank[ch, b, BK_EPOCH]
    if grp[ch, q, b, G_EPOCH] != e:
        grp[ch, q, b, G_EPOCH] = e
        head = grp[ch, q, b, G_HEAD]
        grp[ch, q, b, G_HIT] = _next_of_kind(head, True, ch, b, bank, req_vec, row_i, link)
        grp[ch, q, b, G_OTHER] = _next_of_kind(head, False, ch, b, bank, req_vec, row_i, link)


@njit(cache=True, inline="always")
def _group_join(gs, ch, q, r, b, bank, req_vec, chan):
    """Request ``r`` (to bank ``b``) joins the end of channel ch's read or write buffer ``q``: it is
    chained after the bank's youngest entry and heads its group if that was empty; the buffer's ready
    bound is forgotten when it heads a group (younger entries change no group's command, ready cycle or
    eligibility). ``gs`` = (grp, qbanks, link, bank_rows), see :mod:`.state` (G_*, QB_*), :func:`_bank_rows`."""
    grp, qbanks, link, _rows = gs
    link[r] = -1
    tail = grp[ch, q, b, G_TAIL]
    if tail >= 0:
        link[tail] = r
    else:
        k = chan[ch, C_N_BANKS_QUEUED + q]
        qbanks[ch, q, k, QB_BANK] = b
        grp[ch, q, b, G_SLOT] = k
        chan[ch, C_N_BANKS_QUEUED + q] = k + 1
        grp[ch, q, b, G_HEAD] = r
    grp[ch, q, b, G_TAIL] = r
    if grp[ch, q, b, G_EPOCH] == bank[ch, b, BK_EPOCH]:
        g = G_HIT if _hits_row(r, ch, b, bank, req_vec, req_vec.shape[1] - 2) else G_OTHER
        if grp[ch, q, b, g] >= 0:
            return
        grp[ch, q, b, g] = r
    qbanks[ch, q, grp[ch, q, b, G_SLOT], QB_BOUND] = 0
    chan[ch, C_BOUND_MIN + q] = 0


@njit(cache=True, inline="always")
def _group_leave(gs, ch, q, r, b, bank, req_vec, chan):
    """Request ``r`` (to bank ``b``) leaves channel ch's read or write buffer ``q``: it is unchained,
    the next of its kind along the chain heads its group if it did, the bank leaves the list of banks
    with entries when none is left, and the bank's and the buffer's ready bounds are forgotten."""
    grp, qbanks, link, _rows = gs
    prev = -1
    x = grp[ch, q, b, G_HEAD]
    while x != r:
        prev = x
        x = link[x]
    nxt = link[r]
    if prev >= 0:
        link[prev] = nxt
    else:
        grp[ch, q, b, G_HEAD] = nxt
    if grp[ch, q, b, G_TAIL] == r:
        grp[ch, q, b, G_TAIL] = prev
    if grp[ch, q, b, G_EPOCH] == bank[ch, b, BK_EPOCH]:
        for g in range(G_HIT, G_OTHER + 1):
            if grp[ch, q, b, g] == r:
                grp[ch, q, b, g] = _next_of_kind(nxt, g == G_HIT, ch, b, bank, req_vec, req_vec.shape[1] - 2, link)
    k = grp[ch, q, b, G_SLOT]
    qbanks[ch, q, k, QB_BOUND] = 0
    if grp[ch, q, b, G_HEAD] < 0:
        last = chan[ch, C_N_BANKS_QUEUED + q] - 1
        b2 = qbanks[ch, q, last, QB_BANK]
        for x in range(N_QB):
            qbanks[ch, q, k, x] = qbanks[ch, q, last, x]
        grp[ch, q, b2, G_SLOT] = k
        grp[ch, q, b, G_SLOT] = -1
        chan[ch, C_N_BANKS_QUEUED + q] = last
    chan[ch, C_BOUND_MIN + q] = 0


@njit(cache=True, _nrt=False)
def _remove(buf, gs, chan, bank, req_vec, req_bank, ch, q, pos):
    """Remove entry ``pos`` of channel ch's buffer ``q``; the rest keep their order. An entry of the read
    or write buffer also leaves its bank group (:func:`_group_leave`). A write leaving the write queue
    counts as a change of its contents (``C_WQ_VERSION``)."""
    n = chan[ch, q]
    if q <= BUF_WRITE:
        r = buf[ch, q, pos]
        _group_leave(gs, ch, q, r, req_bank[r], bank, req_vec, chan)
    if q == BUF_WRITE:
        chan[ch, C_WQ_VERSION] += 1
    for j in range(pos, n - 1):
        buf[ch, q, j] = buf[ch, q, j + 1]
    chan[ch, q] = n - 1


@njit(cache=True, inline="always")
def _forget_bounds(gs, chan, ch, b):
    """Forget the ready bounds of bank ``b`` (every bank: b < 0) in channel ch's read and write buffers
    (``QB_BOUND``) and the buffers' (``C_BOUND_MIN``): the next command of its entries, or its
    eligibility, may have changed."""
    grp, qbanks, _link, _rows = gs
    for q in range(BUF_WRITE + 1):
        chan[ch, C_BOUND_MIN + q] = 0
        if b < 0:
            qbanks[ch, q, :, QB_BOUND] = 0
        elif grp[ch, q, b, G_SLOT] >= 0:
            qbanks[ch, q, grp[ch, q, b, G_SLOT], QB_BOUND] = 0


@njit(cache=True, inline="always")
def _position(buf, chan, ch, q, r):
    """Position of request ``r`` in channel ch's read or write buffer ``q`` (kept in arrival order, which
    is request order: a binary search, without branches on the data)."""
    lo = 0
    n = chan[ch, q]
    while n > 1:
        half = n >> 1
        lo = lo + half if buf[ch, q, lo + half] <= r else lo
        n -= half
    return lo


@njit(cache=True, inline="always")
def _find(buf, chan, ch, q, r):
    """Position of request ``r`` in channel ch's buffer ``q`` (-1: absent)."""
    pos = -1
    for j in range(chan[ch, q]):
        if buf[ch, q, j] == r:
            pos = j
    return pos


@njit(cache=True, inline="always")
def _set_bank_state(ch, b, state, row, clk, bank, gs, chan, rank_open, banks_per_l1):
    """Bank ``b`` of channel ``ch`` goes to ``state`` (BK_*; ``row`` for activating and open) at
    ``clk``: its queued requests' cached commands and group heads are invalidated (``BK_EPOCH``), its
    ready bounds forgotten, its row-hit streak restarts, and the rank's cycles with a bank open (energy)
    are kept."""
    old = bank[ch, b, BK_STATE]
    bank[ch, b, BK_EPOCH] += 1
    bank[ch, b, BK_STREAK] = 0
    _forget_bounds(gs, chan, ch, b)
    bank[ch, b, BK_STATE] = state
    if state != BK_CLOSED:
        bank[ch, b, BK_ROW] = row
    r1 = b // banks_per_l1
    if old == BK_CLOSED and state != BK_CLOSED:
        if rank_open[ch, r1, RO_OPEN_BANKS] == 0:
            rank_open[ch, r1, RO_SINCE] = clk
        rank_open[ch, r1, RO_OPEN_BANKS] += 1
    elif old != BK_CLOSED and state == BK_CLOSED:
        rank_open[ch, r1, RO_OPEN_BANKS] -= 1
        if rank_open[ch, r1, RO_OPEN_BANKS] == 0:
            rank_open[ch, r1, RO_CYCLES] += clk - rank_open[ch, r1, RO_SINCE]


@njit(cache=True)
def _timing_state(sizes, cons, ncmd):
    """Node layout within a channel (level offsets, nodes per level) and fresh timing
    state for all channels: ready[node, cmd] (earliest legal cycle) and hist[node, cmd,
    window] (recent issue cycles, -1 = none)."""
    nlev = sizes.shape[0]
    off = np.zeros(nlev, np.int64)
    cnt_l = np.ones(nlev, np.int64)
    tot = 1
    for l in range(1, nlev):
        cnt_l[l] = cnt_l[l - 1] * sizes[l]
        off[l] = tot
        tot += cnt_l[l]
    maxw = 1
    for ci in range(cons.shape[0]):
        if cons[ci, 2] > maxw:
            maxw = cons[ci, 2]
    ready = np.zeros((sizes[0] * tot, ncmd), np.int64)
    hist = np.full((sizes[0] * tot, ncmd, maxw), -1, np.int64)
    return off, cnt_l, tot, ready, hist


@njit(cache=True, inline="always")
def _log_put(log, n_log, clk, cmd, a, typ):
    """Write one command at row ``n_log`` (the caller made room); returns n_log + 1."""
    log[n_log, 0] = clk
    log[n_log, 1] = cmd
    for l in range(a.shape[0]):
        log[n_log, 2 + l] = a[l]
    log[n_log, log.shape[1] - 1] = typ
    return n_log + 1


@njit(cache=True)
def _log_append(log, n_log, clk, cmd, a, typ):
    """Append one command to the log (growing it when full); returns (log, n_log)."""
    if n_log >= log.shape[0]:
        grown = np.zeros((2 * log.shape[0], log.shape[1]), np.int64)
        grown[:n_log] = log[:n_log]
        log = grown
    return log, _log_put(log, n_log, clk, cmd, a, typ)


# ---------------------------------------------------------------- frontend and refresh manager
@njit(cache=True, inline="always")
def _in_write_queue(buf, chan, ch, req_addr, line_mask, r):
    """Is a write to request r's line (``req_addr & line_mask``) waiting in channel ch's write queue?
    The answer for the last request asked is kept until the queue changes (``C_WQ_VERSION``): a
    request refused by a full queue is asked again every cycle."""
    if chan[ch, C_N_WRITE] == 0:
        return False
    if chan[ch, C_FWD_REQ] == r and chan[ch, C_FWD_VERSION] == chan[ch, C_WQ_VERSION]:
        return chan[ch, C_FWD_HIT] != 0
    a = req_addr[r] & line_mask
    hit = False
    for j in range(chan[ch, C_N_WRITE]):
        if (req_addr[buf[ch, BUF_WRITE, j]] & line_mask) == a:
            hit = True
            break
    chan[ch, C_FWD_REQ] = r
    chan[ch, C_FWD_VERSION] = chan[ch, C_WQ_VERSION]
    chan[ch, C_FWD_HIT] = 1 if hit else 0
    return hit


@njit(cache=True, inline="always")
def _frontend(i, next_req, retired, cfg, req_time, req_vec, req_is_write, req_addr, line_mask, req_bank, buf, gs,
              chan, bank, accept, complete, stats):
    """Offer requests at frontend cycle ``i``, in trace order, up to ``K_REQUESTS_PER_CYCLE``: a
    read to a line with a queued write is forwarded, a write to it coalesced; otherwise the
    request enters its queue (and its bank group, :func:`_group_join`), or is refused (full) and blocks
    the ones behind it. Returns (next_req, retired)."""
    n = req_vec.shape[0]
    timed = req_time.shape[0] > 0
    for _k in range(cfg[K_REQUESTS_PER_CYCLE]):
        r = next_req
        if r >= n or (timed and req_time[r] > i):
            break      # trace done, or timed replay: not arrived yet
        ch = req_vec[r, 0]
        w = req_is_write[r]
        if _in_write_queue(buf, chan, ch, req_addr, line_mask, r):
            complete[r] = i if w else i + 1
            stats[ch, S_COALESCED_WRITES if w else S_FORWARDED_READS] += 1
            retired += 1
        else:
            q = BUF_WRITE if w else BUF_READ
            m = chan[ch, q]
            if m >= (cfg[K_WQ_CAP] if w else cfg[K_RQ_CAP]):
                break      # refused: retry next cycle, in order
            buf[ch, q, m] = r
            chan[ch, q] = m + 1
            _group_join(gs, ch, q, r, req_bank[r], bank, req_vec, chan)
            if w:
                chan[ch, C_WQ_VERSION] += 1
        accept[r] = i
        next_req += 1
    return next_req, retired


@njit(cache=True, inline="always")
def _skip_cycles(ev, clk, i, next_req, cfg, req_time, req_vec, req_is_write, req_addr, line_mask, buf, chan):
    """Cycles to advance after a cycle where nothing issued: nothing changes until the earliest
    ready cycle ``ev`` of an eligible command (or a refresh), or until the next request can
    arrive (at its arrival cycle in timed replay, else next cycle, when its queue has room)."""
    step = 1
    tgt = ev - clk if ev < BIG else BIG
    if next_req < req_vec.shape[0]:
        r = next_req
        ch = req_vec[r, 0]
        if req_is_write[r]:
            can_arrive = chan[ch, C_N_WRITE] < cfg[K_WQ_CAP]
        else:
            can_arrive = chan[ch, C_N_READ] < cfg[K_RQ_CAP]
        # a read that would be forwarded / a write that would coalesce
        if _in_write_queue(buf, chan, ch, req_addr, line_mask, r):
            can_arrive = True
        rt = req_time[r] if req_time.shape[0] > 0 else 0
        if can_arrive and rt - i < tgt:
            tgt = rt - i
    if 1 < tgt < BIG:
        step = tgt
    return step


@njit(cache=True, inline="always")
def _refresh_unit_banks(cfg, sizes):
    """Banks of one per-bank refresh unit (a rank or pseudo-channel, else the channel): those under a node of
    level ``K_REFRESH_UNIT_LEVEL``."""
    n = 1
    for l in range(cfg[K_REFRESH_UNIT_LEVEL] + 1, sizes.shape[0]):
        n *= sizes[l]
    return n


@njit(cache=True, inline="always")
def _refresh_due(ch, clk, cfg, sizes, flags, sel, chan, pq_vec):
    """All-bank refresh: one request per refresh node of the scope level when the interval elapses;
    per-bank refresh: one per refresh unit, for its next bank (round robin; a paired refresh,
    ``F_BANK_PAIR``, goes round the unit's first half, each bank with its partner). Returns False when
    the priority buffer overflows."""
    if clk != chan[ch, C_NEXT_REF]:
        return True
    chan[ch, C_NEXT_REF] += cfg[K_REFRESH_INTERVAL]
    per_bank = cfg[K_PER_BANK_REFRESH] != 0
    n_nodes = 1
    for l in range(1, cfg[K_REFRESH_UNIT_LEVEL if per_bank else K_REFRESH_SCOPE] + 1):
        n_nodes *= sizes[l]
    banks_per_unit = _refresh_unit_banks(cfg, sizes) if per_bank else 1
    for k in range(n_nodes):
        m = chan[ch, C_N_PRIORITY]
        if m >= PRIORITY_DEPTH:
            return False
        v = pq_vec[ch, m]
        v[:] = -1
        v[0] = ch
        rem = k * banks_per_unit + chan[ch, C_REF_RR] if per_bank else k
        for l in range(cfg[K_REFRESH_SCOPE], 0, -1):
            v[l] = rem % sizes[l]
            rem //= sizes[l]
        chan[ch, C_N_PRIORITY] = m + 1
    if per_bank:
        paired = flags[sel[SEL_REFPB]] & F_BANK_PAIR != 0
        chan[ch, C_REF_RR] = (chan[ch, C_REF_RR] + 1) % (banks_per_unit // 2 if paired else banks_per_unit)
    return True


@njit(cache=True)
def _refresh_partner(cfg, sizes, v):
    """The paired refresh (``F_BANK_PAIR``) of the bank at address ``v`` (one digit per level) also
    refreshes the bank half its refresh unit's banks away (LPDDR5: banks n and n + 8 of a rank, JESD209-5
    per-bank refresh in BG and 16-bank mode). Returns (v's bank, the partner bank: flat indices within
    the channel; the first level at which their addresses differ)."""
    nlev = sizes.shape[0]
    b, _hi = _node_range(sizes, v, nlev - 1)
    unit = _refresh_unit_banks(cfg, sizes)
    p = b - b % unit + (b % unit + unit // 2) % unit
    first = nlev - 1
    x, y = b, p
    for l in range(nlev - 1, 0, -1):
        if x % sizes[l] != y % sizes[l]:
            first = l
        x //= sizes[l]
        y //= sizes[l]
    return b, p, first


@njit(cache=True)
def _set_bank_address(v, b, sizes):
    """Write bank ``b``'s digits (flat index within the channel) into address ``v``, levels 1 and below."""
    for l in range(sizes.shape[0] - 1, 0, -1):
        v[l] = b % sizes[l]
        b //= sizes[l]


@njit(cache=True)
def _pair_head(c, final, pre, cfg, sizes, pv, bank, ch):
    """The head of a paired refresh (address ``pv``, its next command ``c`` from its own bank): while its bank
    is closed and the partner's open, the head's address becomes the partner's (the pair is the same either
    way), so that the partner's precharge goes first; with both closed, the refresh names the pair's lower
    bank. Returns (command, the other bank of the pair)."""
    b, partner, _first = _refresh_partner(cfg, sizes, pv)
    if c == final:
        partner_open = bank[ch, partner, BK_STATE] != BK_CLOSED
        if partner_open or partner < b:
            _set_bank_address(pv, partner, sizes)
            return (pre if partner_open else final), b
    return c, partner


@njit(cache=True)
def _pair_timing(ready, hist, base, off, sizes, ncmd, cons_ptr, cons, cmd, av, clk, cfg):
    """A paired refresh ``cmd`` issued at ``av``: the constraint rows at the partner bank's own levels (those
    above were applied with the first bank's)."""
    b, partner, first = _refresh_partner(cfg, sizes, av)
    _set_bank_address(av, partner, sizes)
    _update_timing(ready, hist, base, off, sizes, sizes.shape[0], ncmd, cons_ptr, cons, cmd, av, clk, first)
    _set_bank_address(av, b, sizes)


# ---------------------------------------------------------------- choosing a slot's command
@njit(cache=True, inline="always")
def _act2_pick(urgent, check_ready, ch, slot, clk, cmd_bus, sel, ready, req_vec, nlev, sizes, off, nodes_per_ch,
               buf, chan, bank, req_bank, accept):
    """A pending ACT2 (``check_ready``: only one timing-ready on this bus): the earliest tAAD deadline,
    then the oldest (``urgent``: only those whose deadline has come). Returns (request, position in the
    activating buffer), (-1, -1) when none."""
    cand = -1
    pos = -1
    best_dl = BIG
    c2 = sel[SEL_ACT2]
    for j in range(chan[ch, C_N_ACTIVATING]):
        r = buf[ch, BUF_ACTIVATING, j]
        dl = bank[ch, req_bank[r], BK_ACT2_DEADLINE]
        if urgent and dl > clk:
            continue
        if check_ready and (cmd_bus[c2] != slot
                            or _req_ready(ready, req_vec, r, c2, nlev, sizes, off, nodes_per_ch) > clk):
            continue
        if dl < best_dl or (dl == best_dl and accept[r] < accept[cand]):
            best_dl = dl
            cand = r
            pos = j
    return cand, pos


@njit(cache=True, inline="always")
def _scan_active(ch, slot, clk, ev, req_is_write, sel, cmd_bus, ready, req_vec, nlev, sizes, off, nodes_per_ch,
                 row_i, buf, chan, bank, req_bank, rcmd, rcmd_epoch, rr, accept):
    """The active buffer (not in arrival order): its oldest request whose next command is ready on
    this bus. ``chan[ch, C_ACTIVE_BOUND]`` keeps the lowest ready cycle found by the last pass (a lower
    bound for entries on another bus); while it lies ahead the pass is skipped. Returns (request,
    position, command, ev, entries visited) with request -1 when none; ``ev`` is lowered to the earliest
    ready cycle seen."""
    if chan[ch, C_ACTIVE_BOUND] > clk:
        return -1, -1, -1, min(ev, chan[ch, C_ACTIVE_BOUND]), 0
    cand = -1
    pos = -1
    cmd = -1
    best_arr = BIG
    lowest = BIG
    n = chan[ch, C_N_ACTIVE]
    for j in range(n):
        r = buf[ch, BUF_ACTIVE, j]
        fin = sel[SEL_WR] if req_is_write[r] else sel[SEL_RD]
        c = _req_next(fin, r, ch, req_bank, req_vec, row_i, bank, sel, rcmd, rcmd_epoch, rr)
        if cmd_bus[c] != slot:
            lowest = min(lowest, rr[0][r])      # a lower bound of its ready cycle
            continue
        t = _req_ready_cached(ready, req_vec, r, c, nlev, sizes, off, nodes_per_ch, rr, clk, ch, req_bank[r], chan)
        if t < lowest:
            lowest = t
        if t < ev:
            ev = t
        if t <= clk and accept[r] < best_arr:
            best_arr = accept[r]
            cand = r
            pos = j
            cmd = c
    chan[ch, C_ACTIVE_BOUND] = lowest
    return cand, pos, cmd, ev, n


@njit(cache=True, inline="always")
def _priority_head(ch, slot, clk, ev, flags, sel, cfg, cmd_bus, ready, nlev, sizes, off, nodes_per_ch, chan,
                   bank, pq_vec, bank_rows):
    """The priority (refresh) buffer's head: its next command (the precharge while a target bank is
    open) if it is ready on this bus and closes no row the active buffer or an activation holds.
    A paired refresh (``F_BANK_PAIR``) precharges either bank first (:func:`_pair_head`) and is ready when
    both banks are. Returns (command or -1, ev)."""
    pv = pq_vec[ch, 0]
    per_bank = cfg[K_PER_BANK_REFRESH] != 0
    final = sel[SEL_REFPB] if per_bank else sel[SEL_REFAB]
    c = _refresh_preq(final, sel[SEL_PRE] if per_bank else sel[SEL_PREA], pv, nlev, sizes, bank, ch)
    partner = -1
    if per_bank and flags[final] & F_BANK_PAIR:
        c, partner = _pair_head(c, final, sel[SEL_PRE], cfg, sizes, pv, bank, ch)
    if (cmd_bus[c] != slot or _would_close_active(c, pv, ch, nlev, sizes, flags, bank, chan)
            or _blocks_activating(c, pv, ch, nlev, sizes, flags, bank, chan)
            or (c == final and partner >= 0 and bank[ch, partner, BK_ACT2_OWNER] != 0)):
        return -1, ev
    t = _ready_time(ready, ch * nodes_per_ch, off, sizes, nlev, c, pv)
    if c == final and partner >= 0:
        t = max(t, _path_ready(ready, ch * nodes_per_ch, bank_rows, partner, c))
    if t < ev:
        ev = t
    return (c if t <= clk else -1), ev


@njit(cache=True, inline="always")
def _write_mode(ch, cfg, chan):
    """Write-drain hysteresis: serve the write buffer (True) or the read buffer."""
    nw = chan[ch, C_N_WRITE]
    nr = chan[ch, C_N_READ]
    if chan[ch, C_WRITE_MODE] == 0:
        if nw > cfg[K_WRITE_HIGH] or nr == 0:
            chan[ch, C_WRITE_MODE] = 1
    elif nw < cfg[K_WRITE_LOW] and nr != 0:
        chan[ch, C_WRITE_MODE] = 0
    return chan[ch, C_WRITE_MODE] != 0


@njit(cache=True, inline="always")
def _hits_open_row(q, ch, b, buf, chan, bank, req_bank, req_vec, row_i, skip):
    """Does a request in channel ch's buffer ``q`` (other than ``skip``) hit bank b's open row?"""
    for k in range(chan[ch, q]):
        r2 = buf[ch, q, k]
        if r2 != skip and req_bank[r2] == b and req_vec[r2, row_i] == bank[ch, b, BK_ROW]:
            return True
    return False


@njit(cache=True, inline="always")
def _eligible(c, r, b, q, ch, cfg, flags, sel, req_vec, nlev, sizes, grp, bank, chan):
    """May request ``r`` (to bank ``b``, in channel ch's buffer ``q``) issue its next command ``c``? Not a
    PRE while an entry of the buffer hits the bank's open row (``open_row_rule``; b's group heads must be
    up to date), not a close of a row an active-buffer request opened, nothing a split activation in
    flight blocks. Depends on the bank and the command only."""
    if cfg[K_OPEN_ROW_RULE] != 0 and c == sel[SEL_PRE] and grp[ch, q, b, G_HIT] >= 0:
        return False
    if chan[ch, C_N_ACTIVE] > 0 and (flags[c] & F_CLOSES) and bank[ch, b, BK_ACTIVE_REQS] > 0:
        return False
    return not (chan[ch, C_N_ACTIVATING] > 0 and _blocks_activating(c, req_vec[r], ch, nlev, sizes, flags, bank, chan))


@njit(cache=True, inline="always")
def _group_record(ch, q, k, b, fin, cfg, flags, sel, req_vec, nlev, sizes, row_i, chan, bank, gs):
    """Find bank b's groups in channel ch's buffer ``q`` again (``k``: its slot in ``qbanks``) and keep
    them in the slot (:mod:`.state` QB_HIT_* / QB_OTHER_*): per group its oldest entry, -1 when the group
    is empty or not eligible, and its command."""
    grp, qbanks, link, _rows = gs
    _group_heads(grp, ch, q, b, bank, req_vec, row_i, link)
    for g in range(G_HIT, G_OTHER + 1):
        r = grp[ch, q, b, g]
        c = fin if g == G_HIT else _bank_cmd(ch, b, bank, sel)
        if r >= 0 and not _eligible(c, r, b, q, ch, cfg, flags, sel, req_vec, nlev, sizes, grp, bank, chan):
            r = -1
        j = QB_HIT_REQ + 2 * (g - G_HIT)
        qbanks[ch, q, k, j] = r
        qbanks[ch, q, k, j + 1] = c


@njit(cache=True, inline="always")
def _path_ready(ready, base, bank_rows, b, c):
    """Ready cycle of command ``c`` at bank ``b`` of the channel whose nodes start at row ``base`` of
    ``ready``: the latest over the nodes on the bank's path (``bank_rows[b]``: their rows, channel first)."""
    t = 0
    for l in range(bank_rows.shape[1]):
        v = ready[base + bank_rows[b, l], c]
        if v > t:
            t = v
    return t


@njit(cache=True, inline="always")
def _next_due(qbanks, ch, q, k, n, clk):
    """First position >= ``k`` (``n``: none) in channel ch's list of banks with entries in buffer ``q``
    whose ready bound has come (``QB_BOUND <= clk``), and the earliest bound among those passed over (BIG:
    none). A loop of its own, so that its minimum stays in a register."""
    nearest = BIG
    while k < n:
        bnd = qbanks[ch, q, k, QB_BOUND]
        if bnd <= clk:
            break
        if bnd < nearest:
            nearest = bnd
        k += 1
    return k, nearest


@njit(cache=True, inline="always")
def _scan_groups(ch, slot, q, clk, ev, cfg, flags, sel, cmd_bus, ready, req_vec, nlev, sizes, off, nodes_per_ch,
                 row_i, chan, bank, gs):
    """FR-FCFS over channel ch's buffer ``q`` by bank groups (:mod:`.state` G_*): every entry of a group
    shares its next command, eligibility and ready cycle, so the entry a scan in arrival order would
    pick (the oldest eligible one whose command is ready on this bus; ``column_first``: a column
    access's first) is the oldest head among such groups (request order is arrival order within a
    buffer). A bank whose ready bound (``QB_BOUND``: the lowest ready cycle of its eligible groups, all
    buses) lies ahead is passed over, and the whole buffer while the lowest of them (``chan[ch,
    C_BOUND_MIN + q]``) does. Returns (request or -1, command, ev, groups visited)."""
    _grp, qbanks, _link, bank_rows = gs
    if chan[ch, C_BOUND_MIN + q] > clk:     # no group can issue yet
        return -1, -1, min(ev, chan[ch, C_BOUND_MIN + q]), 0
    fin = sel[SEL_WR] if q == BUF_WRITE else sel[SEL_RD]
    base = ch * nodes_per_ch
    column_first = cfg[K_COLUMN_FIRST] != 0
    cand, cmd = BIG, -1
    row_cand, row_cmd = BIG, -1             # column_first: the oldest ready ACT / PRE
    lowest = BIG                            # the buffer's lowest bound after this pass
    visited = 0
    n = chan[ch, C_N_BANKS_QUEUED + q]
    k = -1
    while True:
        k, nearest = _next_due(qbanks, ch, q, k + 1, n, clk)
        if nearest < lowest:
            lowest = nearest
        if k >= n:
            break
        b = qbanks[ch, q, k, QB_BANK]
        if qbanks[ch, q, k, QB_BOUND] == 0:     # something that decides its groups changed
            _group_record(ch, q, k, b, fin, cfg, flags, sel, req_vec, nlev, sizes, row_i, chan, bank, gs)
        bank_low = BIG
        for j in range(QB_HIT_REQ, QB_OTHER_REQ + 1, 2):
            r = qbanks[ch, q, k, j]
            if r < 0:
                continue
            c = qbanks[ch, q, k, j + 1]
            t = _path_ready(ready, base, bank_rows, b, c)
            visited += 1
            if t < bank_low:
                bank_low = t
            if t > clk or cmd_bus[c] != slot:
                continue
            if column_first and c != fin:
                if r < row_cand:
                    row_cand, row_cmd = r, c
            elif r < cand:
                cand, cmd = r, c
        qbanks[ch, q, k, QB_BOUND] = bank_low
        if bank_low < lowest:
            lowest = bank_low
    chan[ch, C_BOUND_MIN + q] = lowest
    if lowest < ev:
        ev = lowest
    if cand == BIG:
        cand, cmd = row_cand, row_cmd
    return (cand if cand < BIG else -1), cmd, ev, visited


@njit(cache=True, inline="always")
def _scan_entries(ch, slot, q, clk, ev, cfg, flags, sel, cmd_bus, ready, req_vec, nlev, sizes, off, nodes_per_ch,
                  row_i, buf, chan, bank, req_bank, rcmd, rcmd_epoch, rr, older_other, grp, link):
    """Channel ch's buffer ``q`` entry by entry in arrival order, for the policies whose choice is not
    per bank group: ``row_hit_cap`` (an entry's turn depends on the older entries to its bank) and
    ``oldest_only`` (FCFS). Returns (request or -1, position, command, ev, entries visited)."""
    fin = sel[SEL_WR] if q == BUF_WRITE else sel[SEL_RD]
    cap = cfg[K_ROW_HIT_CAP]
    oldest_only = cfg[K_OLDEST_ONLY] != 0
    column_first = cfg[K_COLUMN_FIRST] != 0 and not oldest_only
    if cap >= 0:
        older_other[:] = False
    cand, pos, cmd = -1, -1, -1
    n = chan[ch, q]
    scanned = 0
    for j in range(n):
        scanned += 1
        r = buf[ch, q, j]
        b = req_bank[r]
        c = _req_next(fin, r, ch, req_bank, req_vec, row_i, bank, sel, rcmd, rcmd_epoch, rr)
        if cap >= 0:
            if c != fin:
                older_other[b] = True      # waits for another row of bank b
            elif bank[ch, b, BK_STREAK] >= cap and older_other[b]:
                continue                   # capped row hit: the older request goes first
        if cmd_bus[c] != slot:
            continue
        _group_heads(grp, ch, q, b, bank, req_vec, row_i, link)
        if not _eligible(c, r, b, q, ch, cfg, flags, sel, req_vec, nlev, sizes, grp, bank, chan):
            continue
        t = _req_ready_cached(ready, req_vec, r, c, nlev, sizes, off, nodes_per_ch, rr, clk, ch, b, chan)
        if t < ev:
            ev = t
        if t <= clk:
            if column_first and c != fin:
                if cand < 0:               # the oldest ready row command, unless a column access is ready
                    cand, pos, cmd = r, j, c
                continue
            cand, pos, cmd = r, j, c
            break
        if oldest_only:
            break                          # only the oldest eligible request may issue
    return cand, pos, cmd, ev, scanned


@njit(cache=True, inline="always")
def _scan_rw(ch, slot, clk, ev, cfg, flags, sel, cmd_bus, ready, req_vec, nlev, sizes, off, nodes_per_ch, row_i,
             buf, gs, chan, bank, req_bank, rcmd, rcmd_epoch, rr, older_other):
    """The read or the write buffer (write-drain hysteresis) under the scheduling policy's switches
    (``cfg[K_OPEN_ROW_RULE / K_ROW_HIT_CAP / K_OLDEST_ONLY / K_COLUMN_FIRST]``): by bank groups
    (:func:`_scan_groups`), or entry by entry (:func:`_scan_entries`) under a row-hit cap or FCFS.
    Returns (request, position, buffer, command, ev, entries or groups visited) with request -1 when
    none is ready."""
    q = BUF_WRITE if _write_mode(ch, cfg, chan) else BUF_READ
    if cfg[K_ROW_HIT_CAP] >= 0 or cfg[K_OLDEST_ONLY] != 0:
        cand, pos, cmd, ev, s = _scan_entries(ch, slot, q, clk, ev, cfg, flags, sel, cmd_bus, ready, req_vec, nlev,
                                              sizes, off, nodes_per_ch, row_i, buf, chan, bank, req_bank, rcmd,
                                              rcmd_epoch, rr, older_other, gs[0], gs[2])
        return cand, pos, q, cmd, ev, s
    cand, cmd, ev, s = _scan_groups(ch, slot, q, clk, ev, cfg, flags, sel, cmd_bus, ready, req_vec, nlev, sizes,
                                    off, nodes_per_ch, row_i, chan, bank, gs)
    if cand < 0:
        return -1, -1, q, -1, ev, s
    rcmd[cand] = cmd        # its next command at this bank epoch (read back by a CAS continuation)
    return cand, _position(buf, chan, ch, q, cand), q, cmd, ev, s


@njit(cache=True, inline="always")
def _choose(ch, slot, clk, ev, cfg, flags, sel, cmd_bus, ready, req_vec, req_is_write, nlev, sizes, off,
            nodes_per_ch, row_i, buf, gs, chan, bank, req_bank, rcmd, rcmd_epoch, rr, accept, pq_vec,
            older_other):
    """The command channel ``ch`` issues on bus ``slot`` at ``clk``: a CAS's RD/WR continuation, an
    ACT2 at its deadline, else the active buffer, the priority buffer's head, the read/write buffer,
    and a deferred ACT2 when nothing else can go. Returns (request or -1 none or -2 the priority
    head, its buffer, its position, command, is an ACT2, source SRC_*, ev, entries scanned)."""
    act2 = False
    cand, pos = -1, -1
    if chan[ch, C_N_ACTIVATING] > 0:
        cand, pos = _act2_pick(True, True, ch, slot, clk, cmd_bus, sel, ready, req_vec, nlev, sizes, off, nodes_per_ch,
                               buf, chan, bank, req_bank, accept)
        act2 = cand >= 0
    if chan[ch, C_CAS_REQ] >= 0:
        # CAS continuation: the RD/WR follows as soon as it is ready; nothing else uses the slot
        r = chan[ch, C_CAS_REQ]
        c = rcmd[r]
        if cmd_bus[c] != slot:
            return -1, -1, -1, -1, False, SRC_CAS_CONTINUATION, ev, 0
        t = _req_ready(ready, req_vec, r, c, nlev, sizes, off, nodes_per_ch)
        if t < ev:
            ev = t
        if t > clk:
            return -1, -1, -1, -1, False, SRC_CAS_CONTINUATION, ev, 0
        chan[ch, C_CAS_REQ] = -1
        q = chan[ch, C_CAS_BUF]
        return r, q, _find(buf, chan, ch, q, r), c, False, SRC_CAS_CONTINUATION, ev, 0
    if act2:
        return cand, -1, pos, sel[SEL_ACT2], True, SRC_URGENT_ACT2, ev, 0
    q = BUF_ACTIVE
    cand, pos, cmd, ev, scanned = _scan_active(ch, slot, clk, ev, req_is_write, sel, cmd_bus, ready, req_vec, nlev, sizes,
                                      off, nodes_per_ch, row_i, buf, chan, bank, req_bank, rcmd, rcmd_epoch,
                                      rr, accept)
    if cand < 0 and chan[ch, C_N_PRIORITY] > 0:
        cmd, ev = _priority_head(ch, slot, clk, ev, flags, sel, cfg, cmd_bus, ready, nlev, sizes, off, nodes_per_ch,
                                 chan, bank, pq_vec, gs[3])
        if cmd >= 0:
            cand = -2
    if cand == -1 and chan[ch, C_N_PRIORITY] == 0:      # not while a refresh waits
        cand, pos, q, cmd, ev, s = _scan_rw(ch, slot, clk, ev, cfg, flags, sel, cmd_bus, ready, req_vec, nlev,
                                            sizes, off, nodes_per_ch, row_i, buf, gs, chan, bank, req_bank,
                                            rcmd, rcmd_epoch, rr, older_other)
        scanned += s
    if cand == -1 and chan[ch, C_N_ACTIVATING] > 0:
        cand, pos = _act2_pick(False, True, ch, slot, clk, cmd_bus, sel, ready, req_vec, nlev, sizes, off, nodes_per_ch,
                               buf, chan, bank, req_bank, accept)
        if cand >= 0:
            return cand, -1, pos, sel[SEL_ACT2], True, SRC_SCHEDULER, ev, scanned
    return cand, q, pos, cmd, False, SRC_SCHEDULER, ev, scanned


@njit(cache=True, inline="always")
def _wck_sync(ch, slot, clk, cand, q, pos, cmd, cfg, flags, sel, tm, req_vec, req_is_write, nodes_per_ch, buf, chan,
              bank, req_bank, bus_free, cmd_count, log, n_log, accept):
    """LPDDR5 WCK: a column access after WCK went idle issues CAS first (its RD/WR follows as the
    channel's CAS continuation), unless a pending ACT2 would miss its deadline, which then goes
    instead. Returns (0 issue the (possibly replaced) candidate / 1 nothing this slot / 2 the CAS
    issued, request, position, is an ACT2, n_log)."""
    cons_ptr, cons, cmd_bus, cmd_cycles, ready, hist, off, sizes = tm
    nlev = sizes.shape[0]
    if clk < chan[ch, C_WCK_EXPIRY] or not (flags[cmd] & F_DATA):
        return 0, cand, pos, False, n_log
    blocked = False
    for j in range(chan[ch, C_N_ACTIVATING]):
        if bank[ch, req_bank[buf[ch, BUF_ACTIVATING, j]], BK_ACT2_DEADLINE] <= clk + 1:
            blocked = True
    if blocked:
        # the CAS would take the next slot from the RD/WR: the ACT2 with the earliest deadline goes
        cand2, pos2 = _act2_pick(False, False, ch, slot, clk, cmd_bus, sel, ready, req_vec, nlev, sizes, off,
                                 nodes_per_ch, buf, chan, bank, req_bank, accept)
        return 0, cand2, pos2, True, n_log
    cas = sel[SEL_CASWR] if flags[cmd] & F_WRITE else sel[SEL_CASRD]
    if _req_ready(ready, req_vec, cand, cas, nlev, sizes, off, nodes_per_ch) > clk:
        return 1, cand, pos, False, n_log
    _update_timing(ready, hist, ch * nodes_per_ch, off, sizes, nlev, cmd_count.shape[1], cons_ptr, cons, cas,
                   req_vec[cand], clk, 0)
    chan[ch, C_TIMING_EPOCH] += 1
    cmd_count[ch, cas] += 1
    if cfg[K_LOG] != 0:
        n_log = _log_put(log, n_log, clk, cas, req_vec[cand], 1 if req_is_write[cand] else 0)
    chan[ch, C_CAS_REQ] = cand
    chan[ch, C_CAS_BUF] = q
    bus_free[ch, slot] = clk + cmd_cycles[cas]
    return 2, cand, pos, False, n_log


# ---------------------------------------------------------------- issuing
@njit(cache=True, inline="always")
def _count_row_outcome(ch, r, row_i, req_vec, req_is_write, req_bank, bank, stat_done, stats):
    """Row hit / miss (bank closed) / conflict of request ``r``, counted at its first command."""
    if stat_done[r]:
        return
    stat_done[r] = True
    b = req_bank[r]
    if bank[ch, b, BK_STATE] == BK_OPEN and bank[ch, b, BK_ROW] == req_vec[r, row_i]:
        k = 0
    elif bank[ch, b, BK_STATE] != BK_CLOSED:
        k = 2
    else:
        k = 1
    stats[ch, S_ROW_HITS + k] += 1
    if not req_is_write[r]:
        stats[ch, S_READ_HITS + k] += 1


@njit(cache=True, inline="always")
def _row_policy_close(ch, slot, clk, r, q, cmd, cfg, sel, cmd_bus, ready, req_vec, nlev, sizes, off, nodes_per_ch,
                      row_i, buf, chan, bank, req_bank):
    """The row policy's choice for request r's column command ``cmd``: its auto-precharge form
    (RDA/WRA) when the policy closes the row here and that command is ready on this bus now, else
    ``cmd``. A row another active-buffer request opened, or another queued request hits, stays open
    under ``close_without_hit``; ``close_after`` counts accesses since the activation."""
    after = cfg[K_CLOSE_AFTER]
    if cfg[K_CLOSE_WITHOUT_HIT] == 0 and after <= 0:
        return cmd
    ap = sel[SEL_WRA] if cmd == sel[SEL_WR] else (sel[SEL_RDA] if cmd == sel[SEL_RD] else -1)
    if ap < 0 or cmd_bus[ap] != slot:
        return cmd
    b = req_bank[r]
    if bank[ch, b, BK_ACTIVE_REQS] > (1 if q == BUF_ACTIVE else 0):
        return cmd
    close = after > 0 and bank[ch, b, BK_STREAK] + 1 >= after
    if not close and cfg[K_CLOSE_WITHOUT_HIT] != 0:
        close = True
        for q2 in range(BUF_ACTIVE + 1):
            if _hits_open_row(q2, ch, b, buf, chan, bank, req_bank, req_vec, row_i, r):
                close = False
    if close and _req_ready(ready, req_vec, r, ap, nlev, sizes, off, nodes_per_ch) <= clk:
        return ap
    return cmd


@njit(cache=True, inline="always")
def _apply_bank_state(ch, clk, cand, cmd, av, flags, nlev, sizes, row_i, bank, gs, chan, req_bank, rank_open,
                      banks_per_l1):
    """Bank state after ``cmd`` at ``av``: ACT/ACT2 open, ACT1 starts the activation, PRE/RDA/WRA
    close one bank, PREA every open bank under its node."""
    f = flags[cmd]
    if f & (F_OPENS | F_OPEN_BEGIN) or ((f & F_CLOSES) and not (f & F_ALL_BANKS)):
        if cand >= 0:
            b = req_bank[cand]
        else:
            b, _hi = _node_range(sizes, av, nlev - 1)
        ns = BK_OPEN if f & F_OPENS else (BK_ACTIVATING if f & F_OPEN_BEGIN else BK_CLOSED)
        _set_bank_state(ch, b, ns, av[row_i], clk, bank, gs, chan, rank_open, banks_per_l1)
    elif f & F_CLOSES:
        lo, hi = _node_range(sizes, av, nlev - 1)
        for b in range(lo, hi):
            if bank[ch, b, BK_STATE] != BK_CLOSED:
                _set_bank_state(ch, b, BK_CLOSED, 0, clk, bank, gs, chan, rank_open, banks_per_l1)


@njit(cache=True, inline="always")
def _join_active(ch, r, b, fin, ready, nodes_per_ch, gs, buf, chan, bank):
    """Request ``r`` (to bank ``b``, its next command ``fin``) joins channel ch's active buffer; the
    buffer's ready bound is lowered to that command's ready cycle."""
    buf[ch, BUF_ACTIVE, chan[ch, C_N_ACTIVE]] = r
    chan[ch, C_N_ACTIVE] += 1
    t = _path_ready(ready, ch * nodes_per_ch, gs[3], b, fin)
    if t < chan[ch, C_ACTIVE_BOUND]:
        chan[ch, C_ACTIVE_BOUND] = t
    bank[ch, b, BK_ACTIVE_REQS] += 1


@njit(cache=True, inline="always")
def _advance_request(ch, clk, r, q, pos, cmd, act2, cfg, flags, sel, ready, nodes_per_ch, req_vec, req_is_write,
                     req_bank, buf, gs, chan, bank, accept, complete, stats):
    """Move request ``r`` on after its command: ACT2 -> active buffer; ACT -> active buffer, ACT1 ->
    activating buffer (both leave the read/write buffer); a column access retires it (reads complete
    ``K_READ_LATENCY`` cycles later). Returns its completion cycle, or -1 when it has not retired.
    The active buffer's ready bound (``C_ACTIVE_BOUND``) is lowered to a joining request's ready cycle
    (``ready`` is up to date with ``cmd``) and kept when one leaves: the lowest ready cycle of fewer
    entries is no lower."""
    b = req_bank[r]
    f = flags[cmd]
    fin = sel[SEL_WR] if req_is_write[r] else sel[SEL_RD]     # its command once it is active
    if act2:
        _remove(buf, gs, chan, bank, req_vec, req_bank, ch, BUF_ACTIVATING, pos)
        _forget_bounds(gs, chan, ch, -1)
        bank[ch, b, BK_ACT2_OWNER] = 0
        bank[ch, b, BK_ACT2_DEADLINE] = -1
        _join_active(ch, r, b, fin, ready, nodes_per_ch, gs, buf, chan, bank)
    elif f & F_DATA:
        bank[ch, b, BK_STREAK] += 1
        _remove(buf, gs, chan, bank, req_vec, req_bank, ch, q, pos)
        if q == BUF_ACTIVE:
            bank[ch, b, BK_ACTIVE_REQS] -= 1
            if bank[ch, b, BK_ACTIVE_REQS] == 0:     # its closes become eligible (see _eligible)
                _forget_bounds(gs, chan, ch, b)
        if req_is_write[r]:
            complete[r] = clk
        else:
            complete[r] = clk + cfg[K_READ_LATENCY]
            stats[ch, S_SUM_READ_LATENCY] += complete[r] - accept[r]
            stats[ch, S_READS_DONE] += 1
        return complete[r]
    elif f & (F_OPENS | F_OPEN_BEGIN) and q != BUF_ACTIVE:
        _remove(buf, gs, chan, bank, req_vec, req_bank, ch, q, pos)
        if f & F_OPEN_BEGIN:
            buf[ch, BUF_ACTIVATING, chan[ch, C_N_ACTIVATING]] = r
            chan[ch, C_N_ACTIVATING] += 1
            _forget_bounds(gs, chan, ch, -1)
            bank[ch, b, BK_ACT2_OWNER] = 1
            bank[ch, b, BK_ACT2_DEADLINE] = clk + cfg[K_AAD_CYCLES]
        else:
            _join_active(ch, r, b, fin, ready, nodes_per_ch, gs, buf, chan, bank)
    return -1


@njit(cache=True, inline="always")
def _issue(ch, slot, clk, cand, q, pos, cmd, act2, cfg, flags, sel, tm, rq, nodes_per_ch, row_i, buf, gs, chan,
           bank, stats, bus_free, cmd_count, log, n_log, pq_vec, rank_open, banks_per_l1):
    """Issue ``cmd`` for request ``cand`` (-2: the priority buffer's head) on bus ``slot`` at ``clk``:
    timing, bus, counters, log, bank state and the request's progress. ``tm`` and ``rq`` group the
    timing arrays and the per-request arrays (see _controller_loop). Returns (n_log, completion cycle of
    a retiring request or -1)."""
    cons_ptr, cons, cmd_bus, cmd_cycles, ready, hist, off, sizes = tm
    req_vec, req_is_write, req_bank, stat_done, accept, complete = rq
    nlev = sizes.shape[0]
    if cand == -2:
        av = pq_vec[ch, 0]
        typ = -1
    else:
        av = req_vec[cand]
        typ = 1 if req_is_write[cand] else 0
        _count_row_outcome(ch, cand, row_i, req_vec, req_is_write, req_bank, bank, stat_done, stats)
        if not act2:
            cmd = _row_policy_close(ch, slot, clk, cand, q, cmd, cfg, sel, cmd_bus, ready, req_vec, nlev, sizes,
                                    off, nodes_per_ch, row_i, buf, chan, bank, req_bank)
    f = flags[cmd]
    if cfg[K_WCK_ENABLED] != 0 and f & F_DATA:
        e = clk + (cfg[K_WCK_WRITE_CYCLES] if f & F_WRITE else cfg[K_WCK_READ_CYCLES])
        if e > chan[ch, C_WCK_EXPIRY]:
            chan[ch, C_WCK_EXPIRY] = e
    _update_timing(ready, hist, ch * nodes_per_ch, off, sizes, nlev, cmd_count.shape[1], cons_ptr, cons, cmd, av,
                   clk, 0)
    chan[ch, C_TIMING_EPOCH] += 1
    bus_free[ch, slot] = clk + cmd_cycles[cmd]
    cmd_count[ch, cmd] += 1
    if cfg[K_LOG] != 0:
        n_log = _log_put(log, n_log, clk, cmd, av, typ)
    _apply_bank_state(ch, clk, cand, cmd, av, flags, nlev, sizes, row_i, bank, gs, chan, req_bank, rank_open,
                      banks_per_l1)
    if cand == -2:
        if f & F_BANK_PAIR:
            _pair_timing(ready, hist, ch * nodes_per_ch, off, sizes, cmd_count.shape[1], cons_ptr, cons, cmd, av,
                         clk, cfg)
        if f & F_REFRESH:
            stats[ch, S_REFRESHES] += 1
            for j in range(chan[ch, C_N_PRIORITY] - 1):
                for l in range(pq_vec.shape[2]):
                    pq_vec[ch, j, l] = pq_vec[ch, j + 1, l]
            chan[ch, C_N_PRIORITY] -= 1
        return n_log, -1
    return n_log, _advance_request(ch, clk, cand, q, pos, cmd, act2, cfg, flags, sel, ready, nodes_per_ch, req_vec,
                                   req_is_write, req_bank, buf, gs, chan, bank, accept, complete, stats)


# ---------------------------------------------------------------- the cycle loop
@njit(cache=True, _nrt=False, nogil=True)
def _controller_loop(cfg, sizes, off, nodes_per_ch, flags, sel, cons_ptr, cons, cmd_bus, cmd_cycles, req_addr,
                     line_mask, req_vec, req_is_write, req_time, req_bank, rcmd, rcmd_epoch, rready, memo,
                     stat_done, accept, complete, ready, hist, chan, bank, buf, grp, qbanks, link, bus_free, pq_vec,
                     rank_open, banks_per_l1, older_other, stats, cmd_count, log, st, bank_rows):
    """The cycle loop of ``simulate`` (see there), resumable: the loop-carried counters live in
    ``st`` = [next frontend request, retired requests, next frontend cycle to evaluate, last completion, log
    length].
    Compiled without the numba runtime (no reference counting of the many arrays it touches:
    it allocates nothing). Returns 0 when done (every request retired and frontend cycle K_RUN_UNTIL
    reached) or past K_MAX_CYCLES, 1 when the log needs more rows (the caller grows it and calls
    again), 2 on a priority-buffer overflow."""
    n = req_vec.shape[0]
    nch = sizes[0]
    nlev = sizes.shape[0]
    row_i = nlev
    nbus = cfg[K_N_BUSES]
    log_enabled = cfg[K_LOG] != 0
    next_req, retired, i, last_done, n_log = st[0], st[1], st[2], st[3], st[4]
    scanned = 0     # queue entries visited (a speed counter, S_SCANNED_ENTRIES)
    status = 0
    tm = (cons_ptr, cons, cmd_bus, cmd_cycles, ready, hist, off, sizes)       # timing arrays
    rq = (req_vec, req_is_write, req_bank, stat_done, accept, complete)      # per-request arrays
    rr = (rready, memo)                                                       # ready-cycle caches
    gs = (grp, qbanks, link, bank_rows)                                       # bank groups (state.G_*, QB_*)
    while i <= cfg[K_MAX_CYCLES]:
        if log_enabled and n_log + 2 * nch * nbus + 2 > log.shape[0]:
            status = 1      # the caller grows the log and resumes here
            break
        next_req, retired = _frontend(i, next_req, retired, cfg, req_time, req_vec, req_is_write, req_addr,
                                      line_mask, req_bank, buf, gs, chan, bank, accept, complete, stats)
        clk = i + 1         # the controllers tick one cycle after the frontend
        stats[0, S_EVALUATED_CYCLES] += 1
        issued_any = False
        ev = BIG            # earliest cycle at which any eligible command becomes ready (for skipping)
        for ch in range(nch):
            if chan[ch, C_NEXT_REF] < ev:
                ev = chan[ch, C_NEXT_REF]
            if chan[ch, C_N_ACTIVATING] > 0:
                ev = clk + 1      # a pending ACT2 issues as soon as nothing else does
            if not _refresh_due(ch, clk, cfg, sizes, flags, sel, chan, pq_vec):
                return 2          # the caller raises: priority buffer overflow
            # one command per command bus per cycle, buses in the order the standard lists them
            for slot in range(nbus):
                if bus_free[ch, slot] > clk:
                    if bus_free[ch, slot] < ev:
                        ev = bus_free[ch, slot]
                    continue
                cand, q, pos, cmd, act2, src, ev, s = _choose(
                    ch, slot, clk, ev, cfg, flags, sel, cmd_bus, ready, req_vec, req_is_write, nlev, sizes, off,
                    nodes_per_ch, row_i, buf, gs, chan, bank, req_bank, rcmd, rcmd_epoch, rr, accept, pq_vec,
                    older_other)
                scanned += s
                if cand == -1:
                    continue
                if src == SRC_SCHEDULER and not act2 and cand >= 0 and cfg[K_WCK_ENABLED] != 0:
                    action, cand, pos, act2, n_log = _wck_sync(
                        ch, slot, clk, cand, q, pos, cmd, cfg, flags, sel, tm, req_vec, req_is_write, nodes_per_ch,
                        buf, chan, bank, req_bank, bus_free, cmd_count, log, n_log, accept)
                    if action != 0:
                        issued_any = issued_any or action == 2
                        continue
                    if act2:
                        cmd = sel[SEL_ACT2]
                issued_any = True
                n_log, done = _issue(ch, slot, clk, cand, q, pos, cmd, act2, cfg, flags, sel, tm, rq, nodes_per_ch,
                                     row_i, buf, gs, chan, bank, stats, bus_free, cmd_count, log, n_log, pq_vec,
                                     rank_open, banks_per_l1)
                if done >= 0:
                    retired += 1
                    if done > last_done:
                        last_done = done
        if retired == n and next_req == n and i >= cfg[K_RUN_UNTIL]:
            i += 1          # st keeps the next cycle to evaluate
            break
        # nothing issued: skip to the earliest cycle something can change (see _skip_cycles)
        i += 1 if issued_any else _skip_cycles(ev, clk, i, next_req, cfg, req_time, req_vec, req_is_write,
                                               req_addr, line_mask, buf, chan)
    st[0], st[1], st[2], st[3], st[4] = next_req, retired, i, last_done, n_log
    stats[0, S_SCANNED_ENTRIES] += scanned
    return status


@njit(cache=True)
def _request_banks(sizes, req_vec):
    """Bank index within its channel of every request (int32, n)."""
    n = req_vec.shape[0]
    req_bank = np.zeros(n, np.int32)
    for r in range(n):
        idx = 0
        for l in range(1, sizes.shape[0]):
            idx = idx * sizes[l] + req_vec[r, l]
        req_bank[r] = idx
    return req_bank


@njit(cache=True)
def _bank_rows(sizes, off):
    """Rows of ``ready`` (within a channel's block) of the nodes on each bank's path, channel first
    (int64, banks per channel x levels)."""
    nlev = sizes.shape[0]
    nb = 1
    for l in range(1, nlev):
        nb *= sizes[l]
    rows = np.zeros((nb, nlev), np.int64)
    for b in range(nb):
        idx = b
        for l in range(nlev - 1, 0, -1):
            rows[b, l] = off[l] + idx
            idx //= sizes[l]
        rows[b, 0] = off[0]
    return rows


@njit(cache=True, nogil=True)
def _initial_state(sizes, flags, cons_ptr, cons, cfg, req_vec):
    """The arrays of a run of :func:`simulate` in their initial state (see :func:`_controller_loop`), the
    constraint table regrouped (:func:`_timing_program`) first."""
    nlev = sizes.shape[0]
    nch = sizes[0]
    n = req_vec.shape[0]
    off, cnt_l, nodes_per_ch, ready, hist = _timing_state(sizes, cons, flags.shape[0])
    cons_ptr, cons = _timing_program(sizes, cons_ptr, cons, flags.shape[0])
    nbanks = cnt_l[nlev - 1]
    n_l1 = cnt_l[1] if nlev > 1 else 1
    rank_open = np.zeros((nch, n_l1, N_RANK_OPEN), np.int64)
    cap = max(cfg[K_RQ_CAP], cfg[K_WQ_CAP], nbanks)
    buf = np.zeros((nch, N_BUF, cap), np.int64)
    grp = np.full((nch, BUF_WRITE + 1, nbanks, N_GRP), -1, np.int64)    # bank groups of the read/write buffers
    grp[:, :, :, G_EPOCH] = 0                     # up to date with the banks' initial state (closed, no entry)
    qbanks = np.zeros((nch, BUF_WRITE + 1, nbanks, N_QB), np.int64)     # banks with entries (G_SLOT indexes it)
    link = np.full(n, -1, np.int32)               # next request in its bank group chain
    chan = np.zeros((nch, N_CHAN), np.int64)
    chan[:, C_CAS_REQ] = -1
    chan[:, C_FWD_REQ] = -1
    chan[:, C_NEXT_REF] = cfg[K_REFRESH_INTERVAL] if cfg[K_REFRESH_INTERVAL] > 0 else BIG
    bank = np.zeros((nch, nbanks, N_BANK), np.int64)
    bank[:, :, BK_ROW] = -1
    bank[:, :, BK_ACT2_DEADLINE] = -1
    pq_vec = np.full((nch, PRIORITY_DEPTH, nlev + 2), -1, np.int32)
    accept = np.full(n, -1, np.int64)
    complete = np.full(n, -1, np.int64)
    rcmd = np.zeros(n, np.int8)            # next command (cached, see _req_next)
    rcmd_epoch = np.full(n, -1, np.int64)  # BK_EPOCH the cached command was computed at
    rready = np.zeros(n, np.int64)         # lower bound of its ready cycle
    memo = np.full((nch, nbanks, flags.shape[0], 2), -1, np.int64)   # (timing epoch, ready cycle) per bank, command
    stat_done = np.zeros(n, np.bool_)
    stats = np.zeros((nch, N_STATS), np.int64)
    cmd_count = np.zeros((nch, flags.shape[0]), np.int64)
    log = np.zeros((6 * n + 1024 if cfg[K_LOG] != 0 else 1, nlev + 5), np.int64)
    st = np.zeros(5, np.int64)
    req_bank = _request_banks(sizes, req_vec)
    bank_rows = _bank_rows(sizes, off)
    bus_free = np.zeros((nch, cfg[K_N_BUSES]), np.int64)
    older_other = np.zeros(nbanks, np.bool_)       # frfcfs-cap scan scratch
    return (cons_ptr, cons, off, nodes_per_ch, req_bank, rcmd, rcmd_epoch, rready, memo, stat_done, accept, complete, ready, hist,
            chan, bank, buf, grp, qbanks, link, bus_free, pq_vec, rank_open, nbanks // n_l1, older_other, stats,
            cmd_count, log, st, bank_rows)


def simulate(sizes, flags, sel, cons_ptr, cons, cmd_bus, cmd_cycles, cfg, req_addr, line_mask, req_vec,
             req_is_write, req_time):
    """Replay a request trace on all channels.

    Standard (``DramStandard.arrays()``): ``sizes`` (int64, n_levels: channels first), ``flags`` and
    ``sel`` (per-command flags F_*, command selectors SEL_* of :mod:`.state`), the constraint table
    (``cons_ptr``, ``cons``), ``cmd_bus`` (bus of each command) and ``cmd_cycles`` (cycles it holds the
    bus). ``cfg`` (int64, N_CFG; :func:`simulator.dram.run.core_config`): read latency, refresh, split
    activation, WCK, queue sizes and watermarks, frontend width, log switch, cycle limit, and the
    scheduling and row policies' switches.

    Per request: ``req_addr`` (uint64; two requests address the same line when ``req_addr & line_mask``
    agree: forwarding and coalescing), ``req_vec`` (int32, n x (levels + 2): channel, levels.., row,
    column), ``req_is_write``, ``req_time`` (empty: closed loop; else the arrival cycle of each request:
    timed open-loop replay). Requests are offered in trace order, up to K_REQUESTS_PER_CYCLE per cycle,
    at the frontend clock ``i`` (the controllers then tick at ``i + 1``); a refused request (its queue is
    full) is offered again next cycle and blocks the ones behind it.

    Refresh: below the bank level every node of the scope level refreshes (REFab) each interval; at the
    bank level each node of the refresh-unit level refreshes its next bank (REFpb, round robin).

    Returns (accept, complete, stats, cmd_count, log, end_cycle, open_cycles): accept/complete cycle per
    request (int64, n), stats (int64, channels x N_STATS, columns S_*), commands issued (channels x
    commands), the command log (rows: cycle, command, address vector, type 0 read / 1 write / -1
    refresh), the last completion cycle and, per channel x rank, cycles with a bank open.
    Raises RuntimeError("priority buffer overflow") when refreshes fall due faster than they issue.

    A plain Python function: the compiled cycle loop is called from here, not from compiled code, so that
    the numba cache keeps it as compiled on its own (a copy linked into a compiled caller and optimised
    again with it ran about a third slower when loaded from the cache)."""
    run = start(sizes, flags, cons_ptr, cons, cfg, req_vec)
    advance(run, cfg, sizes, flags, sel, cmd_bus, cmd_cycles, req_addr, line_mask, req_vec, req_is_write, req_time)
    return finish(run, run.st[3])


class Run:
    """The arrays of one replay (see :func:`_controller_loop`), between calls of its cycle loop."""

    NAMES = ("cons_ptr", "cons", "off", "nodes_per_ch", "req_bank", "rcmd", "rcmd_epoch", "rready", "memo",
             "stat_done", "accept", "complete", "ready", "hist", "chan", "bank", "buf", "grp", "qbanks", "link",
             "bus_free", "pq_vec", "rank_open", "banks_per_l1", "older_other", "stats", "cmd_count", "log", "st",
             "bank_rows")

    def __init__(self, arrays):
        for name, a in zip(self.NAMES, arrays):
            setattr(self, name, a)


def start(sizes, flags, cons_ptr, cons, cfg, req_vec):
    """A replay in its initial state (:class:`Run`); arguments as :func:`simulate`'s."""
    return Run(_initial_state(sizes, flags, cons_ptr, cons, cfg, req_vec))


def advance(run, cfg, sizes, flags, sel, cmd_bus, cmd_cycles, req_addr, line_mask, req_vec, req_is_write, req_time):
    """Run the cycle loop of ``run`` (:func:`start`) from where it stopped until every request has retired and
    the frontend cycle ``cfg[K_RUN_UNTIL]`` is reached, or past ``cfg[K_MAX_CYCLES]``; grows the command log as
    needed. Raises RuntimeError("priority buffer overflow") when refreshes fall due faster than they issue.
    Releases the GIL while it runs (replays on their own channels may run in threads)."""
    r = run
    while True:
        status = _controller_loop(cfg, sizes, r.off, r.nodes_per_ch, flags, sel, r.cons_ptr, r.cons, cmd_bus,
                                  cmd_cycles, req_addr, line_mask, req_vec, req_is_write, req_time, r.req_bank,
                                  r.rcmd, r.rcmd_epoch, r.rready, r.memo, r.stat_done, r.accept, r.complete,
                                  r.ready, r.hist, r.chan, r.bank, r.buf, r.grp, r.qbanks, r.link, r.bus_free,
                                  r.pq_vec, r.rank_open, r.banks_per_l1, r.older_other, r.stats, r.cmd_count,
                                  r.log, r.st, r.bank_rows)
        if status == 0:
            return
        if status == 2:
            raise RuntimeError("priority buffer overflow")
        grow_log(r, 2 * r.log.shape[0])


def grow_log(run, rows):
    """Give ``run`` a command log of ``rows`` rows, keeping the ``run.st[4]`` it holds."""
    grown = np.zeros((rows, run.log.shape[1]), np.int64)
    grown[:run.st[4]] = run.log[:run.st[4]]
    run.log = grown


def finish(run, last_done):
    """:func:`simulate`'s results of ``run``, with banks still open counted as open until ``last_done`` (the
    last completion cycle of the whole replay)."""
    rank_open = run.rank_open
    for ch in range(rank_open.shape[0]):
        for r1 in range(rank_open.shape[1]):
            if rank_open[ch, r1, RO_OPEN_BANKS] > 0 and last_done > rank_open[ch, r1, RO_SINCE]:
                rank_open[ch, r1, RO_CYCLES] += last_done - rank_open[ch, r1, RO_SINCE]
    return (run.accept, run.complete, run.stats, run.cmd_count, run.log[:run.st[4]], last_done,
            rank_open[:, :, RO_CYCLES].copy())


@njit(cache=True)
def simulate_stream(sizes, flags, sel, cons_ptr, cons, refresh_interval, cmds, addr):
    """Issue a fixed command stream in order, each command at the first cycle its constraints allow
    (PIM execution: no reordering). ``cmds`` (int64, n) are command ids, ``addr`` (n x (levels + 2))
    their address vectors (-1: every node of a level). Commands of different channels overlap; each
    channel issues at most one command per cycle.

    All-bank refresh (``sel[SEL_REFAB]``, every ``refresh_interval`` cycles; 0: none) is inserted when
    due, before the next command that starts opening a row (every bank is closed there). Returns the
    log (cycle, cmd, address..., type: 2 stream, -1 refresh) and the last cycle."""
    nlev = sizes.shape[0]
    nch = sizes[0]
    n = cmds.shape[0]
    addr = addr.astype(np.int32)     # the helpers are compiled for int32 address vectors (as in simulate)
    off, cnt_l, nodes_per_ch, ready, hist = _timing_state(sizes, cons, flags.shape[0])
    cons_ptr, cons = _timing_program(sizes, cons_ptr, cons, flags.shape[0])
    last = np.zeros(nch, np.int64)
    next_ref = np.full(nch, refresh_interval if refresh_interval > 0 else BIG, np.int64)
    refab = sel[SEL_REFAB]
    log = np.zeros((n + n // 8 + 64, nlev + 5), np.int64)
    n_log = 0
    ref_vec = np.full(nlev + 2, -1, np.int32)
    for i in range(n):
        c = cmds[i]
        a = addr[i]
        ch = a[0]
        base = ch * nodes_per_ch
        opens = flags[c] & F_OPEN_BEGIN or (flags[c] & F_OPENS and sel[SEL_ACT1] < 0)   # not an ACT2
        if opens and refab >= 0:
            while max(last[ch] + 1, _ready_time(ready, base, off, sizes, nlev, c, a)) >= next_ref[ch]:
                ref_vec[0] = ch
                tr = max(last[ch] + 1, _ready_time(ready, base, off, sizes, nlev, refab, ref_vec))
                _update_timing(ready, hist, base, off, sizes, nlev, flags.shape[0], cons_ptr, cons, refab, ref_vec, tr,
                               0)
                log, n_log = _log_append(log, n_log, tr, refab, ref_vec, -1)
                last[ch] = tr
                next_ref[ch] += refresh_interval
        t = max(last[ch] + 1, _ready_time(ready, base, off, sizes, nlev, c, a))
        _update_timing(ready, hist, base, off, sizes, nlev, flags.shape[0], cons_ptr, cons, c, a, t, 0)
        last[ch] = t
        log, n_log = _log_append(log, n_log, t, c, a, 2)
    return log[:n_log], last.max()
