"""Scheduling and row policies as data (simulator/dram/policies.py): a policy added from outside
``simulator/`` runs end to end and passes the physical checker, and each row policy does what its
definition says. Expected command sequences and cycles are derived by hand from the DDR4-3200
timings (nRCD = nCL = nRP = 22, nRAS = 52, nRC = 74, nRTP = 12, nBL = 4, nCCD_L = 8) and the
policies' definitions, not from this core's output.
"""

import numpy as np
import pytest

from simulator.dram.mapping import compose_address
from simulator.dram.physcheck import physical_check
from simulator.dram.policies import (ROW_POLICIES, SCHEDULERS, RowPolicy, Scheduler, register_row_policy,
                                     register_scheduler)
from simulator.dram.run import ControllerConfig, run_trace
from simulator.dram.standard import load_standard
from dram_traffic import mixed_traffic

T = 200     # arrival cycle of the late requests: every earlier command's constraints have passed


def _addr(std, bg, bank, row, col):
    return compose_address([0, 0, bg, bank, row, col], std)


def _commands(res, std):
    return [(int(c), std.commands[int(k)]) for c, k in res.log[:, :2]]


def test_new_scheduling_policy_from_data():
    """Column-first FR-FCFS (Rixner et al.'s "first ready" ordering), registered here without an edit
    under simulator/. Request 0 opens row 0 of bank 0 (bank group 0). At T, request 1 (bank group 1,
    bank closed: ACT ready) and then request 2 (bank 0, row 0 open: RD ready) arrive together. Oldest
    first: ACT at T+1 (controllers tick a cycle after the frontend), RD at T+2 (one command per cycle;
    no ACT -> RD rule between banks). Column first: RD at T+1, ACT at T+2."""
    register_scheduler("test-column-first", Scheduler(column_first=True, open_row_rule=True))
    assert SCHEDULERS["test-column-first"].column_first
    std = load_standard("ddr4-3200")
    addrs = np.array([_addr(std, 0, 0, 0, 0), _addr(std, 1, 0, 5, 0), _addr(std, 0, 0, 0, 1)], np.uint64)
    arrive = np.array([0, T, T])
    out = {}
    for name in ("frfcfs", "test-column-first"):
        res = run_trace(std, addrs, np.zeros(3, bool), log=True, arrival_cycle=arrive,
                        controller=ControllerConfig(scheduler=name, requests_per_cycle=2))
        assert physical_check(std, res.log).total == 0
        out[name] = [x for x in _commands(res, std) if x[0] > T]
    assert out["frfcfs"][:2] == [(T + 1, "ACT"), (T + 2, "RD")]
    assert out["test-column-first"][:2] == [(T + 1, "RD"), (T + 2, "ACT")]


def test_register_refuses_a_changed_policy():
    register_scheduler("test-fcfs-again", Scheduler(oldest_only=True))
    register_scheduler("test-fcfs-again", Scheduler(oldest_only=True))      # same switches: fine
    with pytest.raises(ValueError, match="already registered"):
        register_scheduler("test-fcfs-again", Scheduler(column_first=True))


def test_closed_row_policy_auto_precharges_a_lone_access():
    """One read, row policy ``closed``: no other request hits the row, so the access is an RDA at
    nRCD = 22 after the ACT (cycle 1 -> 23). A second read to another row of the bank arriving at T
    finds the bank closed (a row miss, no PRE): ACT at T+1, RD... RDA at T+1+22."""
    std = load_standard("ddr4-3200")
    addrs = np.array([_addr(std, 0, 0, 0, 0), _addr(std, 0, 0, 7, 0)], np.uint64)
    res = run_trace(std, addrs, np.zeros(2, bool), log=True, arrival_cycle=np.array([0, T]),
                    controller=ControllerConfig(row_policy="closed"))
    assert _commands(res, std) == [(1, "ACT"), (23, "RDA"), (T + 1, "ACT"), (T + 23, "RDA")]
    assert (res.row_misses, res.row_conflicts) == (2, 0)
    assert physical_check(std, res.log).total == 0
    opened = run_trace(std, addrs, np.zeros(2, bool), log=True, arrival_cycle=np.array([0, T]))
    assert [c for _, c in _commands(opened, std)] == ["ACT", "RD", "PREpb", "ACT", "RD"]


def test_closed_row_policy_keeps_a_row_another_request_hits():
    """Two reads to one row arrive together: the first finds the second still queued (a hit: RD at
    23), the second is the last (RDA at 23 + nCCD_L = 31)."""
    std = load_standard("ddr4-3200")
    addrs = np.array([_addr(std, 0, 0, 0, 0), _addr(std, 0, 0, 0, 1)], np.uint64)
    res = run_trace(std, addrs, np.zeros(2, bool), log=True, arrival_cycle=np.array([0, 0]),
                    controller=ControllerConfig(row_policy="closed", requests_per_cycle=2))
    assert _commands(res, std) == [(1, "ACT"), (23, "RD"), (31, "RDA")]
    assert physical_check(std, res.log).total == 0


def test_closed_after_n_row_policy_from_data():
    """``close_after: 2`` registered here: of three reads to one row arriving together, the 2nd access
    since the ACT auto-precharges (RD at 23, RDA at 31); the third is a row miss: its ACT waits for
    RDA -> ACT = nRTP + nRP = 34 (31 + 34 = 65) and ACT -> ACT = nRC = 74 (1 + 74 = 75), so ACT at 75
    and its RD at 75 + 22 = 97."""
    register_row_policy("test-closed-after-2", RowPolicy(close_after=2))
    assert "closed-after-4" in ROW_POLICIES
    std = load_standard("ddr4-3200")
    addrs = np.array([_addr(std, 0, 0, 0, c) for c in range(3)], np.uint64)
    res = run_trace(std, addrs, np.zeros(3, bool), log=True, arrival_cycle=np.zeros(3, np.int64),
                    controller=ControllerConfig(row_policy="test-closed-after-2", requests_per_cycle=3))
    assert _commands(res, std) == [(1, "ACT"), (23, "RD"), (31, "RDA"), (75, "ACT"), (97, "RD")]
    assert physical_check(std, res.log).total == 0


@pytest.mark.parametrize("standard", ["ddr4-3200", "lpddr5-6400", "hbm2", "gddr6-16000"])
@pytest.mark.parametrize("row_policy", ["closed", "closed-after-4"])
def test_row_policies_are_physically_clean_on_random_traffic(standard, row_policy):
    std = load_standard(standard)
    addrs, writes = mixed_traffic(std, 3000, seed=3, hot_frac=0.6)
    res = run_trace(std, addrs, writes, log=True,
                    controller=ControllerConfig(row_policy=row_policy))
    assert (res.complete_cycle >= 0).all()
    auto = sum(res.command_counts.get(c, 0) for c in ("RDA", "WRA"))
    assert auto > 0, "the row policy never closed a row"
    assert physical_check(std, res.log).total == 0


def test_unknown_row_policy_is_a_config_error():
    from simulator.errors import ConfigError
    with pytest.raises(ConfigError, match="row_policy"):
        ControllerConfig(row_policy="half-open").validate()


def test_refresh_manager_by_name(tmp_path):
    """``refresh.manager`` names a refresh manager (policies.REFRESH_MANAGERS): per-bank on LPDDR5
    resolves to the bank level, as ``scope: bank`` does, and all-bank to the REFab command's scope
    (rank); a scope that contradicts the manager, or neither key, is refused naming the key."""
    from simulator.dram.policies import REFRESH_MANAGERS
    from simulator.errors import ConfigError
    assert set(REFRESH_MANAGERS) >= {"all-bank", "per-bank"}
    base = load_standard("lpddr5-6400")
    for body, scope in (("{manager: per-bank, interval: 195}", "bank"), ("{scope: bank, interval: 195}", "bank"),
                        ("{manager: all-bank, interval: nREFI}", "rank")):
        p = tmp_path / "r.yaml"
        p.write_text(f"extends: lpddr5-6400\nrefresh: {body}\n")
        std = load_standard(p)
        assert std.level_names[std.refresh_scope] == scope
        assert std.refresh_manager == ("per-bank" if scope == "bank" else "all-bank")
    assert base.refresh_manager == "all-bank"
    import yaml
    from simulator.dram.standard import CONFIG_DIR
    full = yaml.safe_load((CONFIG_DIR / "lpddr5-6400.yaml").read_text())     # a whole table, no extends
    for ref, key in (({"manager": "per-bank", "scope": "rank", "interval": 195}, "refresh.scope"),
                     ({"interval": 195}, "refresh"), ({"manager": "sometimes", "interval": 195}, "refresh.manager")):
        p = tmp_path / "bad.yaml"
        p.write_text(yaml.safe_dump({**full, "refresh": ref}, sort_keys=False))
        with pytest.raises(ConfigError, match=key.replace(".", r"\.") + ":"):
            load_standard(p)


def _cli(*args):
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    return subprocess.run([sys.executable, "-m", "simulator.cli", *args], capture_output=True, text=True,
                          cwd=root, env={"PYTHONPATH": str(root), "PATH": ""})


def test_cli_row_policy_and_a_cap_without_its_scheduler():
    """``--row-policy closed`` runs (RDA/WRA in the command counts, the policy echoed); ``--row-hit-cap``
    with a scheduler that has no cap is refused (exit 2, one line naming the option), not ignored."""
    import json
    trace = "tests/data/sample_ddr4_3200_mix5050.trace"
    ok = _cli("dram", trace, "--standard", "ddr4-3200", "--row-policy", "closed", "--json")
    assert ok.returncode == 0, ok.stderr
    out = json.loads(ok.stdout)
    assert out["row_policy"] == "closed" and out["scheduler"] == "frfcfs"
    assert out["commands"]["RDA"] + out["commands"]["WRA"] > 0
    bad = _cli("dram", trace, "--standard", "ddr4-3200", "--row-hit-cap", "2")
    assert bad.returncode == 2 and "--row-hit-cap" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    cap = _cli("dram", trace, "--standard", "ddr4-3200", "--scheduler", "frfcfs-cap", "--row-hit-cap", "2")
    assert cap.returncode == 0, cap.stderr


def test_bandwidth_above_peak_is_flagged(tmp_path):
    """A user table without the RD -> RD data-bus rows lets bursts overlap: the run reports more than
    100% of the peak, and says that cannot be right (a warning in the result, on stderr and in JSON)."""
    p = tmp_path / "overlap.yaml"
    p.write_text("extends: ddr4-3200\nconstraints_remove:\n"
                 "  - {level: channel, from: [RD, RDA], to: [RD, RDA]}\n"
                 "  - {level: rank, from: [RD, RDA], to: [RD, RDA]}\n"
                 "  - {level: bankgroup, from: [RD, RDA], to: [RD, RDA]}\n")
    std = load_standard(p)
    addrs = np.array([_addr(std, 0, 0, 0, c) for c in range(64)], np.uint64)
    res = run_trace(std, addrs, np.zeros(64, bool))
    assert res.pct_of_peak > 100 and "impossible" in res.warnings[0]
    ok = run_trace(load_standard("ddr4-3200"), addrs, np.zeros(64, bool))
    assert ok.warnings == []
