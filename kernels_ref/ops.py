"""One numpy kernel per op kind. ``x`` arrays are (batch, features)."""

import numpy as np


def embedding(tokens_table, ids, positions_table=None, pos=0, offset=0):
    x = tokens_table[ids]
    if positions_table is not None:
        x = x + positions_table[pos + offset]
    return x


def linear(x, w, b=None):
    """x (B, k) @ w(n, k)^T + b."""
    y = x @ w.T
    return y if b is None else y + b


def layernorm(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def rmsnorm(x, g, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * g


def rope(x, pos, theta):
    """Rotate-half rotary embedding of x (..., head_dim) at position ``pos``."""
    d = x.shape[-1]
    inv = 1.0 / theta ** (np.arange(0, d, 2, dtype=np.float64) / d)
    ang = (pos * inv).astype(x.dtype)
    cos = np.concatenate([np.cos(ang), np.cos(ang)])
    sin = np.concatenate([np.sin(ang), np.sin(ang)])
    h = d // 2
    rot = np.concatenate([-x[..., h:], x[..., :h]], -1)
    return x * cos + rot * sin


def attn_score(q, K):
    """q (B, H, D), K (B, KVH, L, D) -> scores (B, H, L), scaled by 1/sqrt(D); GQA groups."""
    B, H, D = q.shape
    kvh = K.shape[1]
    qg = q.reshape(B, kvh, H // kvh, D)
    s = np.einsum("bkgd,bkld->bkgl", qg, K) / np.sqrt(D).astype(q.dtype)
    return s.reshape(B, H, -1)


def softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def attn_context(p, V):
    """p (B, H, L), V (B, KVH, L, D) -> (B, H*D)."""
    B, H, L = p.shape
    kvh = V.shape[1]
    o = np.einsum("bkgl,bkld->bkgd", p.reshape(B, kvh, H // kvh, L), V)
    return o.reshape(B, H * V.shape[-1])


def residual(x, y):
    return x + y


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi).astype(x.dtype) * (x + 0.044715 * x ** 3)))


def relu(x):
    return np.maximum(x, 0)


def silu_mul(g, u):
    return g / (1.0 + np.exp(-g)) * u
