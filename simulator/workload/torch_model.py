"""The catalog models in PyTorch, built from op-level modules.

Every op of the decode trace is one leaf module with an ``op_kind`` so that
forward hooks (:mod:`.record`) see the whole op sequence. Weights come from
:func:`.weights.init_weights` (seeded, no downloads). Decode only: one token per
sequence per call, with a KV cache.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .model import ModelConfig


class Linear(nn.Module):
    op_kind = "gemv"

    def __init__(self, w, b=None):
        super().__init__()
        self.weight = nn.Parameter(w, requires_grad=False)
        self.bias = None if b is None else nn.Parameter(b, requires_grad=False)

    def forward(self, x):
        y = x @ self.weight.t()
        return y if self.bias is None else y + self.bias


class LMHead(Linear):
    op_kind = "lm_head"


class Embedding(nn.Module):
    op_kind = "embedding"

    def __init__(self, tokens, positions=None, offset=0):
        super().__init__()
        self.tokens = nn.Parameter(tokens, requires_grad=False)
        self.positions = None if positions is None else nn.Parameter(positions, requires_grad=False)
        self.offset = offset

    def forward(self, ids, pos):
        x = self.tokens[ids]
        if self.positions is not None:
            x = x + self.positions[pos + self.offset]
        return x


class Norm(nn.Module):
    def __init__(self, kind, weight, bias, eps):
        super().__init__()
        self.op_kind = kind
        self.weight = nn.Parameter(weight, requires_grad=False)
        self.bias = None if bias is None else nn.Parameter(bias, requires_grad=False)
        self.eps = eps

    def forward(self, x):
        if self.op_kind == "layernorm":
            mu = x.mean(-1, keepdim=True)
            var = ((x - mu) ** 2).mean(-1, keepdim=True)
            return (x - mu) / torch.sqrt(var + self.eps) * self.weight + self.bias
        return x / torch.sqrt((x * x).mean(-1, keepdim=True) + self.eps) * self.weight


class Rope(nn.Module):
    """Rotary embedding, rotate-half convention (as LLaMA implementations)."""
    op_kind = "rope"

    def __init__(self, head_dim, theta):
        super().__init__()
        self.register_buffer("inv_freq", 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim),
                             persistent=False)

    def forward(self, q, k, pos):
        ang = (pos * self.inv_freq).to(q.dtype)
        cos = torch.cat([ang.cos(), ang.cos()])
        sin = torch.cat([ang.sin(), ang.sin()])

        def rot(x):
            h = x.shape[-1] // 2
            return x * cos + torch.cat([-x[..., h:], x[..., :h]], -1) * sin
        return rot(q), rot(k)


class KVAppend(nn.Module):
    op_kind = "kv_append"

    def __init__(self, batch, kv_heads, head_dim, max_len, dtype, device, window=0):
        super().__init__()
        self.window = window
        self.k = torch.zeros(batch, kv_heads, max_len, head_dim, dtype=dtype, device=device)
        self.v = torch.zeros_like(self.k)
        self.n = 0

    def forward(self, k_new, v_new):
        self.k[:, :, self.n] = k_new
        self.v[:, :, self.n] = v_new
        self.n += 1
        lo = max(0, self.n - self.window) if self.window else 0
        return self.k[:, :, lo:self.n], self.v[:, :, lo:self.n]


class AttnScore(nn.Module):
    op_kind = "attn_score"

    def forward(self, q, K):                       # q (B, H, D), K (B, KVH, L, D)
        B, H, D = q.shape
        g = H // K.shape[1]
        qg = q.view(B, K.shape[1], g, D)
        s = torch.einsum("bkgd,bkld->bkgl", qg, K) / math.sqrt(D)
        return s.reshape(B, H, -1)


class Softmax(nn.Module):
    op_kind = "softmax"

    def forward(self, s):
        return torch.softmax(s, dim=-1)


class AttnContext(nn.Module):
    op_kind = "attn_context"

    def forward(self, p, V):                       # p (B, H, L), V (B, KVH, L, D)
        B, H, L = p.shape
        g = H // V.shape[1]
        o = torch.einsum("bkgl,bkld->bkgd", p.view(B, V.shape[1], g, L), V)
        return o.reshape(B, H * V.shape[-1])


class Residual(nn.Module):
    op_kind = "residual"

    def forward(self, x, y):
        return x + y


class Activation(nn.Module):
    op_kind = "activation"

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x, up=None):
        if self.fn == "gelu":       # tanh approximation, as GPT-2
            return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
        if self.fn == "relu":
            return torch.relu(x)
        return torch.nn.functional.silu(x) * up     # silu_mul (gated MLP)


class Attention(nn.Module):
    def __init__(self, m: ModelConfig, W, p, batch, max_len, dtype, device, window):
        super().__init__()
        self.m = m
        t = lambda k: W.get(f"{p}.{k}")  # noqa: E731
        if m.fused_qkv:
            self.qkv = Linear(t("attn.qkv.weight"), t("attn.qkv.bias"))
        else:
            self.q = Linear(t("attn.q.weight"), t("attn.q.bias"))
            self.k = Linear(t("attn.k.weight"), t("attn.k.bias"))
            self.v = Linear(t("attn.v.weight"), t("attn.v.bias"))
        self.rope = Rope(m.head_dim, m.rope_theta) if m.position == "rope" else None
        self.kv_append = KVAppend(batch, m.kv_heads, m.head_dim, max_len, dtype, device, window)
        self.score = AttnScore()
        self.softmax = Softmax()
        self.context = AttnContext()
        self.out = Linear(t("attn.out.weight"), t("attn.out.bias"))

    def forward(self, x, pos):
        m = self.m
        B = x.shape[0]
        if m.fused_qkv:
            q, k, v = self.qkv(x).split([m.hidden, m.kv_dim, m.kv_dim], dim=-1)
        else:
            q, k, v = self.q(x), self.k(x), self.v(x)
        q = q.view(B, m.heads, m.head_dim)
        k = k.view(B, m.kv_heads, m.head_dim)
        v = v.view(B, m.kv_heads, m.head_dim)
        if self.rope is not None:
            q, k = self.rope(q, k, pos)
        K, V = self.kv_append(k, v)
        p = self.softmax(self.score(q, K))
        return self.out(self.context(p, V))


class MLP(nn.Module):
    def __init__(self, m: ModelConfig, W, p):
        super().__init__()
        t = lambda k: W.get(f"{p}.{k}")  # noqa: E731
        self.gate = Linear(t("mlp.gate.weight"), t("mlp.gate.bias")) if m.mlp == "gated" else None
        self.up = Linear(t("mlp.up.weight"), t("mlp.up.bias"))
        self.act = Activation(m.activation if m.mlp != "gated" else "silu_mul")
        self.down = Linear(t("mlp.down.weight"), t("mlp.down.bias"))

    def forward(self, x):
        if self.gate is not None:
            g = self.gate(x)
            return self.down(self.act(g, self.up(x)))
        return self.down(self.act(self.up(x)))


class Block(nn.Module):
    def __init__(self, m, W, i, batch, max_len, dtype, device, window):
        super().__init__()
        p = f"layers.{i}"
        self.norm1 = Norm(m.norm, W[f"{p}.norm1.weight"], W.get(f"{p}.norm1.bias"), m.norm_eps)
        self.attn = Attention(m, W, p, batch, max_len, dtype, device, window)
        self.residual1 = Residual()
        self.norm2 = Norm(m.norm, W[f"{p}.norm2.weight"], W.get(f"{p}.norm2.bias"), m.norm_eps)
        self.mlp = MLP(m, W, p)
        self.residual2 = Residual()

    def forward(self, x, pos):
        x = self.residual1(x, self.attn(self.norm1(x), pos))
        return self.residual2(x, self.mlp(self.norm2(x)))


class DecoderLM(nn.Module):
    """Decode-only LM: ``forward(ids, pos)`` takes one token per sequence."""

    def __init__(self, m: ModelConfig, weights: dict, batch=1, max_len=None, device="cpu",
                 dtype=torch.float32, kv_window=0):
        super().__init__()
        max_len = max_len or m.max_positions
        W = {k: torch.as_tensor(v).to(device=device, dtype=dtype) for k, v in weights.items()}
        self.m = m
        self.embed = Embedding(W["embed.tokens"], W.get("embed.positions"), m.position_offset)
        self.layers = nn.ModuleList([Block(m, W, i, batch, max_len, dtype, device, kv_window) for i in range(m.layers)])
        self.final_norm = Norm(m.norm, W["final_norm.weight"], W.get("final_norm.bias"), m.norm_eps)
        self.lm_head = LMHead(W["embed.tokens"] if m.tied_embeddings else W["lm_head.weight"])

    @torch.no_grad()
    def forward(self, ids, pos: int):
        x = self.embed(ids, pos)
        for blk in self.layers:
            x = blk(x, pos)
        return self.lm_head(self.final_norm(x))
