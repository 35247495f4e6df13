"""Run the DRAM core on a request trace and collect the results."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..config_io import check_choice, check_float, check_int
from ..errors import ConfigError
from .core import simulate
from .mapping import map_addresses
from .policies import SCHEDULERS          # scheduling policies by config name (policies.P_* ids)
from .standard import ACCESS_ROLES, DramStandard


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

    def validate(self, source="controller"):
        check_int(source, "read_queue", self.read_queue, 1, 4096)
        check_int(source, "write_queue", self.write_queue, 1, 4096)
        check_int(source, "requests_per_cycle", self.requests_per_cycle, 1, 4096)
        if self.scheduler is not None:
            check_choice(source, "scheduler", self.scheduler, tuple(SCHEDULERS))
        check_int(source, "row_hit_cap", self.row_hit_cap, 1, 1 << 20)
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
    scanned_entries: int              # read/write/active queue entries the scheduler visited (a speed counter)
    command_counts: dict              # command name -> count
    open_cycles: np.ndarray           # per channel x rank: cycles with >= 1 bank open
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
        return sum(self.command_counts.get(c, 0) for c, r in zip(std.commands, std.roles) if r in ACCESS_ROLES)

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
        return 100.0 * self.achieved_gbps / self.standard.peak_gbps

    @property
    def avg_read_latency_cycles(self) -> float:
        return self.sum_read_latency_cycles / self.reads_done if self.reads_done else 0.0

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


def run_trace(std: DramStandard, addrs, is_write, mapping="RoBaRaCoCh", controller=None,
              log=False, max_cycles=None, arrival_cycle=None) -> DramResult:
    """Replay a trace (byte addresses + write flags) on ``std``.

    ``arrival_cycle`` (non-decreasing, per request, in command-clock cycles) makes the
    replay timed and open loop: a request enters its queue at that cycle or, when the
    queue is full, as soon as there is room. Without it the replay is closed loop. With it,
    read latency is counted from the arrival cycle (queueing delay included)."""
    ctrl = (controller or ControllerConfig()).validate()
    scheduler = ctrl.scheduler or std.scheduler
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
    if max_cycles is None:
        max_cycles = 1 << 60
    try:
        out = simulate(
            arr["sizes"], arr["cmd_role"], arr["role_cmd"], arr["cons_ptr"], arr["cons"],
            arr["read_latency"], arr["refresh_scope"], arr["refresh_interval"], arr["aad_cycles"],
            arr["wck"], arr["wck_enabled"], arr["cmd_bus"], arr["n_buses"], arr["cmd_cycles"],
            arr["refresh_unit_level"], req_addr, line_mask, vec, np.asarray(is_write, np.bool_), req_time,
            ctrl.read_queue, ctrl.write_queue, ctrl.write_high_watermark, ctrl.write_low_watermark,
            ctrl.requests_per_cycle, bool(log), int(max_cycles), SCHEDULERS[scheduler], ctrl.row_hit_cap)
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
        tot[9] = int((complete[reads] - req_time[reads]).sum())
        tot[10] = int(reads.sum())
    counts = {name: int(cmd_count[:, i].sum()) for i, name in enumerate(std.commands)}
    return DramResult(
        standard=std, accept_cycle=accept, complete_cycle=complete, cycles=int(end),
        row_hits=int(tot[0]), row_misses=int(tot[1]), row_conflicts=int(tot[2]),
        read_row_hits=int(tot[3]), read_row_misses=int(tot[4]), read_row_conflicts=int(tot[5]),
        refreshes=int(tot[6]), forwarded_reads=int(tot[7]), coalesced_writes=int(tot[8]),
        sum_read_latency_cycles=int(tot[9]), reads_done=int(tot[10]), evaluated_cycles=int(tot[11]),
        scanned_entries=int(tot[12]), command_counts=counts,
        open_cycles=open_cycles, log=lg if log else None)
