"""Issue #12: one test per finding (bad input -> one line, exit 2; options a backend cannot
honour rejected; capacity and position checks; breakdowns that add up; one flag set)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from simulator.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def _err2(capsys, argv, *needles):
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, (argv, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for n in needles:
        assert n in err, (n, err)
    return err


# ---- options a backend cannot honour -------------------------------------------------------
@pytest.mark.parametrize("extra,flag", [(["--batch", "2"], "--batch"), (["--weights", "int8"], "--weights"),
                                        (["--mode", "cuda_graphs"], "--mode")])
def test_pim_rejects_options_it_cannot_honour(capsys, extra, flag):
    _err2(capsys, ["run", "--model", "gpt2-small", "--hw", "pim-gpt-gddr6", "--context", "16", *extra], flag)


def test_run_mode_turbo_rejected(capsys):
    _err2(capsys, ["run", "--model", "gpt2-small", "--hw", "t4", "--mode", "turbo"], "mode", "turbo", "eager")


# ---- capacity and positions -----------------------------------------------------------------
def test_capacity_checked_with_explicit_overcommit(capsys):
    _err2(capsys, ["run", "--model", "llama-2-70b", "--hw", "jetson-orin-nano", "--context", "16"],
          "capacity", "--allow-overcommit")
    assert main(["run", "--model", "llama-2-70b", "--hw", "jetson-orin-nano", "--context", "16",
                 "--allow-overcommit", "--json"]) == 0
    capsys.readouterr()


def test_pim_capacity_checked(capsys):
    _err2(capsys, ["run", "--model", "llama-2-70b", "--hw", "pim-gpt-gddr6", "--context", "16"], "capacity")


def test_context_beyond_max_positions(capsys):
    _err2(capsys, ["run", "--model", "llama-2-7b", "--hw", "h100-sxm5", "--context", "1000000"],
          "--context", "4096")
    _err2(capsys, ["trace", "generate", "--model", "gpt2-small", "--context", "5000", "--out", "/tmp/x.jsonl"],
          "1024")


def test_trace_record_refuses_beyond_memory(capsys, tmp_path):
    _err2(capsys, ["trace", "record", "--model", "llama-2-70b", "--context", "4", "--device", "cpu",
                   "--out", str(tmp_path / "r.jsonl")], "memory")


# ---- breakdowns add up to the latency ----------------------------------------------------------
def test_device_breakdown_sums_to_latency(capsys):
    assert main(["run", "--model", "llama-2-7b", "--hw", "h100-sxm5", "--context", "512", "--json"]) == 0
    o = json.loads(capsys.readouterr().out)
    assert "idle" in o["breakdown_ns"]
    assert sum(o["breakdown_ns"].values()) == pytest.approx(o["latency_ms"] * 1e6, rel=1e-9)


def test_compare_shares_are_of_latency():
    from simulator.pim.compare import run_one
    r = run_one("gpt2-small", "h100-sxm5", 64)
    assert sum(v for k, v in r.items() if k.startswith("frac_")) == pytest.approx(1.0)
    assert r["frac_idle"] > 0


# ---- config and trace values -----------------------------------------------------------------
def test_device_tdp_zero_rejected(capsys, tmp_path):
    d = yaml.safe_load((ROOT / "hw_configs/devices/t4.yaml").read_text())
    d["power"]["tdp_w"] = 0
    p = tmp_path / "dev.yaml"
    p.write_text(yaml.safe_dump(d))
    _err2(capsys, ["run", "--model", "gpt2-small", "--hw", str(p)], "power.tdp_w")


def _trace_file(tmp_path, **change):
    from simulator.workload import Workload, generate_trace, load_model
    from simulator.workload.trace_io import write_trace
    p = tmp_path / "t.jsonl"
    write_trace(generate_trace(Workload(load_model("gpt2-small")), 4), p)
    lines = p.read_text().splitlines()
    op = json.loads(lines[3])
    op.update(change)
    lines[3] = json.dumps(op)
    p.write_text("\n".join(lines) + "\n")
    return p


@pytest.mark.parametrize("change", [{"weight_bytes": "lots"}, {"kv_read_bytes": -5}, {"flops": 1.5},
                                    {"layer": "x"}])
def test_trace_show_bad_values(capsys, tmp_path, change):
    _err2(capsys, ["trace", "show", str(_trace_file(tmp_path, **change))], "line 4", next(iter(change)))


def test_group_size_with_bf16_rejected(capsys):
    _err2(capsys, ["trace", "show", "--model", "gpt2-small", "--weights", "bf16", "--group-size", "64"],
          "group_size")


@pytest.mark.parametrize("argv,needle", [
    (["dram", "t.trace", "--standard", "ddr4-3200", "--channels", "0"], "--channels"),
    (["sweep", "s.yaml", "--out", "o", "--workers", "0"], "--workers"),
    (["sweep", "s.yaml", "--out", "o", "--workers", "-2"], "--workers"),
    (["measure", "--contexts", "16,abc", "--out", "m.csv"], "--contexts"),
    (["measure", "--steps", "0", "--out", "m.csv"], "--steps"),
    (["measure", "--device", "tpu", "--out", "m.csv"], "--device"),
    (["trace", "record", "--model", "gpt2-small", "--device", "tpu", "--out", "r.jsonl"], "--device"),
    (["run", "--model", "gpt2-small", "--hw", "t4", "--context", "-1"], "--context"),
])
def test_bad_option_values(capsys, argv, needle):
    _err2(capsys, argv, needle)


def test_measure_cuda_without_cuda(capsys, tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    _err2(capsys, ["measure", "--device", "cuda", "--contexts", "4", "--out", str(tmp_path / "m.csv")],
          "--device", "cuda")


# ---- output paths checked before the run ---------------------------------------------------------
@pytest.mark.parametrize("argv", [
    ["trace", "generate", "--model", "gpt2-small", "--context", "4", "--out", "/nonexistent/x.jsonl"],
    ["compare", "--hw", "pim-gpt-gddr6", "--model", "gpt2-small", "--csv", "/nonexistent/x.csv"],
    ["dram", "TRACE", "--standard", "ddr4-3200", "--commands", "/nonexistent/x.csv"],
    ["run", "--model", "gpt2-small", "--hw", "t4", "--timeline", "/nonexistent/t.json"],
    ["plot", "speedup", "--out", "/nonexistent/fig"],
])
def test_output_in_missing_folder_fails_before_the_run(capsys, tmp_path, argv, monkeypatch):
    import simulator.pim.compare as cmp
    (tmp_path / "t.trace").write_text("0x0 R\n")
    missing = str(tmp_path / "no-such-folder")
    argv = [str(tmp_path / "t.trace") if a == "TRACE" else a.replace("/nonexistent", missing) for a in argv]
    monkeypatch.setattr(cmp, "compare", lambda *a, **k: pytest.fail("ran before checking the output path"))
    _err2(capsys, argv, missing)
    assert not Path(missing).exists()


def test_sweep_out_existing_file(capsys, tmp_path):
    f = tmp_path / "store"
    f.write_text("x")
    _err2(capsys, ["sweep", str(ROOT / "hw_configs/sweeps/quickstart.yaml"), "--out", str(f)], "--out")


@pytest.mark.parametrize("make", ["missing", "failed"])
def test_plot_pareto_on_empty_or_failed_store(capsys, tmp_path, make):
    store = tmp_path / "store"
    if make == "failed":
        from simulator.dse.store import write_row
        write_row(store, {"key": "k1", "hw": "t4", "workload": {"model": "gpt2-small"}}, {}, error="boom")
    _err2(capsys, ["plot", "pareto", "--store", str(store), "--out", str(tmp_path / "p")], "--store")


def test_broken_pipe_is_quiet():
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    p = subprocess.run(f"{sys.executable} -m simulator.cli configs list | head -c 1", shell=True, cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in p.stderr and "BrokenPipe" not in p.stderr, p.stderr


# ---- one CLI -------------------------------------------------------------------------------------
def _subparsers(p, prefix=()):
    import argparse
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sp in a.choices.items():
                yield from _subparsers(sp, prefix + (name,))
    yield prefix, p


def test_every_option_has_help_and_shared_defaults():
    contexts = set()
    for path, p in _subparsers(build_parser()):
        for a in p._actions:
            if a.option_strings and a.dest != "help":
                assert a.help and a.help.strip(), (path, a.option_strings)
            if "--context" in a.option_strings:
                contexts.add(a.default)
                assert "default" in (a.help or "").lower(), path
    assert len(contexts) == 1, contexts


@pytest.mark.parametrize("cmd", [["run", "--hw", "t4"], ["compare", "--hw", "t4"], ["plot", "context", "--out", "x"],
                                 ["trace", "generate", "--out", "x"], ["trace", "show"],
                                 ["trace", "record", "--out", "x"], ["measure", "--out", "x"]])
def test_model_flag_everywhere(cmd):
    ns = build_parser().parse_args(cmd + ["--model", "gpt2-small"])
    assert ns.model in ("gpt2-small", ["gpt2-small"])


def test_run_and_compare_take_the_workload_flags():
    p = build_parser()
    ns = p.parse_args(["run", "--model", "gpt2-small", "--hw", "t4", "--kv", "int8", "--kv-window", "64",
                       "--group-size", "64", "--weights", "int4"])
    assert (ns.kv, ns.kv_window, ns.group_size) == ("int8", 64, 64)
    ns = p.parse_args(["compare", "--hw", "t4", "--batch", "2", "--weights", "int8", "--json"])
    assert (ns.batch, ns.weights, ns.json) == (2, "int8", True)


def test_version(capsys):
    assert main(["--version"]) == 0
    from importlib.metadata import version
    assert version("decodesim") in capsys.readouterr().out


def test_set_overrides_hardware_keys(capsys):
    assert main(["run", "--model", "gpt2-small", "--hw", "t4", "--context", "64", "--json"]) == 0
    base = json.loads(capsys.readouterr().out)["latency_ms"]
    assert main(["run", "--model", "gpt2-small", "--hw", "t4", "--context", "64", "--json",
                 "--set", "runtime_scale=1"]) == 2
    err = capsys.readouterr().err
    assert "runtime_scale" in err and "allowed keys" in err
    assert main(["run", "--model", "gpt2-small", "--hw", "t4", "--context", "64", "--json", "--mode", "cuda_graphs",
                 "--set", "memory.peak_gbps=3000"]) == 0
    fast = json.loads(capsys.readouterr().out)["latency_ms"]
    assert main(["run", "--model", "gpt2-small", "--hw", "t4", "--context", "64", "--json", "--mode", "cuda_graphs"]) == 0
    slow = json.loads(capsys.readouterr().out)["latency_ms"]
    assert fast < slow and base > 0
    _err2(capsys, ["run", "--model", "gpt2-small", "--hw", "t4", "--set", "memory.peak_gbps=-1"], "memory.peak_gbps")
    _err2(capsys, ["run", "--model", "gpt2-small", "--hw", "t4", "--set", "nonsense"], "--set")


def test_pim_run_json_keys(capsys):
    assert main(["run", "--model", "gpt2-small", "--hw", "pim-gpt-gddr6", "--context", "16", "--json"]) == 0
    o = json.loads(capsys.readouterr().out)
    assert {"latency_ms", "energy_mj", "row_hit_rate", "breakdown_ns"} <= set(o)
    assert sum(o["breakdown_ns"].values()) == pytest.approx(o["latency_ms"] * 1e6, rel=1e-6)


def _pim_yaml_elsewhere(tmp_path, dram):
    d = yaml.safe_load((ROOT / "hw_configs/pim/pim-gpt-gddr6.yaml").read_text())
    d["dram"] = dram
    sub = tmp_path / "cfg"
    sub.mkdir(exist_ok=True)
    (sub / "my-dram.yaml").write_text((ROOT / "hw_configs/dram/gddr6-pim.yaml").read_text())
    p = sub / "mypim.yaml"
    p.write_text(yaml.safe_dump(d))
    return p


def test_hw_path_resolved_by_content_and_nested_paths_relative(capsys, tmp_path, monkeypatch):
    p = _pim_yaml_elsewhere(tmp_path, "my-dram.yaml")
    monkeypatch.chdir(ROOT)
    assert main(["run", "--model", "gpt2-small", "--hw", str(p), "--context", "16", "--json"]) == 0
    assert "row_hit_rate" in json.loads(capsys.readouterr().out)
    assert main(["compare", "--hw", str(p), "--hw", "t4", "--model", "gpt2-small", "--context", "16"]) == 0
    capsys.readouterr()
    bad = _pim_yaml_elsewhere(tmp_path, "nope.yaml")
    _err2(capsys, ["run", "--model", "gpt2-small", "--hw", str(bad)], str(bad), "dram")


def test_demo_path_needs_no_torch():
    """`make demo` installs no torch: the simulator's commands run with torch unimportable."""
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"}
    code = ("import sys; sys.modules['torch'] = None; from simulator.cli import main; "
            "sys.exit(main(['compare', '--model', 'gpt2-small', '--hw', 'pim-gpt-gddr6', '--hw', 't4', "
            "'--context', '16']))")
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    mk = (ROOT / "Makefile").read_text()
    demo_install = mk.split("$(STAMP): pyproject.toml")[1].split("\n\n")[0]
    assert "pip install -q -e ." in demo_install and "[" not in demo_install.split("pip install")[1]
    import tomllib
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("torch") for d in extras["dependencies"])


def test_python_api_is_even():
    from simulator.devices.config import load_device
    from simulator.engine.sim import predict, simulate_split
    assert predict.__doc__ and "ConfigError" in predict.__doc__
    a = predict("gpt2-small", "t4", 64).latency_ms
    assert predict("gpt2-small", load_device("t4"), 64).latency_ms == a
    s1 = simulate_split("gpt2-small", 64, 6, "jetson-orin-nano", "h100-sxm5")
    s2 = simulate_split("gpt2-small", 64, 6, load_device("jetson-orin-nano"), load_device("h100-sxm5"))
    assert s1.latency_ms == s2.latency_ms
    from simulator.errors import ConfigError
    with pytest.raises(ConfigError):
        predict("llama-2-7b", "t4", 100_000)


@pytest.mark.parametrize("argv,flag", [
    (["plot", "speedup", "--contexts", "16,32"], "--contexts"),
    (["plot", "pareto", "--model", "gpt2-small"], "--model"),
    (["plot", "validation", "--hw", "t4"], "--hw"),
    (["plot", "context", "--store", "x"], "--store"),
    (["sweep", str(ROOT / "hw_configs/sweeps/quickstart.yaml"), "--scheduler", "tcp://x:1"], "--scheduler"),
    (["trace", "show", "FILE", "--model", "gpt2-small"], "--model"),
])
def test_options_a_command_would_ignore_are_rejected(capsys, tmp_path, argv, flag):
    argv = [str(_trace_file(tmp_path)) if a == "FILE" else a for a in argv]
    if argv[0] == "plot":
        argv += ["--out", str(tmp_path / "f")]
    if argv[0] == "sweep":
        argv += ["--out", str(tmp_path / "s")]
    _err2(capsys, argv, flag)


def test_run_default_weights_are_the_documented_bf16(capsys):
    from simulator.engine.sim import predict
    assert main(["run", "--model", "gpt2-small", "--hw", "xeon-gold-6154", "--context", "64", "--json"]) == 0
    o = json.loads(capsys.readouterr().out)
    assert o["weights"] == "bf16"
    assert o["latency_ms"] == pytest.approx(predict("gpt2-small", "xeon-gold-6154", 64, weights="bf16").latency_ms)


@pytest.mark.parametrize("argv", [["trace", "record", "--model", "gpt2-small", "--context", "8", "--out", "t.json"],
                                  ["trace", "record", "--model", "gpt2-small", "--context", "8", "--out", "t.json",
                                   "--device", "cpu"]])
def test_trace_record_without_torch_blames_the_missing_package(monkeypatch, capsys, tmp_path, argv):
    """Without PyTorch the error names the command and the missing package, not --device (which was fine)."""
    monkeypatch.setitem(sys.modules, "torch", None)          # import torch -> ImportError
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "PyTorch" in err and "--device" not in err and len(err.strip().splitlines()) == 1


def _one_line_error(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    return err


def test_mode_on_pim_says_it_takes_none(capsys):
    err = _one_line_error(capsys, ["run", "--model", "gpt2-small", "--hw", "hbm-pim", "--mode", "eager"])
    assert "None" not in err and "takes no --mode" in err


def test_exponent_number_is_a_number_out_of_range(capsys):
    """1e9 is a number (YAML 1.1 reads it as a string): the error says the value is out of the range."""
    err = _one_line_error(capsys, ["run", "--model", "gpt2-small", "--hw", "t4", "--set", "memory.peak_gbps=1e9"])
    assert "out of range; allowed [0.1, 100000.0]" in err and "must be a number" not in err


@pytest.mark.parametrize("value", [-3, 0])
def test_timing_range_is_the_real_one(tmp_path, capsys, value):
    """nCL (CAS latency) must be at least one clock: the range stated is [1, ...], and 0 is outside it."""
    text = (ROOT / "hw_configs" / "dram" / "ddr4-3200.yaml").read_text()
    p = tmp_path / "s.yaml"
    p.write_text(text.replace("  nCL: 22", f"  nCL: {value}"))
    t = tmp_path / "t.txt"
    t.write_text("0x0 R\n")
    err = _one_line_error(capsys, ["dram", "--standard", str(p), str(t)])
    assert "timing.nCL" in err and "allowed [1, " in err


def test_dram_table_without_reads_says_na(tmp_path, capsys):
    t = tmp_path / "w.txt"
    t.write_text("0x0 W\n0x40 W\n")
    assert main(["dram", "--standard", "ddr4-3200", str(t)]) == 0
    line = [x for x in capsys.readouterr().out.splitlines() if x.startswith("read latency")][0]
    assert "n/a" in line and "0.0" not in line


# ---- found by a new user trying the CLI (session of 2026-11-29) ---------------------------------
def test_no_abbreviated_options(capsys):
    """``--mode`` must not silently mean ``--model`` (argparse abbreviations are off)."""
    p = build_parser()
    assert p.parse_args(["compare", "--hw", "h100", "--mode", "llamacpp"]).mode == "llamacpp"
    _err2(capsys, ["run", "--mod", "gpt2-small", "--hw", "h100"], "--mod")


def test_compare_takes_a_mode(capsys):
    """``compare --mode llamacpp`` runs GGUF weights on devices (it had no --mode)."""
    rc = main(["compare", "--model", "llama-3.2-1b", "--hw", "jetson-orin-nano-super", "--hw", "apple-m2-ultra",
               "--weights", "q4_k_m", "--mode", "llamacpp", "--json"])
    out = capsys.readouterr().out
    assert rc == 0
    rows = json.loads(out)
    assert [r["hw"] for r in rows] == ["jetson-orin-nano-super", "apple-m2-ultra"] and rows[0]["latency_ms"] > 0


def test_gguf_weights_without_llamacpp_mode_say_how(capsys):
    _err2(capsys, ["run", "--model", "llama-3.2-1b", "--hw", "jetson-orin-nano-super", "--weights", "q4_k_m"],
          "--mode llamacpp")


def test_model_folder_with_config_json(tmp_path):
    """A downloaded model's folder (holding config.json) works where a config.json path does."""
    from simulator.workload.model import load_model
    cfg = {"model_type": "llama", "hidden_size": 512, "intermediate_size": 1376, "num_hidden_layers": 4,
           "num_attention_heads": 8, "num_key_value_heads": 2, "vocab_size": 32000,
           "max_position_embeddings": 2048, "rms_norm_eps": 1e-5, "tie_word_embeddings": False}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    assert load_model(str(tmp_path)).param_count() == load_model(str(tmp_path / "config.json")).param_count() > 0
