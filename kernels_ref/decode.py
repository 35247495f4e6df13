"""A whole decode step in numpy, from a catalog config and a weight dict."""

import numpy as np

from . import ops


class ReferenceLM:
    def __init__(self, m, weights: dict, batch=1, dtype=np.float32, max_len=None):
        self.m = m
        self.W = {k: np.asarray(v, dtype=dtype) for k, v in weights.items()}
        self.dtype = dtype
        L = max_len or m.max_positions
        self.K = [np.zeros((batch, m.kv_heads, L, m.head_dim), dtype) for _ in range(m.layers)]
        self.V = [np.zeros_like(k) for k in self.K]
        self.n = 0

    def _norm(self, x, p):
        m, W = self.m, self.W
        if m.norm == "layernorm":
            return ops.layernorm(x, W[f"{p}.weight"], W[f"{p}.bias"], m.norm_eps)
        return ops.rmsnorm(x, W[f"{p}.weight"], m.norm_eps)

    def _lin(self, x, p):
        return ops.linear(x, self.W[f"{p}.weight"], self.W.get(f"{p}.bias"))

    def step(self, ids, pos: int):
        """Logits (batch, vocab) for one token per sequence at position ``pos``."""
        m, W = self.m, self.W
        B = len(ids)
        x = ops.embedding(W["embed.tokens"], np.asarray(ids), W.get("embed.positions"), pos, m.position_offset)
        for i in range(m.layers):
            p = f"layers.{i}"
            h = self._norm(x, f"{p}.norm1")
            if m.fused_qkv:
                q, k, v = np.split(self._lin(h, f"{p}.attn.qkv"), [m.hidden, m.hidden + m.kv_dim], -1)
            else:
                q, k, v = (self._lin(h, f"{p}.attn.{n}") for n in "qkv")
            q = q.reshape(B, m.heads, m.head_dim)
            k = k.reshape(B, m.kv_heads, m.head_dim)
            v = v.reshape(B, m.kv_heads, m.head_dim)
            if m.position == "rope":
                q, k = ops.rope(q, pos, m.rope_theta), ops.rope(k, pos, m.rope_theta)
            self.K[i][:, :, self.n] = k
            self.V[i][:, :, self.n] = v
            K, V = self.K[i][:, :, :self.n + 1], self.V[i][:, :, :self.n + 1]
            a = ops.attn_context(ops.softmax(ops.attn_score(q, K)), V)
            x = ops.residual(x, self._lin(a, f"{p}.attn.out"))
            h = self._norm(x, f"{p}.norm2")
            if m.mlp == "gated":
                h = ops.silu_mul(self._lin(h, f"{p}.mlp.gate"), self._lin(h, f"{p}.mlp.up"))
            else:
                u = self._lin(h, f"{p}.mlp.up")
                h = ops.gelu_tanh(u) if m.activation == "gelu" else ops.relu(u)
            x = ops.residual(x, self._lin(h, f"{p}.mlp.down"))
        self.n += 1
        x = self._norm(x, "final_norm")
        head = W["embed.tokens"] if m.tied_embeddings else W["lm_head.weight"]
        return ops.linear(x, head)
