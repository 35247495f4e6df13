"""GEMV and attention lowering to all-bank PIM command streams.

Layout (per channel; every channel holds the same shapes, so one is simulated):
output rows are spread over channels, then over the banks of a channel; each bank
row holds ``row_elems`` consecutive weights of one output row (rows shorter than a
bank row are packed several to a row). The input vector is written into the global
buffer (GB) in chunks of ``gb_elems``; one ACTab opens the same row in all banks and
MACab steps stream its columns, so weights stream as whole rows (row hits) and each
bank accumulates its output's partial sum across chunks in one of
``result_latches`` accumulators; RDRES reads the finished outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from ..dram.core import simulate_stream
from .config import PimConfig


@dataclass(frozen=True)
class GemvCost:
    cycles: int
    acts: int
    macs: int            # all-bank MAC steps
    gb_writes: int
    result_reads: int
    refreshes: int
    ns: float

    @property
    def row_hit_rate(self) -> float:
        return (self.macs - self.acts) / self.macs if self.macs else 0.0


def gemv_stream(pim: PimConfig, n_out: int, k: int, channel: int = 0):
    """(commands, addresses) of one channel computing ``n_out`` outputs of length ``k``."""
    std = pim.std
    c = {r: std.role_command(r) for r in ("pim_activate_all", "pim_mac_all", "pim_write_gb",
                                         "pim_read_result", "precharge_all")}
    nlev = std.n_levels
    B, lanes = pim.banks, pim.mac["lanes"]
    chunk = min(k, pim.gb_elems)
    n_chunks = -(-k // chunk)
    per_row = max(1, pim.row_elems // chunk)             # outputs packed in one bank row (short rows)
    tiles = -(-n_out // B)                                # outputs per bank
    R = pim.result_latches
    burst = std.tx_bytes
    cmds, rows, cols = [], [], []

    def emit(cmd, row=-1, col=-1, count=1):
        cmds.extend([cmd] * count)
        rows.extend([row] * count)
        cols.extend(range(col, col + count) if col >= 0 else [-1] * count)

    row_id = 0
    gb_loaded = -1
    for t0 in range(0, tiles, R):
        block = min(R, tiles - t0)
        for j in range(n_chunks):
            length = min(chunk, k - j * chunk)
            if gb_loaded != j:
                emit(c["pim_write_gb"], col=0, count=-(-length * 2 // burst))
                gb_loaded = j
            cols_per_out = -(-length // lanes)
            left = block
            while left > 0:
                outs = min(per_row, left)
                emit(c["pim_activate_all"], row=row_id)
                emit(c["pim_mac_all"], row=row_id, col=0, count=outs * cols_per_out)
                emit(c["precharge_all"])
                row_id = (row_id + 1) % std.rows
                left -= outs
        emit(c["pim_read_result"], col=0, count=-(-B * block * pim.result_bytes // burst))
    n = len(cmds)
    addr = np.full((n, nlev + 2), -1, np.int64)
    addr[:, 0] = channel
    addr[:, nlev] = rows
    addr[:, nlev + 1] = cols
    return np.array(cmds, np.int64), addr


def run_stream(pim: PimConfig, cmds, addr):
    a = pim.std.arrays()
    log, end = simulate_stream(a["sizes"], a["cmd_role"], a["role_cmd"], a["cons_ptr"], a["cons"],
                               a["refresh_interval"], cmds, addr)
    return log, int(end)


def gemv_cost(pim: PimConfig, n: int, k: int, memo: bool = True) -> GemvCost:
    """Command-level time of an (n x k) GEMV on all channels."""
    n_c = -(-n // pim.std.channels)
    if not memo:
        return _gemv_cost(pim, n_c, k)
    sig = (pim.key, pim.std.channels, pim.mac_interval_cycles, pim.result_latches, pim.global_buffer_bytes, n_c, k)
    if sig not in _MEMO:
        _MEMO[sig] = _gemv_cost(pim, n_c, k)
    return _MEMO[sig]


_MEMO: dict = {}      # GEMV signature -> cost (identical shapes recur in every layer)


def _gemv_cost(pim, n_c, k):
    cmds, addr = gemv_stream(pim, n_c, k)
    log, end = run_stream(pim, cmds, addr)
    roles = np.array(pim.std.roles, dtype=object)[log[:, 1]]
    cnt = {r: int((roles == r).sum()) for r in ("pim_activate_all", "pim_mac_all", "pim_write_gb",
                                                "pim_read_result", "refresh_all")}
    return GemvCost(cycles=end, acts=cnt["pim_activate_all"], macs=cnt["pim_mac_all"],
                    gb_writes=cnt["pim_write_gb"], result_reads=cnt["pim_read_result"],
                    refreshes=cnt["refresh_all"], ns=end * pim.std.tck_ns)
