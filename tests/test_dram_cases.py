"""The DRAM cases from users' reports (../shared/cases/dram), each fixed as a kind across
the presets. Every expected value is derived by hand from the preset's timing parameters
(derivations in the comments); the physical checks recompute data-bus occupancy and
precharge-to-refresh distances from the timing names, not from the constraint table."""

import json

import numpy as np
import pytest

from simulator.cli import main
from simulator.dram.mapping import compose_address
from simulator.dram.run import ControllerConfig, run_trace
from simulator.dram.standard import list_standards, load_standard, parse_standard, preset_dict
from simulator.errors import ConfigError

RANK_PRESETS = ["ddr4-3200", "ddr5-4800", "lpddr5-6400", "lpddr4x-4266", "lpddr5x-8533"]
STANDARD_PRESETS = [n for n in list_standards() if not load_standard(n).compat]


def _preset(name, **patch):
    d = preset_dict(name)
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(d.get(k), dict):
            d[k] = {**d[k], **v}
        else:
            d[k] = v
    return d


def _std(name, ranks=None, **patch):
    d = _preset(name, **patch)
    if ranks:
        d["organization"]["levels"]["rank"] = ranks
    return parse_standard(d, f"{name}.yaml")


def _nbl(std):
    return std.timing.get("nBL", std.timing.get("nBL_min"))


def _write_lines(tmp_path, name, lines):
    p = tmp_path / name
    p.write_text("".join(line + "\n" for line in lines))
    return p


# ---------------------------------------------------------------- rank-to-rank turnaround
def test_f1_rank_rd_wr_case_ddr4_two_ranks(tmp_path, case_dir):
    """f1: ST rank 1, LD rank 0, ST rank 1 (same row) on DDR4-3200 with two ranks.
    WR#1 at 1 + nRCD = 23, RD at 2 + nRCD = 24; WR#2 (rank 1) must keep its burst
    (WR + nCWL .. + nBL) nCS after the read burst (RD + nCL .. + nBL) on the shared bus:
    WR#2 >= RD + nCL + nBL + nCS - nCWL = 24 + 22 + 4 + 2 - 16 = 36 (was 31: 7 cycles after RD)."""
    std_yaml = tmp_path / "ddr4-2rank.yaml"
    std_yaml.write_text("extends: ddr4-3200\norganization: {levels: {channel: 1, rank: 2, bankgroup: 4, bank: 4}}\n")
    out = tmp_path / "out.csv"
    assert main(["dram", str(case_dir / "f1_rank_rd_wr_3line.trace"), "--standard", str(std_yaml),
                 "--commands", str(out), "--check", "--json"]) == 0
    import pandas as pd
    log = pd.read_csv(out)
    cas = log[log.command.isin(["RD", "WR"])]
    assert list(zip(cas.command, cas["rank"], cas.cycle)) == [("WR", 1, 23), ("RD", 0, 24), ("WR", 1, 36)]


# Hand-derived rank-switch distances (issue to issue, another rank), from the burst windows
# RD: [t + nCL, t + nCL + nBL), WR: [t + nCWL, t + nCWL + nBL) and the gap nCS:
#   RD->RD, WR->WR: nBL + nCS; RD->WR: nCL + nBL + nCS - nCWL; WR->RD: max(0, nCWL + nBL + nCS - nCL)
# DDR4-3200 (nCL 22, nCWL 16, nBL 4, nCS 2):  6, 12, 6, 0
# DDR5-4800 (nCL 40, nCWL 38, nBL 8, nCS 2):  10, 12, 10, 8
# LPDDR5-6400 (nCL 17, nCWL 9, nBL 2, nCS 2): 4, 12, 4, 0
# LPDDR4X-4266 (nCL 36, nCWL 18, nBL 8, nCS 2): 10, 36 + 8 + 2 - 18 = 28, 10, 0
# LPDDR5X-8533 (nCL 23, nCWL 12, nBL 2, nCS 2): 4, 23 + 2 + 2 - 12 = 15, 4, 0
RANK_SWITCH = {"ddr4-3200": (6, 12, 6, 0), "ddr5-4800": (10, 12, 10, 8), "lpddr5-6400": (4, 12, 4, 0),
               "lpddr4x-4266": (10, 28, 10, 0), "lpddr5x-8533": (4, 15, 4, 0)}


@pytest.mark.parametrize("name", RANK_PRESETS)
def test_rank_switch_rows_resolve_to_hand_values(name):
    std = _std(name, ranks=2)
    kind = {i: next((k for k in ("read", "write") if {k, "data"} <= set(f)), "other")   # RD/WR and -A forms
            for i, f in enumerate(std.flags)}
    lv = std.level_names.index("rank")
    got = {}
    for c in std.constraints:
        if c["level"] != lv or not c["sibling"]:
            continue
        for p in c["prec"]:
            for f in c["follow"]:
                k = (kind[p], kind[f])
                got[k] = max(got.get(k, 0), c["latency"])
    want = dict(zip([("read", "read"), ("read", "write"), ("write", "write"), ("write", "read")], RANK_SWITCH[name]))
    assert {k: got.get(k, 0) for k in want} == want


@pytest.mark.parametrize("name", RANK_PRESETS)
def test_rank_switch_bursts_never_overlap(name):
    """Random two-rank traffic: every data burst starts at least nCS after the previous
    burst of another rank ends, and never before the previous burst of its own rank ends
    (burst windows recomputed from nCL, nCWL, nBL, nCS)."""
    std = _std(name, ranks=2)
    rng = np.random.default_rng(1)
    n = 3000
    addrs = (rng.integers(0, 1 << 26, n) * std.tx_bytes).astype(np.uint64)
    res = run_trace(std, addrs, rng.random(n) < 0.4, log=True)
    log = res.command_log()
    t = std.timing
    nbl, ncs = _nbl(std), t["nCS"]
    rd = log[log.command.isin(["RD", "RDA"])]
    wr = log[log.command.isin(["WR", "WRA"])]
    bursts = sorted([(c + t["nCL"], r) for c, r in zip(rd.cycle, rd["rank"])]
                    + [(c + t["nCWL"], r) for c, r in zip(wr.cycle, wr["rank"])])
    switches = 0
    for (s0, r0), (s1, r1) in zip(bursts, bursts[1:]):
        gap = s1 - (s0 + nbl)
        if r0 != r1:
            switches += 1
            assert gap >= ncs, (s0, r0, s1, r1)
        else:
            assert gap >= 0
    assert switches > 100


# ---------------------------------------------------------------- refresh after precharge
def test_f2_gddr6_refab_waits_trp_after_per_bank_precharge(tmp_path, case_dir):
    """f2 on GDDR6-16000, queue 1: the last PREpb before the first REFab issues at 3786
    (refresh due at nREFI = 3800 waits for the bank it closes); REFab >= PREpb + nRP =
    3786 + 35 = 3821 (was 3800: 14 cycles after the precharge)."""
    out = tmp_path / "out.csv"
    assert main(["dram", str(case_dir / "f2_gddr6_prepb_refab.trace"), "--standard", "gddr6-16000",
                 "--queue", "1", "--commands", str(out), "--check", "--json"]) == 0
    import pandas as pd
    log = pd.read_csv(out)
    first = log.index[log.command == "REFab"][0]
    prev = log.loc[:first - 1]
    pre = prev[prev.command.isin(["PREpb", "PREab"])].cycle.max()
    assert (pre, log.cycle[first]) == (3786, 3821)


def _last_close(log, std, k, node_cols, node):
    """Latest cycle by which a bank under ``node`` finished being closed before row k,
    with the precharge time it needs: (cycle the precharge started, tRP to wait)."""
    t = std.timing
    trp = t["nRP"]
    trpab = t.get("nRPab", trp)       # the standard's all-bank precharge time where it has one
    prev = log.iloc[:k]
    for col, v in zip(node_cols, node):
        if v >= 0:
            prev = prev[(prev[col] == v) | (prev[col] == -1)]
    best = None
    for cmd, need in (("PRE", trp), ("PREpb", trp), ("PREA", trpab), ("PREab", trpab)):
        c = prev[prev.command == cmd].cycle
        if len(c):
            cand = int(c.max()) + need
            best = cand if best is None else max(best, cand)
    return best


@pytest.mark.parametrize("name", STANDARD_PRESETS)
def test_refresh_waits_trp_after_every_precharge(name):
    """Row-conflict traffic with frequent all-bank refresh: every REFab issues at least
    tRP after the last per-bank precharge and tRPab (nRPab where the standard has it,
    else nRP) after the last all-bank precharge of the banks it covers."""
    std = load_standard(name)
    if std.channels > 1:
        std = std.with_channels(1)
    t = std.timing
    rfc = t.get("nRFC", t.get("nRFCab"))
    d = _preset(name, refresh={"interval": 3 * rfc})
    std = parse_standard(d, f"{name}.yaml").with_channels(1)
    rng = np.random.default_rng(2)
    n = 3000
    addrs = np.array([compose_address([0] + [int(rng.integers(0, s)) for s in std.level_sizes[1:]]
                                      + [int(rng.integers(0, 4)), int(rng.integers(0, 4))], std)
                      for _ in range(n)], np.uint64)
    # queue depth 1 (as in f2): a conflict's PREpb often lands just before a due refresh
    log = run_trace(std, addrs, rng.random(n) < 0.3, log=True,
                    controller=ControllerConfig(read_queue=1, write_queue=1)).command_log()
    ref_rows = np.flatnonzero(log.command.to_numpy() == "REFab")
    assert len(ref_rows) >= 3
    cols = list(std.level_names)
    for k in ref_rows:
        node = [int(log.iloc[k][c]) for c in cols]
        ready = _last_close(log, std, k, cols, node)
        assert ready is None or log.cycle.iloc[k] >= ready, (name, int(log.cycle.iloc[k]), ready)


# ---------------------------------------------------------------- per-bank refresh
def _per_bank_refresh_run(std, n, interval):
    """``n`` random requests (30% writes) under per-bank refresh every ``interval`` cycles: (result, its
    command log, the REFpb rows). No REFab; one refresh request per interval, all due ones issued, at most
    one still pending."""
    rng = np.random.default_rng(3)
    addrs = (rng.integers(0, 1 << 24, n) * std.tx_bytes).astype(np.uint64)
    res = run_trace(std, addrs, rng.random(n) < 0.3, log=True)
    log = res.command_log()
    assert (log.command == "REFab").sum() == 0
    refs = log[log.command == "REFpb"]
    due = res.cycles // interval
    assert due - 1 <= len(refs) <= due
    return res, log, refs


def test_f3_lpddr5_per_bank_refresh_at_nrefipb_refreshes_bank_pairs(tmp_path):
    """The user's file: lpddr5-6400 with refresh {scope: bank, interval: nREFIpb}. JESD209-5: in BG mode
    a REFpb refreshes a bank pair, banks n and n + 8 of the rank (bank groups g and g + 2, same bank),
    and tREFIpb = tREFI / 8 = 488.3 ns = 390.6 tCK, rounded down to 390 (an interval's maximum). So one
    REFpb every 390 cycles, never a REFab, the 8 pairs in turn: each bank is refreshed every
    8 x 390 = 3120 <= nREFI 3125 cycles. Neither bank of a pair takes an ACT1 within nRFCpb = 96
    cycles after its REFpb, nor may be open when it issues. (Was a RuntimeError traceback, then a
    load error advising an interval of 195: twice JEDEC's per-bank refreshes.)"""
    p = tmp_path / "lp5pb.yaml"
    p.write_text("extends: lpddr5-6400\nrefresh: {scope: bank, interval: nREFIpb}\n")
    std = load_standard(p)
    assert std.refresh_interval == 390
    res, log, refs = _per_bank_refresh_run(std, 6000, 390)
    # each REFpb names the lower bank of its pair {(g, b), (g + 2, b)}: bank groups 0 and 1
    assert set(refs.bankgroup) <= {0, 1}
    pairs = [(int(r.bankgroup), int(r.bank)) for r in refs.itertuples(index=False)]
    assert len(set(pairs[:8])) == 8 and pairs[8] == pairs[0]
    acts = log[log.command == "ACT1"]
    for r in refs.itertuples(index=False):
        for g in (r.bankgroup, r.bankgroup ^ 2):
            same = acts[(acts.bankgroup == g) & (acts.bank == r.bank)]
            after = same.cycle[same.cycle > r.cycle]
            assert after.empty or after.min() >= r.cycle + 96, (r, g)
    from simulator.dram.physcheck import physical_check
    assert physical_check(std, res.log).total == 0


def test_per_bank_refresh_interval_too_long_is_a_load_error(tmp_path):
    """LPDDR5: 8 paired REFpb per round; 400 x 8 = 3200 > nREFI 3125 leaves banks unrefreshed past
    tREFI: a load-time error naming the file and refresh.interval, and the longest interval (390)."""
    p = tmp_path / "lp5pb.yaml"
    p.write_text("extends: lpddr5-6400\nrefresh: {scope: bank, interval: 400}\n")
    with pytest.raises(ConfigError) as e:
        load_standard(p)
    assert str(p) in str(e.value) and "refresh.interval" in str(e.value) and "nREFI // 8 = 390" in str(e.value)


@pytest.mark.parametrize("flags,scope", [("[refresh, bank_pair, all_banks]", "rank"), ("[refresh, bank_pair]", "rank"),
                                         ("[opens, bank_pair]", "bank"), ("[bank_pair]", "bank")])
def test_bank_pair_flag_only_on_a_per_bank_refresh(tmp_path, flags, scope):
    p = tmp_path / "bad.yaml"
    p.write_text(f"extends: lpddr5-6400\ncommands:\n  REFpb: {{scope: {scope}, flags: {flags}}}\n")
    with pytest.raises(ConfigError, match="commands.REFpb.flags.*bank_pair"):
        load_standard(p)


@pytest.mark.parametrize("name", ["ddr4-3200", "ddr5-4800", "hbm2"])
def test_per_bank_refresh_without_refpb_is_a_load_error(tmp_path, name):
    p = tmp_path / "pb.yaml"
    p.write_text(f"extends: {name}\nrefresh: {{scope: bank, interval: 100}}\n")
    with pytest.raises(ConfigError, match="refresh.scope.*per-bank refresh command"):
        load_standard(p)


def test_refresh_interval_shorter_than_trfc_is_a_load_error(tmp_path):
    """DDR4-3200: nRFC = 576 cycles; an all-bank refresh every 500 cycles can never keep up."""
    p = tmp_path / "fast.yaml"
    p.write_text("extends: ddr4-3200\nrefresh: {scope: rank, interval: 500}\n")
    with pytest.raises(ConfigError, match="refresh.interval.*nRFC"):
        load_standard(p)


@pytest.mark.parametrize("name,unit_banks", [("gddr6-16000", 16), ("lpddr4x-4266", 8)])
def test_per_bank_refresh_issues_refpb_round_robin(name, unit_banks):
    """scope bank, interval nREFI // banks: GDDR6-16000 3800 // 16 = 237, LPDDR4X 8324 // 8 = 1040.
    Each interval one REFpb (never a REFab) to the next bank in turn (one bank each: GDDR6, JESD250;
    LPDDR4X, JESD209-4), so each bank is refreshed every `banks` intervals (<= nREFI); no ACT to a bank
    within nRFCpb after its REFpb."""
    std = _std(name, refresh={"scope": "bank", "interval": f"nREFI // {unit_banks}"})
    res, log, refs = _per_bank_refresh_run(std, 4000, std.timing["nREFI"] // unit_banks)
    banks = [tuple(r) for r in refs[[c for c in std.level_names if c != "channel"]].itertuples(index=False)]
    assert len(set(banks[:unit_banks])) == unit_banks and banks[unit_banks] == banks[0]
    nrfcpb = std.timing["nRFCpb"]
    acts = log[log.command.isin(["ACT", "ACT1"])]
    key = [c for c in std.level_names]
    for r in refs.itertuples(index=False):
        d = r._asdict()
        same = acts[(acts[key] == [d[c] for c in key]).all(axis=1)]
        after = same.cycle[same.cycle > d["cycle"]]
        assert after.empty or after.min() >= d["cycle"] + nrfcpb


# ---------------------------------------------------------------- bandwidth accounting
def test_f5_coalesced_writes_are_not_bandwidth(tmp_path, case_dir, capsys):
    """Ten writes to one address on DDR4-3200. The first is queued and moves to the active
    buffer at its ACT (cycle 1); the second (offered at clock 1) finds no queued write and is
    queued; writes 3-10 coalesce into it (8). WR#1 at 1 + nRCD = 23, WR#2 at 23 + nCCDL = 31
    (same bank group), end 31. Bandwidth: 2 bursts x 64 B / (31 x 0.625 ns) = 6.606 GB/s =
    25.8% of 25.6 GB/s (was 10 x 64 B counted: 129%)."""
    assert main(["dram", str(case_dir / "f5_same_write_10.trace"), "--standard", "ddr4-3200", "--json"]) == 0
    o = json.loads(capsys.readouterr().out)
    assert (o["cycles"], o["data_bursts"], o["coalesced_writes"], o["forwarded_reads"]) == (31, 2, 8, 0)
    assert o["achieved_gbps"] == pytest.approx(128 / (31 * 0.625))
    assert o["pct_of_peak"] == pytest.approx(100 * 128 / (31 * 0.625) / 25.6)
    assert o["served_from_queue_bytes"] == 8 * 64
    # energy per bit over the 1024 bits that crossed the bus
    assert o["energy_pj_per_bit"] == pytest.approx(o["energy_pj"]["total_pj"] / 1024)


def test_many_same_address_writes_never_exceed_peak():
    std = load_standard("ddr4-3200")
    n = 100_000
    res = run_trace(std, np.full(n, 0x1f40, np.uint64), np.ones(n, bool))
    assert res.pct_of_peak <= 100.0
    assert res.coalesced_writes + res.data_bursts == n


@pytest.mark.parametrize("name", STANDARD_PRESETS)
def test_row_hit_stream_stays_within_peak(name):
    """Reads spread over every bank and pseudo-channel of one channel: at most peak."""
    std = load_standard(name).with_channels(1)
    n = 4000
    res = run_trace(std, np.arange(n, dtype=np.uint64) * std.tx_bytes, np.zeros(n, bool),
                    mapping="RoCoBaRaCh", controller=ControllerConfig(requests_per_cycle=4, read_queue=64))
    assert 0 < res.pct_of_peak <= 100.0


@pytest.mark.parametrize("name", list_standards())
def test_tck_exact_one_burst_per_nbl_is_the_stated_peak(name):
    """tCK from the data rate: a burst of nBL clocks on one data bus moves tx_bytes at exactly
    width x rate. DDR5-4800: tCK = 2 / 4800 MHz = 0.41667 ns (416 ps rounded gave 100.1%);
    64 B / (8 x 0.41667 ns) = 19.2 GB/s = 32 bit x 4800 MT/s / 8."""
    std = load_standard(name).with_channels(1)
    per_bus = std.channel_width_bits / 8 * std.data_rate_mtps / 1000
    assert std.peak_gbps == pytest.approx(per_bus * std.data_buses_per_channel, rel=1e-12)
    assert std.tx_bytes / (_nbl(std) * std.tck_ns) == pytest.approx(per_bus, rel=1e-12)
    if name == "ddr5-4800":
        assert std.tck_ns == pytest.approx(1 / 2.4, rel=1e-12)


def test_tck_far_from_the_data_rate_is_a_load_error(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("extends: ddr4-3200\ntck_ps: 700\n")
    with pytest.raises(ConfigError, match="tck_ps"):
        load_standard(p)


# ---------------------------------------------------------------- bad traces and outputs
def test_f7_utf16_trace_is_a_one_line_error(case_dir, capsys):
    p = case_dir / "f7_utf16_bom.trace"
    assert main(["dram", str(p), "--standard", "ddr4-3200"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(p) in err and "UTF-8" in err


def test_binary_trace_is_a_one_line_error(tmp_path, capsys):
    p = tmp_path / "bin.trace"
    p.write_bytes(b"LD 0x0\n\x00\x01\x02")
    assert main(["dram", str(p), "--standard", "ddr4-3200"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(p) in err and "NUL" in err


def test_f8_beyond_capacity_names_line_and_capacity(tmp_path, case_dir, capsys):
    """DDR4-3200, 1 channel: 16 banks x 65536 rows x 128 bursts x 64 B = 8 GiB = 0x200000000;
    LD 0x200000000 (line 2) is the first byte beyond it (was silently row 0, column 0)."""
    p = case_dir / "f8_beyond_capacity.trace"
    assert main(["dram", str(p), "--standard", "ddr4-3200", "--commands", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert str(p) in err and "line 2" in err and "8589934592" in err and "--wrap" in err
    assert not (tmp_path / "o.csv").exists()
    # opting in folds it to address 0: row 0, column 0
    assert main(["dram", str(p), "--standard", "ddr4-3200", "--wrap", "--commands", str(tmp_path / "o.csv")]) == 0
    import pandas as pd
    log = pd.read_csv(tmp_path / "o.csv")
    assert (log[log.type == 0][["row", "column"]].to_numpy() == 0).all()


def test_unwritable_commands_path_fails_before_simulating(tmp_path, monkeypatch, capsys):
    import simulator.dram.run as run_mod

    def boom(*a, **k):
        raise AssertionError("simulation started before the output path was checked")
    monkeypatch.setattr(run_mod, "run_trace", boom)
    trace = _write_lines(tmp_path, "t.trace", ["LD 0x0"])
    for bad in (tmp_path / "missing" / "o.csv", tmp_path):
        assert main(["dram", str(trace), "--standard", "ddr4-3200", "--commands", str(bad)]) == 2
        err = capsys.readouterr().err
        # the message names the option and the offending path (the missing folder, or the folder given as a file)
        assert "--commands" in err and (str(bad) in err or str(bad.parent) in err)


# ---------------------------------------------------------------- HBM command buses
def test_f9_hbm2_row_and_column_commands_share_a_cycle(tmp_path, case_dir, capsys):
    """f9: 32,768 reads (32 B each, 1 MiB) streamed over both pseudo-channels of one HBM2 channel,
    refresh off. Data-bus bound: 32,768 requests x nBL 2 / (1 channel x 2 pseudo-channels) =
    32,768 cycles, plus the first read's ACT (cycle 1, 2 clocks) + nRCDRD 14 + read latency 16 =
    32,800 (pseudo-channel 1 starts 2 cycles later: its first ACT waits for the shared row bus).
    Rows: 1 KiB (32 bursts), so the trace touches 1 MiB / 1 KiB = 1,024 rows, 32 per bank (16 banks
    x 2 pseudo-channels): with the open-row precharge rule each is opened once, 1,024 ACT and
    1,024 - 32 = 992 PRE (was 1,427 ACT: rows closed under queued hits and re-opened).
    Each of a pseudo-channel's 31 row changes stalls its data bus by at most 7 cycles: the bank
    that switches first has its next RD ready nRTPL 5 + (nRP 14 - 1) + (nRCDRD 14 + 1) = 33 cycles
    after its last RD of the old row (timings count from the last clock of the 2-clock ACT; the
    rule allows no earlier PRE), while the other 15 banks' last RDs fill 15 x nBL = 30 of them:
    <= 3 idle; then ACTs go nRRDS = 4 apart (nFAW 16 = 4 x nRRDS adds nothing) and each brings
    its bank's two queued reads (64-entry queue: 2 per bank), 4 bus cycles per ACT, so the bus
    keeps up except while the first bank's two reads wait nCCDL = 4 for each other: <= 4 more. So
    32,800 <= cycles <= 32,802 + 31 x 7 = 33,019 (35,025 with one command per cycle; 33,267 with
    the reference's FR-FCFS, which precharges under queued hits)."""
    std_yaml = tmp_path / "hbm2-noref.yaml"
    std_yaml.write_text("extends: hbm2\nrefresh: {scope: pseudochannel, interval: 0}\n")
    out = tmp_path / "o.csv"
    assert main(["dram", str(case_dir / "f9_hbm2_stream.trace"), "--standard", str(std_yaml), "--channels", "1",
                 "--mapping", "RoCoBkBgRaCh", "--requests-per-cycle", "2", "--queue", "64", "--json", "--check",
                 "--commands", str(out)]) == 0
    o = json.loads(capsys.readouterr().out)
    assert 32_800 <= o["cycles"] <= 33_019
    assert o["checker_violations"] == 0
    import pandas as pd
    log = pd.read_csv(out)
    row = log.command.isin(["ACT", "PRE", "PREA", "REFab"])
    per_cycle = log.groupby("cycle").agg(n=("command", "size"), rows=("command", lambda c: c.isin(["ACT", "PRE", "PREA"]).sum()))
    assert per_cycle.n.max() == 2 and per_cycle.rows.max() == 1          # one per bus per cycle
    acts = log[log.command == "ACT"].cycle.to_numpy()
    rows_t = log[row].cycle.to_numpy()
    # a 2-clock ACT holds the row bus: no row command in the next cycle
    assert not np.isin(acts + 1, rows_t).any()
    assert (log.command == "ACT").sum() == 1024 and (log.command == "PRE").sum() == 992


def test_sequential_ddr4_opens_each_row_once_plus_refresh_reopens():
    """A sequential 2 MiB read stream on ddr4-3200 (RoCoBaRaCh: consecutive lines go to
    consecutive banks of the 16) touches 2 MiB / 8 KiB rows = 256 rows, 16 per bank. With the
    open-row precharge rule each row is opened once, and each all-bank refresh closes the 16 banks,
    which re-open their current rows: ACT = 256 + 16 x refreshes (the reference's FR-FCFS, which
    precharges under queued row hits, issues 868)."""
    std = load_standard("ddr4-3200")
    n = (2 << 20) // std.tx_bytes
    assert std.columns // std.burst_length * std.tx_bytes == 8192 and std.level_sizes[-1] * std.level_sizes[-2] == 16
    addrs = np.arange(n, dtype=np.uint64) * np.uint64(std.tx_bytes)
    res = run_trace(std, addrs, np.zeros(n, bool), mapping="RoCoBaRaCh",
                    controller=ControllerConfig(requests_per_cycle=2, read_queue=64, write_queue=64))
    assert res.refreshes > 0
    assert res.command_counts["ACT"] == 256 + 16 * res.refreshes


def test_undefined_averages_are_null_not_zero(tmp_path, capsys):
    """Ten writes to one line: no read, so no read latency (JSON null, table n/a), never 0.0. Writes to rows
    0 and 1 of one bank, then a read of the second's line: the first write is activated (it leaves the write
    queue), the second waits behind it (a row conflict) and the read is forwarded from it, so again no read
    reaches the DRAM."""
    only_writes = tmp_path / "w.trace"
    only_writes.write_text("".join("ST 0x1f40\n" for _ in range(10)))
    assert main(["dram", str(only_writes), "--standard", "ddr4-3200", "--json"]) == 0
    o = json.loads(capsys.readouterr().out)
    assert o["reads"] == 0 and o["avg_read_latency_cycles"] is None and o["avg_read_latency_ns"] is None
    assert main(["dram", str(only_writes), "--standard", "ddr4-3200"]) == 0
    assert "n/a (no reads)" in capsys.readouterr().out
    fwd = tmp_path / "f.trace"
    std = load_standard("ddr4-3200")
    a, b = (compose_address([0, 0, 0, 0, row, 0], std) for row in (0, 1))
    fwd.write_text(f"ST {a:#x}\nST {b:#x}\nLD {b:#x}\n")
    assert main(["dram", str(fwd), "--standard", "ddr4-3200", "--json"]) == 0
    o = json.loads(capsys.readouterr().out)
    assert (o["reads"], o["forwarded_reads"], o["avg_read_latency_cycles"]) == (1, 1, None)
    assert main(["dram", str(fwd), "--standard", "ddr4-3200"]) == 0
    assert "n/a (every read forwarded from the write queue)" in capsys.readouterr().out
