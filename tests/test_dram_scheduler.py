"""Scheduling policies of the read/write buffers (ControllerConfig.scheduler).

Expected command counts follow from the policies' definitions alone (which request may go
first), not from this core's output: on one bank, requests to rows 0, 1, 0, 0 arrive in that
order. Row 0 is opened for the first; the second needs a PRE, which may not close the row
while the first is still in flight.
* FR-FCFS serves the ready row hits (3rd, 4th) before the older conflict: rows 0, 1 -> 2 ACT.
* FCFS serves the oldest eligible request first: row 0, row 1, then row 0 again -> 3 ACT.
* FR-FCFS with a row-hit cap of k: at most k column accesses per activation while an older
  request to another row waits: k = 1 or 2 -> 3 ACT; k = 3 -> 2 ACT.
"""

import numpy as np
import pytest

from simulator.dram.mapping import compose_address
from simulator.dram.physcheck import physical_check
from simulator.dram.run import ControllerConfig, run_trace
from simulator.dram.standard import load_standard
from simulator.errors import ConfigError
from dram_traffic import mixed_traffic


def _rows_trace(std, rows):
    # channel 0, rank 0, bank group 0, bank 0, column i (distinct lines)
    return np.array([compose_address([0, 0, 0, 0, r, i], std) for i, r in enumerate(rows)], np.uint64)


@pytest.mark.parametrize("scheduler,cap,acts", [("frfcfs", 4, 2), ("fcfs", 4, 3), ("frfcfs-cap", 1, 3),
                                                ("frfcfs-cap", 2, 3), ("frfcfs-cap", 3, 2)])
def test_policy_order_on_one_bank(scheduler, cap, acts):
    std = load_standard("ddr4-3200")
    addrs = _rows_trace(std, [0, 1, 0, 0])
    res = run_trace(std, addrs, np.zeros(4, bool), log=True,
                    controller=ControllerConfig(scheduler=scheduler, row_hit_cap=cap))
    assert res.command_counts["ACT"] == acts
    assert res.command_counts["RD"] == 4
    assert physical_check(std, res.log).total == 0


@pytest.mark.parametrize("scheduler", ["fcfs", "frfcfs-cap"])
def test_policies_are_physically_clean_on_random_traffic(scheduler):
    std = load_standard("ddr4-3200")
    addrs, writes = mixed_traffic(std, 4000, seed=7, hot_frac=0.5)
    res = run_trace(std, addrs, writes, log=True, controller=ControllerConfig(scheduler=scheduler, row_hit_cap=2))
    assert (res.complete_cycle >= 0).all()
    assert physical_check(std, res.log).total == 0
    base = run_trace(std, addrs, writes)
    # on this trace FR-FCFS (the default) takes at least as many row hits
    assert res.row_hits <= base.row_hits


def test_unknown_scheduler_is_a_config_error():
    std = load_standard("ddr4-3200")
    with pytest.raises(ConfigError, match="scheduler.*frfcfs, frfcfs-ramulator2, frfcfs-cap, fcfs"):
        run_trace(std, np.array([0], np.uint64), np.array([False]), controller=ControllerConfig(scheduler="lifo"))


@pytest.mark.parametrize("standard,scheduler,acts", [
    ("ddr4-3200", None, 2), ("ddr4-3200", "frfcfs", 2),
    ("ddr4-3200-ramulator2", None, 3), ("ddr4-3200", "frfcfs-ramulator2", 3)])
def test_open_row_rule_keeps_a_row_open_for_queued_hits(standard, scheduler, acts):
    """Row 0 of one bank is opened and read at cycle 0; long after (nRAS and nRTP have passed) a
    request to row 1 arrives, then in the same cycle a younger one to row 0: the conflict's PRE
    and the hit's RD are both ready, the older PRE first. FR-FCFS with Rixner et al.'s open-row
    rule (ISCA 2000: no precharge while a pending reference hits the active row; the default
    presets, controller.scheduler frfcfs) reads row 0 first: rows 0, 1 -> 2 ACT. The reference's
    FR-FCFS (the *-ramulator2 presets, frfcfs-ramulator2) lets the oldest ready command go: the
    PRE closes row 0, row 1 is read, row 0 re-opened -> 3 ACT."""
    std = load_standard(standard)
    addrs = _rows_trace(std, [0, 1, 0])
    res = run_trace(std, addrs, np.zeros(3, bool), log=True, arrival_cycle=[0, 200, 200],
                    controller=ControllerConfig(scheduler=scheduler, requests_per_cycle=2))
    assert res.command_counts["ACT"] == acts
    assert res.command_counts["RD"] == 3
    assert physical_check(std, res.log).total == 0


def test_scheduler_key_in_a_standard(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: ddr4-3200\ncontroller: {scheduler: lifo}\n")
    with pytest.raises(ConfigError, match="controller.scheduler.*frfcfs-ramulator2"):
        load_standard(bad)
    assert load_standard("hbm2").scheduler == "frfcfs"
    assert load_standard("hbm2-ramulator2").scheduler == "frfcfs-ramulator2"
