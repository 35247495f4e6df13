"""Seeded random weights for a catalog model (no downloads).

Decode timing does not depend on weight values; functional checks compare two
implementations (numpy reference, PyTorch) on these same arrays. Names match the
trace op names: ``layers.3.attn.q.weight``.
"""

from __future__ import annotations

import numpy as np

from .model import ModelConfig


def weight_shapes(m: ModelConfig) -> dict:
    """Tensor shapes of the dense models the functional paths build; ConfigError for the
    structures they do not implement (MoE, a head size apart from hidden/heads, QK norms,
    Gemma's extra norms), which the timing model still handles."""
    if m.experts or m.q_dim != m.hidden or m.qk_norm or m.norms_per_layer != 2:
        from ..errors import ConfigError
        raise ConfigError(m.name, "model", "the functional (numpy/PyTorch) models cover dense models with "
                          "head_dim = hidden/heads and two norms per layer; this model is timing-only")
    d, kv, f = m.hidden, m.kv_dim, m.intermediate
    s = {"embed.tokens": (m.vocab, d)}
    if m.position == "learned":
        s["embed.positions"] = (m.max_positions + m.position_offset, d)
    for i in range(m.layers):
        p = f"layers.{i}"
        for nrm in ("norm1", "norm2"):
            s[f"{p}.{nrm}.weight"] = (d,)
            if m.norm == "layernorm":
                s[f"{p}.{nrm}.bias"] = (d,)
        lin = {}
        if m.fused_qkv:
            lin["attn.qkv"] = (d + 2 * kv, d, m.qkv_bias)
        else:
            lin.update({"attn.q": (d, d, m.qkv_bias), "attn.k": (kv, d, m.qkv_bias), "attn.v": (kv, d, m.qkv_bias)})
        lin["attn.out"] = (d, d, m.bias)
        if m.mlp == "gated":
            lin["mlp.gate"] = (f, d, m.bias)
        lin["mlp.up"] = (f, d, m.bias)
        lin["mlp.down"] = (d, f, m.bias)
        for name, (o, k, b) in lin.items():
            s[f"{p}.{name}.weight"] = (o, k)
            if b:
                s[f"{p}.{name}.bias"] = (o,)
    s["final_norm.weight"] = (d,)
    if m.norm == "layernorm":
        s["final_norm.bias"] = (d,)
    if not m.tied_embeddings:
        s["lm_head.weight"] = (m.vocab, d)
    return s


def init_weights(m: ModelConfig, seed: int = 0, dtype=np.float32) -> dict:
    """N(0, 0.02) matrices and biases, norm gains 1 + N(0, 0.02), in a fixed order."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in weight_shapes(m).items():
        x = rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02)
        if "norm" in name and name.endswith(".weight"):
            x += np.float32(1.0)
        out[name] = x.astype(dtype, copy=False)
    return out
