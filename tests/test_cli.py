import json

import numpy as np
import pandas as pd

from simulator.cli import main
from simulator.dram.trace_io import write_trace


def _trace(tmp_path, n=300, seed=0):
    rng = np.random.default_rng(seed)
    p = tmp_path / "t.trace"
    write_trace(p, rng.integers(0, 1 << 24, n) * 64, rng.random(n) < 0.3)
    return p


def test_dram_json_and_command_log(tmp_path, capsys):
    p = _trace(tmp_path)
    out_csv = tmp_path / "cmds.csv"
    assert main(["dram", str(p), "--standard", "ddr4-3200", "--json", "--check", "--commands", str(out_csv)]) == 0
    o = json.loads(capsys.readouterr().out)
    assert o["requests"] == 300 and o["checker_violations"] == 0
    assert 0 < o["achieved_gbps"] < o["peak_gbps"]
    assert o["row_hits"] + o["row_misses"] + o["row_conflicts"] == 300
    assert o["energy_pj"]["total_pj"] > 0
    log = pd.read_csv(out_csv)
    assert list(log.columns[:3]) == ["cycle", "command", "channel"]
    assert (log.command == "RD").sum() + (log.command == "WR").sum() == 300


def test_dram_address_first_format_and_channels(tmp_path, capsys):
    p = tmp_path / "rw.trace"
    p.write_text("# comment\n0x0 R\n0x40 W\n0x80 R\n")
    assert main(["dram", str(p), "--standard", "hbm2", "--channels", "2", "--json"]) == 0
    o = json.loads(capsys.readouterr().out)
    assert o["channels"] == 2 and o["reads"] == 2 and o["writes"] == 1


def test_dram_table_output(tmp_path, capsys):
    assert main(["dram", str(_trace(tmp_path)), "--standard", "lpddr5-6400"]) == 0
    out = capsys.readouterr().out
    assert "bandwidth" in out and "GB/s" in out and "pJ/bit" in out


def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys):
    p = tmp_path / "bad.trace"
    p.write_text("LD 0x10\nXX 0x20\n")
    assert main(["dram", str(p), "--standard", "ddr4-3200"]) == 2
    err = capsys.readouterr().err
    assert "bad.trace: line 2" in err and "Traceback" not in err
    assert main(["dram", str(_trace(tmp_path)), "--standard", "nope"]) == 2
    assert "available:" in capsys.readouterr().err
    assert main(["dram", str(_trace(tmp_path)), "--standard", "ddr4-3200", "--mapping", "XX"]) == 2
    assert main(["dram", str(_trace(tmp_path)), "--standard", "ddr4-3200", "--channels", "3000"]) == 2


def test_demo_runs(tmp_path, capsys):
    from simulator import demo
    out_dir = tmp_path / "out"               # absent, as `out/` is on a fresh clone (.gitignore)
    assert demo.main(out_dir=out_dir, models=["gpt2-small", "gpt3-xl"]) == 0
    out = capsys.readouterr().out
    assert "pim-gpt-gddr6" in out and "t4" in out and "xeon-gold-6154" in out
    assert (out_dir / "demo_speedup.png").stat().st_size > 10_000
    assert (out_dir / "demo_speedup.pdf").stat().st_size > 1_000


def test_trace_show_llama_2_7b(capsys):
    from simulator.workload import load_model
    assert main(["trace", "show", "--model", "llama-2-7b", "--context", "2048"]) == 0
    out = capsys.readouterr().out
    m = load_model("llama-2-7b")
    p = m.param_count()
    kv = 2 * 32 * 32 * 128 * 2 * 2049
    assert f"{2 * p + kv:,d}" in out                      # 2 B x parameters + KV bytes
    assert f"{2 * p + kv - 2 * (m.vocab - 1) * m.hidden:,d} B of weights+KV" in out
    assert "total bytes per token" in out and "flop/B" in out


def test_trace_generate_record_diff(tmp_path, capsys):
    import pytest
    pytest.importorskip("torch")
    g, r = tmp_path / "g.jsonl", tmp_path / "r.jsonl"
    assert main(["trace", "generate", "--model", "gpt2-small", "--context", "5", "--weights", "fp32", "--kv", "fp32",
                 "--out", str(g)]) == 0
    assert main(["trace", "record", "--model", "gpt2-small", "--context", "5", "--device", "cpu", "--out", str(r)]) == 0
    assert main(["trace", "diff", str(g), str(r)]) == 0
    assert "agree op for op" in capsys.readouterr().out
    b = tmp_path / "b.jsonl"
    assert main(["trace", "generate", "--model", "gpt2-small", "--context", "6", "--out", str(b)]) == 0
    assert main(["trace", "diff", str(g), str(b)]) == 1
    assert main(["trace", "show", str(b)]) == 0
    assert main(["trace", "show", "--model", "nope"]) == 2
