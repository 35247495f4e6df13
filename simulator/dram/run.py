"""Run the DRAM core on a request trace and collect the results."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..config_io import check_choice, check_float, check_int
from ..errors import ConfigError
from .channels import simulate_channels
from .core import simulate
from .mapping import map_addresses
from . import state as S
from .policies import REFRESH_MANAGERS, ROW_POLICIES, SCHEDULERS
from .standard import DramStandard


@dataclass
class ControllerConfig:
    """Controller settings; defaults match the reference configuration."""

    read_queue: int = 32
    write_queue: int = 32
    write_high_watermark: float = 0.8
    write_low_watermark: float = 0.2
    requests_per_cycle: int = 1       # frontend width; 1 = the reference replay model
    scheduler: str = None             # one of SCHEDULERS; None: the standard's controller.scheduler
                                      # (frfcfs; frfcfs-ramulator2 on the *-ramulator2 presets)
    row_hit_cap: int = 4              # frfcfs-cap: column accesses per activation that may bypass an
                                      # older request to another row of the bank (an assumed default)
    row_policy: str = None            # one of ROW_POLICIES; None: the standard's controller.row_policy (open)

    def validate(self, source="controller"):
        check_int(source, "read_queue", self.read_queue, 1, 4096)
        check_int(source, "write_queue", self.write_queue, 1, 4096)
        check_int(source, "requests_per_cycle", self.requests_per_cycle, 1, 4096)
        if self.scheduler is not None:
            check_choice(source, "scheduler", self.scheduler, tuple(SCHEDULERS))
        check_int(source, "row_hit_cap", self.row_hit_cap, 1, 1 << 20)
        if self.row_policy is not None:
            check_choice(source, "row_policy", self.row_policy, tuple(ROW_POLICIES))
        check_float(source, "write_high_watermark", self.write_high_watermark, 0.0, 1.0)
        check_float(source, "write_low_watermark", self.write_low_watermark, 0.0,
                    self.write_high_watermark)
        return self


@dataclass
class DramResult:
    standard: DramStandard
    accept_cycle: np.ndarray          # per request
    complete_cycle: np.ndarray        # per request: read = RD issue + read latency; write = WR issue
    cycles: int                       # last completion (drain)
    row_hits: int
    row_misses: int
    row_conflicts: int
    read_row_hits: int
    read_row_misses: int
    read_row_conflicts: int
    refreshes: int
    forwarded_reads: int
    coalesced_writes: int
    sum_read_latency_cycles: int
    reads_done: int
    evaluated_cycles: int             # cycles the core evaluated (the rest were skipped)
    scanned_entries: int              # active-buffer entries and read/write bank groups (entries under frfcfs-cap
                                      # and fcfs) the scheduler visited (a speed counter)
    command_counts: dict              # command name -> count
    open_cycles: np.ndarray           # per channel x rank: cycles with >= 1 bank open
    alone_cycles: int = 0             # frontend cycles in which each channel was replayed on its own (same
                                      # result, faster; see dram.channels)
    log: np.ndarray = field(repr=False, default=None)   # cycle, cmd, ch, levels.., row, col, type

    @property
    def requests(self) -> int:
        return len(self.accept_cycle)

    @property
    def time_ns(self) -> float:
        return self.cycles * self.standard.tck_ns

    @property
    def data_bursts(self) -> int:
        """RD/WR bursts that crossed the data bus (with or without auto-precharge)."""
        std = self.standard
        return sum(self.command_counts.get(std.commands[i], 0) for i in std.data_commands())

    @property
    def transferred_bytes(self) -> int:
        return self.data_bursts * self.standard.tx_bytes

    @property
    def served_from_queue(self) -> int:
        """Requests that never reached the DRAM: reads forwarded from a queued write to the
        same address and writes coalesced into one."""
        return self.forwarded_reads + self.coalesced_writes

    @property
    def achieved_gbps(self) -> float:
        """Data-bus bandwidth: bursts on the bus x bytes per burst / time (requests served
        from the queue move no data and are not counted)."""
        return self.transferred_bytes / self.time_ns if self.cycles else 0.0

    @property
    def pct_of_peak(self) -> float:
        """Achieved data-bus bandwidth as a percentage of the standard's peak."""
        return 100.0 * self.achieved_gbps / self.standard.peak_gbps

    @property
    def warnings(self) -> list:
        """Results that cannot be physically right (list of str): bandwidth above the peak means the
        standard's constraint table lets bursts overlap on the data bus."""
        out = []
        if self.pct_of_peak > 100.0 + 1e-9:
            out.append(f"{self.pct_of_peak:.1f}% of the peak data bandwidth is impossible: the constraint table of "
                       f"{self.standard.source_file} lets data bursts overlap (check its RD/WR rows; run --check)")
        return out

    @property
    def avg_read_latency_cycles(self):
        """Mean cycles from a read's acceptance to its data, over the reads the DRAM served (float); None when
        it served none (no reads, or every read forwarded from the write queue)."""
        return self.sum_read_latency_cycles / self.reads_done if self.reads_done else None

    @property
    def row_hit_rate(self) -> float:
        tot = self.row_hits + self.row_misses + self.row_conflicts
        return self.row_hits / tot if tot else 0.0

    def command_log(self):
        """The command log as a pandas DataFrame (needs ``log=True``)."""
        import pandas as pd
        if self.log is None:
            raise ValueError("run with log=True to keep the command log")
        std = self.standard
        cols = ["cycle", "cmd"] + [n for n in std.level_names] + ["row", "column", "type"]
        df = pd.DataFrame(self.log, columns=cols)
        df.insert(1, "command", np.array(std.commands, dtype=object)[df.pop("cmd").to_numpy()])
        return df


# DramResult field of each statistics column (state.S_*), in column order
_STAT_FIELDS = ("row_hits", "row_misses", "row_conflicts", "read_row_hits", "read_row_misses",
                "read_row_conflicts", "refreshes", "forwarded_reads", "coalesced_writes",
                "sum_read_latency_cycles", "reads_done", "evaluated_cycles", "scanned_entries")


def core_config(std: DramStandard, arr: dict, ctrl: ControllerConfig, log=False,
                max_cycles=None) -> np.ndarray:
    """The core's run configuration ``cfg`` (int64, state.N_CFG; columns state.K_*) for ``std`` (``arr``: its
    ``arrays()``, built once by the caller) under ``ctrl``: the standard's refresh, split-activation and WCK numbers (cycles), the queue sizes, the
    write watermarks as entry counts, and the switches of the scheduling and row policies (the run's
    choice, else the standard's ``controller.scheduler`` / ``controller.row_policy``)."""
    import math
    sched = SCHEDULERS[ctrl.scheduler or std.scheduler]
    rowp = ROW_POLICIES[ctrl.row_policy or std.row_policy]
    c = np.zeros(S.N_CFG, np.int64)
    c[S.K_READ_LATENCY] = arr["read_latency"]
    c[S.K_REFRESH_SCOPE] = arr["refresh_scope"]
    c[S.K_REFRESH_INTERVAL] = arr["refresh_interval"]
    c[S.K_PER_BANK_REFRESH] = REFRESH_MANAGERS[std.refresh_manager].per_bank
    c[S.K_REFRESH_UNIT_LEVEL] = arr["refresh_unit_level"]
    c[S.K_AAD_CYCLES] = arr["aad_cycles"]
    c[S.K_WCK_ENABLED] = arr["wck_enabled"]
    c[S.K_WCK_READ_CYCLES], c[S.K_WCK_WRITE_CYCLES] = arr["wck"]
    c[S.K_N_BUSES] = arr["n_buses"]
    c[S.K_RQ_CAP], c[S.K_WQ_CAP] = ctrl.read_queue, ctrl.write_queue
    # integer forms of "more than high x capacity" / "fewer than low x capacity" (same float product)
    c[S.K_WRITE_HIGH] = math.floor(float(ctrl.write_high_watermark) * ctrl.write_queue)
    c[S.K_WRITE_LOW] = math.ceil(float(ctrl.write_low_watermark) * ctrl.write_queue)
    c[S.K_REQUESTS_PER_CYCLE] = ctrl.requests_per_cycle
    c[S.K_LOG] = bool(log)
    c[S.K_MAX_CYCLES] = (1 << 60) if max_cycles is None else int(max_cycles)
    c[S.K_OPEN_ROW_RULE] = sched.open_row_rule
    c[S.K_ROW_HIT_CAP] = ctrl.row_hit_cap if sched.row_hit_cap else -1
    c[S.K_OLDEST_ONLY] = sched.oldest_only
    c[S.K_COLUMN_FIRST] = sched.column_first
    c[S.K_CLOSE_WITHOUT_HIT] = rowp.close_without_hit
    c[S.K_CLOSE_AFTER] = rowp.close_after
    return c


def run_trace(std: DramStandard, addrs, is_write, mapping="RoBaRaCoCh", controller=None,
              log=False, max_cycles=None, arrival_cycle=None, jobs=1) -> DramResult:
    """Replay a trace (byte addresses + write flags) on ``std``.

    ``arrival_cycle`` (non-decreasing, per request, in command-clock cycles) makes the
    replay timed and open loop: a request enters its queue at that cycle or, when the
    queue is full, as soon as there is room. Without it the replay is closed loop. With it,
    read latency is counted from the arrival cycle (queueing delay included).

    ``jobs`` (threads, >= 1): a replay on several channels runs each channel on its own, this many at a time,
    while that is exact (no request waits for room in its queue), else all together (:mod:`.channels`;
    ``DramResult.alone_cycles`` says for how long). The results are the same either way."""
    ctrl = (controller or ControllerConfig()).validate()
    n = len(addrs)
    if arrival_cycle is None:
        req_time = np.zeros(0, np.int64)      # closed loop
    else:
        req_time = np.asarray(arrival_cycle, np.int64)
        if req_time.shape != (n,) or (n and (req_time.min() < 0 or (np.diff(req_time) < 0).any())):
            raise ValueError("arrival_cycle must be one non-negative, non-decreasing cycle per request")
    addrs = np.asarray(addrs, np.uint64)
    vec = map_addresses(addrs, std, mapping, dtype=np.int32)
    tx = std.tx_bytes
    if tx & (tx - 1) == 0:      # same line: equal above the offset bits
        req_addr, line_mask = addrs, np.uint64(~np.uint64(tx - 1))
    else:
        req_addr, line_mask = addrs // np.uint64(tx), np.uint64(~np.uint64(0))
    arr = std.arrays()
    cfg = core_config(std, arr, ctrl, log, max_cycles)
    core_args = (arr["sizes"], arr["cmd_flags"], arr["sel"], arr["cons_ptr"], arr["cons"], arr["cmd_bus"],
                 arr["cmd_cycles"], cfg, req_addr, line_mask, vec, np.asarray(is_write, np.bool_), req_time)
    try:
        out = simulate_channels(*core_args, jobs=check_int("run_trace", "jobs", jobs, 1, 4096))
        if out is None:
            out, alone_cycles = simulate(*core_args), 0
        else:
            out, alone_cycles = out
    except RuntimeError as exc:
        if "priority buffer overflow" not in str(exc):
            raise
        raise ConfigError(std.source_file, "refresh.interval",
                          f"{std.refresh_interval} cycles: refreshes fall due faster than they can issue "
                          f"(more than 64 pending); use a longer interval") from None
    accept, complete, stats, cmd_count, lg, end, open_cycles = out
    if (complete < 0).any():
        raise RuntimeError(f"simulation stopped at max_cycles={max_cycles} before all requests completed")
    tot = stats.sum(axis=0)
    if arrival_cycle is not None:
        reads = ~np.asarray(is_write, np.bool_)
        tot[S.S_SUM_READ_LATENCY] = int((complete[reads] - req_time[reads]).sum())
        tot[S.S_READS_DONE] = int(reads.sum())
    counts = {name: int(cmd_count[:, i].sum()) for i, name in enumerate(std.commands)}
    t = {k: int(v) for k, v in zip(_STAT_FIELDS, tot)}
    return DramResult(standard=std, accept_cycle=accept, complete_cycle=complete, cycles=int(end), **t,
                      command_counts=counts, open_cycles=open_cycles, alone_cycles=alone_cycles,
                      log=lg if log else None)
