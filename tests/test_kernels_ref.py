"""numpy golden kernels vs the PyTorch model on the same seeded weights."""

import numpy as np
import pytest

from kernels_ref import ReferenceLM
from kernels_ref import ops as K
from simulator.workload import load_model
from simulator.workload.weights import init_weights

torch = pytest.importorskip("torch")


def _compare(m, steps, dtype=np.float32):
    from simulator.workload.record import build_model, prompt_tokens
    W = init_weights(m, seed=3)
    ref = ReferenceLM(m, W, dtype=dtype, max_len=steps + 1)
    tm = build_model(m, weights=W, max_len=steps + 1, device="cpu")
    toks = prompt_tokens(m, 3, 1, steps)
    worst = 0.0
    for pos in range(steps):
        a = ref.step(toks[:, pos], pos)
        b = tm(torch.as_tensor(toks[:, pos]), pos).numpy()
        worst = max(worst, float(np.abs(a - b).max()))
    return worst


def test_gpt2_small_logits_match_pytorch():
    assert _compare(load_model("gpt2-small"), steps=5) < 1e-4


def test_llama_style_gqa_logits_match_pytorch():
    m = load_model("llama-3-8b").scaled(hidden=512, heads=8, kv_heads=2, layers=4, intermediate=1024,
                                        vocab=2000, max_positions=128)
    assert _compare(m, steps=12) < 1e-4


def test_fp64_reference_agrees_with_fp32():
    m = load_model("mistral-7b").scaled(hidden=256, heads=4, kv_heads=2, layers=2, intermediate=512, vocab=300)
    W = init_weights(m, 1)
    a = ReferenceLM(m, W, dtype=np.float32, max_len=8)
    b = ReferenceLM(m, W, dtype=np.float64, max_len=8)
    for pos in range(6):
        la, lb = a.step([7], pos), b.step([7], pos)
    assert la.dtype == np.float32 and lb.dtype == np.float64
    assert np.abs(la - lb).max() < 1e-4


def test_kernels_against_definitions():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 16))
    assert np.allclose(K.softmax(x).sum(-1), 1)
    assert np.allclose(K.layernorm(x, np.ones(16), np.zeros(16), 0).mean(-1), 0, atol=1e-12)
    assert np.allclose((K.rmsnorm(x, np.ones(16), 0) ** 2).mean(-1), 1)
    # rotary preserves norms and is the identity at position 0
    q = rng.standard_normal((1, 2, 8))
    assert np.allclose(K.rope(q, 0, 10000.0), q)
    assert np.allclose(np.linalg.norm(K.rope(q, 17, 10000.0), axis=-1), np.linalg.norm(q, axis=-1))
    # GQA: repeating K/V heads by hand gives the same attention
    qh = rng.standard_normal((1, 4, 8))
    Kc = rng.standard_normal((1, 2, 5, 8))
    Vc = rng.standard_normal((1, 2, 5, 8))
    s = K.attn_score(qh, Kc)
    Kr = np.repeat(Kc, 2, axis=1)
    assert np.allclose(s, np.einsum("bhd,bhld->bhl", qh, Kr) / np.sqrt(8))
    o = K.attn_context(K.softmax(s), Vc)
    assert np.allclose(o.reshape(1, 4, 8), np.einsum("bhl,bhld->bhd", K.softmax(s), np.repeat(Vc, 2, axis=1)))
    assert np.allclose(K.gelu_tanh(np.array([0.0, 1.0])), [0.0, 0.8411920], atol=1e-6)
    assert np.allclose(K.silu_mul(np.array([0.0, 1.0]), np.array([2.0, 2.0])), [0.0, 2 * 0.7310585786])
