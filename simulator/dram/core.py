"""The numba DRAM core: per-channel controllers and the device timing state.

Everything is structure-of-arrays; there is no Python object per request or
per command. Semantics (chosen to match the reference controller, Ramulator
2.1's GenericDDR/LPDDR5 controllers):

* One command per command bus per channel per cycle (one shared bus unless the
  standard lists ``command_buses``; HBM has a row and a column bus, served
  column first). For each bus a controller considers, in order: the *active*
  buffer (requests whose row it has opened), the *priority* buffer (refresh),
  and - only when no refresh is pending - the read or the write buffer, chosen by write-drain hysteresis (enter write mode
  when the write queue exceeds the high watermark or the read queue is empty;
  leave when it falls below the low watermark and reads wait).
* Within a buffer, FR-FCFS: among eligible requests, one whose next command
  is timing-ready wins; ties go to the oldest arrival. A request whose next
  command would close a row another in-flight request opened is not eligible.
  The default policy (``frfcfs``) adds Rixner et al.'s open-row rule: a PRE is
  not eligible while a request of the buffer being served hits the open row;
  ``frfcfs-ramulator2`` (the *-ramulator2 presets) issues it, as the reference.
* A request's next command comes from its bank state (closed -> ACT, other
  row open -> PRE, its row open -> RD/WR); refresh needs all banks closed
  (PREab first).
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
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .policies import (CORE_VERSION, P_FCFS, P_FRFCFS, P_FRFCFS_CAP,  # noqa: F401 (re-exported)
                       P_FRFCFS_RAMULATOR2, SCHEDULERS)

# role codes (must match standard.ROLES)
R_ACT, R_ACT1, R_ACT2, R_PRE, R_PREA, R_RD, R_WR, R_RDA, R_WRA, R_REFAB, R_REFPB, R_CASRD, R_CASWR = range(13)
R_PIM_ACT, R_PIM_MAC, R_PIM_WRGB, R_PIM_RDRES = range(13, 17)

# buffer ids for the CAS continuation
B_READ, B_WRITE, B_ACTIVE = 0, 1, 2

BIG = np.int64(1) << np.int64(62)


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
def _update_timing(ready, hist, base, off, sizes, nlev, ncmd, cons_ptr, cons, cmd, a, clk):
    lo = 0
    hi = 1
    W = hist.shape[2]
    for l in range(nlev):
        k = l * ncmd + cmd
        c0 = cons_ptr[k]
        c1 = cons_ptr[k + 1]
        if l > 0:
            s = sizes[l]
            if a[l] >= 0:
                parent = lo
                lo = parent * s + a[l]
                hi = lo + 1
                # siblings: other children of the same parent
                if c1 > c0:
                    for sib in range(parent * s, parent * s + s):
                        if sib == lo:
                            continue
                        g = base + off[l] + sib
                        for ci in range(c0, c1):
                            if cons[ci, 3] == 1:
                                f = cons[ci, 0]
                                v = clk + cons[ci, 1]
                                if v > ready[g, f]:
                                    ready[g, f] = v
            else:
                lo = lo * s
                hi = hi * s
        if c1 == c0:
            continue
        for n in range(lo, hi):
            g = base + off[l] + n
            for w in range(W - 1, 0, -1):
                hist[g, cmd, w] = hist[g, cmd, w - 1]
            hist[g, cmd, 0] = clk
            for ci in range(c0, c1):
                if cons[ci, 3] == 1:
                    continue
                past = hist[g, cmd, cons[ci, 2] - 1]
                if past < 0:
                    continue
                f = cons[ci, 0]
                v = past + cons[ci, 1]
                if v > ready[g, f]:
                    ready[g, f] = v


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


@njit(cache=True, inline="always")
def _req_preq(final, r, req_bank, req_vec, row_i, bstate, brow, role_cmd, ch):
    """Next command of a read/write request, from its bank's state."""
    b = req_bank[r]
    st = bstate[ch, b]
    if st == 0:
        if role_cmd[R_ACT] >= 0:
            return role_cmd[R_ACT]
        return role_cmd[R_ACT1]
    if st == 1:
        return role_cmd[R_ACT2]
    if brow[ch, b] == req_vec[r, row_i]:
        return final
    return role_cmd[R_PRE]


@njit(cache=True, inline="always")
def _req_next(final, r, ch, req_bank, req_vec, row_i, bstate, brow, role_cmd, bank_epoch, rcmd, rcmd_epoch, rready):
    """Next command of request ``r``, cached: recomputed only when its bank's state changed
    since (``bank_epoch`` counts a bank's state changes); a recomputed command's cached
    ready cycle is reset to 0 (unknown)."""
    e = bank_epoch[ch, req_bank[r]]
    if rcmd_epoch[r] != e:
        rcmd[r] = _req_preq(final, r, req_bank, req_vec, row_i, bstate, brow, role_cmd, ch)
        rcmd_epoch[r] = e
        rready[r] = 0
    return rcmd[r]


@njit(cache=True, inline="always")
def _req_ready_cached(ready, req_vec, r, cmd, nlev, sizes, off, nodes_per_ch, rready, clk):
    """Ready cycle of request ``r``'s next command ``cmd``. ``rready[r]`` is a lower bound
    (timing state only grows); it is recomputed only once ``clk`` reaches it, so a request
    whose bound lies in the future costs one load."""
    t = rready[r]
    if t <= clk:
        t = _req_ready(ready, req_vec, r, cmd, nlev, sizes, off, nodes_per_ch)
        rready[r] = t
    return t


@njit(cache=True)
def _bank_range(sizes, nlev, a):
    return _node_range(sizes, a, nlev - 1)


@njit(cache=True)
def _refresh_preq(final, pre, a, nlev, sizes, bstate, ch):
    """Next command of a refresh request: ``pre`` (precharge-all for all-bank refresh,
    the bank's precharge for per-bank refresh) while a bank under it is open."""
    lo, hi = _bank_range(sizes, nlev, a)
    for b in range(lo, hi):
        if bstate[ch, b] != 0:
            return pre
    return final


@njit(cache=True)
def _would_close_active(cmd, a, ch, nlev, sizes, cmd_role, act_cnt, n_active):
    r = cmd_role[cmd]
    if not (r == R_PRE or r == R_PREA or r == R_RDA or r == R_WRA):
        return False
    if n_active[ch] == 0:
        return False
    lo, hi = _bank_range(sizes, nlev, a)
    for b in range(lo, hi):
        if act_cnt[ch, b] > 0:
            return True
    return False


@njit(cache=True)
def _blocks_activating(cmd, a, ch, nlev, sizes, cmd_role, act2_owner, n_activating):
    """LPDDR5: while a split activation is in flight (ACT1 issued, ACT2 not
    yet), only its owner may issue ACT2, no other ACT1 starts, and no close or
    refresh may touch the activating bank."""
    if n_activating[ch] == 0:
        return False
    r = cmd_role[cmd]
    if r == R_ACT2 or r == R_ACT1:
        return True
    if not (r == R_PRE or r == R_PREA or r == R_RDA or r == R_WRA or r == R_REFAB or r == R_REFPB):
        return False
    lo, hi = _bank_range(sizes, nlev, a)
    for b in range(lo, hi):
        if act2_owner[ch, b]:
            return True
    return False


@njit(cache=True)
def _remove_at(buf, cnt, ch, pos):
    n = cnt[ch]
    for j in range(pos, n - 1):
        buf[ch, j] = buf[ch, j + 1]
    cnt[ch] = n - 1


@njit(cache=True, _nrt=False)
def _remove_with_bound(buf, bnd, cnt, ch, pos):
    """Remove entry ``pos`` of a queue and of its parallel ready-bound row."""
    n = cnt[ch]
    for j in range(pos, n - 1):
        buf[ch, j] = buf[ch, j + 1]
        bnd[ch, j] = bnd[ch, j + 1]
    cnt[ch] = n - 1


@njit(cache=True, _nrt=False)
def _reset_bounds(rq, rqb, rq_n, wq, wqb, wq_n, req_bank, ch, b):
    """Forget the ready bounds of channel ch's queued requests to bank ``b`` (all banks: b < 0):
    their next command or its eligibility may have changed."""
    for j in range(rq_n[ch]):
        if b < 0 or req_bank[rq[ch, j]] == b:
            rqb[ch, j] = 0
    for j in range(wq_n[ch]):
        if b < 0 or req_bank[wq[ch, j]] == b:
            wqb[ch, j] = 0


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
    log[n_log, 0] = clk
    log[n_log, 1] = cmd
    for l in range(a.shape[0]):
        log[n_log, 2 + l] = a[l]
    log[n_log, log.shape[1] - 1] = typ
    return log, n_log + 1


@njit(cache=True, inline="always")
def _in_write_queue(wq, wq_n, ch, req_addr, line_mask, r):
    """Is a write to request r's line (``req_addr & line_mask``) waiting in channel ch's write queue?"""
    a = req_addr[r] & line_mask
    for j in range(wq_n[ch]):
        if (req_addr[wq[ch, j]] & line_mask) == a:
            return True
    return False


@njit(cache=True, inline="always")
def _frontend(i, next_req, retired, n, requests_per_cycle, timed, req_time, req_vec, req_is_write, req_addr,
              line_mask, rq, rqb, rq_n, rq_cap, wq, wqb, wq_n, wq_cap, accept, complete, stats):
    """Offer requests at frontend cycle ``i``, in trace order, up to ``requests_per_cycle``: a
    read to a line with a queued write is forwarded, a write to it coalesced; otherwise the
    request enters its queue, or is refused (full) and blocks the ones behind it. Returns
    (next_req, retired)."""
    for _k in range(requests_per_cycle):
        if next_req >= n:
            break
        accepted_before = next_req
        r = next_req
        if timed and req_time[r] > i:
            break      # timed replay: not arrived yet
        ch = req_vec[r, 0]
        if req_is_write[r]:
            if _in_write_queue(wq, wq_n, ch, req_addr, line_mask, r):
                accept[r] = i
                complete[r] = i
                stats[ch, 8] += 1
                retired += 1
                next_req += 1
            elif wq_n[ch] < wq_cap:
                wq[ch, wq_n[ch]] = r
                wqb[ch, wq_n[ch]] = 0
                wq_n[ch] += 1
                accept[r] = i
                next_req += 1
        else:
            if _in_write_queue(wq, wq_n, ch, req_addr, line_mask, r):
                accept[r] = i
                complete[r] = i + 1
                stats[ch, 7] += 1
                retired += 1
                next_req += 1
            elif rq_n[ch] < rq_cap:
                rq[ch, rq_n[ch]] = r
                rqb[ch, rq_n[ch]] = 0
                rq_n[ch] += 1
                accept[r] = i
                next_req += 1
        if next_req == accepted_before:
            break      # refused: retry next cycle, in order
    return next_req, retired


@njit(cache=True, inline="always")
def _skip_cycles(ev, clk, i, next_req, n, timed, req_time, req_vec, req_is_write, req_addr, line_mask,
                 rq_n, rq_cap, wq, wq_n, wq_cap):
    """Cycles to advance after a cycle where nothing issued: nothing changes until the earliest
    ready cycle ``ev`` of an eligible command (or a refresh), or until the next request can
    arrive (at its arrival cycle in timed replay, else next cycle, when its queue has room)."""
    step = 1
    tgt = ev - clk if ev < BIG else BIG
    if next_req < n:
        r = next_req
        ch = req_vec[r, 0]
        if req_is_write[r]:
            can_arrive = wq_n[ch] < wq_cap
        else:
            can_arrive = rq_n[ch] < rq_cap
        # a read that would be forwarded / a write that would coalesce
        if _in_write_queue(wq, wq_n, ch, req_addr, line_mask, r):
            can_arrive = True
        rt = req_time[r] if timed else 0
        if can_arrive and rt - i < tgt:
            tgt = rt - i
    if 1 < tgt < BIG:
        step = tgt
    return step


@njit(cache=True, inline="always")
def _set_bank_state(ch, b, state, row, clk, bstate, brow, bank_epoch, col_streak, rq, rqb, rq_n, wq, wqb, wq_n,
                    req_bank, open_banks, open_since, open_cycles, banks_per_l1):
    """Bank ``b`` of channel ``ch`` goes to ``state`` (0 closed, 1 ACT1 issued, 2 open; ``row`` for
    1 and 2) at ``clk``: its queued requests' cached commands and ready bounds are invalidated, its
    row-hit streak restarts, and the rank's cycles with a bank open (energy) are kept."""
    old = bstate[ch, b]
    bank_epoch[ch, b] += 1
    col_streak[ch, b] = 0
    _reset_bounds(rq, rqb, rq_n, wq, wqb, wq_n, req_bank, ch, b)
    bstate[ch, b] = state
    if state != 0:
        brow[ch, b] = row
    r1 = b // banks_per_l1
    if old == 0 and state != 0:
        if open_banks[ch, r1] == 0:
            open_since[ch, r1] = clk
        open_banks[ch, r1] += 1
    elif old != 0 and state == 0:
        open_banks[ch, r1] -= 1
        if open_banks[ch, r1] == 0:
            open_cycles[ch, r1] += clk - open_since[ch, r1]


@njit(cache=True, _nrt=False)
def _controller_loop(sizes, cmd_role, role_cmd, cons_ptr, cons, read_latency, refresh_scope, refresh_interval,
                     aad_cycles, wck, wck_enabled, cmd_bus, cmd_cycles, req_addr, line_mask, timed, req_vec,
                     req_is_write, req_time, rq_cap, wq_cap, wr_hi, wr_lo, requests_per_cycle, log_enabled,
                     policy, row_hit_cap, col_streak, older_other, rqb, wqb, max_cycles, PQ, accept,
                     act2_deadline, act2_owner, act_cnt, aq, aq_n, bank_epoch, banks_per_l1, banks_per_unit,
                     brow, bstate, bus_free, cas_buf, cas_req, cmd_count, complete, final_rd, final_wr, hist,
                     log, n, n_ref_nodes, nbus, nch, ncmd, next_ref, nlev, nodes_per_ch, off, open_banks,
                     open_cycles, open_since, per_bank, pq_n, pq_vec, rcmd, rcmd_epoch, ready, ref_cmd,
                     ref_pre, ref_rr, req_bank, row_i, rq, rq_n, rready, stat_done, stats, wck_expiry, wq,
                     wq_n, write_mode, xq, xq_n, st):
    """The cycle loop of ``simulate`` (see there), resumable: the loop-carried counters live in
    ``st`` = [next frontend request, retired requests, frontend cycle, last completion, log length].
    Compiled without the numba runtime (no reference counting of the many arrays it touches:
    it allocates nothing). Returns 0 when done (or at max_cycles), 1 when the log needs more rows
    (the caller grows it and calls again), 2 on a priority-buffer overflow."""
    next_req = st[0]
    retired = st[1]
    i = st[2]
    last_done = st[3]
    n_log = st[4]
    scanned = 0     # queue entries visited (a speed counter, stats[0, 12])
    status = 0
    while True:
        if i > max_cycles:
            break
        if log_enabled and n_log + 2 * nch * nbus + 2 > log.shape[0]:
            status = 1      # the caller grows the log and resumes here
            break
        # ------------------------------------------------ frontend (clk = i)
        next_req, retired = _frontend(i, next_req, retired, n, requests_per_cycle, timed, req_time, req_vec,
                                      req_is_write, req_addr, line_mask, rq, rqb, rq_n, rq_cap, wq, wqb, wq_n,
                                      wq_cap, accept, complete, stats)

        # ------------------------------------------------ controllers (clk = i+1)
        clk = i + 1
        stats[0, 11] += 1
        issued_any = False
        # earliest cycle at which any eligible command becomes ready (for skipping)
        ev = BIG
        for ch in range(nch):
            base = ch * nodes_per_ch
            if next_ref[ch] < ev:
                ev = next_ref[ch]
            if xq_n[ch] > 0:
                ev = clk + 1      # a pending ACT2 issues as soon as nothing else does
            # refresh manager
            if clk == next_ref[ch]:
                next_ref[ch] += refresh_interval
                for k in range(n_ref_nodes):
                    if pq_n[ch] >= PQ:
                        return 2     # the caller raises: priority buffer overflow
                    v = pq_vec[ch, pq_n[ch]]
                    v[:] = -1
                    v[0] = ch
                    rem = k * banks_per_unit + ref_rr[ch] if per_bank else k
                    for l in range(refresh_scope, 0, -1):
                        v[l] = rem % sizes[l]
                        rem //= sizes[l]
                    pq_n[ch] += 1
                if per_bank:
                    ref_rr[ch] = (ref_rr[ch] + 1) % banks_per_unit
            # one command per command bus per cycle; buses are served in the order the
            # standard lists them (HBM: column bus, then row bus)
            for slot in range(nbus):
                if bus_free[ch, slot] > clk:
                    if bus_free[ch, slot] < ev:
                        ev = bus_free[ch, slot]
                    continue
                # ---------------- choose a candidate ----------------------------
                cand = -1          # request id, or -2 for the priority head
                cand_buf = -1
                cand_pos = -1
                cmd = -1
                issue_act2 = False
                # urgent ACT2 (deadline reached)
                if xq_n[ch] > 0:
                    best_dl = BIG
                    for j in range(xq_n[ch]):
                        r = xq[ch, j]
                        b = req_bank[r]
                        dl = act2_deadline[ch, b]
                        if dl > clk:
                            continue
                        c2 = role_cmd[R_ACT2]
                        if (cmd_bus[c2] != slot
                                or _req_ready(ready, req_vec, r, c2, nlev, sizes, off, nodes_per_ch) > clk):
                            continue
                        if dl < best_dl or (dl == best_dl and accept[r] < accept[cand]):
                            best_dl = dl
                            cand = r
                            cand_pos = j
                    if cand >= 0:
                        issue_act2 = True
                if cas_req[ch] >= 0:
                    # CAS continuation: the RD/WR follows as soon as it is ready
                    r = cas_req[ch]
                    c = rcmd[r]
                    if cmd_bus[c] != slot:
                        continue
                    t = _req_ready(ready, req_vec, r, c, nlev, sizes, off, nodes_per_ch)
                    if t < ev:
                        ev = t
                    if t <= clk:
                        cas_req[ch] = -1
                        cand = r
                        cand_buf = cas_buf[ch]
                        cmd = c
                        issue_act2 = False
                        cand_pos = -1
                        if cand_buf == B_READ:
                            for j in range(rq_n[ch]):
                                if rq[ch, j] == r:
                                    cand_pos = j
                        elif cand_buf == B_WRITE:
                            for j in range(wq_n[ch]):
                                if wq[ch, j] == r:
                                    cand_pos = j
                        else:
                            for j in range(aq_n[ch]):
                                if aq[ch, j] == r:
                                    cand_pos = j
                    else:
                        continue
                elif not issue_act2:
                    # 1. active buffer (not in arrival order: oldest ready wins)
                    best_arr = BIG
                    scanned += aq_n[ch]
                    for j in range(aq_n[ch]):
                        r = aq[ch, j]
                        c = _req_next(final_wr if req_is_write[r] else final_rd, r, ch, req_bank, req_vec, row_i,
                                      bstate, brow, role_cmd, bank_epoch, rcmd, rcmd_epoch, rready)
                        if cmd_bus[c] == slot and accept[r] < best_arr:
                            t = _req_ready_cached(ready, req_vec, r, c, nlev, sizes, off, nodes_per_ch, rready, clk)
                            if t < ev:
                                ev = t
                            if t > clk:
                                continue
                            best_arr = accept[r]
                            cand = r
                            cand_pos = j
                            cand_buf = B_ACTIVE
                            cmd = c
                    # 2. priority buffer head
                    if cand < 0 and pq_n[ch] > 0:
                        pv = pq_vec[ch, 0]
                        c = _refresh_preq(ref_cmd, ref_pre, pv, nlev, sizes, bstate, ch)
                        if (cmd_bus[c] == slot
                                and not _would_close_active(c, pv, ch, nlev, sizes, cmd_role, act_cnt, aq_n)
                                and not _blocks_activating(c, pv, ch, nlev, sizes, cmd_role, act2_owner, xq_n)):
                            t = _ready_time(ready, base, off, sizes, nlev, c, pv)
                            if t < ev:
                                ev = t
                            if t <= clk:
                                cand = -2
                                cmd = c
                    # 3. read/write buffers (not while refresh waits)
                    if cand == -1 and pq_n[ch] == 0:
                        if not write_mode[ch]:
                            if wq_n[ch] > wr_hi * wq_cap or rq_n[ch] == 0:
                                write_mode[ch] = True
                        else:
                            if wq_n[ch] < wr_lo * wq_cap and rq_n[ch] != 0:
                                write_mode[ch] = False
                        wm = write_mode[ch]
                        nb = wq_n[ch] if wm else rq_n[ch]
                        fin = final_wr if wm else final_rd
                        # queues are in arrival order: the first ready eligible entry
                        # is the oldest ready one
                        if policy == P_FRFCFS_CAP:
                            older_other[:] = False
                        qb = wqb if wm else rqb
                        for j in range(nb):
                            if policy == P_FRFCFS or policy == P_FRFCFS_RAMULATOR2:
                                # ready bound of the entry's next command (0: unknown, BIG: not eligible
                                # until its bank or the activating state changes): skip a future one
                                bnd = qb[ch, j]
                                if bnd > clk:
                                    if bnd < ev:
                                        ev = bnd
                                    continue
                            scanned += 1
                            r = wq[ch, j] if wm else rq[ch, j]
                            e = bank_epoch[ch, req_bank[r]]
                            if rcmd_epoch[r] != e:
                                rcmd[r] = _req_preq(fin, r, req_bank, req_vec, row_i, bstate, brow, role_cmd, ch)
                                rcmd_epoch[r] = e
                                rready[r] = 0
                            c = rcmd[r]
                            if policy == P_FRFCFS_CAP:
                                b = req_bank[r]
                                if c != fin:
                                    older_other[b] = True      # waits for another row of bank b
                                elif col_streak[ch, b] >= row_hit_cap and older_other[b]:
                                    continue                   # capped row hit: the older request goes first
                            if cmd_bus[c] != slot:
                                continue
                            if policy == P_FRFCFS and cmd_role[c] == R_PRE:
                                # open-row rule: no PRE while a request of this buffer hits the open
                                # row (its bound stays unknown: a hit leaves without a bank change)
                                b = req_bank[r]
                                hit = False
                                for k in range(nb):
                                    r2 = wq[ch, k] if wm else rq[ch, k]
                                    if req_bank[r2] == b and req_vec[r2, row_i] == brow[ch, b]:
                                        hit = True
                                        break
                                if hit:
                                    qb[ch, j] = 0
                                    continue
                            if aq_n[ch] > 0:
                                cr = cmd_role[c]
                                if (cr == R_PRE or cr == R_RDA or cr == R_WRA) and act_cnt[ch, req_bank[r]] > 0:
                                    qb[ch, j] = BIG
                                    continue
                            if xq_n[ch] > 0 and _blocks_activating(c, req_vec[r], ch, nlev, sizes, cmd_role,
                                                                   act2_owner, xq_n):
                                qb[ch, j] = BIG
                                continue
                            t = rready[r]
                            if t <= clk:
                                t = _req_ready(ready, req_vec, r, c, nlev, sizes, off, nodes_per_ch)
                                rready[r] = t
                            qb[ch, j] = t
                            if t < ev:
                                ev = t
                            if t <= clk:
                                cand = r
                                cand_pos = j
                                cand_buf = B_WRITE if wm else B_READ
                                cmd = c
                                break
                            if policy == P_FCFS:
                                break       # only the oldest eligible request may issue
                    # deferred ACT2 when nothing else can go
                    if cand == -1 and xq_n[ch] > 0:
                        best_dl = BIG
                        for j in range(xq_n[ch]):
                            r = xq[ch, j]
                            c2 = role_cmd[R_ACT2]
                            if (cmd_bus[c2] != slot
                                    or _req_ready(ready, req_vec, r, c2, nlev, sizes, off, nodes_per_ch) > clk):
                                continue
                            dl = act2_deadline[ch, req_bank[r]]
                            if dl < best_dl or (dl == best_dl and accept[r] < accept[cand]):
                                best_dl = dl
                                cand = r
                                cand_pos = j
                        if cand >= 0:
                            issue_act2 = True
                    # WCK sync: an access after WCK went idle issues CAS first
                    if (cand >= 0 and not issue_act2 and wck_enabled and clk >= wck_expiry[ch]):
                        cr = cmd_role[cmd]
                        if cr == R_RD or cr == R_WR or cr == R_RDA or cr == R_WRA:
                            # CAS takes the next slot from the RD/WR: do not let it
                            # push a pending ACT2 past its deadline
                            blocked = False
                            for j in range(xq_n[ch]):
                                if act2_deadline[ch, req_bank[xq[ch, j]]] <= clk + 1:
                                    blocked = True
                            if blocked:
                                best_dl = BIG
                                cand2 = -1
                                for j in range(xq_n[ch]):
                                    r = xq[ch, j]
                                    dl = act2_deadline[ch, req_bank[r]]
                                    if dl < best_dl or (dl == best_dl and accept[r] < accept[cand2]):
                                        best_dl = dl
                                        cand2 = r
                                        cand_pos = j
                                cand = cand2
                                issue_act2 = True
                            else:
                                cas = role_cmd[R_CASRD] if (cr == R_RD or cr == R_RDA) else role_cmd[R_CASWR]
                                if _req_ready(ready, req_vec, cand, cas, nlev, sizes, off, nodes_per_ch) <= clk:
                                    _update_timing(ready, hist, base, off, sizes, nlev, ncmd, cons_ptr, cons, cas,
                                                   req_vec[cand], clk)
                                    cmd_count[ch, cas] += 1
                                    if log_enabled:
                                        n_log = _log_put(log, n_log, clk, cas, req_vec[cand],
                                                                 1 if req_is_write[cand] else 0)
                                    cas_req[ch] = cand
                                    cas_buf[ch] = cand_buf
                                    issued_any = True
                                    bus_free[ch, slot] = clk + cmd_cycles[cas]
                                continue
                if cand == -1:
                    continue
                # ---------------- issue ------------------------------------------
                issued_any = True
                if issue_act2:
                    cmd = role_cmd[R_ACT2]
                if cand == -2:
                    av = pq_vec[ch, 0]
                    typ = -1
                else:
                    av = req_vec[cand]
                    typ = 1 if req_is_write[cand] else 0
                    if not stat_done[cand]:
                        stat_done[cand] = True
                        b = req_bank[cand]
                        if bstate[ch, b] == 2 and brow[ch, b] == av[row_i]:
                            k = 0
                        elif bstate[ch, b] != 0:
                            k = 2
                        else:
                            k = 1
                        stats[ch, k] += 1
                        if typ == 0:
                            stats[ch, 3 + k] += 1
                cr = cmd_role[cmd]
                if wck_enabled and (cr == R_RD or cr == R_WR or cr == R_RDA or cr == R_WRA):
                    e = clk + (wck[1] if (cr == R_WR or cr == R_WRA) else wck[0])
                    if e > wck_expiry[ch]:
                        wck_expiry[ch] = e
                _update_timing(ready, hist, base, off, sizes, nlev, ncmd, cons_ptr, cons, cmd, av, clk)
                bus_free[ch, slot] = clk + cmd_cycles[cmd]
                cmd_count[ch, cmd] += 1
                if log_enabled:
                    n_log = _log_put(log, n_log, clk, cmd, av, typ)
                # ---- bank state actions
                if cr == R_ACT or cr == R_ACT1 or cr == R_ACT2 or cr == R_PRE or cr == R_RDA or cr == R_WRA:
                    if cand >= 0:
                        b = req_bank[cand]
                    else:
                        b, _hi = _bank_range(sizes, nlev, av)
                    ns = 2 if (cr == R_ACT or cr == R_ACT2) else (1 if cr == R_ACT1 else 0)
                    _set_bank_state(ch, b, ns, av[row_i], clk, bstate, brow, bank_epoch, col_streak, rq, rqb,
                                    rq_n, wq, wqb, wq_n, req_bank, open_banks, open_since, open_cycles,
                                    banks_per_l1)
                elif cr == R_PREA:
                    lo, hi = _bank_range(sizes, nlev, av)
                    for b in range(lo, hi):
                        if bstate[ch, b] != 0:
                            _set_bank_state(ch, b, 0, 0, clk, bstate, brow, bank_epoch, col_streak, rq, rqb,
                                            rq_n, wq, wqb, wq_n, req_bank, open_banks, open_since, open_cycles,
                                            banks_per_l1)
                # ---- request bookkeeping
                if cand == -2:
                    if cr == R_REFAB or cr == R_REFPB:
                        stats[ch, 6] += 1
                        for j in range(pq_n[ch] - 1):
                            for l in range(pq_vec.shape[2]):
                                pq_vec[ch, j, l] = pq_vec[ch, j + 1, l]
                        pq_n[ch] -= 1
                    continue
                r = cand
                final = final_wr if req_is_write[r] else final_rd
                if issue_act2:
                    # activating -> active
                    b = req_bank[cand]
                    _remove_at(xq, xq_n, ch, cand_pos)
                    _reset_bounds(rq, rqb, rq_n, wq, wqb, wq_n, req_bank, ch, -1)
                    act2_owner[ch, b] = False
                    act2_deadline[ch, b] = -1
                    aq[ch, aq_n[ch]] = r
                    aq_n[ch] += 1
                    act_cnt[ch, b] += 1
                elif cmd == final:
                    col_streak[ch, req_bank[r]] += 1
                    if cand_buf == B_READ:
                        _remove_with_bound(rq, rqb, rq_n, ch, cand_pos)
                    elif cand_buf == B_WRITE:
                        _remove_with_bound(wq, wqb, wq_n, ch, cand_pos)
                    else:
                        _remove_at(aq, aq_n, ch, cand_pos)
                        act_cnt[ch, req_bank[r]] -= 1
                        _reset_bounds(rq, rqb, rq_n, wq, wqb, wq_n, req_bank, ch, req_bank[r])
                    if req_is_write[r]:
                        complete[r] = clk
                    else:
                        complete[r] = clk + read_latency
                        stats[ch, 9] += complete[r] - accept[r]
                        stats[ch, 10] += 1
                    if complete[r] > last_done:
                        last_done = complete[r]
                    retired += 1
                elif cr == R_ACT1 or cr == R_ACT:
                    if cand_buf == B_ACTIVE:
                        continue
                    if cand_buf == B_READ:
                        _remove_with_bound(rq, rqb, rq_n, ch, cand_pos)
                    else:
                        _remove_with_bound(wq, wqb, wq_n, ch, cand_pos)
                    b = req_bank[cand]
                    if cr == R_ACT1:
                        xq[ch, xq_n[ch]] = r
                        xq_n[ch] += 1
                        _reset_bounds(rq, rqb, rq_n, wq, wqb, wq_n, req_bank, ch, -1)
                        act2_owner[ch, b] = True
                        act2_deadline[ch, b] = clk + aad_cycles
                    else:
                        aq[ch, aq_n[ch]] = r
                        aq_n[ch] += 1
                        act_cnt[ch, b] += 1
        # ------------------------------------------------ done?
        if retired == n and next_req == n:
            break
        # ------------------------------------------------ skip idle cycles
        # Nothing issued and no request can arrive: nothing changes until the
        # earliest ready time of an eligible command (or a refresh) seen above.
        # A request that has room arrives at its req_time (timed replay) or next cycle.
        step = 1 if issued_any else _skip_cycles(ev, clk, i, next_req, n, timed, req_time, req_vec,
                                                  req_is_write, req_addr, line_mask, rq_n, rq_cap, wq,
                                                  wq_n, wq_cap)
        i += step
    st[0] = next_req
    st[1] = retired
    st[2] = i
    st[3] = last_done
    st[4] = n_log
    stats[0, 12] += scanned
    return status


@njit(cache=True)
def simulate(sizes, cmd_role, role_cmd, cons_ptr, cons, read_latency, refresh_scope,
             refresh_interval, aad_cycles, wck, wck_enabled, cmd_bus, n_buses, cmd_cycles,
             refresh_unit_level,
             req_addr, line_mask, req_vec, req_is_write, req_time, rq_cap, wq_cap, wr_hi, wr_lo,
             requests_per_cycle, log_enabled, max_cycles, policy, row_hit_cap):
    """Run a trace replay on all channels.

    ``policy`` (P_FRFCFS, P_FRFCFS_RAMULATOR2, P_FRFCFS_CAP with ``row_hit_cap``, P_FCFS) orders
    the read and write buffers; the active buffer always serves its oldest ready request.

    Per request: ``req_addr`` (uint64; two requests address the same line when
    ``req_addr & line_mask`` agree: forwarding and coalescing), ``req_vec``
    (int32, n x (levels + 2): channel, levels.., row, column), ``req_is_write``.

    Requests are offered in trace order, up to ``requests_per_cycle`` per
    cycle (1 in the reference replay model), at the frontend clock ``i`` (the
    controllers then tick at ``i + 1``), never before their ``req_time``
    (empty: closed loop; arrival cycles: timed open-loop replay); a refused
    request (its queue is full) is offered again next cycle and blocks the ones
    behind it.

    Each channel issues at most one command per command bus per cycle
    (``cmd_bus`` gives a command's bus, ``cmd_cycles`` how long it holds it).
    Refresh: ``refresh_scope`` below the bank level refreshes every node of that
    level (REFab) each ``refresh_interval``; at the bank level, each node of
    ``refresh_unit_level`` refreshes its next bank (REFpb, round robin) each
    ``refresh_interval``.

    Returns (accept, complete, stats, cmd_count, log, n_log, end_cycle,
    open_cycles) where stats rows are per channel:
    [row_hits, row_misses, row_conflicts, read_hits, read_misses,
     read_conflicts, refreshes, forwarded_reads, coalesced_writes,
     sum_read_latency, reads_done, evaluated_cycles, scanned_entries (the last two in
     the channel 0 row only)].
    """
    nlev = sizes.shape[0]
    nch = sizes[0]
    ncmd = cmd_role.shape[0]
    n = req_vec.shape[0]
    row_i = nlev
    off, cnt_l, nodes_per_ch, ready, hist = _timing_state(sizes, cons, ncmd)
    nbanks = cnt_l[nlev - 1]
    timed = req_time.shape[0] > 0
    # per-request bank (index within the channel)
    req_bank = np.zeros(n, np.int32)
    for r in range(n):
        idx = 0
        for l in range(1, nlev):
            idx = idx * sizes[l] + req_vec[r, l]
        req_bank[r] = idx
    # per-channel views are obtained by offsetting node index by ch*nodes_per_ch
    bstate = np.zeros((nch, nbanks), np.int64)     # 0 closed, 1 ACT1 issued, 2 open
    brow = np.full((nch, nbanks), -1, np.int64)
    # level-1 node (rank / pseudo-channel) open-bank accounting for energy
    n_l1 = cnt_l[1] if nlev > 1 else 1
    open_banks = np.zeros((nch, n_l1), np.int64)
    open_since = np.zeros((nch, n_l1), np.int64)
    open_cycles = np.zeros((nch, n_l1), np.int64)
    banks_per_l1 = nbanks // n_l1
    # ---- buffers ---------------------------------------------------------------
    rq = np.zeros((nch, rq_cap), np.int64)
    wq = np.zeros((nch, wq_cap), np.int64)
    aq = np.zeros((nch, nbanks), np.int64)       # active buffer
    xq = np.zeros((nch, nbanks), np.int64)       # activating buffer (ACT2 pending)
    rq_n = np.zeros(nch, np.int64)
    wq_n = np.zeros(nch, np.int64)
    aq_n = np.zeros(nch, np.int64)
    xq_n = np.zeros(nch, np.int64)
    act_cnt = np.zeros((nch, nbanks), np.int64)
    act2_owner = np.zeros((nch, nbanks), np.bool_)
    act2_deadline = np.full((nch, nbanks), -1, np.int64)
    PQ = 64
    pq_vec = np.full((nch, PQ, nlev + 2), -1, np.int32)
    pq_n = np.zeros(nch, np.int64)
    per_bank = refresh_scope == nlev - 1
    if per_bank:
        n_ref_nodes = cnt_l[refresh_unit_level]
        banks_per_unit = nbanks // n_ref_nodes
    else:
        n_ref_nodes = cnt_l[refresh_scope]
        banks_per_unit = 1
    ref_rr = np.zeros(nch, np.int64)         # per-bank refresh: next bank of each unit
    nbus = n_buses
    bus_free = np.zeros((nch, nbus), np.int64)
    write_mode = np.zeros(nch, np.bool_)
    wck_expiry = np.zeros(nch, np.int64)
    cas_req = np.full(nch, -1, np.int64)
    cas_buf = np.zeros(nch, np.int64)
    next_ref = np.full(nch, refresh_interval if refresh_interval > 0 else BIG, np.int64)
    # ---- per-request ----------------------------------------------------------
    accept = np.full(n, -1, np.int64)
    complete = np.full(n, -1, np.int64)
    rcmd = np.zeros(n, np.int8)            # next command (cached, see _req_next)
    rcmd_epoch = np.full(n, -1, np.int64)  # bank_epoch the cached command was computed at
    rready = np.zeros(n, np.int64)         # lower bound of its ready cycle
    bank_epoch = np.zeros((nch, nbanks), np.int64)
    stat_done = np.zeros(n, np.bool_)
    col_streak = np.zeros((nch, nbanks), np.int64)   # column accesses since the bank's activation
    rqb = np.zeros((nch, rq_cap), np.int64)          # per read-queue entry: ready bound (P_FRFCFS*)
    wqb = np.zeros((nch, wq_cap), np.int64)
    older_other = np.zeros(nbanks, np.bool_)         # P_FRFCFS_CAP scan scratch
    final_rd = role_cmd[R_RD]
    final_wr = role_cmd[R_WR]
    ref_cmd = role_cmd[R_REFPB] if per_bank else role_cmd[R_REFAB]
    ref_pre = role_cmd[R_PRE] if per_bank else role_cmd[R_PREA]
    # ---- outputs ----------------------------------------------------------------
    stats = np.zeros((nch, 13), np.int64)
    cmd_count = np.zeros((nch, ncmd), np.int64)
    log = np.zeros((6 * n + 1024 if log_enabled else 1, nlev + 5), np.int64)
    n_log = 0

    st = np.zeros(5, np.int64)
    while True:
        status = _controller_loop(sizes, cmd_role, role_cmd, cons_ptr, cons, read_latency, refresh_scope,
                                  refresh_interval, aad_cycles, wck, wck_enabled, cmd_bus, cmd_cycles,
                                  req_addr, line_mask, timed, req_vec, req_is_write, req_time, rq_cap, wq_cap,
                                  wr_hi, wr_lo, requests_per_cycle, log_enabled, policy, row_hit_cap,
                                  col_streak, older_other, rqb, wqb, max_cycles, PQ, accept, act2_deadline,
                                  act2_owner, act_cnt, aq, aq_n, bank_epoch, banks_per_l1, banks_per_unit,
                                  brow, bstate, bus_free, cas_buf, cas_req, cmd_count, complete, final_rd,
                                  final_wr, hist, log, n, n_ref_nodes, nbus, nch, ncmd, next_ref, nlev,
                                  nodes_per_ch, off, open_banks, open_cycles, open_since, per_bank, pq_n,
                                  pq_vec, rcmd, rcmd_epoch, ready, ref_cmd, ref_pre, ref_rr, req_bank, row_i,
                                  rq, rq_n, rready, stat_done, stats, wck_expiry, wq, wq_n, write_mode, xq,
                                  xq_n, st)
        if status == 0:
            break
        if status == 2:
            raise RuntimeError("priority buffer overflow")
        grown = np.zeros((2 * log.shape[0], log.shape[1]), np.int64)
        grown[:st[4]] = log[:st[4]]
        log = grown
    last_done = st[3]
    n_log = st[4]
    # banks still open at the end count as open until the last completion
    for ch in range(nch):
        for r1 in range(n_l1):
            if open_banks[ch, r1] > 0 and last_done > open_since[ch, r1]:
                open_cycles[ch, r1] += last_done - open_since[ch, r1]
    return accept, complete, stats, cmd_count, log[:n_log], last_done, open_cycles


@njit(cache=True)
def simulate_stream(sizes, cmd_role, role_cmd, cons_ptr, cons, refresh_interval, cmds, addr):
    """Issue a fixed command stream in order, each command at the first cycle its
    constraints allow (PIM execution: no reordering). Commands of different
    channels overlap; each channel issues at most one command per cycle.

    All-bank refresh is inserted when due, at the next point where every bank is
    closed (before an activate). Returns the log (cycle, cmd, address..., type)
    including the refreshes, and the last cycle."""
    nlev = sizes.shape[0]
    nch = sizes[0]
    ncmd = cmd_role.shape[0]
    n = cmds.shape[0]
    addr = addr.astype(np.int32)     # the helpers are compiled for int32 address vectors (as in simulate)
    off, cnt_l, nodes_per_ch, ready, hist = _timing_state(sizes, cons, ncmd)
    last = np.zeros(nch, np.int64)
    next_ref = np.full(nch, refresh_interval if refresh_interval > 0 else BIG, np.int64)
    refab = role_cmd[R_REFAB]
    log = np.zeros((n + n // 8 + 64, nlev + 5), np.int64)
    n_log = 0
    ref_vec = np.full(nlev + 2, -1, np.int32)
    for i in range(n):
        c = cmds[i]
        a = addr[i]
        ch = a[0]
        base = ch * nodes_per_ch
        r = cmd_role[c]
        if (r == R_ACT or r == R_PIM_ACT) and refab >= 0:
            t0 = max(last[ch] + 1, _ready_time(ready, base, off, sizes, nlev, c, a))
            while t0 >= next_ref[ch]:
                ref_vec[0] = ch
                tr = max(last[ch] + 1, _ready_time(ready, base, off, sizes, nlev, refab, ref_vec))
                _update_timing(ready, hist, base, off, sizes, nlev, ncmd, cons_ptr, cons, refab, ref_vec, tr)
                log, n_log = _log_append(log, n_log, tr, refab, ref_vec, -1)
                last[ch] = tr
                next_ref[ch] += refresh_interval
                t0 = max(last[ch] + 1, _ready_time(ready, base, off, sizes, nlev, c, a))
        t = max(last[ch] + 1, _ready_time(ready, base, off, sizes, nlev, c, a))
        _update_timing(ready, hist, base, off, sizes, nlev, ncmd, cons_ptr, cons, c, a, t)
        last[ch] = t
        log, n_log = _log_append(log, n_log, t, c, a, 2)
    end = 0
    for ch in range(nch):
        if last[ch] > end:
            end = last[ch]
    return log[:n_log], end
