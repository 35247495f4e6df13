"""Device-under-test timing harness, one table per standard family (as Ramulator 2's
tests/device_timings): issue a command, probe the earliest cycle the core lets the next command
issue, and compare with the value derived by hand here from the JEDEC parameter names, for every
preset. The expected expressions are written below from the standards, not read from the
presets' constraint tables; only the numeric timing values come from the preset.

Probe: :func:`simulator.dram.core.simulate_stream` (the core's in-order command interface: each
command at the first cycle its constraints allow), refresh off. Command pairs are one cycle apart
at least (one command per cycle on a channel), hence ``max(1, ...)``.

Multi-cycle commands (HBM ACT holds the row bus 2 clocks, JESD235 "Command truth table"): a timing
counts from the last clock of the first command to the last clock of the second, so the issue-to-
issue distance is t + (cycles(A) - 1) - (cycles(B) - 1); the JEDEC command lengths are written here.
"""
import numpy as np
import pytest

from simulator.dram.core import simulate_stream
from simulator.dram.standard import list_standards, load_standard

# (A, where B is relative to A, B, expected as a function of the timing dict t)
# where: "bank" same bank, "bg" same bank group other bank, "other_bg" another bank group
DDR = [
    ("ACT", "bank", "RD", lambda t: t["nRCD"]),                       # tRCD
    ("ACT", "bank", "WR", lambda t: t["nRCD"]),
    ("ACT", "bank", "PRE", lambda t: t["nRAS"]),                      # tRAS
    ("PRE", "bank", "ACT", lambda t: t["nRP"]),                       # tRP
    ("RD", "bank", "PRE", lambda t: t["nRTP"]),                       # tRTP
    ("WR", "bank", "PRE", lambda t: t["nCWL"] + t["nBL"] + t["nWR"]),  # WL + BL/2 + tWR
    ("ACT", "bank", "ACT", lambda t: t["nRC"]),                       # tRC
    ("ACT", "bg", "ACT", lambda t: t["nRRDL"]),                       # tRRD_L
    ("ACT", "other_bg", "ACT", lambda t: t["nRRDS"]),                 # tRRD_S
    ("RD", "bg", "RD", lambda t: t["nCCDL"]),                         # tCCD_L
    ("RD", "other_bg", "RD", lambda t: t["nCCDS"]),                   # tCCD_S
    ("WR", "bg", "RD", lambda t: t["nCWL"] + t["nBL"] + t["nWTRL"]),  # WL + BL/2 + tWTR_L
    ("WR", "other_bg", "RD", lambda t: t["nCWL"] + t["nBL"] + t["nWTRS"]),
]
GDDR = [(a, w, b, f) for a, w, b, f in DDR if (a, b) not in {("ACT", "RD"), ("ACT", "WR")}] + [
    ("ACT", "bank", "RD", lambda t: t["nRCDRD"]),                     # GDDR6 tRCDRD
    ("ACT", "bank", "WR", lambda t: t["nRCDWR"]),                     # GDDR6 tRCDWR
]
HBM = [
    ("ACT", "bank", "RD", lambda t: t["nRCDRD"] + 1),                 # tRCDRD from ACT's 2nd clock
    ("ACT", "bank", "WR", lambda t: t["nRCDWR"] + 1),
    ("ACT", "bank", "PRE", lambda t: t["nRAS"] + 1),
    ("PRE", "bank", "ACT", lambda t: t["nRP"] - 1),                   # ACT's last clock tRP after PRE
    ("RD", "bank", "PRE", lambda t: t["nRTPL"]),                      # tRTP_L
    ("WR", "bank", "PRE", lambda t: t["nCWL"] + t["nBL"] + t["nWR"]),
    ("ACT", "bank", "ACT", lambda t: t["nRC"]),
    ("ACT", "bg", "ACT", lambda t: t["nRRDL"]),
    ("ACT", "other_bg", "ACT", lambda t: t["nRRDS"]),
    ("RD", "bg", "RD", lambda t: t["nCCDL"]),
    ("RD", "other_bg", "RD", lambda t: t["nCCDS"]),
    ("WR", "bg", "RD", lambda t: t["nCWL"] + t["nBL"] + t["nWTRL"]),
    ("WR", "other_bg", "RD", lambda t: t["nCWL"] + t["nBL"] + t["nWTRS"]),
]
# LPDDR4X/5/5X: split activate; ACT-1 to ACT-1 spacing and the precharge/column timings
LPDDR = [
    ("PRE", "bank", "ACT", lambda t: t["nRP"]),                       # tRPpb
    ("RD", "bank", "PRE", lambda t: t["nRTP"]),
    ("ACT", "bank", "ACT", lambda t: t["nRC"]),
    ("ACT", "bg", "ACT", lambda t: t["nRRDL"]),
    ("RD", "bg", "RD", lambda t: t["nCCDL"]),
]
LPDDR5 = LPDDR + [("ACT", "other_bg", "ACT", lambda t: t["nRRDS"]),
                  ("RD", "other_bg", "RD", lambda t: t["nCCDS"])]
FAMILY = {"DDR4": DDR, "DDR5": DDR, "GDDR6": GDDR, "GDDR6X": GDDR, "GDDR7": GDDR, "GDDR6-PIM": GDDR,
          "HBM2": HBM, "HBM3": HBM, "HBM2-PIM": HBM, "LPDDR4X": LPDDR, "LPDDR5": LPDDR5, "LPDDR5X": LPDDR5}
# generic command -> the preset's name for it (JEDEC names differ per family)
ALIASES = {"PRE": ("PREpb", "PRE"), "ACT": ("ACT", "ACT1")}


def _name(std, cmd):
    return next(c for c in ALIASES.get(cmd, (cmd,)) if c in std.commands)


def _addr(std, where):
    a = [0] * (std.n_levels + 2)
    lv = std.level_names
    if where == "bg":
        a[lv.index("bank")] = 1
    elif where == "other_bg":
        a[lv.index("bankgroup")] = 1
    return a


def probe(std, a: str, where: str, b: str) -> int:
    """Cycles from issuing ``a`` (bank 0) to the earliest legal ``b`` at ``where``."""
    ar = std.arrays()
    ca, cb = std.commands.index(_name(std, a)), std.commands.index(_name(std, b))
    cmds = np.array([ca, cb], np.int64)
    addr = np.array([_addr(std, "bank"), _addr(std, where)], np.int64)
    log, _ = simulate_stream(ar["sizes"], ar["cmd_flags"], ar["sel"], ar["cons_ptr"], ar["cons"], 0, cmds, addr)
    assert len(log) == 2
    return int(log[1, 0] - log[0, 0])


CASES = [(p, a, w, b, i) for p in list_standards() for i, (a, w, b, _) in
         enumerate(FAMILY[load_standard(p).family])]


def test_every_preset_has_a_family_table():
    for p in list_standards():
        assert load_standard(p).family in FAMILY, p


@pytest.mark.parametrize("preset,a,where,b,i", CASES, ids=[f"{p}:{a}->{b}@{w}" for p, a, w, b, _ in CASES])
def test_earliest_legal_cycle(preset, a, where, b, i):
    std = load_standard(preset)
    if std.level_sizes[std.level_names.index("bankgroup")] == 1 and where == "other_bg":
        pytest.skip("one bank group")
    expected = FAMILY[std.family][i][3](std.timing)
    assert probe(std, a, where, b) == max(1, expected)


def test_harness_catches_a_wrong_row(tmp_path):
    """A variant whose ACT -> RD row is one cycle short fails the tRCD probe."""
    p = tmp_path / "bad.yaml"
    p.write_text("extends: ddr4-3200\nconstraints_remove:\n  - {level: bank, from: ACT, to: [RD, WR, RDA, WRA]}\n"
                 "constraints_add:\n  - {level: bank, from: ACT, to: [RD, WR, RDA, WRA], latency: nRCD - 1}\n")
    std = load_standard(p)
    assert probe(std, "ACT", "bank", "RD") == std.timing["nRCD"] - 1 != DDR[0][3](std.timing)
