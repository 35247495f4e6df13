"""HBM's separate row and column command buses (JESD235 / JESD238) as YAML data, and the
preset that reproduces Ramulator 2's own HBM2 (hw_configs/dram/hbm2-ramulator2.yaml)."""

import numpy as np
import pytest
import yaml

from simulator.dram.checker import check_result
from simulator.dram.run import run_trace
from simulator.dram.standard import CONFIG_DIR, load_standard
from simulator.errors import ConfigError


@pytest.mark.parametrize("name", ["hbm2", "hbm2e", "hbm3", "hbm2-ramulator2"])
def test_hbm_presets_have_row_and_column_buses(name):
    std = load_standard(name)
    bus = {c: std.bus_names[b] for c, b in zip(std.commands, std.cmd_bus)}
    for c, f in zip(std.commands, std.flags):
        want = "column" if "data" in f else "row"       # RD/WR/RDA/WRA on the column bus
        assert bus[c] == want, (c, bus[c])
    assert std.cmd_cycles[std.commands.index("ACT")] == 2


def test_single_bus_when_command_buses_absent():
    std = load_standard("ddr4-3200")
    assert std.bus_names == ["command"] and set(std.cmd_bus) == {0} and set(std.cmd_cycles) == {1}


def test_hbm2_ramulator2_resolved_latencies_by_hand():
    """Ramulator 2's HBM2_2000Mbps values with its multi-cycle rule (timings from the last
    clock of the 2-clock ACT): ACT -> RD = nRCDRD 14 + 1 = 15; ACT -> WR = 12 + 1 = 13;
    PREpb -> ACT = nRP 14 - 1 = 13; ACT -> ACT (same bank) = nRC 48 (both 2 clocks);
    REFab -> ACT = nRFC 160 - 1 = 159; RD -> RD same bank group = nCCDL 4."""
    std = load_standard("hbm2-ramulator2")
    lv = {n: i for i, n in enumerate(std.level_names)}
    cid = {n: i for i, n in enumerate(std.commands)}

    def lat(level, a, b):
        return max(c["latency"] for c in std.constraints
                   if c["level"] == lv[level] and cid[a] in c["prec"] and cid[b] in c["follow"] and not c["sibling"]
                   and c["window"] == 1)
    assert lat("bank", "ACT", "RD") == 15
    assert lat("bank", "ACT", "WR") == 13
    assert lat("bank", "PREpb", "ACT") == 13
    assert lat("bank", "ACT", "ACT") == 48
    assert lat("pseudochannel", "REFab", "ACT") == 159
    assert lat("bankgroup", "RD", "RD") == 4
    # HBM2_2Gb: 16,384 rows x 32 bursts x 32 B x 16 banks = 256 MiB per pseudo-channel
    assert std.rows == 16384 and std.column_bursts == 32 and std.tx_bytes == 32
    assert std.capacity_bytes == 8 * 2 * 256 * 2**20


@pytest.mark.parametrize("name", ["hbm2", "hbm2-ramulator2", "hbm3"])
def test_hbm_random_traffic_uses_both_buses_legally(name):
    std = load_standard(name).with_channels(1)
    rng = np.random.default_rng(4)
    n = 4000
    addrs = (rng.integers(0, 1 << 26, n) * std.tx_bytes).astype(np.uint64)
    res = run_trace(std, addrs, rng.random(n) < 0.3, log=True)
    assert check_result(res) == []
    log = res.command_log()
    per_cycle = log.groupby("cycle").command.size()
    assert per_cycle.max() == 2 and (per_cycle == 2).sum() > 10


def _hbm2():
    return yaml.safe_load((CONFIG_DIR / "hbm2.yaml").read_text())


@pytest.mark.parametrize("patch,key,fragment", [
    ({"command_buses": {"row": ["ACT", "PRE", "PREA", "REFab"], "column": ["RD", "WR", "RDA", "WRA", "ACT"]}},
     "command_buses.column", "already on bus row"),
    ({"command_buses": {"row": ["ACT", "PRE", "PREA"], "column": ["RD", "WR", "RDA", "WRA"]}},
     "command_buses", "on no bus: REFab"),
    ({"command_buses": {"row": ["ACT", "XYZ"]}}, "command_buses.row", "not one of"),
    ({"command_cycles": {"ACT": 0}}, "command_cycles.ACT", "out of range"),
    ({"command_cycles": {"FOO": 2}}, "command_cycles", "not one of"),
])
def test_bad_command_buses(bad_config, patch, key, fragment):
    d = _hbm2()
    d.update(patch)
    bad_config(d, load_standard, key, fragment)


def test_variant_extends_patches_rows(tmp_path):
    p = tmp_path / "v.yaml"
    p.write_text("extends: ddr4-3200\nconstraints_remove:\n  - {level: bank, from: ACT, to: ACT}\n")
    base, var = load_standard("ddr4-3200"), load_standard(p)
    assert len(var.constraints) == len(base.constraints) - 1
    p.write_text("extends: ddr4-3200\nconstraints_remove:\n  - {level: bank, from: ACT, to: XYZ}\n")
    with pytest.raises(ConfigError, match="constraints_remove"):
        load_standard(p)
    # patch keys without a base are an error, not silently ignored
    p.write_text(yaml.safe_dump({**_hbm2(), "constraints_add": []}))
    with pytest.raises(ConfigError, match="extends"):
        load_standard(p)


def _rows_by_name(std):
    return {(std.level_names[c["level"]], std.commands[p], std.commands[f]): c["latency"]
            for c in std.constraints for p in c["prec"] for f in c["follow"] if c["window"] == 1}


def test_hbm_pim_extends_hbm2():
    """hbm-pim.yaml is ``extends: hbm2`` with the pseudo-channel folded into the channel: it has
    hbm2's timings, buses and rows (pseudo-channel rows now at channel level), plus the PIM
    commands: ACTab an ACT on the row bus (two clocks), MACab/WRGB/RDRES on the column bus.
    Hand values (hbm2: nRTPL 5, nRCDRD 14, nRRDS 4, nRFC 350; two-clock ACT/ACTab):
    RD -> PREA 5, ACT -> RD 15, ACT -> ACT 4, ACTab -> MACab 15, REFab -> ACT 349."""
    pim, hbm = load_standard("hbm-pim"), load_standard("hbm2")
    assert pim.level_names == ["channel", "bankgroup", "bank"] and pim.level_sizes == [1, 4, 4]
    assert {k: v for k, v in hbm.timing.items()} == {k: v for k, v in pim.timing.items() if k in hbm.timing}
    bus = {c: pim.bus_names[b] for c, b in zip(pim.commands, pim.cmd_bus)}
    assert {c for c, b in bus.items() if b == "row"} == {"ACT", "PRE", "PREA", "REFab", "ACTab"}
    cyc = dict(zip(pim.commands, pim.cmd_cycles))
    assert cyc["ACT"] == cyc["ACTab"] == 2 and cyc["MACab"] == 1
    r = _rows_by_name(pim)
    assert (r[("channel", "RD", "PREA")], r[("bank", "ACT", "RD")], r[("channel", "ACT", "ACT")],
            r[("channel", "ACTab", "MACab")], r[("channel", "REFab", "ACT")]) == (5, 15, 4, 15, 349)
    # every hbm2 row is in hbm-pim, pseudo-channel rows at the channel level
    fold = {"pseudochannel": "channel"}
    assert {(fold.get(lv, lv), a, b): v for (lv, a, b), v in _rows_by_name(hbm).items()}.items() <= r.items()


def test_fold_levels_errors(tmp_path):
    p = tmp_path / "v.yaml"
    p.write_text("extends: hbm2\nfold_levels: {pseudochannel: channel}\n")     # level still present
    with pytest.raises(ConfigError, match="still in organization.levels"):
        load_standard(p)
    p.write_text("extends: hbm2\norganization: {levels: {channel: 1, bankgroup: 4, bank: 4}}\n"
                 "fold_levels: {pseudochannel: rank}\n")                      # target not a level
    with pytest.raises(ConfigError, match="fold_levels"):
        load_standard(p)
