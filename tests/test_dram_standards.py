"""Standards as data: presets load, tables resolve, bad files give clear errors."""

import json

import pytest
import yaml

from simulator.dram.refdata import STD_NAMES
from simulator.dram.standard import CONFIG_DIR, list_standards, load_standard, parse_standard
from simulator.errors import ConfigError

PRESETS = ["ddr4-3200", "ddr5-4800", "lpddr5-6400", "gddr6-14000", "gddr6-16000", "hbm2", "hbm2e", "hbm3"]


def test_all_required_presets_exist():
    assert set(PRESETS) <= set(list_standards())


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_and_cites_source(name):
    std = load_standard(name)
    assert std.source and "source:" in (CONFIG_DIR / f"{name}.yaml").read_text()
    assert std.read_latency > 0 and std.tx_bytes in (32, 64)
    # every constraint latency is non-negative
    assert all(c["latency"] >= 0 for c in std.constraints)
    # peak bandwidth from first principles: width * rate * data buses * channels
    buses = std.data_buses_per_channel
    assert std.peak_gbps == pytest.approx(std.channel_width_bits / 8 * std.data_rate_mtps / 1e3 * buses * std.channels)


def test_hbm2_is_pseudo_channel_mode():
    std = load_standard("hbm2")
    assert std.level_names == ["channel", "pseudochannel", "bankgroup", "bank"]
    assert std.level_sizes[1] == 2 and std.channel_width_bits == 64
    assert std.refresh_scope == std.level_names.index("pseudochannel")


@pytest.mark.parametrize("ref,name", sorted(STD_NAMES.items()))
def test_constraint_table_resolves_like_reference(oracle, ref, name):
    """Our expressions resolve to exactly the reference's resolved constraint table."""
    std = load_standard(name)
    d = json.loads((oracle / "configs" / f"{ref}.params.json").read_text())
    lv = {"Channel": "channel", "Rank": "rank", "BankGroup": "bankgroup", "Bank": "bank"}
    theirs = {(lv[c["level"]], p, f, c["latency_cycles"], c.get("window", 1), c.get("sibling", False))
              for c in d["timing_constraints_resolved"] for p in c["preceding"] for f in c["following"]}
    mine = {(std.level_names[c["level"]], std.commands[p], std.commands[f], c["latency"], c["window"], c["sibling"])
            for c in std.constraints for p in c["prec"] for f in c["follow"]}
    assert mine == theirs
    assert std.tck_ps == d["timing_cycles"]["tCK_ps"]
    assert std.tx_bytes == d["tx_bytes"]


def _base():
    return yaml.safe_load((CONFIG_DIR / "ddr4-3200.yaml").read_text())


@pytest.mark.parametrize("mutate,key,fragment", [
    (lambda d: d.update(bogus=1), "bogus", "unknown key"),
    (lambda d: d["organization"]["levels"].update(bank=3), "organization.levels.bank", "power of two"),
    (lambda d: d["timing"].update(nCL=-1), "timing.nCL", "out of range"),
    (lambda d: d.update(tck_ps=5), "tck_ps", "allowed [100, 100000]"),
    (lambda d: d["constraints"][0].update(latency="nCL + nFOO"), "constraints[0].latency", "unknown timing name"),
    (lambda d: d["constraints"][0].update(to=["XYZ"]), "constraints[0].to", "not one of"),
    (lambda d: d["constraints"][0].update(latency="nCL - 100"), "constraints[0].latency", "must be >= 0"),
    (lambda d: d["commands"].pop("RD"), "commands", "needs a command for read"),
    (lambda d: d["commands"]["RD"].update(flags=["read", "dta"]), "commands.RD.flags", "not one of"),
    (lambda d: d["commands"]["RD"].update(flags=[]), "commands.RD.flags", "non-empty list"),
    (lambda d: d["commands"]["RDA"].update(flags=["read", "data"]), "commands", "all serve one purpose, read"),
    (lambda d: d["commands"]["ACT"].update(flags=["opens", "closes"]), "commands", "all serve one purpose"),
    (lambda d: d["refresh"].update(scope="bankgroup"), "refresh.scope", "not the level of the all-bank refresh"),
    (lambda d: d["commands"]["RD"].update(role="read"), "commands.RD.role", "replaced by flags"),
    (lambda d: d["commands"]["ACT"].update(scope="row"), "commands.ACT.scope", "not one of"),
    (lambda d: d["refresh"].update(scope="galaxy"), "refresh.scope", "not one of"),
])
def test_bad_standard_names_file_key_and_range(bad_config, mutate, key, fragment):
    d = _base()
    mutate(d)
    bad_config(d, load_standard, key, fragment)


def test_unknown_preset_lists_available():
    with pytest.raises(ConfigError, match="available: ddr4-3200"):
        load_standard("ddr9-9999")


def test_malformed_yaml_is_a_config_error(tmp_path):
    p = tmp_path / "broken.yaml"
    p.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_standard(p)


def test_parse_does_not_accept_python_tags(tmp_path):
    p = tmp_path / "evil.yaml"
    p.write_text("!!python/object/apply:os.system ['true']\n")
    with pytest.raises(ConfigError):
        load_standard(p)


def test_split_activate_requires_its_commands():
    d = yaml.safe_load((CONFIG_DIR / "ddr4-3200.yaml").read_text())
    d["controller"] = {"split_activate": {"deadline": 8}}
    with pytest.raises(ConfigError, match="split_activate: needs ACT1/ACT2"):
        parse_standard(d, "mem.yaml")
