"""The PIM functional core against PyTorch fp32 and the numpy golden kernels."""

import math

import numpy as np
import pytest

from kernels_ref import ReferenceLM
from simulator.pim.functional import (PimFunctionalLM, asic_exp, asic_gelu, asic_reciprocal, asic_rsqrt,
                                      asic_softmax, bf16_weights, pim_gemv, to_bf16)
from simulator.workload import load_model
from simulator.workload.weights import init_weights

torch = pytest.importorskip("torch")


def test_bf16_rounding_is_round_to_nearest_even():
    x = np.array([1.0, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -7, -2.5, 3.0e38], np.float32)
    got = to_bf16(x)
    assert list(got[:4]) == [1.0, 1.0, 1 + 2 ** -6, 1 + 2 ** -7]
    assert got[4] == -2.5
    assert (to_bf16(got) == got).all()
    bits = got.view(np.uint32)
    assert (bits & 0xFFFF == 0).all()


def test_asic_approximations():
    x = np.linspace(-30, 30, 2001).astype(np.float32)
    assert np.max(np.abs(asic_exp(x) / np.exp(x.astype(np.float64)) - 1)) < 5e-6
    y = np.geomspace(1e-3, 1e6, 500).astype(np.float32)
    assert np.max(np.abs(asic_reciprocal(y) * y - 1)) < 1e-6
    assert np.max(np.abs(asic_rsqrt(y) * np.sqrt(y.astype(np.float64)) - 1)) < 1e-6
    s = np.random.default_rng(0).standard_normal(300).astype(np.float32) * 4
    ref = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
    assert np.max(np.abs(asic_softmax(s) - ref)) < 1e-6
    g = np.linspace(-6, 6, 101).astype(np.float32)
    exact = 0.5 * g * (1 + np.tanh(math.sqrt(2 / math.pi) * (g + 0.044715 * g ** 3)))
    assert np.max(np.abs(asic_gelu(g) - exact)) < 1e-5


def test_pim_gemv_matches_bf16_math_and_bf16_accumulation_is_worse():
    rng = np.random.default_rng(1)
    w = to_bf16(rng.standard_normal((64, 4096)).astype(np.float32))
    x = to_bf16(rng.standard_normal(4096).astype(np.float32))
    exact = w.astype(np.float64) @ x.astype(np.float64)
    y32 = pim_gemv(w, x, 16, False)
    y16 = pim_gemv(w, x, 16, True)
    e32 = np.abs(y32 - exact).max()
    e16 = np.abs(y16 - exact).max()
    assert e32 < 1e-3 < e16


def test_asic_partial_sums_agree_with_the_exact_product():
    """The ASIC-side partial-sum dataflow (accumulator restarted per GB chunk, partials added in
    fp32) is as accurate as one accumulator over the whole row, and differs from it only by
    rounding order."""
    rng = np.random.default_rng(2)
    w = to_bf16(rng.standard_normal((64, 8192)).astype(np.float32))
    x = to_bf16(rng.standard_normal(8192).astype(np.float32))
    exact = w.astype(np.float64) @ x.astype(np.float64)
    one, parts = pim_gemv(w, x, 16, False, 0), pim_gemv(w, x, 16, False, 1024)
    assert not np.array_equal(one, parts)
    assert np.abs(parts - exact).max() < 2e-3 and np.abs(one - exact).max() < 2e-3
    assert np.array_equal(pim_gemv(w[:, :1024], x[:1024], 16, False, 1024), pim_gemv(w[:, :1024], x[:1024], 16, False, 0))


@pytest.mark.parametrize("dataflow", ["asic_partial_sums", "result_latches"])
@pytest.mark.parametrize("name", ["gpt2-small", "gpt2-medium"])
def test_greedy_tokens_match_pytorch_over_32_steps(name, dataflow):
    from simulator.pim import load_pim
    from simulator.workload.record import build_model, prompt_tokens
    m = load_model(name)
    W = bf16_weights(init_weights(m, 0))           # the seeded weights as the PIM stores them
    pim = PimFunctionalLM(m, W, pim=load_pim("pim-gpt-gddr6", {"dataflow": dataflow}), max_len=40)
    assert pim.chunk == (1024 if dataflow == "asic_partial_sums" else 0)
    tm = build_model(m, weights=W, max_len=40, device="cpu")
    ref = ReferenceLM(m, W, dtype=np.float64, max_len=40)
    tok = int(prompt_tokens(m, 0, 1, 1)[0, 0])
    t_pim, t_torch = tok, tok
    cos_min, err_max, err_ref = 1.0, 0.0, 0.0
    for pos in range(32):
        a = pim.step(t_pim, pos)
        b = tm(torch.tensor([t_torch]), pos).numpy()[0]
        r = ref.step([t_pim], pos)[0]
        cos_min = min(cos_min, float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
        err_max = max(err_max, float(np.abs(a - b).max()))
        err_ref = max(err_ref, float(np.abs(a - r).max()))
        t_pim, t_torch = int(a.argmax()), int(b.argmax())
        assert t_pim == t_torch, f"step {pos}"
    assert cos_min >= 0.9999
    assert err_max < 0.05 and err_ref < 0.05
