"""Plots (files exist, non-empty, both formats), timeline export, configs list/check."""

import json

import pytest

from simulator.cli import main


@pytest.mark.parametrize("kind,extra", [
    ("speedup", ["--workload", "gpt2-small", "--workload", "gpt2-medium"]),
    ("breakdown", ["--workload", "gpt2-small"]),
    ("roofline", ["--workload", "gpt2-small", "--hw", "l4"]),
    ("context", ["--workload", "gpt2-small", "--contexts", "64,256", "--hw", "pim-gpt-gddr6", "--hw", "l4"]),
    ("validation", []),
])
def test_plots_write_png_and_pdf(tmp_path, kind, extra, capsys):
    stem = tmp_path / kind
    assert main(["plot", kind, "--out", str(stem)] + extra) == 0
    assert stem.with_suffix(".png").stat().st_size > 10_000
    assert stem.with_suffix(".pdf").stat().st_size > 1_000


def test_pareto_plot_from_a_sweep(tmp_path):
    import yaml
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump({"name": "p", "base": {"hw": "pim-gpt-gddr6", "workload": {"model": "gpt2-small",
                                    "context": 64}}, "axes": {"pim.channels": [4, 8, 16], "pim.mac.clock_mhz": [500, 1000]}}))
    store = tmp_path / "r.parquet"
    assert main(["sweep", str(spec), "--out", str(store), "--workers", "1", "--quiet"]) == 0
    assert main(["plot", "pareto", "--store", str(store), "--out", str(tmp_path / "pareto")]) == 0
    assert (tmp_path / "pareto.png").stat().st_size > 10_000


@pytest.mark.parametrize("hw", ["pim-gpt-gddr6", "l4"])
def test_timeline_export_is_chrome_trace(tmp_path, hw, capsys):
    out = tmp_path / "t.json"
    assert main(["run", "--model", "gpt2-small", "--hw", hw, "--context", "64", "--timeline", str(out)]) == 0
    d = json.loads(out.read_text())
    ev = [e for e in d["traceEvents"] if e["ph"] == "X"]
    names = {e["args"]["name"] for e in d["traceEvents"] if e["ph"] == "M" and e["name"] == "thread_name"}
    assert len(ev) > 100 and all(e["dur"] >= 0 for e in ev)
    assert len(names) >= 1 and all(isinstance(e["ts"], float) for e in ev)
    if hw.startswith("pim"):
        assert names == {"ASIC"} | {f"PIM ch{c}" for c in range(8)}     # one track per channel (8) and the ASIC


def test_configs_list_and_check(tmp_path, capsys):
    assert main(["configs", "list"]) == 0
    out = capsys.readouterr().out
    for kind in ("dram:", "device:", "runtime:", "pim:", "model:", "sweep:"):
        assert kind in out
    assert main(["configs", "check"]) == 0
    assert "0 failed" in capsys.readouterr().out
    bad = tmp_path / "mine.yaml"
    bad.write_text("name: x\nfamily: llama\nsource: me\nlayers: 2\nhidden: 64\nheads: 3\nkv_heads: 1\n"
                   "intermediate: 128\nvocab: 100\nmax_positions: 64\nnorm: rmsnorm\nactivation: silu\nmlp: gated\n"
                   "position: rope\nbias: false\nqkv_bias: false\ntied_embeddings: false\n")
    assert main(["configs", "check", str(bad)]) == 1
    assert "multiple of heads" in capsys.readouterr().out
