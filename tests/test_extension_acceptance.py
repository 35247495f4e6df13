"""Issue #16 acceptance: new hardware is data (and a registration), not edits under simulator/.

Each test adds something the shipped code has never seen, from the test alone, runs it end to
end and passes the physical checker (simulator/dram/physcheck.py: rules derived from the named
JEDEC timings, not from the constraint table):

* a device: a YAML file in tmp_path, run through ``decodesim run`` and the Python API;
* a PIM architecture with its own command set: a DRAM table (YAML, extends gddr6-16000) naming its
  own all-bank commands and MAC timing, and an architecture registered from here that streams
  them without global-buffer writes (inputs broadcast with each MAC, as Newton-style designs);
* a DRAM standard with a command arrangement the core has not seen: DDR4 with a 2-cycle ACT on a
  bus of its own, as YAML.

A scheduling policy and a row policy added without core edits: tests/test_dram_policies.py.
"""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "simulator.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "", "MPLBACKEND": "Agg"})


# ---- a device ---------------------------------------------------------------------------------
def _device(tmp_path, name, peak_gbps):
    d = {"name": name, "kind": "gpu", "source": "test device (invented numbers)",
         "memory": {"standard": "gddr6-16000", "channels": 16, "peak_gbps": peak_gbps, "capacity_gb": 16},
         "compute": {"bf16_tflops": 50, "int8_tops": 100, "fp32_tflops": 12, "units": 40},
         "cache": {"l2_mb": 4}, "power": {"tdp_w": 100, "idle_w": 10}, "runtime": "gpu-pytorch",
         "backend": "cuda", "native_formats": ["fp32", "fp16", "bf16", "int8"]}
    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump(d))
    return p


def test_new_device_runs_end_to_end(tmp_path):
    from simulator.pim.compare import run_one
    slow, fast = _device(tmp_path, "slowdev", 256), _device(tmp_path, "fastdev", 1024)
    out = _cli("run", "--hw", str(slow), "--model", "gpt2-small", "--context", "64", "--json")
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["kind"] == "device" and r["latency_ms"] > 0
    assert sum(r["breakdown_ns"].values()) == pytest.approx(r["latency_ms"] * 1e6, rel=1e-6)
    # a token reads every fp16 weight at least once: latency >= weight bytes / peak bandwidth;
    # 4x the bandwidth is faster; energy is TDP x time as the backend documents
    from simulator.workload import load_model
    a, b = run_one("gpt2-small", str(slow), 64), run_one("gpt2-small", str(fast), 64)
    floor_ms = 2 * load_model("gpt2-small").param_count() / 256e9 * 1e3
    assert a["latency_ms"] >= floor_ms and b["latency_ms"] >= floor_ms / 4
    assert b["latency_ms"] < a["latency_ms"]
    assert a["energy_mj"] == pytest.approx(100 * a["latency_ms"], rel=1e-9)


def test_new_device_memory_passes_physical_checker():
    from simulator.dram.checker import check_result
    from simulator.dram.run import run_trace
    from simulator.dram.standard import load_standard
    std = load_standard("gddr6-16000")
    rng = np.random.default_rng(7)
    n = 2000
    res = run_trace(std, (rng.integers(0, 1 << 20, n) * std.tx_bytes).astype(np.uint64), rng.random(n) < 0.3,
                    log=True)
    assert check_result(res) == []


# ---- a PIM architecture with its own command set ------------------------------------------------
DRAM_YAML = """\
extends: gddr6-16000
name: Broadcast-PIM test table
family: GDDR6-PIM
source: "test: gddr6-16000 + all-bank commands named by this architecture"
timing:
  nMAC: 4          # one all-bank MAC step every 2 ns (inputs arrive with the command)
  nMACLAT: 6
commands:
  BACT:  {scope: channel, flags: [pim, opens, all_banks]}
  BMAC:  {scope: channel, flags: [pim, read, all_banks]}
  BLOAD: {scope: channel, flags: [pim, write, data]}
  BOUT:  {scope: channel, flags: [pim, read, data]}
constraints_add:
  - {level: channel, from: BACT, to: BMAC, latency: nRCDRD}
  - {level: channel, from: BACT, to: BACT, latency: nRC}
  - {level: channel, from: BACT, to: PREab, latency: nRAS}
  - {level: channel, from: PREab, to: BACT, latency: nRP}
  - {level: channel, from: BACT, to: REFab, latency: nRC}
  - {level: channel, from: REFab, to: [BACT, BMAC, BOUT, BLOAD], latency: nRFCab}
  - {level: channel, from: BMAC, to: BMAC, latency: nMAC}
  - {level: channel, from: BMAC, to: PREab, latency: nRTP}
  - {level: channel, from: BMAC, to: BOUT, latency: nMACLAT}
  - {level: channel, from: BOUT, to: BOUT, latency: nBL}
  - {level: channel, from: BOUT, to: BMAC, latency: nBL}
  - {level: channel, from: BLOAD, to: BLOAD, latency: nBL}
  - {level: channel, from: BLOAD, to: BMAC, latency: nCWL + nBL}
"""


def _broadcast_arch():
    from simulator.pim.arch import PimArchitecture, pim_commands, register_architecture
    from simulator.pim.lowering import GemvCost, run_stream

    class BroadcastPim(PimArchitecture):
        """Inputs broadcast with each MAC (no global-buffer writes): per 16 outputs (one per bank)
        a row is opened, k/lanes MACs stream the row, the 16 results are read out."""
        name = "test-broadcast"
        commands = {"activate_all": ("pim", "opens", "all_banks"), "mac_all": ("pim", "read", "all_banks"),
                    "read_result": ("pim", "read", "data")}

        def stream(self, pim, n, k):
            std = pim.std
            c = pim_commands(std, self.commands)
            cmds, rows, cols = [], [], []
            macs = -(-k // pim.mac["lanes"])
            outs_per_burst = std.tx_bytes // pim.result_bytes
            for tile in range(-(-n // pim.banks)):
                seq = [c["activate_all"]] + [c["mac_all"]] * macs + \
                      [c["read_result"]] * -(-pim.banks // outs_per_burst) + [c["precharge_all"]]
                cmds += seq
                rows += [tile] * len(seq)
                cols += [0] + list(range(macs)) + [-1] * (len(seq) - macs - 1)
            nlev = std.n_levels
            addr = np.full((len(cmds), nlev + 2), -1, np.int64)
            addr[:, 0] = 0
            addr[:, nlev] = rows
            addr[:, nlev + 1] = cols
            return np.array(cmds, np.int64), addr

        def gemv_cost(self, pim, n, k, memo=True):
            n_c = -(-n // pim.std.channels)
            cmds, addr = self.stream(pim, n_c, k)
            log, end = run_stream(pim, cmds, addr)
            cnt = {name: int((log[:, 1] == cmd).sum()) for name, cmd in pim_commands(pim.std, self.commands).items()}
            end += pim.std.read_latency
            ns = end * pim.std.tck_ns
            return GemvCost(cycles=end, acts=cnt["activate_all"], macs=cnt["mac_all"], gb_writes=0,
                            result_reads=cnt["read_result"], refreshes=cnt["refresh_all"], ns=ns,
                            bank_ns=ns, last_chunk_ns=0.0, final_reads=((n_c, ns),))

    return register_architecture(BroadcastPim())


def _pim_preset(tmp_path):
    (tmp_path / "bpim-dram.yaml").write_text(DRAM_YAML)
    d = yaml.safe_load((ROOT / "hw_configs/pim/aim-gddr6.yaml").read_text())
    d.update(name="Broadcast PIM (test)", architecture="test-broadcast", dram="bpim-dram.yaml",
             dataflow="result_latches", schedule="serial")
    p = tmp_path / "bpim.yaml"
    p.write_text(yaml.safe_dump(d))
    return p


def test_new_pim_architecture_runs_end_to_end(tmp_path):
    from simulator.pim.arch import ARCHITECTURES
    from simulator.pim.compare import run_one
    arch = _broadcast_arch()
    try:
        r = run_one("gpt2-small", str(_pim_preset(tmp_path)), 32)
        assert r["kind"] == "pim" and r["latency_ms"] > 0 and r["energy_mj"] > 0
        assert sum(r["breakdown_ns"].values()) == pytest.approx(r["latency_ms"] * 1e6, rel=1e-6)
        # its own command set was used: the stream has BACT/BMAC/BOUT and no BLOAD
        from simulator.hw import load_hw
        pim = load_hw(str(tmp_path / "bpim.yaml")).obj
        cmds, _ = arch.stream(pim, 64, 768)
        names = {pim.std.commands[c] for c in cmds}
        assert names == {"BACT", "BMAC", "BOUT", "PREab"}
        # a GEMV's time is at least its MAC steps x nMAC (4 cycles each), a hand bound
        cost = arch.gemv_cost(pim, 64 * pim.std.channels, 768)
        assert cost.cycles >= (768 // 16) * 4 * (64 // 16)
    finally:
        ARCHITECTURES.pop("test-broadcast", None)


def test_new_pim_architecture_passes_physical_checker(tmp_path):
    from simulator.dram.physcheck import physical_check
    from simulator.hw import load_hw
    from simulator.pim.arch import ARCHITECTURES
    from simulator.pim.lowering import run_stream
    arch = _broadcast_arch()
    try:
        pim = load_hw(str(_pim_preset(tmp_path))).obj
        cmds, addr = arch.stream(pim, 64, 2048)
        log, _ = run_stream(pim, cmds, addr)
        rep = physical_check(pim.std, log)
        assert rep.total == 0, rep.summary()
        assert rep.commands == len(log) >= len(cmds)
    finally:
        ARCHITECTURES.pop("test-broadcast", None)


def test_unknown_architecture_commands_are_a_config_error(tmp_path):
    """An architecture needing a command its DRAM table lacks is refused at load time."""
    from simulator.errors import ConfigError
    from simulator.hw import load_hw
    p = _pim_preset(tmp_path)
    d = yaml.safe_load(p.read_text())
    d["architecture"] = "aim"          # aim streams write_gb too: make the table lack it
    dr = DRAM_YAML.replace("  BLOAD: {scope: channel, flags: [pim, write, data]}\n", "").replace(
        "  - {level: channel, from: BLOAD, to: BLOAD, latency: nBL}\n", "").replace(
        "  - {level: channel, from: BLOAD, to: BMAC, latency: nCWL + nBL}\n", "").replace(", BLOAD]", "]")
    (tmp_path / "bpim-dram.yaml").write_text(dr)
    p.write_text(yaml.safe_dump(d))
    with pytest.raises(ConfigError, match="write_gb"):
        load_hw(str(p))


# ---- a DRAM standard: 2-cycle ACT on a bus of its own ----------------------------------------
STD_YAML = """\
extends: ddr4-3200
name: DDR4-3200 with a 2-cycle ACT on its own bus (test)
command_buses:
  act: [ACT]
  cmd: [PREpb, PREab, RD, WR, RDA, WRA, REFab]
command_cycles: {ACT: 2}
"""


def _act2_run(tmp_path):
    from simulator.dram.run import run_trace
    from simulator.dram.standard import load_standard
    p = tmp_path / "ddr4-act2.yaml"
    p.write_text(STD_YAML)
    std = load_standard(p)
    rng = np.random.default_rng(3)
    n = 3000
    return p, std, run_trace(std, (rng.integers(0, 1 << 22, n) * std.tx_bytes).astype(np.uint64),
                             rng.random(n) < 0.3, log=True)


def test_new_dram_standard_passes_physical_checker(tmp_path):
    from simulator.dram.physcheck import physical_check
    _, std, res = _act2_run(tmp_path)
    rep = physical_check(std, res.log)
    assert rep.total == 0, rep.summary()


def test_new_dram_standard_runs_end_to_end(tmp_path):
    from simulator.dram.checker import check_result
    p, std, res = _act2_run(tmp_path)
    assert std.bus_names == ["act", "cmd"] and std.cmd_cycles[std.commands.index("ACT")] == 2
    assert check_result(res) == []           # physical rules, then the constraint-table replay
    log = res.command_log()
    # both buses were used in one cycle at least once (the ACT bus is separate) and an ACT's second
    # clock is never shared with another ACT
    per_cycle = log.groupby("cycle").command.apply(set)
    assert any("ACT" in s and len(s) > 1 for s in per_cycle)
    act = np.sort(log[log.command == "ACT"].cycle.to_numpy())
    assert (np.diff(act) >= 2).all()
    out = _cli("dram", str(ROOT / "tests/data/sample_ddr4_3200_mix5050.trace"), "--standard", str(p))
    assert out.returncode == 0, out.stderr
