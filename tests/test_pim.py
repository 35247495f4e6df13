"""PIM: all-bank command streams are legal, memoisation is exact, the system model holds together."""

import pytest

from simulator.dram.checker import check_log
from simulator.errors import ConfigError
from simulator.pim import list_pims, load_pim
from simulator.pim.lowering import _gemv_cost, gemv_cost, gemv_stream, run_stream
from simulator.pim.system import simulate_token
from simulator.workload import Workload, generate_trace, load_model

GPT = ["gpt2-small", "gpt2-medium", "gpt2-large", "gpt2-xl", "gpt3-small", "gpt3-medium", "gpt3-large", "gpt3-xl"]


def _rows(pim, log):
    nl = pim.std.n_levels
    return [(int(r[0]), pim.std.commands[r[1]], *[int(x) for x in r[2:2 + nl + 2]]) for r in log]


def _streams_of(pim, model, context):
    """Per-channel command streams of every distinct GEMV/attention shape of one token."""
    tr = generate_trace(Workload(load_model(model)), context)
    shapes = set()
    for op in tr.ops:
        if op.kind in ("gemv", "lm_head"):
            shapes.add((-(-op.shape["n"] // pim.std.channels), op.shape["k"]))
        elif op.kind == "attn_score":
            shapes.add((op.shape["context"], op.shape["head_dim"]))
        elif op.kind == "attn_context":
            shapes.add((op.shape["head_dim"], op.shape["context"]))
    return sorted(shapes)


@pytest.mark.parametrize("model", GPT)
def test_pim_streams_of_every_gpt_model_pass_the_checker(model):
    pim = load_pim("pim-gpt-gddr6")
    for n_c, k in _streams_of(pim, model, 256):
        log, _ = run_stream(pim, *gemv_stream(pim, n_c, k))
        assert check_log(pim.std, _rows(pim, log)) == [], (model, n_c, k)


def test_checker_catches_pim_state_errors():
    pim = load_pim("pim-gpt-gddr6")
    log, _ = run_stream(pim, *gemv_stream(pim, 64, 1024))
    rows = _rows(pim, log)
    k = next(i for i, r in enumerate(rows) if r[1] == "PREab")
    assert "bank-state" in {v.rule for v in check_log(pim.std, rows[:k] + rows[k + 1:])}    # ACTab on open banks
    k = next(i for i, r in enumerate(rows) if r[1] == "MACab")
    bad = list(rows)
    bad[k] = bad[k][:2] + bad[k][2:2 + pim.std.n_levels] + (bad[k][2 + pim.std.n_levels] + 1,) + bad[k][3 + pim.std.n_levels:]
    assert "bank-state" in {v.rule for v in check_log(pim.std, bad)}                         # MAC on a closed row
    early = list(rows)
    k = next(i for i, r in enumerate(rows) if r[1] == "MACab")
    early[k] = (early[k - 1][0] + 1,) + early[k][1:]
    assert any(v.rule.startswith("constraint") for v in check_log(pim.std, early))          # MAC before tRCD


def test_memoised_and_full_simulation_agree():
    pim = load_pim("pim-gpt-gddr6")
    w = Workload(load_model("gpt2-small").scaled(layers=3, name="gpt2-3l"))
    a = simulate_token(pim, w, 200, memo=True).latency_ns
    b = simulate_token(pim, w, 200, memo=False).latency_ns
    assert abs(a - b) <= 0.005 * b


def test_row_hits_and_time_scale_with_work():
    pim = load_pim("pim-gpt-gddr6")
    small, big = gemv_cost(pim, 4096, 4096), gemv_cost(pim, 8192, 4096)
    assert 0.97 < small.row_hit_rate < 1.0
    assert big.ns == pytest.approx(2 * small.ns, rel=0.05)
    # lower bound: each bank does k/16 MAC steps per output at one step per nMAC cycles
    steps = -(-4096 // pim.std.channels // pim.banks) * 4096 // 16
    assert small.cycles >= steps * pim.mac_interval_cycles
    assert _gemv_cost(pim, 512, 4096).cycles == small.cycles


def test_presets():
    assert {"pim-gpt-gddr6", "aim-gddr6", "hbm-pim"} <= set(list_pims())
    p = load_pim("pim-gpt-gddr6")
    assert (p.std.channels, p.banks, p.mac["lanes"], p.mac["precision"]) == (8, 16, 16, "bf16")
    h = load_pim("hbm-pim")
    assert h.mac_interval_cycles > p.mac_interval_cycles          # 300 MHz units shared by two banks
    assert gemv_cost(h, 4096, 4096).ns > gemv_cost(p, 4096, 4096).ns / 2


def test_token_breakdown_and_energy():
    s = simulate_token(load_pim("pim-gpt-gddr6"), Workload(load_model("gpt3-xl")), 128)
    assert s.latency_ns == pytest.approx(sum(s.breakdown_ns.values()))
    assert s.breakdown_ns["pim_gemv"] > 0.7 * s.latency_ns
    assert all(v > 0 for v in s.energy_pj.values())
    assert 0.97 < s.row_hit_rate < 1.0


def test_bad_pim_preset(bad_config):
    import yaml

    from simulator.pim.config import PIM_DIR
    d = yaml.safe_load((PIM_DIR / "pim-gpt-gddr6.yaml").read_text())
    d["dram"] = "ddr4-3200"
    bad_config(d, load_pim, "no PIM commands", name="p.yaml")
    with pytest.raises(ConfigError, match="available"):
        load_pim("nope")


def test_compare_cli(capsys):
    from simulator.cli import main
    assert main(["compare", "--workload", "gpt2-small", "--hw", "pim-gpt-gddr6", "--hw", "t4"]) == 0
    out = capsys.readouterr().out
    assert "pim-gpt-gddr6" in out and "t4" in out and "pim_gemv" in out
    assert "published 41-137x" in out


def test_compare_against_published_bands(tmp_path):
    import pandas as pd

    from simulator.pim.compare import against_published
    df = pd.DataFrame({"hw": ["pim", "gpu", "pim", "gpu"], "speedup_of_first": [1.0, 20.0, 1.0, 50.0],
                       "energy_ratio_of_first": [1.0, 5.0, 1.0, 6.0]})
    bands = tmp_path / "b.csv"
    bands.write_text("reference,baseline,metric,low,high,models,source\n"
                     "pim,gpu,speedup,41,137,8,x\npim,gpu,energy_ratio,1,5.5,8,y\npim,cpu,speedup,1,2,8,z\n")
    r = against_published(df, bands).set_index("metric")
    assert list(r.index) == ["speedup", "energy_ratio"]           # no cpu rows compared: none ran
    assert (r.loc["speedup", "ours_low"], r.loc["speedup", "ours_high"]) == (20.0, 50.0)
    assert r.loc["speedup", "verdict"] == "overlaps" and r.loc["energy_ratio", "verdict"] == "overlaps"
    df.loc[3, "speedup_of_first"] = 30.0
    assert against_published(df, bands).set_index("metric").loc["speedup", "verdict"] == "below"


def test_pim_gpt_reproduction_doc_is_current(tmp_path):
    """docs/pim_gpt_reproduction.md is what validation/pim_gpt_reproduction.py writes today."""
    import importlib.util
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("pgr", root / "validation" / "pim_gpt_reproduction.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.build(tmp_path / "doc.md")
    assert out.read_text() == (root / "docs" / "pim_gpt_reproduction.md").read_text()
