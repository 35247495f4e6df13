"""`decodesim split`, `decodesim plot split`, split points in sweep specs, and the generated doc."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from simulator.cli import main

ROOT = Path(__file__).resolve().parents[1]
BASE = ["split", "--model", "gpt2-small", "--edge", "jetson-orin-nano", "--server", "h100-sxm5",
        "--prompt", "16", "--generate", "8", "--layers", "0,4,8,12", "--act-bits", "8,16"]


def test_split_json_marks_infeasible_points_and_picks_a_feasible_best(capsys):
    assert main(BASE + ["--link", "lte", "--edge-memory-gb", "0.7", "--server-ms", "1.5", "--json"]) == 0
    o = json.loads(capsys.readouterr().out)
    pts = o["points"]
    assert {p["point"]["layer"] for p in pts} == {0, 4, 8, 12} and {p["generate"] for p in pts} == {8}
    o["best"], o["pareto"] = o["runs"][0]["best"], o["runs"][0]["pareto"]
    assert o["link"]["rtt_ms"] == 55 and "Opensignal" in o["link"]["source"]
    best = pts[o["best"]]
    assert best["feasible"] and best["edge_memory_gb"] <= 0.7 and best["server_ms_per_token"] <= 1.5
    assert all(pts[i]["feasible"] for i in o["pareto"])
    bad = [p for p in pts if not p["feasible"]]
    assert any("out of edge memory at token" in v for p in bad for v in p["violations"].values())
    assert any("server_time" in p["violations"] for p in bad)
    assert min(p["tpot_max_ms"] for p in pts if p["feasible"]) == best["tpot_max_ms"]


def test_sequence_length_is_searched_too(capsys):
    """A budget between the memory at 16 + 8 and at 16 + 200 tokens: the longer generation loses
    points to the growing KV cache (edge memory is re-checked at its last token)."""
    assert main(BASE + ["--link", "lte", "--generate", "8,200", "--edge-memory-gb", "0.705", "--json"]) == 0
    o = json.loads(capsys.readouterr().out)
    by = {n: [p for p in o["points"] if p["generate"] == n] for n in (8, 200)}
    ok = {n: {(p["point"]["layer"], p["point"]["edge_weights"], p["point"]["act_bits"]) for p in v if p["feasible"]}
          for n, v in by.items()}
    assert ok[200] < ok[8]
    lost = [p for p in by[200] if not p["feasible"] and "edge_memory" in p["violations"]
            and (p["point"]["layer"], p["point"]["edge_weights"], p["point"]["act_bits"]) in ok[8]]
    assert lost and all(16 + 8 <= int(p["violations"]["edge_memory"].split("token ")[1].split(":")[0]) <= 16 + 199
                        for p in lost)
    assert [r["generate"] for r in o["runs"]] == [8, 200]
    assert main(BASE + ["--link", "lte", "--generate", "8,200", "--edge-memory-gb", "0.705"]) == 0
    assert "best (latency) by sequence length" in capsys.readouterr().out


def test_split_table_and_no_feasible_point(capsys):
    assert main(BASE + ["--link-mbps", "100", "--rtt-ms", "10", "--all"]) == 0
    out = capsys.readouterr().out
    assert "Pareto front" in out and "best (latency)" in out and "all points" in out
    assert main(BASE + ["--link", "wifi-6", "--latency-ms", "0.001"]) == 1
    out = capsys.readouterr().out
    assert "no point meets every constraint" in out and "> target 0.001 ms" in out


@pytest.mark.parametrize("extra, fragment", [
    (["--link", "dialup"], "unknown link; available:"),
    (["--link-mbps", "100"], "--link-mbps and --rtt-ms"),
    (["--link", "lte", "--layers", "0,99"], "99 is out of range; allowed [0, 12]"),
    (["--link", "lte", "--edge-weights", "int3"], "'int3' is not one of"),
    (["--link", "lte", "--act-bits", "7"], "act_bits: 7 not one of"),
    (["--link", "lte", "--generate", "0"], "--generate"),
    (["--link", "lte", "--edge-memory-gb", "-1"], "--edge-memory-gb"),
])
def test_bad_split_input_exits_2_with_one_line(capsys, extra, fragment):
    assert main(BASE + extra) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_plot_split_writes_png_and_pdf(tmp_path, capsys):
    stem = tmp_path / "split"
    assert main(["plot", "split", "--out", str(stem)] + BASE[1:] + ["--link", "wifi-6", "--edge-memory-gb", "0.8"]) == 0
    for ext in (".png", ".pdf"):
        assert (tmp_path / f"split{ext}").stat().st_size > 5_000
    assert main(["plot", "split", "--out", str(stem)]) == 2
    assert "--model/--edge/--server" in capsys.readouterr().err


def test_split_keys_in_a_sweep_spec(tmp_path):
    from simulator.dse.run import run_sweep
    from simulator.dse.store import read_store
    spec = {"name": "split-test",
            "base": {"hw": "jetson-orin-nano", "workload": {"model": "gpt2-small"},
                     "split": {"server": "h100-sxm5", "layer": 6, "prompt": 16, "generate": 8, "edge_memory_gb": 1},
                     "link": {"preset": "wifi-6"}},
            "axes": {"split.layer": [0, 6, 12], "split.edge_weights": ["int4", "bf16"], "split.act_bits": [8],
                     "link.mbps": [10, 1000], "link.rtt_ms": [5], "device.power.tdp_w": [15, 30]},
            "filters": ["split.layer > 0 or split.edge_weights == 'int4'"]}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(spec))
    info = run_sweep(p, tmp_path / "store", workers=1, progress=False)
    assert info["points"] == 20
    df = read_store(tmp_path / "store")
    assert (df.error == "").all(), df.error.tolist()
    assert {"split.layer", "split.edge_weights", "link.mbps", "latency_ms", "edge_memory_gb", "feasible"} <= set(df)
    # edge energy scales with the edge's TDP while it computes (device.* overrides reach the edge)
    e = df[(df["split.layer"] == 12) & (df["link.mbps"] == 10)].set_index(["split.edge_weights", "device.power.tdp_w"])
    assert e.energy_mj[("int4", 30)] == pytest.approx(2 * e.energy_mj[("int4", 15)])      # all edge: busy throughout
    df = df[df["device.power.tdp_w"] == 15]
    mid = df[(df["split.layer"] == 6) & (df["split.edge_weights"] == "int4")].set_index("link.mbps")
    # 8-bit hidden state of GPT-2 small: 768 + 2 bytes; at 10 Mbit/s 616 us, at 1 Gbit/s 6.16 us
    assert mid.latency_ms[10] - mid.latency_ms[1000] == pytest.approx((770 + 4) * 8 * (1 / 10 - 1 / 1000) / 1e3, rel=1e-6)
    assert (df[df["split.layer"] == 0].edge_memory_gb == 0).all()


def test_bad_split_key_in_a_sweep_spec(tmp_path):
    from simulator.dse.spec import load_spec
    from simulator.errors import ConfigError
    spec = {"name": "x", "base": {"hw": "t4", "workload": {"model": "gpt2-small"}}, "axes": {"split.layer": [1]}}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(spec))
    with pytest.raises(ConfigError, match="need a 'split' section"):
        load_spec(p)


def test_split_doc_is_current():
    r = subprocess.run([sys.executable, "-m", "simulator.split.doc", "--check"], cwd=ROOT, capture_output=True,
                       text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr


def test_readme_split_commands_run(tmp_path):
    import os
    import re
    text = (ROOT / "README.md").read_text().split("## Split computing", 1)[1]
    block = re.search(r"```sh\n(.*?)```", text, re.S).group(1).replace("\\\n", " ")
    cmds = [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
    assert len(cmds) == 3
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    for cmd in cmds:
        cmd = cmd.replace(".venv/bin/decodesim", f"{sys.executable} -m simulator.cli")
        r = subprocess.run(cmd, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, (cmd, r.stdout[-2000:], r.stderr[-2000:])
    o = json.loads((tmp_path / "split.json").read_text())
    assert {p["point"]["layer"] for p in o["points"]} == {0, 8, 16, 24, 32}
    assert (tmp_path / "split.png").stat().st_size > 10_000


def test_link_yaml_is_checked(tmp_path, capsys):
    p = tmp_path / "mylink.yaml"
    p.write_text(yaml.safe_dump({"name": "x", "source": "y", "uplink_mbps": -3, "downlink_mbps": 10, "rtt_ms": 1}))
    assert main(["configs", "check", str(p)]) == 1
    assert "uplink_mbps: -3 is out of range" in capsys.readouterr().out
    assert main(BASE + ["--link", str(p)]) == 2
    assert "mylink.yaml: uplink_mbps" in capsys.readouterr().err


LLAMA2 = ["split", "--model", "llama-2-7b", "--edge", "jetson-orin-nano", "--server", "h100-sxm5", "--link", "wifi-6",
          "--prompt", "128", "--layers", "0,32"]


@pytest.mark.parametrize("generate", ["5000", "100000", "8,3969"])
def test_split_sequence_beyond_positions_exits_2(capsys, generate):
    """Llama-2-7B's config.json has max_position_embeddings 4096 (RoPE, not learned, but the model was trained
    on 4096 positions): a 128-token prompt leaves 4096 - 128 = 3968 tokens to generate; 3969 is one too many."""
    assert main(LLAMA2 + ["--generate", generate]) == 2
    err = capsys.readouterr().err
    assert "4096 positions" in err and "allowed [1, 3968]" in err and len(err.strip().splitlines()) == 1


def test_split_sequence_at_positions_runs(capsys):
    assert main(LLAMA2 + ["--generate", "3968", "--json", "--samples", "2"]) == 0


def test_split_sweep_point_beyond_positions_is_an_error_row(tmp_path):
    from simulator.dse.run import run_sweep
    from simulator.dse.store import read_store
    spec = {"name": "split-pos",
            "base": {"hw": "jetson-orin-nano", "workload": {"model": "llama-2-7b"},
                     "split": {"server": "h100-sxm5", "layer": 32, "prompt": 128, "generate": 8, "samples": 2},
                     "link": {"preset": "wifi-6"}},
            "axes": {"split.generate": [3968, 3969]}}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(spec))
    info = run_sweep(p, tmp_path / "store", workers=1, progress=False, keep_going=True)
    assert info["failed"] == 1
    df = read_store(tmp_path / "store").set_index("split.generate")
    assert df.error[3968] == ""
    assert "4096 positions" in df.error[3969]


@pytest.mark.parametrize("key, value, fragment", [("latency_ms", -1, "allowed > 0 ms"), ("server_ms", 0, "allowed > 0 ms"),
                                                  ("ttft_ms", "soon", "must be a number"),
                                                  ("staging_us", -3, "allowed [0.0, 1000000.0]"),
                                                  ("prompt", 70000, "allowed [1, 65536]")])
def test_split_sweep_point_checks_what_the_cli_checks(key, value, fragment):
    """A split sweep point names the same bad budgets and request values as `decodesim split`
    (it took latency_ms: -1 and staging_us: -3 silently, and ttft_ms: 'soon' was a traceback)."""
    from simulator.errors import ConfigError
    from simulator.split.sweep import evaluate_point
    split = {"server": "h100-sxm5", "layer": 6, "prompt": 16, "generate": 8, key: value}
    cfg = {"hw": "jetson-orin-nano", "workload": {"model": "gpt2-small"}, "split": split, "link": {"preset": "lte"}}
    with pytest.raises(ConfigError) as e:
        evaluate_point(cfg)
    assert f"split.{key}" in str(e.value) and fragment in str(e.value)
