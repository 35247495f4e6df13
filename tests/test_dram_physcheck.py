"""The physical checker (simulator/dram/physcheck.py): hand-built command logs that break
exactly one physical rule (expected verdicts derived by hand from the preset's named
timings, quoted in each case), clean logs that must pass, and the users' cases through
today's core, where the physical layer sees the fault and the table replay does not."""

import numpy as np
import pytest

from simulator.dram.checker import check_log, check_result
from simulator.dram.physcheck import MissingTiming, physical_check, physical_timings
from simulator.dram.run import ControllerConfig, run_trace
from simulator.dram.standard import list_standards, load_standard, parse_standard, preset_dict
from dram_traffic import mixed_traffic


def _std(name, ranks=None, refresh=None, drop=(), **patch):
    """One channel of a preset, optionally with ``ranks``, a ``refresh`` block, top-level keys
    dropped (``drop``) or replaced (``patch``)."""
    d = preset_dict(name)
    if ranks:
        d["organization"]["levels"]["rank"] = ranks
    if refresh:
        d["refresh"] = refresh
    for k in drop:
        d.pop(k, None)
    d.update(patch)
    std = parse_standard(d, f"{name}.yaml")
    return std.with_channels(1) if std.channels > 1 else std


def _rules(std, rows):
    rep = physical_check(std, rows)
    return {k: v for k, v in rep.counts.items() if v}


# ---------------------------------------------------------------------------------------------
# DDR4-3200 (1 rank): nCL 22, nCWL 16, nBL 4, nRCD 22, nRP 22, nRAS 52, nRC 74, nWR 24, nRTP 12,
# nCCDS 4, nCCDL 8, nRRDS 4, nRRDL 8, nWTRS 4, nWTRL 12, nFAW 34, nRFC 576, nCS 2.
# Address: (channel, rank, bankgroup, bank, row, column).
def d4(t, cmd, bg=0, bank=0, row=1, col=0, rank=0):
    return (t, cmd, 0, rank, bg, bank, row, col)


def d4ref(t, rank=0):
    return (t, "REFab", 0, rank, -1, -1, -1, -1)


DDR4_CLEAN = [
    d4(0, "ACT"), d4(4, "ACT", bg=1, row=2),                 # tRRD_S = 4
    d4(22, "RD"), d4(26, "RD", bg=1, row=2),                 # tRCD = 22, tCCD_S = 4 (bursts 44-48, 48-52)
    d4(34, "RD", col=1),                                     # tCCD_L = 8 (burst 56-60)
    d4(46, "WR", bg=1, row=2, col=1),                        # burst 62-66 (RD -> WR turnaround 12, JESD79-4 tRTW)
    d4(52, "PREpb"),                                         # tRAS = 52, tRTP 34 + 12 = 46
    d4(74, "ACT", row=3),                                    # tRP 52 + 22 = 74 = tRC
    d4(108, "PREpb", bg=1),                                  # tWR: 46 + 16 + 4 + 24 = 90
    d4(126, "PREpb"),                                        # tRAS: 74 + 52; tPPD not a DDR4 rule
    d4ref(148),                                              # both banks precharged >= tRP (126 + 22)
    d4(148 + 576, "ACT", bank=2),                            # tRFC = 576
]

DDR4_CASES = {
    # name: (log, the one rule it breaks)
    "tRCD 21 < 22": ([d4(0, "ACT"), d4(21, "RD")], "tRCD"),
    "RD to a closed row": ([d4(0, "ACT"), d4(30, "RD", row=2)], "bank-state"),
    "ACT to an open bank": ([d4(0, "ACT"), d4(80, "ACT", row=2)], "bank-state"),
    "tRAS 51 < 52": ([d4(0, "ACT"), d4(51, "PREpb")], "tRAS"),
    "tRP 21 < 22": ([d4(0, "ACT"), d4(60, "PREpb"), d4(81, "ACT", row=2)], "tRP"),
    "tRTP 11 < 12": ([d4(0, "ACT"), d4(45, "RD"), d4(56, "PREpb")], "tRTP"),
    "tWR: WR + nCWL + nBL + nWR = 44, got 43": ([d4(0, "ACT"), d4(22, "WR"), d4(65, "PREpb")], "tWR"),
    "RDA: implicit PRE at RDA + nRTP = 72, ACT at 93 < 72 + tRP":
        ([d4(0, "ACT"), d4(60, "RDA"), d4(93, "ACT", row=2)], "tRP"),
    "tRRD_S 3 < 4": ([d4(0, "ACT"), d4(3, "ACT", bg=1)], "tRRD_S"),
    "tRRD_L 7 < 8": ([d4(0, "ACT"), d4(7, "ACT", bank=1)], "tRRD_L"),
    "tFAW: 5th ACT at 33 < 34": ([d4(0, "ACT"), d4(8, "ACT", bg=1), d4(16, "ACT", bg=2),
                                  d4(24, "ACT", bg=3), d4(33, "ACT", bank=1)], "tFAW"),
    "tCCD_L 7 < 8": ([d4(0, "ACT"), d4(8, "ACT", bank=1), d4(30, "RD"), d4(37, "RD", bank=1)], "tCCD_L"),
    "tWTR_L: nCWL + nBL + nWTRL = 32, got 31":
        ([d4(0, "ACT"), d4(8, "ACT", bank=1), d4(22, "WR"), d4(53, "RD", bank=1)], "tWTR_L"),
    "tWTR_S: nCWL + nBL + nWTRS = 24, got 23":
        ([d4(0, "ACT"), d4(4, "ACT", bg=1), d4(22, "WR"), d4(45, "RD", bg=1)], "tWTR_S"),
    "RD burst 48-52 and WR burst 49-53 overlap":
        ([d4(0, "ACT"), d4(4, "ACT", bg=1), d4(26, "RD"), d4(33, "WR", bg=1)], "data-bus"),
    "two commands in one cycle": ([d4(0, "ACT", bank=1), d4(30, "RD", bank=1), d4(30, "ACT", bg=1)],
                                  "command-bus"),
    "REFab 21 cycles after PREpb (tRP 22)": ([d4(0, "ACT"), d4(60, "PREpb"), d4ref(81)],
                                             "refresh-after-precharge"),
    "REFab with an open bank": ([d4(0, "ACT"), d4ref(100)], "bank-state"),
    "ACT 575 cycles after REFab (tRFC 576)": ([d4ref(0), d4(575, "ACT")], "tRFC"),
}


@pytest.fixture(scope="module")
def ddr4():
    return load_standard("ddr4-3200")


def test_clean_ddr4_log_passes(ddr4):
    assert _rules(ddr4, DDR4_CLEAN) == {}
    assert check_log(ddr4, DDR4_CLEAN) == []      # and the table agrees


@pytest.mark.parametrize("case", list(DDR4_CASES))
def test_ddr4_single_rule(ddr4, case):
    rows, rule = DDR4_CASES[case]
    assert _rules(ddr4, rows) == {rule: 1}


def test_refresh_rate_at_most_nine_trefi_apart(ddr4):
    """At most 8 REFs postponed: <= 9 x tREFI = 9 x 12480 = 112320 cycles between refreshes."""
    assert _rules(ddr4, [d4ref(100), d4ref(100 + 112320)]) == {}
    assert _rules(ddr4, [d4ref(100), d4ref(100 + 112321)]) == {"refresh-rate": 1}
    # and at the end of the log: no refresh at all for 112321 cycles
    assert _rules(ddr4, [d4(0, "ACT"), d4(112321, "PREpb")]) == {"refresh-rate": 1}


# ---- two ranks: only the data bus is shared (rank switch gap nCS = 2) ---------------------------
@pytest.fixture(scope="module")
def ddr4x2():
    return _std("ddr4-3200", ranks=2)


def test_sibling_ranks_share_only_the_data_bus(ddr4x2):
    # ACTs 1 cycle apart on different ranks (no tRRD across ranks); reads 4 apart on different ranks
    # -> bursts 44-48 and 50-54: gap 2 = nCS, legal
    rows = [d4(0, "ACT"), d4(1, "ACT", rank=1), d4(22, "RD"), d4(28, "RD", rank=1)]
    assert _rules(ddr4x2, rows) == {}
    rows[-1] = d4(27, "RD", rank=1)            # gap 1 < nCS
    assert _rules(ddr4x2, rows) == {"rank-switch": 1}


@pytest.mark.parametrize("gap,ok", [(11, False), (12, True)])
def test_rank_rd_to_wr_needs_cl_plus_bl_plus_cs_minus_cwl(ddr4x2, gap, ok):
    """Case f1: RD rank 0 -> WR rank 1 >= nCL + nBL + nCS - nCWL = 22 + 4 + 2 - 16 = 12."""
    rows = [d4(0, "ACT"), d4(1, "ACT", rank=1), d4(24, "RD"), d4(24 + gap, "WR", rank=1)]
    assert _rules(ddr4x2, rows) == ({} if ok else {"rank-switch": 1})


def test_two_ranks_need_a_rank_switch_gap():
    d = preset_dict("ddr4-3200")
    d["organization"]["levels"]["rank"] = 2
    del d["timing"]["nCS"]
    d["constraints"] = [c for c in d["constraints"] if "nCS" not in str(c["latency"])]
    std = parse_standard(d, "ddr4-2rank-no-ncs.yaml")
    with pytest.raises(MissingTiming, match="nCS"):
        physical_timings(std)


# ---- LPDDR5-6400: nRP 15, nRPab 17, nPPD 2, nAAD 8, nPBR2PBR 72, nPBR2ACT 6, nRFCpb 96 ----------
def lp(t, cmd, bg=0, bank=0, row=1, col=0):
    return (t, cmd, 0, 0, bg, bank, row, col)


LP5_CASES = {
    "REFab 16 cycles after PREab (tRPab 17)":
        ([lp(0, "ACT1"), lp(1, "ACT2"), (60, "PREab", 0, 0, -1, -1, -1, -1),
          (76, "REFab", 0, 0, -1, -1, -1, -1)], "refresh-after-precharge"),
    "tPPD 1 < 2": ([lp(0, "ACT1"), lp(1, "ACT2"), lp(4, "ACT1", bg=1), lp(5, "ACT2", bg=1),
                    lp(40, "PREpb"), lp(41, "PREpb", bg=1)], "tPPD"),
    "ACT2 9 cycles after ACT1 (tAAD 8)": ([lp(0, "ACT1"), lp(9, "ACT2")], "tAAD"),
    "ACT2 without ACT1": ([lp(0, "ACT2")], "bank-state"),
    "REFpb 71 after REFpb (tPBR2PBR 72)":
        ([lp(0, "REFpb", row=-1, col=-1), lp(71, "REFpb", bank=1, row=-1, col=-1)], "tPBR2PBR"),
    "ACT1 5 after REFpb of another bank (tPBR2ACT 6)":
        ([lp(0, "REFpb", row=-1, col=-1), lp(5, "ACT1", bank=1)], "tPBR2ACT"),
    "ACT1 95 after REFpb of the same bank (tRFCpb 96)":
        ([lp(0, "REFpb", row=-1, col=-1), lp(95, "ACT1")], "tRFCpb"),
    # JESD209-5, BG mode: REFpb to bank 0 of BG0 also refreshes bank 0 of BG2 (banks n and n + 8)
    "ACT1 95 after REFpb to the pair's other bank (tRFCpb 96)":
        ([lp(0, "REFpb", row=-1, col=-1), lp(95, "ACT1", bg=2)], "tRFCpb"),
    "REFpb while the pair's other bank is open":
        ([lp(0, "ACT1", bg=2), lp(1, "ACT2", bg=2), lp(100, "REFpb", row=-1, col=-1)], "bank-state"),
    "REFpb 14 after the pair's other bank's PREpb (tRP 15)":
        ([lp(0, "ACT1", bg=2), lp(1, "ACT2", bg=2), lp(60, "PREpb", bg=2), lp(74, "REFpb", row=-1, col=-1)],
         "refresh-after-precharge"),
}


def test_lpddr5_refpb_pair_leaves_other_banks_alone():
    """The pair of bank 0 / BG0 is bank 0 / BG2: BG1 and BG3 (and bank 1 of BG2) take an ACT1 right after
    tPBR2ACT (6) and tRRD (4) apart."""
    rows = [lp(0, "REFpb", row=-1, col=-1), lp(6, "ACT1", bg=1), lp(10, "ACT1", bg=3), lp(14, "ACT1", bg=2, bank=1)]
    assert _rules(load_standard("lpddr5-6400"), rows) == {}


@pytest.mark.parametrize("case", list(LP5_CASES))
def test_lpddr5_single_rule(case):
    rows, rule = LP5_CASES[case]
    assert _rules(load_standard("lpddr5-6400"), rows) == {rule: 1}


def test_lpddr5_clean_refresh_after_preab():
    rows = [lp(0, "ACT1"), lp(1, "ACT2"), (60, "PREab", 0, 0, -1, -1, -1, -1),
            (77, "REFab", 0, 0, -1, -1, -1, -1), lp(77 + 168, "ACT1", bank=3)]   # nRPab 17, nRFC 168
    assert _rules(load_standard("lpddr5-6400"), rows) == {}


@pytest.mark.parametrize("name,rcd,wtr_l", [
    # LPDDR5-6400 (bank-group mode): same bank group WL + BL/n_max + tWTR_L = 9 + 4 + 10 = 23
    # (JESD209-5B write-to-read tables; nBL_max is the column array cycle, not the bus burst)
    ("lpddr5-6400", 15, 23),
    # LPDDR4X-4266: no bank groups, BL16: WL + BL/2 + tWTR = 18 + 8 + 22 = 48 (no BL/n_max)
    ("lpddr4x-4266", 39, 48)])
def test_lpddr_write_to_read_same_bank_group(name, rcd, wtr_l):
    std = load_standard(name)
    rows = [lp(0, "ACT1"), lp(1, "ACT2"), lp(rcd, "WR")]
    assert _rules(std, rows + [lp(rcd + wtr_l - 1, "RD")]) == {"tWTR_L": 1}
    assert _rules(std, rows + [lp(rcd + wtr_l, "RD")]) == {}


# ---- GDDR6-16000: nRP 35, nRC 104, nRRDS/L 13, nFAW 50, nRFCab 241 ------------------------------
def g6(t, cmd, bg=0, bank=0, row=1, col=0):
    return (t, cmd, 0, bg, bank, row, col)


def test_gddr6_refab_after_per_bank_precharge():
    """Case f2's kind: REFab >= tRP = 35 after the last PREpb of any bank it covers."""
    std = load_standard("gddr6-16000")
    base = [g6(0, "ACT"), g6(70, "PREpb")]
    assert _rules(std, base + [(104, "REFab", 0, -1, -1, -1, -1)]) == {"refresh-after-precharge": 1}
    assert _rules(std, base + [(105, "REFab", 0, -1, -1, -1, -1)]) == {}


def test_gddr6_per_bank_refresh_counts_in_tfaw():
    """JESD250C: REFpb counts as an activate for tFAW (4 ACTs at 0/13/26/39, REFpb at 49 < 50)."""
    std = load_standard("gddr6-16000")
    rows = [g6(0, "ACT"), g6(13, "ACT", bg=1), g6(26, "ACT", bg=2), g6(39, "ACT", bg=3),
            g6(49, "REFpb", bank=1, row=-1, col=-1)]
    assert _rules(std, rows) == {"tFAW": 1}
    rows[-1] = g6(50, "REFpb", bank=1, row=-1, col=-1)
    assert _rules(std, rows) == {}


# ---- GDDR6-PIM all-bank commands: nCL 28, nCWL 7, nBL 2, nRCDRD 35, nRAS 69, nRTP 5, nMAC 2, nMACLAT 4
def pim(t, cmd, row=5, col=0):
    return (t, cmd, 0, -1, -1, row, col)


PIM_CLEAN = [pim(0, "WRGB", row=-1), pim(1, "ACTab", col=-1), pim(36, "MACab"), pim(38, "MACab", col=1),
             pim(42, "RDRES", row=-1), pim(70, "PREab", row=-1, col=-1)]
PIM_CASES = {
    "MACab 34 after ACTab (tRCD 35)": ({2: pim(35, "MACab")}, "tRCD"),
    "MACab 1 after MACab (nMAC 2)": ({3: pim(37, "MACab", col=1)}, "tMAC"),
    "RDRES 3 after the last MACab (nMACLAT 4)": ({4: pim(41, "RDRES", row=-1)}, "tMACLAT"),
    "MACab before the global-buffer burst landed (WRGB + nCWL + nBL = 9)":
        ({0: pim(28, "WRGB", row=-1)}, "pim-gb-data"),     # MACab at 36 < 37; the one at 38 is fine
    "MACab on another row than the open one": ({2: pim(36, "MACab", row=6)}, "bank-state"),
    "PREab 68 after ACTab (tRAS 69)": ({5: pim(69, "PREab", row=-1, col=-1)}, "tRAS"),
}


def test_pim_clean_log_passes():
    assert _rules(load_standard("gddr6-pim"), PIM_CLEAN) == {}


@pytest.mark.parametrize("case", list(PIM_CASES))
def test_pim_single_rule(case):
    change, rule = PIM_CASES[case]
    rows = sorted([change.get(i, r) for i, r in enumerate(PIM_CLEAN)], key=lambda r: r[0])
    assert _rules(load_standard("gddr6-pim"), rows) == {rule: 1}


def test_pim_gemv_streams_are_physically_clean():
    from simulator.pim.config import list_pims, load_pim
    from simulator.pim.lowering import gemv_stream, run_stream
    for name in list_pims():
        p = load_pim(name)
        log, _ = run_stream(p, *gemv_stream(p, 512, 4096))
        rep = physical_check(p.std, log)
        assert rep.total == 0 and rep.commands > 1000, (name, rep.summary())


# ---- HBM2: command buses as data; pseudo-channels have their own data bus ----------------------
def hb(t, cmd, pc=0, bg=0, bank=0, row=1, col=0):
    return (t, cmd, 0, pc, bg, bank, row, col)


def test_hbm2_row_and_column_buses():
    one_bus = _std("hbm2", drop=("command_buses", "command_cycles"))
    two = _std("hbm2")                      # hbm2.yaml: row [ACT, PRE, PREA, REFab], column [RD, WR, RDA, WRA]
    assert two.bus_names == ["column", "row"] and two.cmd_cycles[two.commands.index("ACT")] == 2
    # RD (pc 1, opened at 0) and ACT (pc 0) in the same cycle: legal on two buses only
    rows = [hb(0, "ACT", pc=1), hb(20, "RD", pc=1), hb(20, "ACT")]
    assert _rules(two, rows) == {}
    assert _rules(one_bus, rows) == {"command-bus": 1}
    # ACT holds the row bus for two cycles: a PRE of another pseudo-channel one cycle later collides
    rows = [hb(0, "ACT", pc=1), hb(40, "ACT"), hb(41, "PRE", pc=1)]
    assert _rules(two, rows) == {"command-bus": 1}
    rows[-1] = hb(42, "PRE", pc=1)
    assert _rules(two, rows) == {}


def test_hbm2_two_cycle_act_counts_from_its_second_clock():
    """JESD235 ACT is registered over two clocks; its timings count from the second (the
    convention the loader's +cycles(from) - cycles(to) encodes). hbm2: nRCDRD 14, nRCDWR 10,
    nRAS 33, nRP 14, nRC 47, nRRDS 4. ACT at 0 takes effect at 1: RD >= 15, WR >= 11, PRE >= 34;
    a PRE at 34 lets the next ACT (effect one clock after its issue) issue at 34 + 14 - 1 = 47,
    which is also tRC (1 + 47 = 48 = 47 + 1)."""
    std = _std("hbm2")
    assert _rules(std, [hb(0, "ACT"), hb(14, "RD")]) == {"tRCD": 1}
    assert _rules(std, [hb(0, "ACT"), hb(15, "RD")]) == {}
    assert _rules(std, [hb(0, "ACT"), hb(10, "WR")]) == {"tRCD": 1}
    assert _rules(std, [hb(0, "ACT"), hb(11, "WR")]) == {}
    assert _rules(std, [hb(0, "ACT"), hb(33, "PRE")]) == {"tRAS": 1}
    assert _rules(std, [hb(0, "ACT"), hb(34, "PRE"), hb(47, "ACT", row=2)]) == {}
    assert _rules(std, [hb(0, "ACT"), hb(34, "PRE"), hb(46, "ACT", row=2)]) == {"tRP": 1, "tRC": 1}
    # the loader's table agrees: ACT -> RD/WR/PRE issue to issue nRCDRD + 1, nRCDWR + 1, nRAS + 1
    lat = {(std.level_names[c["level"]], std.commands[p], std.commands[f]): c["latency"]
           for c in std.constraints for p in c["prec"] for f in c["follow"]}
    assert (lat[("bank", "ACT", "RD")], lat[("bank", "ACT", "WR")], lat[("bank", "ACT", "PRE")],
            lat[("bank", "PRE", "ACT")], lat[("bank", "ACT", "ACT")]) == (15, 11, 34, 13, 47)


def test_hbm_prea_after_read_needs_the_banks_own_trtp():
    """PREA closes the bank just read: it needs that bank's RD -> PRE time, tRTP_L (nRTPL 5 on
    hbm2), not the other-bank-group tRTP_S (nRTPS 4, which the table used before). ACT at 0
    (effect 1), RD at 40: PREA at 44 is 4 after the RD (tRAS 43 >= 33 met), at 45 it is 5."""
    std = _std("hbm2")
    rows = [hb(0, "ACT"), hb(40, "RD")]
    assert _rules(std, rows + [(44, "PREA", 0, 0, -1, -1, -1, -1)]) == {"tRTP": 1}
    assert _rules(std, rows + [(45, "PREA", 0, 0, -1, -1, -1, -1)]) == {}
    lat = {(std.commands[p], std.commands[f]): c["latency"] for c in std.constraints
           for p in c["prec"] for f in c["follow"] if std.level_names[c["level"]] == "pseudochannel"}
    assert lat[("RD", "PREA")] == std.timing["nRTPL"] == 5


def test_hbm2_pseudochannels_have_their_own_data_bus():
    std = _std("hbm2")
    rows = [hb(0, "ACT"), hb(2, "ACT", pc=1), hb(20, "RD"), hb(21, "RD", pc=1)]   # bursts 34-36 and 35-37
    assert _rules(std, rows) == {}
    rows = [hb(0, "ACT"), hb(4, "ACT", bg=1), hb(20, "RD"), hb(21, "RD", bg=1)]   # same pseudo-channel
    assert _rules(std, rows) == {"data-bus": 1, "tCCD_S": 1}                     # nCCDS = 2 = nBL


# ---------------------------------------------------------------------------------------------
# The users' cases on the old code path (the reference's rows, as the *-ramulator2 variants keep
# them, or the case's offending row restored): the physical layer sees the fault, the table replay
# does not. On the default presets (the core fixed) the same runs are physically clean.
F1_TRACE = ([0x142000, 0x1C4000, 0x142040], [True, False, True])     # f1_rank_rd_wr_3line.trace


# f2_gddr6_prepb_refab.trace alternates rows every 30 reads; on gddr6-14000 (other tCK) the refresh
# falls after a PREpb with a period of 29
F2_PERIOD = {"gddr6-16000": 30, "gddr6-pim": 30, "gddr6-14000": 29}
F2_OLD_ROW = {"level": "channel", "from": "PREab", "to": "REFab", "latency": "nRP"}   # before the fix


def _f2_trace(period=30):
    """f2_gddr6_prepb_refab.trace: 640 reads, ``period`` to one row then ``period`` to another of one bank."""
    i = np.arange(640)
    a = np.where((i // period) % 2 == 0, 0x8000, 0x10000) + (i % 64) * 0x20
    return a.astype(np.uint64), np.zeros(640, bool)


def _f1_run(name="ddr4-3200"):
    return run_trace(_std(name, ranks=2), np.array(F1_TRACE[0], np.uint64), np.array(F1_TRACE[1]), log=True)


def _f2_std(name, old=False):
    d = preset_dict(name)
    if old:        # the row as it was: REFab waits tRP after a PREab only
        d["constraints"] = [c for c in d["constraints"] if not (c["to"] == "REFab" and "PREpb" in c["from"])]
        d["constraints"].append(dict(F2_OLD_ROW))
    return parse_standard(d, f"{name}.yaml")


def _f2_run(name="gddr6-16000", old=False):
    a, w = _f2_trace(F2_PERIOD[name])
    return run_trace(_f2_std(name, old), a, w, log=True, controller=ControllerConfig(read_queue=1, write_queue=1))


def test_case_f1_physical_sees_rank_turnaround_table_does_not():
    res = _f1_run("ddr4-3200-ramulator2")          # Ramulator 2's rank-to-rank rows
    log = res.command_log()
    assert list(log.command) == ["ACT", "ACT", "WR", "RD", "WR"]
    rep = physical_check(res.standard, res.log)
    assert rep.counts["data-bus"] + rep.counts["rank-switch"] >= 1, rep.summary()
    assert check_result(res, physical=False) == []


@pytest.mark.parametrize("name", ["gddr6-16000", "gddr6-14000", "gddr6-pim"])
def test_case_f2_physical_sees_refresh_after_prepb_table_does_not(name):
    res = _f2_run(name, old=True)
    rep = physical_check(res.standard, res.log)
    assert rep.counts["refresh-after-precharge"] >= 1 and rep.total == rep.counts["refresh-after-precharge"]
    assert check_result(res, physical=False) == []


def test_core_case_f1_is_physically_clean():
    """RD rank 0 -> WR rank 1 now >= nCL + nBL + nCS - nCWL = 12 cycles (ddr4-3200)."""
    res = _f1_run()
    log = res.command_log()
    assert physical_check(res.standard, res.log).total == 0
    rd, wr = log.cycle.iloc[3], log.cycle.iloc[4]
    assert list(log.command) == ["ACT", "ACT", "WR", "RD", "WR"] and wr - rd >= 12


@pytest.mark.parametrize("name", ["gddr6-16000", "gddr6-14000", "gddr6-pim"])
def test_core_case_f2_is_physically_clean(name):
    res = _f2_run(name)
    assert res.command_counts["REFab"] > 0
    assert physical_check(res.standard, res.log).total == 0


def _fuzz(std, n=6000, seed=1, write_frac=0.3):
    return mixed_traffic(std, n, seed, hot_frac=0.5, write_frac=write_frac)


@pytest.mark.parametrize("name", list_standards())
def test_core_fuzz_is_physically_clean(name):
    std = load_standard(name)
    std = std.with_channels(2) if std.channels > 2 else std
    res = run_trace(std, *_fuzz(std), log=True)
    rep = physical_check(std, res.log)
    if std.compat:      # a reference variant may break only the rules it departs from the standard on
        assert set(k for k, v in rep.counts.items() if v) <= {"refresh-after-precharge"}, rep.summary()
    else:
        assert rep.total == 0, rep.summary()


def test_core_lpddr5_refresh_after_preab_is_clean():
    std = load_standard("lpddr5-6400")
    rep = physical_check(std, run_trace(std, *_fuzz(std), log=True).log)
    assert rep.counts["refresh-after-precharge"] == 0, rep.summary()


def test_check_result_runs_both_layers():
    res = _f2_run()
    both = check_result(res)
    phys = physical_check(res.standard, res.log)
    assert len(both) == phys.total + len(check_result(res, physical=False))


@pytest.mark.parametrize("name,commands", [("lpddr5-6400", 8), ("lpddr5x-8533", 8), ("lpddr4x-4266", 8),
                                           ("gddr6-16000", 16), ("hbm2-ramulator2", 16)])
def test_core_per_bank_refresh_is_physically_clean(name, commands):
    """REFpb to one bank at a time (LPDDR5: a bank pair), every bank of a rank (pseudo-channel, channel)
    once per tREFI: ``commands`` REFpb per round."""
    std = _std(name, refresh={"scope": "bank", "interval": f"nREFI // {commands}"})
    res = run_trace(std, *_fuzz(std, n=3000), log=True)
    rep = physical_check(std, res.log)
    assert res.command_counts["REFpb"] > 0 and rep.total == 0, rep.summary()


def test_out_of_range_log_is_rejected(ddr4):
    with pytest.raises(ValueError, match="outside DDR4-3200"):
        physical_check(ddr4, [(0, "ACT", 1, 0, 0, 0, 1, 0)])     # channel 1 of a 1-channel standard


@pytest.mark.parametrize("name", ["ddr4-3200", "ddr5-4800", "lpddr5-6400", "lpddr4x-4266", "lpddr5x-8533"])
def test_core_two_rank_fuzz_is_physically_clean(name):
    std = _std(name, ranks=2)
    rep = physical_check(std, run_trace(std, *_fuzz(std), log=True).log)
    assert rep.total == 0, rep.summary()


def test_kernel_helpers_end_in_held():
    """Every inlined helper of the checker's kernel ends in ``_held`` naming each array it indexes
    (numba prunes the reference counting of inlined array arguments only then: 0.1 s vs 2.0 s on the
    fuzz benchmark's logs, see the note in physcheck.py)."""
    import ast
    import inspect

    from simulator.dram import physcheck

    tree = ast.parse(inspect.getsource(physcheck))
    helpers = [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name not in ("_held", "_covered_banks")
               and any("inline" in ast.unparse(d) for d in f.decorator_list)]
    assert len(helpers) >= 10
    for f in helpers:
        params = {a.arg for a in f.args.args}
        indexed = {n.value.id for n in ast.walk(f) if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name)}
        body = [s for s in f.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        last = body[-2] if isinstance(body[-1], ast.Return) else body[-1]
        calls = ({a.id for a in last.value.args} if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)
                 and ast.unparse(last.value.func) == "_held" else None)
        assert calls is not None, f"{f.name} does not end in _held(...)"
        assert indexed & params <= calls, f"{f.name}: _held misses {sorted((indexed & params) - calls)}"
