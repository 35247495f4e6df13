"""Sweeps: expansion, filters, errors; interrupted sweeps resume with exactly one row per
point; the dask executor gives the local executor's results."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from simulator.dse.run import run_sweep
from simulator.dse.spec import expand, load_spec
from simulator.dse.store import read_store
from simulator.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def _spec(tmp_path, axes, base=None, filters=None, name="t"):
    d = {"name": name, "base": base or {"hw": "pim-gpt-gddr6", "workload": {"model": "gpt2-small", "context": 64}},
         "axes": axes}
    if filters:
        d["filters"] = filters
    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump(d, sort_keys=False))
    return p


def test_expand_filters_and_keys(tmp_path):
    p = _spec(tmp_path, {"pim.channels": [4, 8], "workload.context": [16, 32, 64]},
              filters=["pim.channels * workload.context <= 256"])
    pts = expand(load_spec(p))
    combos = {(q["overrides"]["pim.channels"], q["workload"]["context"]) for q in pts}
    assert combos == {(c, x) for c in (4, 8) for x in (16, 32, 64) if c * x <= 256}
    assert len(pts) == 5
    assert len({q["key"] for q in pts}) == len(pts)


@pytest.mark.parametrize("mutate,key", [
    (lambda d: d.update(axes={"pim.channels": []}), "axes.pim.channels"),
    (lambda d: d.update(axes={"colour": [1]}), "axes.colour"),
    (lambda d: d.update(filters=["pim.nope > 1"]), "filters"),
    (lambda d: d.update(outputs=["speed"]), "outputs"),
    (lambda d: d.update(extra=1), "extra"),
])
def test_bad_specs(tmp_path, mutate, key):
    d = {"name": "b", "base": {"hw": "pim-gpt-gddr6", "workload": {"model": "gpt2-small"}},
         "axes": {"pim.channels": [4, 8]}}
    mutate(d)
    p = tmp_path / "b.yaml"
    p.write_text(yaml.safe_dump(d))
    with pytest.raises(ConfigError) as e:
        expand(load_spec(p))
    assert key in str(e.value) and str(p) in str(e.value)


def test_failing_point_is_recorded_not_lost(tmp_path):
    p = _spec(tmp_path, {"workload.context": [10, 5000]})          # 5000 > GPT-2's positions
    out = tmp_path / "s.parquet"
    info = run_sweep(p, out, workers=1, progress=False, keep_going=True)
    df = read_store(out)
    assert info["ran"] == 2 and info["failed"] == 1 and len(df) == 2
    assert (df.error != "").sum() == 1 and "1024 positions" in df[df.error != ""].error.iloc[0]


def _count_rows(store):
    return len(list(Path(store).glob("*.parquet")))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_sweep_resumes_with_exactly_one_row_per_point(tmp_path, sig):
    p = _spec(tmp_path, {"pim.channels": [2, 4, 8, 16], "pim.result_latches": [1, 2, 4, 8],
                         "workload.context": [16, 400]}, name="kill")
    out = tmp_path / "k.parquet"
    n_points = len(expand(load_spec(p)))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "simulator.cli", "sweep", str(p), "--out", str(out),
                             "--workers", "2", "--quiet"], cwd=ROOT, env=env, start_new_session=True,
                            stderr=subprocess.PIPE, text=True,
                            # a test run started in the background inherits SIGINT ignored; the
                            # user's Ctrl-C case needs the default disposition
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    t0 = time.time()
    while _count_rows(out) < 3 and proc.poll() is None and time.time() - t0 < 120:
        time.sleep(0.05)
    assert proc.poll() is None, f"sweep exited early: {proc.stderr.read()[-2000:]}"
    if sig == signal.SIGKILL:
        os.killpg(proc.pid, signal.SIGKILL)      # the whole process group: parent and workers
    else:
        proc.send_signal(sig)                    # Ctrl-C in the parent
    proc.wait(timeout=60)
    time.sleep(0.5)
    partial = _count_rows(out)
    assert 0 < partial < n_points
    info = run_sweep(p, out, workers=2, progress=False)
    df = read_store(out)
    assert info["already_done"] == partial
    assert len(df) == n_points and df.key.is_unique
    assert set(df.key) == {q["key"] for q in expand(load_spec(p))}
    assert (df.error == "").all()


def test_dask_executor_matches_local(tmp_path):
    pytest.importorskip("dask.distributed")
    p = _spec(tmp_path, {"pim.channels": [4, 8], "workload.context": [16, 64]}, name="dask")
    a, b = tmp_path / "local.parquet", tmp_path / "dask.parquet"
    run_sweep(p, a, executor="local", workers=2, progress=False)
    run_sweep(p, b, executor="dask", workers=2, progress=False)
    da = read_store(a).set_index("key").sort_index()
    db = read_store(b).set_index("key").sort_index()
    cols = ["latency_ms", "energy_mj", "row_hit_rate"]
    pd.testing.assert_frame_equal(da[cols], db[cols])


def test_device_points(tmp_path):
    p = _spec(tmp_path, {"hw": ["l4", "h100-sxm5"], "device.memory.peak_gbps": [300, 600],
                         "workload.mode": ["eager", "cuda_graphs"]},
              base={"hw": "l4", "workload": {"model": "gpt2-small", "context": 64}}, name="dev")
    out = tmp_path / "d.parquet"
    run_sweep(p, out, workers=1, progress=False)
    df = read_store(out)
    assert len(df) == 8 and (df.error == "").all()
    l4 = df[(df.hw == "l4") & (df["workload.mode"] == "eager")].sort_values("device.memory.peak_gbps")
    assert l4.latency_ms.iloc[1] < l4.latency_ms.iloc[0]


# ---- issue #12: checked before the first point; stop on failure; keys of resolved inputs ----------
def _cli(argv):
    from simulator.cli import main
    return main(argv)


@pytest.mark.parametrize("axes,base,needle", [
    ({"workload.contxt": [128, 512]}, None, "workload.contxt"),
    ({"pim.chanels": [4, 8]}, None, "pim.chanels"),
    ({"device.memory.peak_gbs": [100]}, {"hw": "t4", "workload": {"model": "gpt2-small"}}, "device.memory.peak_gbs"),
    ({"hw": ["t4", "nope"]}, {"hw": "t4", "workload": {"model": "gpt2-small"}}, "nope"),
    ({"workload.batch": [1, 2]}, None, "batch"),                 # a PIM point cannot batch
    ({"workload.weights": ["bf16", "int4"]}, None, "weights"),
    ({"workload.model": ["gpt2-small", "gpt-9"]}, None, "gpt-9"),
])
def test_sweep_checked_before_first_point(tmp_path, capsys, axes, base, needle):
    p = _spec(tmp_path, axes, base=base)
    out = tmp_path / "store"
    assert _cli(["sweep", str(p), "--out", str(out), "--workers", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not list(out.glob("*.parquet"))


def test_sweep_typo_names_allowed_keys(tmp_path, capsys):
    p = _spec(tmp_path, {"workload.contxt": [128, 512]})
    assert _cli(["sweep", str(p), "--out", str(tmp_path / "s"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "context" in err and "allowed" in err


def test_sweep_stops_on_first_failure_and_retries(tmp_path, capsys):
    # context 5000 is beyond gpt2-small's 1024 positions: that point fails when it runs
    p = _spec(tmp_path, {"workload.context": [16, 5000, 32]})
    out = tmp_path / "store"
    assert _cli(["sweep", str(p), "--out", str(out), "--workers", "1", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "5000" in err and "--keep-going" in err
    assert len(read_store(out)) < 3
    assert _cli(["sweep", str(p), "--out", str(out), "--workers", "1", "--quiet", "--keep-going"]) == 1
    df = read_store(out)
    assert len(df) == 3 and (df.error != "").sum() == 1
    capsys.readouterr()
    # a resumed sweep retries the failed point (it is not "already done")
    info = run_sweep(p, out, workers=1, progress=False, keep_going=True)
    assert info["already_done"] == 2 and info["ran"] == 1


def test_point_key_follows_hardware_contents(tmp_path):
    from simulator.dse.spec import point_key
    d = yaml.safe_load((ROOT / "hw_configs/pim/pim-gpt-gddr6.yaml").read_text())
    d["dram"] = "dram.yaml"
    (tmp_path / "dram.yaml").write_text((ROOT / "hw_configs/dram/gddr6-pim.yaml").read_text())
    hw = tmp_path / "pim.yaml"
    hw.write_text(yaml.safe_dump(d, sort_keys=False))
    cfg = {"hw": str(hw), "workload": {"model": "gpt2-small", "context": 16}, "overrides": {}}
    k0 = point_key(cfg)
    assert point_key(cfg) == k0
    dr = yaml.safe_load((tmp_path / "dram.yaml").read_text())
    dr["timing"]["nMACLAT"] += 1
    (tmp_path / "dram.yaml").write_text(yaml.safe_dump(dr, sort_keys=False))
    k1 = point_key(cfg)
    assert k1 != k0                                  # the DRAM table is part of the key
    # and so is the table it extends (gddr6-pim extends gddr6-16000, which extends gddr6-14000)
    dr["extends"] = str(tmp_path / "base.yaml")
    (tmp_path / "base.yaml").write_text((ROOT / "hw_configs/dram/gddr6-16000.yaml").read_text())
    (tmp_path / "dram.yaml").write_text(yaml.safe_dump(dr, sort_keys=False))
    k_base = point_key(cfg)
    base = yaml.safe_load((tmp_path / "base.yaml").read_text())
    base["timing"]["nRCDRD"] += 1
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base, sort_keys=False))
    assert point_key(cfg) != k_base
    d["channels"] = 4
    hw.write_text(yaml.safe_dump(d, sort_keys=False))
    assert point_key(cfg) not in (k0, k1)            # so is the preset


def test_point_key_follows_calibration(tmp_path, monkeypatch):
    from simulator.dse import spec
    cfg = {"hw": "t4", "workload": {"model": "gpt2-small", "context": 16}, "overrides": {}}
    k0 = spec.point_key(cfg)
    cal = tmp_path / "cal.yaml"
    cal.write_text((ROOT / "hw_configs/calibration.yaml").read_text() + "\n# edited\n")
    import simulator.devices.config as dc
    monkeypatch.setattr(dc, "CALIBRATION", cal)
    assert spec.point_key(cfg) != k0


def test_membw_cache_keyed_by_contents(tmp_path, monkeypatch):
    from simulator.lowering import membw
    monkeypatch.setattr(membw, "_CACHE", tmp_path / "membw.json")
    std = tmp_path / "std.yaml"
    src = (ROOT / "hw_configs/dram/ddr4-3200.yaml").read_text()
    std.write_text(src)
    e0 = membw.dram_efficiency(str(std), 1, "gather")
    d = yaml.safe_load(src)
    d["timing"]["nRCD"] = 60
    d["timing"]["nRAS"] = 100
    d["timing"]["nRC"] = 200
    std.write_text(yaml.safe_dump(d, sort_keys=False))
    e1 = membw.dram_efficiency(str(std), 1, "gather")
    assert e1 < e0


def test_sweep_capacity_needs_explicit_overcommit(tmp_path, capsys):
    # LLaMA-2-70B does not fit an 8 GB Orin Nano: the point fails unless overcommit is explicit
    p = _spec(tmp_path, {"workload.context": [16]}, base={"hw": "jetson-orin-nano",
                                                           "workload": {"model": "llama-2-70b"}})
    assert _cli(["sweep", str(p), "--out", str(tmp_path / "a"), "--workers", "1", "--quiet"]) == 1
    assert "--allow-overcommit" in capsys.readouterr().err
    assert _cli(["sweep", str(p), "--out", str(tmp_path / "b"), "--workers", "1", "--quiet",
                 "--allow-overcommit"]) == 0
    assert (read_store(tmp_path / "b").error == "").all()
