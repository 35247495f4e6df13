"""Functional core: the numbers a PIM-GPT style system computes.

* GEMVs run as the banks run them: weights and the global-buffer input are bf16;
  each column step multiplies ``lanes`` pairs exactly (a bf16 x bf16 product fits in
  fp32), sums them in order in fp32, and adds the sum to the bank's accumulator
  (fp32, or rounded to bf16 after every step when ``accumulator: bf16``). Results
  leave the banks as fp32 (RDRES).
* The ASIC computes non-linear ops in fp32 with the approximations such an ASIC uses:
  exp by range reduction (x = n ln2 + r) and a degree-7 Taylor polynomial of e^r,
  reciprocal by Newton-Raphson from an exponent-flip seed, inverse square root by the
  0x5f3759df seed and Newton steps; tanh (GELU) from exp and the reciprocal.
* Attention runs on PIM too: K and V are stored as bf16 in the banks, q and the
  softmax output p go through the global buffer as bf16.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# ---------------------------------------------------------------- number formats


@njit(cache=True)
def to_bf16(x):
    """Round float32 values to bf16 (round to nearest even), returned as float32."""
    u = x.astype(np.float32).view(np.uint32)
    r = (u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) & np.uint32(0xFFFF0000)
    return r.view(np.float32)


@njit(cache=True)
def _bf16_scalar(v):
    a = np.empty(1, np.float32)
    a[0] = v
    return to_bf16(a)[0]


@njit(cache=True)
def pim_gemv(w, x, lanes, bf16_acc, chunk=0):
    """y = W x as bank MAC units compute it. ``w`` (n, k) and ``x`` (k,) hold bf16 values.

    ``chunk`` > 0 is the ASIC-side partial-sum dataflow (PIM-GPT: partial VMM results of a
    matrix longer than the global buffer are summed in the ASIC): the bank accumulator
    restarts at every ``chunk`` inputs, each partial sum leaves the bank (fp32, or bf16 when
    ``bf16_acc``) and the ASIC adds them in fp32 in chunk order. ``chunk`` = 0 keeps one
    accumulator across the whole row (the latch-accumulate dataflow, AiM style)."""
    n, k = w.shape
    step = chunk if chunk > 0 else k
    y = np.empty(n, np.float32)
    for o in range(n):
        total = np.float32(0.0)
        for b0 in range(0, k, step):
            acc = np.float32(0.0)
            for c0 in range(b0, min(b0 + step, k), lanes):
                s = np.float32(0.0)
                for j in range(c0, min(c0 + lanes, b0 + step, k)):
                    s += w[o, j] * x[j]
                acc = acc + s
                if bf16_acc:
                    acc = _bf16_scalar(acc)
            total = total + acc if b0 > 0 else acc
        y[o] = total
    return y


# ---------------------------------------------------------------- ASIC approximations
LN2 = np.float32(math.log(2.0))

# The algorithms' step counts: the loops below run them, and simulator/pim/asic.py derives
# the ASIC's pipeline depths from the same constants (asic_stages), so the timing model
# and the numbers it times cannot disagree.
EXP_TAYLOR_DEGREE = 7        # e^r, |r| <= ln2/2: degree 7 leaves < 1e-7 relative error
RECIP_NEWTON_STEPS = 4       # 1/x from the exponent-flip seed (~12% error) to fp32
RSQRT_NEWTON_STEPS = 3       # 1/sqrt(x) from the 0x5f3759df seed (~3.4% error) to fp32


def asic_stages() -> dict:
    """Dependent floating-point operations on the critical path of one element through each
    ASIC algorithm of this module (one pipeline stage per operation): exp, reciprocal, rsqrt.

    exp: clamp, v/ln2, +0.5, floor, n*ln2, v - n*ln2 (6); per Taylor term term*r and /d (2);
    the last p += term (1); the exponent bits of 2^n (1); p * 2^n (1).
    reciprocal: sign (1), seed (1), per Newton step v*r, 2 - v*r, r*(...) (3), sign back (1).
    rsqrt: v >> 1, seed subtract (2), per Newton step y*y, *0.5v, 1.5 - ..., y*(...) (4)."""
    return {"exp": 6 + 2 * EXP_TAYLOR_DEGREE + 3,
            "reciprocal": 3 + 3 * RECIP_NEWTON_STEPS,
            "rsqrt": 2 + 4 * RSQRT_NEWTON_STEPS}


@njit(cache=True)
def asic_exp(x):
    """e^x: x = n ln2 + r, |r| <= ln2/2; e^r by Taylor to degree 7; 2^n by exponent bits."""
    out = np.empty_like(x)
    for i in range(x.size):
        v = max(min(x.flat[i], np.float32(88.0)), np.float32(-87.0))
        nn = np.floor(v / LN2 + np.float32(0.5))
        r = v - nn * LN2
        p = np.float32(1.0)
        term = np.float32(1.0)
        for d in range(1, EXP_TAYLOR_DEGREE + 1):
            term = term * r / np.float32(d)
            p += term
        bits = np.int32(int(nn) + 127) << 23
        two_n = np.array([bits], np.int32).view(np.float32)[0]
        out.flat[i] = p * two_n
    return out


@njit(cache=True)
def asic_reciprocal(x):
    """1/x by Newton-Raphson (r <- r (2 - x r)), seeded by flipping the exponent."""
    out = np.empty_like(x)
    for i in range(x.size):
        v = x.flat[i]
        sign = np.float32(1.0)
        if v < 0:
            sign = np.float32(-1.0)
            v = -v
        bits = np.array([v], np.float32).view(np.int32)[0]
        r = np.array([np.int32(0x7EF311C7) - bits], np.int32).view(np.float32)[0]
        for _ in range(RECIP_NEWTON_STEPS):
            r = r * (np.float32(2.0) - v * r)
        out.flat[i] = sign * r
    return out


@njit(cache=True)
def asic_rsqrt(x):
    """1/sqrt(x): 0x5f3759df seed, three Newton steps."""
    out = np.empty_like(x)
    for i in range(x.size):
        v = x.flat[i]
        bits = np.array([v], np.float32).view(np.int32)[0]
        y = np.array([np.int32(0x5F3759DF) - (bits >> 1)], np.int32).view(np.float32)[0]
        for _ in range(RSQRT_NEWTON_STEPS):
            y = y * (np.float32(1.5) - np.float32(0.5) * v * y * y)
        out.flat[i] = y
    return out


def asic_layernorm(x, g, b, eps):
    mu = np.float32(x.mean(dtype=np.float32))
    d = x - mu
    var = np.float32((d * d).mean(dtype=np.float32))
    return d * asic_rsqrt(np.array([var + eps], np.float32))[0] * g + b


def asic_rmsnorm(x, g, eps):
    ms = np.float32((x * x).mean(dtype=np.float32))
    return x * asic_rsqrt(np.array([ms + eps], np.float32))[0] * g


def asic_softmax(s):
    e = asic_exp(s - s.max())
    return e * asic_reciprocal(np.array([e.sum(dtype=np.float32)], np.float32))[0]


def asic_gelu(x):
    u = np.float32(math.sqrt(2.0 / math.pi)) * (x + np.float32(0.044715) * x * x * x)
    t = np.float32(1.0) - np.float32(2.0) * asic_reciprocal(asic_exp(np.float32(2.0) * u) + np.float32(1.0))
    return np.float32(0.5) * x * (np.float32(1.0) + t)


def asic_silu_mul(g, u):
    return g * asic_reciprocal(np.float32(1.0) + asic_exp(-g)) * u


# ---------------------------------------------------------------- whole model


class PimFunctionalLM:
    """Decode on the PIM functional core (batch 1). Weights are stored in bf16."""

    def __init__(self, m, weights: dict, pim=None, max_len=None):
        self.m = m
        lanes = pim.mac["lanes"] if pim is not None else 16
        self.lanes = lanes
        self.bf16_acc = bool(pim is not None and pim.mac["accumulator"] == "bf16")
        # ASIC-side partial sums restart the bank accumulator at every global-buffer chunk
        self.chunk = pim.gb_elems if pim is not None and pim.dataflow == "asic_partial_sums" else 0
        self.W = {k: to_bf16(np.ascontiguousarray(v, np.float32)) for k, v in weights.items()}
        L = max_len or m.max_positions
        self.K = [np.zeros((m.kv_heads, L, m.head_dim), np.float32) for _ in range(m.layers)]
        self.V = [np.zeros_like(k) for k in self.K]
        self.n = 0

    def _gemv(self, x, name, bias=True):
        y = pim_gemv(self.W[f"{name}.weight"], to_bf16(x.astype(np.float32)), self.lanes, self.bf16_acc, self.chunk)
        b = self.W.get(f"{name}.bias")
        return y + b if (bias and b is not None) else y

    def _norm(self, x, p):
        m, W = self.m, self.W
        if m.norm == "layernorm":
            return asic_layernorm(x, W[f"{p}.weight"], W[f"{p}.bias"], np.float32(m.norm_eps))
        return asic_rmsnorm(x, W[f"{p}.weight"], np.float32(m.norm_eps))

    def step(self, token: int, pos: int) -> np.ndarray:
        from kernels_ref import ops as ref_ops
        m, W = self.m, self.W
        x = W["embed.tokens"][token].astype(np.float32)
        if m.position == "learned":
            x = x + W["embed.positions"][pos + m.position_offset]
        for i in range(m.layers):
            p = f"layers.{i}"
            h = self._norm(x, f"{p}.norm1")
            if m.fused_qkv:
                q, k, v = np.split(self._gemv(h, f"{p}.attn.qkv"), [m.hidden, m.hidden + m.kv_dim])
            else:
                q, k, v = (self._gemv(h, f"{p}.attn.{n}") for n in "qkv")
            q = q.reshape(m.heads, m.head_dim)
            k = k.reshape(m.kv_heads, m.head_dim)
            if m.position == "rope":
                q = ref_ops.rope(q, pos, m.rope_theta).astype(np.float32)
                k = ref_ops.rope(k, pos, m.rope_theta).astype(np.float32)
            self.K[i][:, self.n] = to_bf16(k)
            self.V[i][:, self.n] = to_bf16(v.reshape(m.kv_heads, m.head_dim))
            L = self.n + 1
            g = m.heads // m.kv_heads
            scale = np.float32(1.0 / math.sqrt(m.head_dim))
            ctx = np.empty((m.heads, m.head_dim), np.float32)
            for hh in range(m.heads):
                kv = hh // g
                s = pim_gemv(self.K[i][kv, :L], to_bf16(q[hh]), self.lanes, self.bf16_acc, self.chunk) * scale
                pr = asic_softmax(s)
                ctx[hh] = pim_gemv(np.ascontiguousarray(self.V[i][kv, :L].T), to_bf16(pr), self.lanes, self.bf16_acc,
                                   self.chunk)
            x = x + self._gemv(ctx.ravel(), f"{p}.attn.out")
            h = self._norm(x, f"{p}.norm2")
            if m.mlp == "gated":
                h = asic_silu_mul(self._gemv(h, f"{p}.mlp.gate"), self._gemv(h, f"{p}.mlp.up"))
            else:
                u = self._gemv(h, f"{p}.mlp.up")
                h = asic_gelu(u) if m.activation == "gelu" else np.maximum(u, np.float32(0))
            x = x + self._gemv(h, f"{p}.mlp.down")
        self.n += 1
        x = self._norm(x, "final_norm")
        head = "embed.tokens" if m.tied_embeddings else "lm_head"
        return pim_gemv(W[f"{head}.weight" if head == "lm_head" else head], to_bf16(x), self.lanes, self.bf16_acc,
                        self.chunk)


def bf16_weights(weights: dict) -> dict:
    """The seeded weights as the PIM stores them (bf16 values, held in float32)."""
    return {k: to_bf16(np.ascontiguousarray(v, np.float32)) for k, v in weights.items()}
