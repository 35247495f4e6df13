"""Every DRAM preset resolves to the same table as before the family files were rewritten with
``extends:`` (issue #16: one table per family). The reference is
``tests/data/dram_presets_resolved.json``, dumped by ``tests/data/dump_resolved_presets.py`` from
main at 3900203 (after the dram2 merge), where every preset was still a full copy."""
import json
import sys
from pathlib import Path

import pytest

from simulator.dram.standard import CONFIG_DIR, list_standards, load_standard

DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(DATA))
from dump_resolved_presets import resolved  # noqa: E402

BEFORE = json.loads((DATA / "dram_presets_resolved.json").read_text())
# The dump names each command's role; roles were later replaced by flags (issue #16). Each role of
# the dump and the flag set that replaced it (the migration, stated once here):
ROLE_FLAGS_AT_DUMP = {
    "activate": ["opens"], "activate1": ["open_begin"], "activate2": ["opens"], "precharge": ["closes"],
    "precharge_all": ["all_banks", "closes"], "read": ["data", "read"], "write": ["data", "write"],
    "read_ap": ["closes", "data", "read"], "write_ap": ["closes", "data", "write"],
    "refresh_all": ["all_banks", "refresh"], "refresh_bank": ["refresh"], "cas_read": ["read", "wck_sync"],
    "cas_write": ["wck_sync", "write"], "pim_activate_all": ["all_banks", "opens", "pim"],
    "pim_mac_all": ["all_banks", "pim", "read"], "pim_write_gb": ["data", "pim", "write"],
    "pim_read_result": ["data", "pim", "read"]}
for _d in BEFORE.values():
    _d["commands"] = [[c, ROLE_FLAGS_AT_DUMP[r], lv] for c, r, lv in _d["commands"]]
# the presets converted to variants, with the base each extends
CONVERTED = {"hbm2e": "hbm2", "hbm3": "hbm2", "gddr6-16000": "gddr6-14000",
             "gddr6-pim": "gddr6-16000", "gddr6x-21000": "gddr6-16000",
             "gddr7-28000": "gddr6-16000", "lpddr5x-8533": "lpddr5-6400"}


def test_every_preset_was_dumped():
    assert set(BEFORE) <= set(list_standards())


# Deliberate changes after the dump, each with its reason: LPDDR5's REFpb refreshes a bank pair in BG and
# 16-bank mode (JESD209-5; flag bank_pair; not in Ramulator 2's LPDDR5), and tREFIpb (a maximum interval,
# tREFI / 8) is rounded down.
CHANGED_SINCE_DUMP = {"lpddr5-6400": {"nREFIpb": 390}, "lpddr5x-8533": {"nREFIpb": 520},
                      "lpddr5-6400-ramulator2": {"nREFIpb": 390}, "lpddr4x-4266": {"nREFIpb": 1040}}
PAIRED_REFPB = {"lpddr5-6400", "lpddr5x-8533"}


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_preset_resolves_as_before_conversion(name):
    now = json.loads(json.dumps(resolved(load_standard(name))))
    # controller.scheduler (the scheduling policy) is newer than the dump: the rest must not change
    now["controller"] = {k: v for k, v in now["controller"].items() if k not in ("scheduler", "row_policy")}
    for k, v in CHANGED_SINCE_DUMP.get(name, {}).items():
        assert now["timing"][k] == v
        now["timing"][k] = BEFORE[name]["timing"][k]
    if name in PAIRED_REFPB:
        refpb = next(c for c in now["commands"] if c[0] == "REFpb")
        assert "bank_pair" in refpb[1]
        refpb[1].remove("bank_pair")
    for key in BEFORE[name]:
        assert now[key] == BEFORE[name][key], f"{name}: {key} changed"


@pytest.mark.parametrize("name,base", sorted(CONVERTED.items()))
def test_converted_preset_extends_its_family(name, base):
    import yaml
    d = yaml.safe_load((CONFIG_DIR / f"{name}.yaml").read_text())
    assert d["extends"] == base
    assert "constraints" not in d and "commands" not in d or name == "gddr6-pim"
    # a variant only names its PIM commands; the conventional ones come from the base
    if name == "gddr6-pim":
        assert "constraints" not in d and set(d["commands"]) == {"ACTab", "MACab", "WRGB", "RDRES"}
