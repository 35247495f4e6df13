"""GEMV and attention lowering to all-bank PIM command streams.

Layout (per channel; every channel holds the same shapes, so one is simulated): output rows
are spread over channels, then over the banks of a channel; each bank row holds
``row_elems`` consecutive weights of one output row (rows shorter than a bank row are packed
several to a row). The input vector is written into the global buffer (GB) in chunks of
``gb_elems``; one ACTab opens the same row in all banks and MACab steps stream its columns,
so weights stream as whole rows (row hits). A bank holds ``result_latches`` outputs at once;
RDRES reads them out. Short outputs stay packed in their rows whatever the latch count: a latch
block smaller than a row continues in the open row (its reads go between the MACab steps). Two dataflows for matrices longer than the GB (``dataflow``):

* ``asic_partial_sums`` (PIM-GPT: "partial VMM results are summed in the ASIC"): each input
  chunk is written into the GB once; every output's partial sum over that chunk is read out
  and the ASIC adds the partial sums (simulator/pim/asic.py, kind ``psum``).
* ``result_latches`` (SK hynix AiM style, He et al., Hot Chips 2023): a bank keeps a block of
  ``result_latches`` outputs across all input chunks, so the input chunks are re-sent for
  every block and only finished outputs are read.

Command order. Serial schedule (``overlap=False``): the transfers a row depends on (the GB
chunk it multiplies, the read-out of the latches it will reuse) are issued after the previous
row's last MACab and before its PREab, while the banks wait. Overlap: latch i of every bank is
read before the next row that reuses it, and a GB chunk before the first row that multiplies
it, both inside the row change: as many bursts as fit in tRP before that row's ACTab, the
rest inside tRCD after it. A GB chunk cannot be
written under the MACab steps: the table's WRGB -> MACab turnaround (nCWL + nBL) applies to
every MACab after a WRGB, and the buffer is single (the paper gives no second one). Both
orders keep every data dependency by construction (a GB chunk is rewritten only after the
last MACab that reads it; latches are read before the first MACab that reuses them), and the
command table decides the cycles; both are checked by simulator/dram/checker.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dram.core import simulate_stream
from .arch import pim_commands
from .config import PimConfig


@dataclass(frozen=True)
class GemvCost:
    """One channel's share of a GEMV (all channels run the same stream in parallel).

    ``ns`` the whole stream; ``bank_ns`` the same stream without the GB writes and result
    reads (``ns - bank_ns`` is the exposed data movement); ``last_chunk_ns`` when the last GB
    chunk is first written (an input produced later delays the GEMV by up to ``ns`` minus
    this); ``final_reads`` ((outputs finished on this channel, ns), ...) as result blocks are
    read; ``partial_sums`` partial sums this channel hands the ASIC to add."""
    cycles: int
    acts: int
    macs: int            # all-bank MAC steps
    gb_writes: int
    result_reads: int
    refreshes: int
    ns: float
    bank_ns: float = 0.0
    last_chunk_ns: float = 0.0
    final_reads: tuple = ()
    partial_sums: int = 0
    first_read_ns: float = 0.0

    @property
    def row_hit_rate(self) -> float:
        return (self.macs - self.acts) / self.macs if self.macs else 0.0

    def outputs_ready_ns(self, outputs: int) -> float:
        """When the first ``outputs`` outputs of this channel have been read out."""
        for done, t in self.final_reads:
            if done >= outputs:
                return t
        return self.ns


def gemv_stream(pim: PimConfig, n_out: int, k: int, channel: int = 0, overlap: bool | None = None,
                marks: dict | None = None):
    """(commands, addresses) of one channel computing ``n_out`` outputs of length ``k``.

    ``overlap`` defaults to the preset's schedule. ``marks``, if given, receives the stream
    indices of the last RDRES of each finished-output block (``final``: [(outputs, index)]) and
    of the first GB write of the last chunk (``last_chunk``)."""
    std = pim.std
    overlap = pim.schedule == "overlap" if overlap is None else overlap
    c = pim_commands(std)
    rows, pending = _plan_rows(pim, n_out, k, overlap, c)
    cmd, row, col, final, last_chunk = _emit_rows(std, rows, pending, overlap, c)
    if marks is not None:
        marks["final"], marks["last_chunk"] = final, max(last_chunk, 0)
    nlev = std.n_levels
    n = len(cmd)
    addr = np.full((n, nlev + 2), -1, np.int64)
    addr[:, 0] = channel
    addr[:, nlev] = row
    addr[:, nlev + 1] = col
    return np.array(cmd, np.int64), addr


def _plan_rows(pim: PimConfig, n_out: int, k: int, overlap: bool, c: dict):
    """(rows, transfers left after the last row) of a GEMV of ``n_out`` outputs of length ``k``.

    rows: (row id, MAC steps, transfers before its MACs, same row as the entry before, first column);
    transfers: (command, count, mark). Outputs are packed per_row to a bank row whatever the
    latch count: a block smaller than a row continues in the open row (row hits)."""
    std = pim.std
    B, lanes, R = pim.banks, pim.mac["lanes"], pim.result_latches
    burst = std.tx_bytes
    chunk = min(k, pim.gb_elems)
    n_chunks = -(-k // chunk)
    per_row = max(1, pim.row_elems // chunk)             # outputs packed in one bank row (short rows)
    tiles = -(-n_out // B)                                # outputs per bank
    gb_bursts = [-(-min(chunk, k - j * chunk) * 2 // burst) for j in range(n_chunks)]
    cols = [-(-min(chunk, k - j * chunk) // lanes) for j in range(n_chunks)]
    rows, pending, deferred = [], [], []
    row_id, fill, fill_chunk = 0, 0, -1

    def add_rows(j, block):
        """Rows for ``block`` outputs per bank of chunk ``j``, packed into the open row where it fits."""
        nonlocal row_id, pending, fill, fill_chunk
        left = block
        while left > 0:
            same = fill_chunk == j and 0 < fill < per_row
            if not same:
                if rows:
                    row_id = (row_id + 1) % std.rows
                fill = 0
            outs = min(per_row - fill, left)
            due = [d[1] for d in deferred if d[0] == 0]
            deferred[:] = [[d[0] - 1, d[1]] for d in deferred if d[0] > 0]
            rows.append((row_id, outs * cols[j], due + pending, same, fill * cols[j]))
            pending = []
            fill, fill_chunk = fill + outs, j
            left -= outs

    def read_block(block, final_outs):
        """Result reads of ``block`` outputs per bank (overlap: each before the row reusing its latch)."""
        if not overlap:
            pending.append((c["read_result"], -(-B * block * pim.result_bytes // burst), final_outs))
            return
        # overlap: latch i of every bank is read before the next row that reuses it (row i // per_row)
        per_latch = -(-B * pim.result_bytes // burst)
        for i in range(block):
            deferred.append([i // per_row, (c["read_result"], per_latch, final_outs if i == block - 1 else None)])

    done = 0
    if pim.dataflow == "result_latches" or n_chunks == 1:
        loaded = -1
        for t0 in range(0, tiles, R):
            block = min(R, tiles - t0)
            for j in range(n_chunks):
                if loaded != j:
                    pending.append((c["write_gb"], gb_bursts[j], "last_chunk" if j == n_chunks - 1 else None))
                    loaded = j
                add_rows(j, block)
            done = min(n_out, done + B * block)
            read_block(block, done)
    else:                                                 # asic_partial_sums
        for j in range(n_chunks):
            pending.append((c["write_gb"], gb_bursts[j], "last_chunk" if j == n_chunks - 1 else None))
            for t0 in range(0, tiles, R):
                block = min(R, tiles - t0)
                add_rows(j, block)
                if j == n_chunks - 1:
                    done = min(n_out, done + B * block)
                read_block(block, done if j == n_chunks - 1 else None)
    return rows, [d[1] for d in deferred] + pending


def _emit_rows(std, rows, pending, overlap: bool, c: dict):
    """(command ids, row per command, column per command, final marks, index of the last chunk's first
    GB write or -1) of the planned ``rows`` (see :func:`_plan_rows`) and the ``pending`` transfers."""
    cmd, row, col = [], [], []
    final, last_chunk = [], [-1]

    def emit(cm, r=-1, count=1, colstart=-1):
        """``count`` commands ``cm`` on row ``r``, columns from ``colstart`` (-1: none)."""
        cmd.extend([cm] * count)
        row.extend([r] * count)
        col.extend(range(colstart, colstart + count) if colstart >= 0 else [-1] * count)

    def transfers(lst):
        """Emit a transfer list, noting its marks."""
        for cm, count, m in lst:
            emit(cm, count=count, colstart=0)
            if m == "last_chunk" and last_chunk[0] < 0:
                last_chunk[0] = len(cmd) - count
            elif isinstance(m, int):
                final.append((m, len(cmd) - 1))

    # overlap: as many transfer bursts before a row's ACTab as fit in the precharge (tRP) of the
    # row before, the rest after it (inside tRCD): the ACTab issues as soon as tRP allows
    before_act = max(0, (std.timing["nRP"] - 1) // std.timing["nBL"])
    for i, (rid, macs, pre, same, col0) in enumerate(rows):
        if not overlap and i == 0:
            transfers(pre)
        if not same:
            if overlap:
                head, pre = _split_transfers(pre, before_act)
                transfers(head)
            emit(c["activate_all"], rid)
        if overlap:
            transfers(pre)
        emit(c["mac_all"], rid, macs, col0)
        if not overlap:
            transfers(rows[i + 1][2] if i + 1 < len(rows) else pending)
        if i + 1 == len(rows) or not rows[i + 1][3]:
            emit(c["precharge_all"])
    if overlap:
        transfers(pending)
    return cmd, row, col, final, last_chunk[0]


def _split_transfers(lst, k):
    """(first ``k`` bursts, the rest) of a transfer list; an output mark stays with the last burst,
    ``last_chunk`` with the first."""
    head, tail = [], []
    for cm, count, m in lst:
        a = min(count, max(k, 0))
        k -= a
        if a:
            head.append((cm, a, m if a == count or m == "last_chunk" else None))
        if count - a:
            tail.append((cm, count - a, None if m == "last_chunk" and a else m))
    return head, tail


def run_stream(pim: PimConfig, cmds, addr):
    a = pim.std.arrays()
    log, end = simulate_stream(a["sizes"], a["cmd_flags"], a["sel"], a["cons_ptr"], a["cons"],
                               a["refresh_interval"], cmds, addr)
    return log, int(end)


def gemv_cost(pim: PimConfig, n: int, k: int, memo: bool = True) -> GemvCost:
    """Command-level time of an (n x k) GEMV on all channels."""
    n_c = -(-n // pim.std.channels)
    if not memo:
        return _gemv_cost(pim, n_c, k)
    sig = (pim.key, pim.architecture, pim.std.channels, pim.mac_interval_cycles, pim.result_latches,
           pim.global_buffer_bytes, pim.dataflow, pim.schedule, n_c, k)
    if sig not in _MEMO:
        _MEMO[sig] = _gemv_cost(pim, n_c, k)
    return _MEMO[sig]


_MEMO: dict = {}      # GEMV signature -> cost (identical shapes recur in every layer)


def _gemv_cost(pim, n_c, k):
    marks = {}
    cmds, addr = gemv_stream(pim, n_c, k, marks=marks)
    log, end = run_stream(pim, cmds, addr)
    tck = pim.std.tck_ns
    c = pim_commands(pim.std)
    cnt = {name: int((log[:, 1] == cmd).sum()) for name, cmd in c.items()}
    issued = log[log[:, -1] != -1, 0]                     # the stream's own commands (not refreshes)
    final = tuple((o, float(issued[i] + pim.std.read_latency) * tck) for o, i in marks["final"])
    end = max(end, int(issued[marks["final"][-1][1]]) + pim.std.read_latency)   # last result on the bus
    rdres = np.flatnonzero(cmds == c["read_result"])
    first_read = float(issued[rdres[0]] + pim.std.read_latency) * tck if len(rdres) else 0.0
    transfer = np.isin(cmds, [c["write_gb"], c["read_result"]])
    _, bank_end = run_stream(pim, cmds[~transfer], addr[~transfer])
    chunk = min(k, pim.gb_elems)
    n_chunks = -(-k // chunk)
    psums = n_c * (n_chunks - 1) if pim.dataflow == "asic_partial_sums" and n_chunks > 1 else 0
    return GemvCost(cycles=end, acts=cnt["activate_all"], macs=cnt["mac_all"],
                    gb_writes=cnt["write_gb"], result_reads=cnt["read_result"],
                    refreshes=cnt["refresh_all"], ns=end * tck, bank_ns=min(bank_end, end) * tck,
                    last_chunk_ns=float(issued[marks["last_chunk"]]) * tck, final_reads=final,
                    partial_sums=psums, first_read_ns=first_read)
