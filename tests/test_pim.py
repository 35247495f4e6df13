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
    """Every stream of every schedule and dataflow is legal: 0 violations."""
    for sched in ("serial", "overlap"):
        for flow in ("asic_partial_sums", "result_latches"):
            pim = load_pim("pim-gpt-gddr6", {"schedule": sched, "dataflow": flow})
            for n_c, k in _streams_of(pim, model, 256):
                log, _ = run_stream(pim, *gemv_stream(pim, n_c, k))
                assert check_log(pim.std, _rows(pim, log)) == [], (model, sched, flow, n_c, k)


@pytest.mark.parametrize("hw", ["aim-gddr6", "hbm-pim"])
def test_other_presets_streams_pass_the_checker(hw):
    for sched in ("serial", "overlap"):
        pim = load_pim(hw, {"schedule": sched})
        for n_c, k in _streams_of(pim, "gpt2-small", 64):
            log, _ = run_stream(pim, *gemv_stream(pim, n_c, k))
            assert check_log(pim.std, _rows(pim, log)) == [], (hw, sched, n_c, k)


def test_dataflows_move_what_they_should():
    """Hand count for a (256 x 4096) GEMV on one channel, 16 banks, GB 1024 elements (4 chunks),
    8 latches, fp32 results, 32-byte bursts: outputs per bank 16 = 2 latch blocks.
    asic_partial_sums: GB written once per chunk (4 x 64 bursts), every partial sum read
    (4 x 256 x 4 B / 32 = 128 bursts). result_latches: chunks re-sent per block (2 x 4 x 64),
    finished outputs read once (256 x 4 / 32 = 32)."""
    ps = load_pim("pim-gpt-gddr6", {"dataflow": "asic_partial_sums", "channels": 1})
    la = load_pim("pim-gpt-gddr6", {"dataflow": "result_latches", "channels": 1})
    a, b = gemv_cost(ps, 256, 4096, memo=False), gemv_cost(la, 256, 4096, memo=False)
    assert (a.gb_writes, a.result_reads, a.partial_sums) == (256, 128, 256 * 3)
    assert (b.gb_writes, b.result_reads, b.partial_sums) == (512, 32, 0)
    assert a.macs == b.macs == 16 * 4096 // 16


def test_overlap_hides_transfers_in_the_bank_timing():
    """The same GEMV: the overlapped order is never slower, and its exposed data movement is
    smaller than the serial order's, which is at least the transfers' burst time."""
    s = load_pim("pim-gpt-gddr6", {"schedule": "serial"})
    o = load_pim("pim-gpt-gddr6", {"schedule": "overlap"})
    cs, co = gemv_cost(s, 2048, 8192, memo=False), gemv_cost(o, 2048, 8192, memo=False)
    assert cs.bank_ns == pytest.approx(co.bank_ns, rel=1e-3)
    assert co.ns < cs.ns
    burst_ns = s.std.timing["nBL"] * s.std.tck_ns
    assert cs.ns - cs.bank_ns >= 0.9 * (cs.gb_writes + cs.result_reads) * burst_ns
    assert co.ns - co.bank_ns < 0.8 * (cs.ns - cs.bank_ns)


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
    assert h.std.name == "HBM-PIM" and h.mac["precision"] == "fp16"
    assert h.mac_interval_cycles * h.std.tck_ns >= 2 * 1e3 / 300   # 300 MHz units shared by two banks
    assert "Wu, Wang, Lu" in p.source
    assert gemv_cost(h, 4096, 4096).ns > gemv_cost(p, 4096, 4096).ns / 2


@pytest.mark.parametrize("sched", ["serial", "overlap"])
def test_token_breakdown_and_energy(sched):
    import json

    from simulator.pim.system import result_dict
    s = simulate_token(load_pim("pim-gpt-gddr6", {"schedule": sched}), Workload(load_model("gpt3-xl")), 128)
    d = json.loads(json.dumps(result_dict(s)))
    assert set(d["breakdown_ns"]) == {"pim_gemv", "attention", "asic", "data_movement", "idle"}
    assert sum(d["breakdown_ns"].values()) == pytest.approx(d["latency_ms"] * 1e6, rel=1e-9)
    assert s.breakdown_ns["pim_gemv"] > 0.7 * s.latency_ns
    assert all(v > 0 for v in s.energy_pj.values())
    assert 0.97 < d["row_hit_rate"] < 1.0
    # the timeline is the engine's: every channel and the ASIC, ops within the latency
    tl = s.timeline
    assert {"ASIC", "PIM ch0", "PIM ch7"} <= set(tl.device)
    assert tl.end_ns.max() == pytest.approx(s.latency_ns) and (tl.start_ns >= 0).all()
    if sched == "serial":     # an op starts when the one before it (on any unit) has finished
        ch = tl[tl.device.isin(["ASIC", "PIM ch0"])].sort_values("start_ns")
        assert (ch.start_ns.values[1:] >= ch.end_ns.values[:-1] - 1e-6).all()
        assert s.breakdown_ns["idle"] == pytest.approx(0, abs=1e-6)


def test_overlap_is_faster_and_hides_asic_work():
    w = Workload(load_model("gpt2-medium"))
    s = simulate_token(load_pim("pim-gpt-gddr6", {"schedule": "serial"}), w, 128)
    o = simulate_token(load_pim("pim-gpt-gddr6", {"schedule": "overlap"}), w, 128)
    assert o.latency_ns < s.latency_ns
    assert o.breakdown_ns["asic"] < s.breakdown_ns["asic"]
    busy = o.timeline.groupby("device").apply(lambda t: (t.end_ns - t.start_ns).sum())
    assert busy["ASIC"] + busy["PIM ch0"] > o.latency_ns          # the units did overlap


def test_overrides_use_the_sweep_paths_and_validate():
    p = load_pim("pim-gpt-gddr6", {"asic.clock_mhz": "100", "pim.channels": 16})
    assert (p.asic["clock_mhz"], p.std.channels) == (100, 16)
    assert p.key != load_pim("pim-gpt-gddr6").key                  # memo keys differ
    with pytest.raises(ConfigError, match="asic.nope"):
        load_pim("pim-gpt-gddr6", {"asic.nope": 1})
    with pytest.raises(ConfigError, match="schedule"):
        load_pim("pim-gpt-gddr6", {"schedule": "eager"})
    with pytest.raises(ConfigError, match="channels"):
        load_pim("pim-gpt-gddr6", {"channels": 0})


def test_pipelined_asic_depth_is_latency_not_throughput():
    """Hand derivation from the functional core's step counts: an element-wise GELU over 8192
    elements on 64 lanes takes 8192/64 = 128 cycles plus its depth; doubling the elements adds
    128 cycles, not 128 x depth."""
    from simulator.pim.asic import asic_cycles, op_shape
    from simulator.pim.functional import EXP_TAYLOR_DEGREE, RECIP_NEWTON_STEPS
    depth = sum(op_shape("activation", "gelu", 64)[1])
    assert depth == 5 + 1 + (6 + 2 * EXP_TAYLOR_DEGREE + 3) + 1 + (3 + 3 * RECIP_NEWTON_STEPS) + 5
    a = asic_cycles("activation", "gelu", 1, 8192, 64, 1024)
    b = asic_cycles("activation", "gelu", 1, 16384, 64, 1024)
    assert a.total == 128 + depth and b.total - a.total == 128
    ln = asic_cycles("layernorm", "", 1, 2048, 64, 1024)
    assert ln.total > 3 * 32 and ln.tail > 2 * 32                  # three passes, two after the last input


def test_published_peak_rates_of_aim_and_hbm_pim():
    """Peak MAC rate from the presets' organisation and command table against the published
    figures (validation/data/published/pim_designs.csv): AiM 1 TFLOPS per 16 Gb/s chip
    (2 channels); HBM-PIM 1.2 TFLOPS per cube (16 PIM pseudo-channels, 300 MHz PCUs)."""
    import pandas as pd
    from pathlib import Path
    pub = pd.read_csv(Path(__file__).resolve().parents[1] / "validation/data/published/pim_designs.csv")
    pub = pub.set_index("design")
    for hw, channels in (("aim-gddr6", 2), ("hbm-pim", 16)):
        p = load_pim(hw)
        flops = channels * p.banks * p.mac["lanes"] * 2 / (p.mac_interval_cycles * p.std.tck_ns * 1e-9)
        assert flops == pytest.approx(pub.loc[hw, "tflops"] * 1e12, rel=0.05), hw
    # AiM's MAC cadence: one all-bank MACab per ns; a GEMV whose input fits the buffer keeps most
    # of it (ACTab/PREab per 1 KB row cost the rest: 128 MAC cycles per tRCD + tRP + tRTP)
    aim = load_pim("aim-gddr6")
    assert aim.mac_interval_cycles * aim.std.tck_ns == pytest.approx(pub.loc["aim-gddr6", "mac_interval_ns"])
    c = gemv_cost(aim, 4096 * 16, 1024, memo=False)
    t = aim.std.timing
    row = 64 * t["nMAC"]
    assert c.macs * t["nMAC"] * aim.std.tck_ns / c.ns == pytest.approx(row / (row + t["nRCDRD"] + t["nRP"] + t["nRTP"]),
                                                                        rel=0.1)


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
