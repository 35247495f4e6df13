"""Decode traces: totals against independent arithmetic, file format, generated vs recorded."""

import json

import pytest

from simulator.errors import ConfigError
from simulator.workload import Workload, generate_trace, load_model
from simulator.workload.trace_io import diff_traces, read_trace, write_trace


def _tiny_gqa():
    return load_model("qwen-2.5-7b").scaled(name="qwen-tiny", hidden=128, heads=8, kv_heads=2, layers=2,
                                            intermediate=256, vocab=500, max_positions=64)


def test_llama_bytes_per_token_is_two_bytes_per_parameter_plus_kv():
    m = load_model("llama-2-7b")
    w = Workload(m)
    t = generate_trace(w, 2048).totals()
    d, V = m.hidden, m.vocab
    # every parameter is read once in bf16, except the V-1 token-table rows the lookup skips
    assert t["weight_bytes"] == 2 * (m.param_count() - (V - 1) * d)
    assert t["kv_read_bytes"] == 2049 * 2 * 32 * 32 * 128 * 2
    assert t["kv_write_bytes"] == 2 * 32 * 32 * 128 * 2
    # activations are well under 1% of the total
    assert t["act_read_bytes"] + t["act_write_bytes"] < 0.005 * t["bytes"]


def test_gpt2_tied_head_reads_the_table():
    m = load_model("gpt2-small")
    t = generate_trace(Workload(m), 100).totals()
    d = m.hidden
    unread_positions = (m.max_positions - 1) * d
    assert t["weight_bytes"] == 2 * (m.param_count() - unread_positions + d)


def test_flops_are_twice_the_matrix_parameters_plus_attention():
    m = load_model("mistral-7b")
    tr = generate_trace(Workload(m), 1000)
    mm = sum(o.flops for o in tr.ops if o.kind in ("gemv", "lm_head"))
    mat_params = m.layers * (m.params_per_layer() - 2 * m.hidden) + m.vocab * m.hidden
    assert mm == 2 * mat_params
    attn = sum(o.flops for o in tr.ops if o.kind in ("attn_score", "attn_context"))
    assert attn == m.layers * 2 * 2 * m.heads * m.head_dim * 1001


def test_quantized_weights_and_kv_window():
    m = load_model("llama-2-7b")
    bf = generate_trace(Workload(m), 4096).totals()
    q = generate_trace(Workload(m, weights="int4", kv="int8", kv_window=1024), 4096)
    t = q.totals()
    lin = m.layers * (m.params_per_layer() - 2 * m.hidden)
    # int4, group 128 with fp16 scale + zero: 0.5 B + 4/128 B per weight; head and embedding stay 16-bit
    expect = lin // 2 + lin // 128 * 4 + 2 * m.layers * 2 * m.hidden + 2 * m.hidden + 2 * m.vocab * m.hidden + 2 * m.hidden
    assert t["weight_bytes"] == expect
    assert t["kv_read_bytes"] == 1024 * m.layers * 2 * m.kv_dim * 1
    assert q.header["attended"] == 1024
    assert t["bytes"] < bf["bytes"] / 3


def test_batch_makes_gemm_and_scales_kv_not_weights():
    m = load_model("llama-3-8b")
    t1 = generate_trace(Workload(m), 512)
    t4 = generate_trace(Workload(m, batch=4), 512)
    assert {o.kind for o in t4.ops} >= {"gemm"} and "gemv" not in {o.kind for o in t4.ops}
    assert t4.totals()["weight_bytes"] == t1.totals()["weight_bytes"] + 3 * m.hidden * 2
    assert t4.totals()["kv_read_bytes"] == 4 * t1.totals()["kv_read_bytes"]


def test_context_out_of_range_for_learned_positions():
    with pytest.raises(ConfigError, match="context"):
        generate_trace(Workload(load_model("gpt2-small")), 5000)


def test_bad_group_size():
    with pytest.raises(ConfigError, match="group_size"):
        generate_trace(Workload(load_model("gpt2-small"), weights="int4", group_size=100), 10)


def test_file_round_trip_and_errors(tmp_path):
    tr = generate_trace(Workload(_tiny_gqa()), 10)
    p = tmp_path / "t.jsonl"
    write_trace(tr, p)
    back = read_trace(p)
    assert back.header == tr.header and diff_traces(tr, back) == []
    lines = p.read_text().splitlines()
    hdr = json.loads(lines[0])
    hdr["version"] = 99
    (tmp_path / "v.jsonl").write_text("\n".join([json.dumps(hdr)] + lines[1:]))
    with pytest.raises(ConfigError, match="version"):
        read_trace(tmp_path / "v.jsonl")
    bad = json.loads(lines[1])
    bad["kind"] = "conv2d"
    (tmp_path / "k.jsonl").write_text("\n".join([lines[0], json.dumps(bad)]))
    with pytest.raises(ConfigError, match="line 2: kind"):
        read_trace(tmp_path / "k.jsonl")
    (tmp_path / "j.jsonl").write_text(lines[0] + "\n{not json\n")
    with pytest.raises(ConfigError, match="line 2"):
        read_trace(tmp_path / "j.jsonl")


torch = pytest.importorskip("torch")


@pytest.mark.parametrize("model,context,batch", [("gpt2-small", 6, 1), ("gqa-tiny", 9, 1), ("gqa-tiny", 5, 3),
                                                 ("opt-tiny", 4, 1)])
def test_generated_trace_matches_recorded_op_for_op(model, context, batch):
    from simulator.workload.record import record_decode
    if model == "gqa-tiny":
        m = _tiny_gqa()
    elif model == "opt-tiny":
        m = load_model("opt-1.3b").scaled(hidden=128, heads=4, kv_heads=4, layers=2, intermediate=512, vocab=300)
    else:
        m = load_model(model)
    rec = record_decode(m, context, batch=batch, device="cpu")
    gen = generate_trace(Workload(m, weights="fp32", kv="fp32", batch=batch), context)
    assert len(rec.ops) == len(gen.ops)
    assert [o.name for o in rec.ops] == [o.name for o in gen.ops]
    assert diff_traces(gen, rec) == []


def test_greedy_decode_feeds_back_its_argmax():
    from simulator.workload.record import build_model, greedy_decode, prompt_tokens
    m = _tiny_gqa()
    model = build_model(m, seed=2, batch=2, max_len=16, device="cpu")
    prompt = prompt_tokens(m, 2, 2, 3)
    toks, logits = greedy_decode(model, prompt, 5)
    assert toks.shape == (2, 5) and len(logits) == 5
    # each generated token is the argmax of the previous step's logits
    for s in range(1, 5):
        assert (toks[:, s] == logits[s - 1].argmax(-1)).all()
