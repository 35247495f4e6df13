"""One declarative schema per config kind (simulator/schema.py): one checker, one explain table."""
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from simulator.errors import ConfigError
from simulator.schema import SCHEMAS, check_config, explain

ROOT = Path(__file__).resolve().parents[1]


def _pim(tmp_path, edit):
    d = yaml.safe_load((ROOT / "hw_configs/pim/pim-gpt-gddr6.yaml").read_text())
    edit(d)
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump(d))
    return p


@pytest.mark.parametrize("edit,key,words", [
    (lambda d: d["mac"].pop("clock_mhz"), "mac.clock_mhz", "missing"),          # was a KeyError
    (lambda d: d["asic"].__setitem__("lanes", 0), "asic.lanes", "[1, 4096]"),
    (lambda d: d["mac"].__setitem__("clock_mhz", "fast"), "mac.clock_mhz", "number"),
    (lambda d: d.__setitem__("channels", 0), "channels", "[1, 1024]"),
    (lambda d: d.__setitem__("architecture", "nope"), "architecture", "aim"),
    (lambda d: d.pop("architecture"), "architecture", "missing"),
])
def test_bad_pim_key_is_one_line_naming_file_and_key(tmp_path, edit, key, words):
    from simulator.pim.config import load_pim
    with pytest.raises(ConfigError) as e:
        load_pim(str(_pim(tmp_path, edit)))
    msg = str(e.value)
    assert "\n" not in msg and "p.yaml" in msg and key in msg and words in msg


def test_bad_device_key(tmp_path):
    from simulator.devices.config import load_device
    d = yaml.safe_load((ROOT / "hw_configs/devices/a10.yaml").read_text())
    del d["memory"]["peak_gbps"]
    p = tmp_path / "dev.yaml"
    p.write_text(yaml.safe_dump(d))
    with pytest.raises(ConfigError, match=r"dev.yaml.*memory.peak_gbps.*missing"):
        load_device(str(p))


def test_check_config_ranges_and_types():
    link = {"name": "x", "source": "s", "uplink_mbps": 10, "downlink_mbps": 10, "rtt_ms": 5}
    assert check_config("link", link, "l.yaml") is link
    with pytest.raises(ConfigError, match="rtt_ms.*out of range"):
        check_config("link", {**link, "rtt_ms": -1}, "l.yaml")
    with pytest.raises(ConfigError, match="uplink_mbps.*number"):
        check_config("link", {**link, "uplink_mbps": True}, "l.yaml")
    with pytest.raises(ConfigError, match="extra.*unknown key"):
        check_config("link", {**link, "extra": 1}, "l.yaml")


@pytest.mark.parametrize("kind", ["device", "pim", "dram", "runtime", "link", "sweep"])
def test_configs_explain(kind):
    out = subprocess.run([sys.executable, "-m", "simulator.cli", "configs", "explain", kind],
                         capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == explain(kind)
    # every key of the table is listed with required/optional, numbers with their range
    for k, f in SCHEMAS[kind].items():
        line = next(ln for ln in out.stdout.splitlines() if ln.split()[0] == k)
        assert ("required" if f.required else "optional") in line
        if f.lo is not None:
            # integers in full (a user reads 16777216, not 1.67772e+07)
            full = [str(int(v)) if float(v).is_integer() else f"{v:g}" for v in (f.lo, f.hi)]
            assert f"[{full[0]}, {full[1]}]" in line and "e+" not in line


def test_configs_explain_unknown_kind_exits_2():
    out = subprocess.run([sys.executable, "-m", "simulator.cli", "configs", "explain", "gpu"],
                         capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert out.returncode == 2 and "device, runtime" in out.stderr.replace("pim, ", "")
