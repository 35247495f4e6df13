"""Behaviour checked from the standards' own timing parameters (no reference data):
these hold for presets without a reference (HBM2 pseudo-channels, GDDR6-16000, ...)."""

import numpy as np
import pytest

from simulator.dram.mapping import MAPPINGS, compose_address, map_addresses, parse_mapping
from simulator.dram.run import ControllerConfig, run_trace
from simulator.dram.standard import list_standards, load_standard
from simulator.dram.state import SEL_ACT, SEL_ACT1, SEL_RD
from simulator.errors import ConfigError


def _addr(std, ch=0, l1=0, bg=0, bank=0, row=0, col=0, mapping="RoBaRaCoCh"):
    vec = [ch]
    if std.n_levels == 4:
        vec += [l1, bg, bank]
    else:
        vec += [bg, bank]
    return compose_address(vec + [row, col], std, mapping)


def _t(std, *names):
    return next(std.timing[n] for n in names if n in std.timing)


@pytest.mark.parametrize("name", list_standards())
def test_first_read_of_idle_system(name):
    """Idle system: ACT at cycle 1, RD after tRCD, data after the read latency."""
    std = load_standard(name)
    res = run_trace(std, np.array([_addr(std)], np.uint64), np.array([False]), log=True)
    cas_slot = 1 if std.controller.get("wck_sync") else 0     # CAS issues in the RD's first ready slot
    rcd = _t(std, "nRCD", "nRCDRD")
    act = std.command_for(SEL_ACT if std.command_for(SEL_ACT) >= 0 else SEL_ACT1)
    act_tail = std.cmd_cycles[act] - 1      # tRCD counts from the last clock of a 2-clock HBM ACT
    assert res.complete_cycle[0] == 1 + act_tail + rcd + cas_slot + std.read_latency
    log = res.command_log()
    assert log.command.iloc[0] == std.commands[act]


@pytest.mark.parametrize("name", list_standards())
def test_single_bank_row_conflicts_cost_trc(name):
    """A different row of one bank per request: each needs ACT..PRE, so ~tRC apart
    (FR-FCFS cannot batch row hits when there are none)."""
    std = load_standard(name)
    n = 200
    addrs = np.array([_addr(std, row=i + 1) for i in range(n)], np.uint64)
    res = run_trace(std, addrs, np.zeros(n, bool))
    per_req = np.diff(np.sort(res.complete_cycle)).mean()
    trc = std.timing["nRC"]
    assert trc <= per_req <= trc * 1.35


@pytest.mark.parametrize("name", list_standards())
def test_row_hits_stream_at_column_rate(name):
    """Reads to one open row issue every max(tCCD_L, burst) cycles."""
    std = load_standard(name)
    n = std.column_bursts
    addrs = np.array([_addr(std, col=i) for i in range(n)], np.uint64)
    res = run_trace(std, addrs, np.zeros(n, bool), log=True)
    log = res.command_log()
    rd = log[log.command == std.commands[std.command_for(SEL_RD)]].cycle.to_numpy()
    gap = np.diff(rd)
    ccd = max(_t(std, "nCCDL"), _t(std, "nBL", "nBL_min"))
    assert np.median(gap) == ccd
    assert res.row_hits == n - 1


@pytest.mark.parametrize("name", list_standards())
def test_bank_parallelism_beats_one_bank(name):
    std = load_standard(name)
    rng = np.random.default_rng(0)
    n = 400
    banks = std.level_sizes[-1]
    one = np.array([_addr(std, row=int(r)) for r in rng.integers(0, 1000, n)], np.uint64)
    many = np.array([_addr(std, bg=i % (std.level_sizes[-2] if std.n_levels > 2 else 1),
                           bank=(i // 4) % banks, row=int(r)) for i, r in enumerate(rng.integers(0, 1000, n))], np.uint64)
    t_one = run_trace(std, one, np.zeros(n, bool)).cycles
    t_many = run_trace(std, many, np.zeros(n, bool)).cycles
    assert t_many < t_one / 2


def test_channels_run_in_parallel():
    std = load_standard("hbm2")
    n = 4000
    rng = np.random.default_rng(1)
    addrs = rng.integers(0, 1 << 30, n).astype(np.uint64) // 32 * 32
    one = run_trace(std.with_channels(1), addrs, np.zeros(n, bool),
                    controller=ControllerConfig(requests_per_cycle=8))
    eight = run_trace(std.with_channels(8), addrs, np.zeros(n, bool),
                      controller=ControllerConfig(requests_per_cycle=8), log=True)
    assert eight.cycles < one.cycles / 3
    assert set(eight.command_log().channel.unique()) == set(range(8))


def test_read_after_write_is_forwarded_and_writes_coalesce():
    """While a write waits in the write queue (reads keep the controller in read
    mode), a read of its address is answered from it and a second write merges."""
    std = load_standard("ddr4-3200")
    slow_reads = [_addr(std, bank=1, row=r) for r in range(1, 21)]
    a = _addr(std, row=5, col=3)
    addrs = np.array(slow_reads + [a, a, a], np.uint64)
    writes = np.array([False] * 20 + [True, True, False])
    res = run_trace(std, addrs, writes)
    assert res.coalesced_writes == 1 and res.forwarded_reads == 1
    assert res.complete_cycle[-1] == res.accept_cycle[-1] + 1
    assert res.complete_cycle[-2] == res.accept_cycle[-2]
    assert res.command_counts["WR"] == 1 and res.command_counts["RD"] == 20


def test_refresh_happens_every_trefi():
    std = load_standard("ddr4-3200")
    n = 3000
    addrs = np.array([_addr(std, row=i % 7 + 1) for i in range(n)], np.uint64)
    res = run_trace(std, addrs, np.zeros(n, bool), log=True)
    refs = res.command_log().query("command == 'REFab'").cycle.to_numpy()
    assert len(refs) == res.cycles // std.timing["nREFI"]
    assert (np.diff(refs) >= std.timing["nRFC"]).all()


@pytest.mark.parametrize("mapping", MAPPINGS)
def test_mapping_round_trip(mapping):
    std = load_standard("ddr4-3200").with_channels(4)
    rng = np.random.default_rng(2)
    vecs = [[int(rng.integers(0, 4)), 0, int(rng.integers(0, 4)), int(rng.integers(0, 4)),
             int(rng.integers(0, std.rows)), int(rng.integers(0, std.column_bursts))] for _ in range(100)]
    addrs = np.array([compose_address(v, std, mapping) for v in vecs], np.uint64)
    assert np.array_equal(map_addresses(addrs, std, mapping), np.array(vecs))


def test_mapping_orders_fields():
    std = load_standard("ddr4-3200").with_channels(2)
    # RoBaRaCoCh: channel is the lowest field above the 64-byte offset
    v = map_addresses(np.array([64, 128], np.uint64), std, "RoBaRaCoCh")
    assert v[0, 0] == 1 and v[1, 0] == 0 and v[1, -1] == 1
    # ChRaBaRoCo: the column is lowest
    v = map_addresses(np.array([64], np.uint64), std, "ChRaBaRoCo")
    assert v[0, -1] == 1 and v[0, 0] == 0


@pytest.mark.parametrize("bad", ["RoBaRaCo", "XxBaRaCoCh", "robaracoch", "RoRoBaRaCoCh"])
def test_bad_mapping(bad):
    with pytest.raises(ConfigError, match="--mapping"):
        parse_mapping(bad)


def test_bad_controller_settings():
    std = load_standard("ddr4-3200")
    with pytest.raises(ConfigError, match="write_low_watermark"):
        run_trace(std, np.array([0], np.uint64), np.array([False]),
                  controller=ControllerConfig(write_high_watermark=0.3, write_low_watermark=0.5))
