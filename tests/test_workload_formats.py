"""Weight formats: bytes by hand from the block layouts, llama.cpp's per-tensor mixes, and whole
GGUF files against their published sizes."""

import pytest

from simulator.errors import ConfigError
from simulator.workload import Workload, generate_trace, load_model
from simulator.workload.formats import FORMATS, resolve


# bytes per block and weights per block, by hand from ggml's block structs (fp16 = 2 B)
@pytest.mark.parametrize("name, block, nbytes", [
    ("q4_0", 32, 2 + 32 // 2),                  # d + nibbles
    ("q4_1", 32, 2 + 2 + 32 // 2),              # d, m + nibbles
    ("q5_0", 32, 2 + 4 + 32 // 2),              # d + 32 high bits + nibbles
    ("q5_1", 32, 2 + 2 + 4 + 32 // 2),
    ("q8_0", 32, 2 + 32),
    ("q2_k", 256, 256 // 16 + 256 // 4 + 2 + 2),           # scales, 2-bit qs, d, dmin
    ("q3_k", 256, 256 // 8 + 256 // 4 + 12 + 2),           # hmask, 2-bit qs, scales, d
    ("q4_k", 256, 2 + 2 + 12 + 256 // 2),
    ("q5_k", 256, 2 + 2 + 12 + 256 // 8 + 256 // 2),
    ("q6_k", 256, 256 // 2 + 256 // 4 + 256 // 16 + 2),    # ql, qh, scales, d
    ("iq4_xs", 256, 2 + 2 + 256 // 64 + 256 // 2),
    ("mxfp4", 32, 1 + 32 // 2),                 # E8M0 scale + 32 E2M1
    ("nvfp4", 16, 1 + 16 // 2),                 # E4M3 scale + 16 E2M1
])
def test_block_bytes(name, block, nbytes):
    f = FORMATS[name]
    assert f.group == block and f.block_bytes == nbytes
    assert f.matrix_bytes(4, 4 * block) == 16 * nbytes


def test_bits_per_weight_by_hand():
    assert FORMATS["q4_0"].bits_per_weight == 18 * 8 / 32 == 4.5
    assert FORMATS["q8_0"].bits_per_weight == 8.5
    assert FORMATS["q6_k"].bits_per_weight == 210 * 8 / 256
    assert FORMATS["gptq"].bits_per_weight == 4 + (2 + 0.5) * 8 / 128      # fp16 scale + 4-bit zero
    assert FORMATS["marlin"].bits_per_weight == 4 + 2 * 8 / 128
    assert resolve("exl2-4.65").matrix_bytes(100, 100) == pytest.approx(100 * 100 * 4.65 / 8)
    assert FORMATS["fp8_e4m3"].matrix_bytes(3, 5) == 15


def test_gptq_group_size_and_errors():
    m = load_model("llama-2-7b")
    w = Workload(m, weights="gptq", group_size=32)
    assert w.matrix_bytes(4096, 4096) == 4096 * 4096 // 2 + 4096 * 4096 // 32 * 2.5
    with pytest.raises(ConfigError, match="group_size"):
        Workload(m, weights="q4_0", group_size=64)          # a GGUF block is fixed
    with pytest.raises(ConfigError, match="weights"):
        Workload(m, weights="q4_k_x")
    with pytest.raises(ConfigError, match="does not divide"):
        Workload(m, weights="q4_0").matrix_bytes(10, 33)


def _use_more_bits(i, n):
    # llama-quant.cpp: i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def test_q4_k_m_mix_llama_2_7b():
    """32 layers: attn_v and ffn_down are Q6_K in layers 0-3, 6, 9, ..., 27, 28-31 (16 layers),
    the rest Q4_K; the output is Q6_K; the untied token table stays Q4_K."""
    m = load_model("llama-2-7b")
    w = Workload(m, weights="q4_k_m")
    promoted = [i for i in range(32) if _use_more_bits(i, 32)]
    assert promoted == [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31]
    tr = generate_trace(w, 0)
    types = {o.name: o.dtype for o in tr.ops}
    for i in range(32):
        want = "q6_k" if i in promoted else "q4_k"
        assert types[f"layers.{i}.attn.v"] == want and types[f"layers.{i}.mlp.down"] == want
        assert types[f"layers.{i}.attn.q"] == types[f"layers.{i}.mlp.up"] == "q4_k"
    assert types["lm_head"] == "q6_k" and types["embed"] == "q4_k"
    head = [o for o in tr.ops if o.kind == "lm_head"][0]
    assert head.weight_bytes == 32000 * 4096 // 256 * 210


def test_k_quant_fallback_on_rows_not_multiple_of_256():
    """Qwen2.5-0.5B (hidden 896 = 3.5 x 256): Q4_K tensors with 896-wide rows fall back to
    Q5_0, the tied output/embedding to Q8_0 (llama-quant.cpp)."""
    m = load_model("qwen-2.5-0.5b")
    tr = generate_trace(Workload(m, weights="q4_k_m"), 0)
    types = {o.name: o.dtype for o in tr.ops}
    assert types["layers.0.attn.q"] == "q5_0"
    assert types["layers.4.mlp.down"] == "q4_k"          # row 4864 = 19 x 256; 24 layers: 4 not promoted
    assert types["layers.0.mlp.down"] == "q6_k"
    assert types["lm_head"] == "q8_0"


def test_mixtral_overrides():
    m = load_model("mixtral-8x7b")
    types = {o.name: o.dtype for o in generate_trace(Workload(m, weights="q4_k_m"), 0).ops}
    assert types["layers.5.attn.v"] == types["layers.5.attn.k"] == "q8_0"
    assert types["layers.5.attn.out"] == "q5_k"


def _gguf_file_gb(model, weights):
    """All tensors of a GGUF file: matrices in their types, the whole token table, f32 norms."""
    m = load_model(model)
    w = Workload(m, weights=weights)
    d, q, kv, f = m.hidden, m.q_dim, m.kv_dim, m.intermediate
    t = w.matrix_bytes(m.vocab, d, "embed", -1) + w.matrix_bytes(m.vocab, d, "lm_head", m.layers)
    for i in range(m.layers):
        for role, n, k in (("attn.q", q, d), ("attn.k", kv, d), ("attn.v", kv, d), ("attn.out", d, q),
                           ("mlp.gate", f, d), ("mlp.up", f, d), ("mlp.down", d, f)):
            t += w.matrix_bytes(n, k, role, i)
    return (t + 4 * d * (2 * m.layers + 1)) / 1e9


# TheBloke/Llama-2-7B-GGUF README, "Provided files" table, Size column (GB)
@pytest.mark.parametrize("weights, size_gb", [("q4_0", 3.83), ("q4_k_s", 3.86), ("q4_k_m", 4.08),
                                              ("q5_0", 4.65), ("q5_k_m", 4.78), ("q6_k", 5.53),
                                              ("q8_0", 7.16)])
def test_gguf_file_sizes_llama_2_7b(weights, size_gb):
    assert _gguf_file_gb("llama-2-7b", weights) == pytest.approx(size_gb, abs=0.006)


@pytest.mark.parametrize("alias,name", [("F16", "fp16"), ("f32", "fp32"), ("Q4_K_M", "q4_k_m"), ("fp8", "fp8_e4m3"),
                                        ("exl2-4.65", "exl2-4.65"), ("AWQ", "awq")])
def test_weight_aliases(alias, name):
    assert Workload(load_model("llama-2-7b"), weights=alias).weights == name


@pytest.mark.parametrize("alias,key", [("Llama-3.2-3B-Instruct", "llama-3.2-3b"), ("Qwen2.5-7B", "qwen-2.5-7b"),
                                       ("Meta-Llama-3-8B", "llama-3-8b"), ("mistral-7b-v0.1", "mistral-7b"),
                                       ("llama3.2:3b", "llama-3.2-3b"), ("phi-3-mini-4k-instruct", "phi-3-mini")])
def test_model_name_spellings(alias, key):
    assert load_model(alias).name == key
