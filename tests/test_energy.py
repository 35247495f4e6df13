"""Energy model checked against hand arithmetic from the YAML's IDD values."""

import numpy as np
import pytest

from simulator.dram.energy import energy_of
from simulator.dram.mapping import compose_address
from simulator.dram.run import run_trace
from simulator.dram.standard import load_standard


def test_one_row_of_reads_matches_hand_calculation():
    std = load_standard("ddr4-3200")
    e, t = std.energy, std.timing
    n = 16
    addrs = np.array([compose_address([0, 0, 0, 0, 7, c], std) for c in range(n)], np.uint64)
    res = run_trace(std, addrs, np.zeros(n, bool))
    en = energy_of(res)
    tck = std.tck_ps / 1000
    dev = 64 // 8
    act = e["vdd_v"] * (e["idd0_ma"] * t["nRC"] * tck - e["idd3n_ma"] * t["nRAS"] * tck
                        - e["idd2n_ma"] * (t["nRC"] - t["nRAS"]) * tck) * dev
    rd = e["vdd_v"] * (e["idd4r_ma"] - e["idd3n_ma"]) * t["nBL"] * tck * dev
    assert res.command_counts["ACT"] == 1
    assert en.activate_pj == pytest.approx(act)
    assert en.read_pj == pytest.approx(n * rd)
    assert en.io_pj == pytest.approx(n * 64 * 8 * e["io_pj_per_bit"])
    # the row stays open from the ACT (cycle 1) to the end: background is IDD3N-dominated
    open_ns = (res.cycles - 1) * tck
    bg = e["vdd_v"] * (e["idd3n_ma"] * open_ns + e["idd2n_ma"] * (res.cycles * tck - open_ns)) * dev
    assert en.background_pj == pytest.approx(bg, rel=0.02)


@pytest.mark.parametrize("name", ["ddr4-3200", "lpddr5-6400", "gddr6-14000", "hbm2", "hbm3", "ddr5-4800"])
def test_random_costs_more_per_bit_than_sequential(name):
    """Scattered reads open a row per access; a stream opens one per row."""
    std = load_standard(name)
    n = 2000
    seq = (np.arange(n) * std.tx_bytes).astype(np.uint64)
    rnd = (np.random.default_rng(0).integers(0, 1 << 26, n) * std.tx_bytes).astype(np.uint64)
    e_seq = energy_of(run_trace(std, seq, np.zeros(n, bool)))
    e_rnd = energy_of(run_trace(std, rnd, np.zeros(n, bool)))
    assert e_rnd.activate_pj > 10 * e_seq.activate_pj
    assert e_rnd.total_pj > e_seq.total_pj
    assert e_rnd.read_pj == pytest.approx(e_seq.read_pj)


def test_paired_per_bank_refresh_counts_two_banks(tmp_path):
    """LPDDR5 per-bank refresh (one x16 device, 16 banks): a REFpb refreshes a bank pair, so each costs
    VDD (IDD5B - IDD3N) tRFCpb x 2/16 = 1.05 V x 100 mA x 96 x 1.25 ns / 8 = 1575 pJ."""
    p = tmp_path / "lp5pb.yaml"
    p.write_text("extends: lpddr5-6400\nrefresh: {scope: bank, interval: nREFIpb}\n")
    std = load_standard(p)
    n = 3000
    res = run_trace(std, (np.arange(n) * std.tx_bytes).astype(np.uint64), np.zeros(n, bool))
    refs = res.command_counts["REFpb"]
    assert refs > 0 and res.command_counts.get("REFab", 0) == 0
    assert energy_of(res).refresh_pj == pytest.approx(refs * 1.05 * 100 * 96 * 1.25 / 8)
