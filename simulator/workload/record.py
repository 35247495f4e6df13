"""Record a decode trace from a real PyTorch run, by forward hooks.

The model is built from its catalog config with seeded random weights (no
downloads), prompted with seeded random tokens, and decoded greedily; the ops of
the recorded step are captured by hooks on the op-level modules of
:mod:`.torch_model`, with bytes taken from the actual tensors (element counts x
element sizes), so ``decodesim trace diff`` compares two independent accountings.
Uses CUDA when present.
"""

from __future__ import annotations

import re

import numpy as np

from .model import ModelConfig
from .trace import DecodeTrace, Op, elementwise_flops
from .weights import init_weights

_DTYPE_NAMES = {"torch.float32": "fp32", "torch.bfloat16": "bf16", "torch.float16": "fp16"}


def _nbytes(t):
    return t.numel() * t.element_size()


def _op_from(name, mod, inputs, out, layers) -> Op:
    kind = mod.op_kind
    mt = re.match(r"layers\.(\d+)\.", name)
    layer = int(mt.group(1)) if mt else (-1 if name == "embed" else layers)
    p0 = next(mod.parameters(), None)
    x0 = inputs[0]
    dt = _DTYPE_NAMES.get(str((p0 if p0 is not None else out if not isinstance(out, tuple) else out[0]).dtype), "?")
    if kind in ("gemv", "lm_head"):
        B = x0.shape[0]
        n, k = mod.weight.shape
        wb = _nbytes(mod.weight) + (_nbytes(mod.bias) if mod.bias is not None else 0)
        kind = kind if kind == "lm_head" else ("gemv" if B == 1 else "gemm")
        return Op(kind, name, layer, {"m": B, "n": n, "k": k}, dt, weight_bytes=wb, act_read_bytes=_nbytes(x0),
                  act_write_bytes=_nbytes(out), flops=2 * B * n * k + (B * n if mod.bias is not None else 0))
    if kind == "embedding":
        B, d = x0.numel(), mod.tokens.shape[1]
        rows = 1 if mod.positions is None else 2
        return Op(kind, name, layer, {"m": B, "n": d, "vocab": mod.tokens.shape[0]}, dt,
                  weight_bytes=B * rows * d * mod.tokens.element_size(), act_write_bytes=_nbytes(out),
                  flops=B * d if rows == 2 else 0)
    if kind in ("layernorm", "rmsnorm"):
        return Op(kind, name, layer, {"m": x0.shape[0], "n": x0.shape[-1]}, dt,
                  weight_bytes=sum(_nbytes(p) for p in mod.parameters()), act_read_bytes=_nbytes(x0),
                  act_write_bytes=_nbytes(out), flops=elementwise_flops(kind, out.numel()))
    if kind == "rope":
        q, k = inputs[0], inputs[1]
        n = q.numel() + k.numel()
        return Op(kind, name, layer, {"m": q.shape[0], "heads": q.shape[1], "kv_heads": k.shape[1], "head_dim": q.shape[2]},
                  dt, act_read_bytes=_nbytes(q) + _nbytes(k), act_write_bytes=_nbytes(out[0]) + _nbytes(out[1]),
                  flops=elementwise_flops("rope", n))
    if kind == "kv_append":
        k, v = inputs
        return Op(kind, name, layer, {"m": k.shape[0], "kv_heads": k.shape[1], "head_dim": k.shape[2]},
                  _DTYPE_NAMES[str(mod.k.dtype)], act_read_bytes=_nbytes(k) + _nbytes(v),
                  kv_write_bytes=(k.numel() + v.numel()) * mod.k.element_size())
    if kind in ("attn_score", "attn_context"):
        a, KV = inputs
        B, H = a.shape[0], a.shape[1]
        L, D = KV.shape[2], KV.shape[3]
        return Op(kind, name, layer, {"m": B, "heads": H, "kv_heads": KV.shape[1], "head_dim": D, "context": L},
                  _DTYPE_NAMES[str(KV.dtype)], kv_read_bytes=_nbytes(KV), act_read_bytes=_nbytes(a),
                  act_write_bytes=_nbytes(out), flops=2 * B * H * L * D)
    if kind == "softmax":
        return Op(kind, name, layer, {"m": x0.shape[0], "heads": x0.shape[1], "context": x0.shape[2]}, dt,
                  act_read_bytes=_nbytes(x0), act_write_bytes=_nbytes(out), flops=elementwise_flops(kind, out.numel()))
    if kind == "residual":
        return Op(kind, name, layer, {"m": x0.shape[0], "n": x0.shape[-1]}, dt,
                  act_read_bytes=_nbytes(inputs[0]) + _nbytes(inputs[1]), act_write_bytes=_nbytes(out),
                  flops=elementwise_flops(kind, out.numel()))
    if kind == "activation":
        return Op(kind, name, layer, {"m": out.shape[0], "n": out.shape[-1], "fn": mod.fn}, dt,
                  act_read_bytes=sum(_nbytes(t) for t in inputs), act_write_bytes=_nbytes(out),
                  flops=elementwise_flops(mod.fn, out.numel()))
    raise ValueError(f"no recorder for op kind {kind!r}")


def build_model(m: ModelConfig, seed=0, batch=1, max_len=None, device=None, weights=None, kv_window=0):
    import torch

    from .torch_model import DecoderLM
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    W = weights if weights is not None else init_weights(m, seed)
    return DecoderLM(m, W, batch=batch, max_len=max_len, device=device, kv_window=kv_window)


def prompt_tokens(m: ModelConfig, seed: int, batch: int, length: int) -> np.ndarray:
    return np.random.default_rng(seed + 1).integers(0, m.vocab, (batch, length))


def greedy_decode(model, prompt: np.ndarray, steps: int):
    """Feed the prompt token by token, then decode ``steps`` tokens greedily.
    Returns (generated tokens (batch, steps), logits of each generated step)."""
    import torch
    dev = next(model.parameters()).device
    ids = torch.as_tensor(prompt, device=dev)
    logits = None
    for pos in range(ids.shape[1]):
        logits = model(ids[:, pos], pos)
    out_tok, out_logits = [], []
    pos = ids.shape[1]
    for _ in range(steps):
        tok = logits.argmax(-1)
        out_tok.append(tok.cpu().numpy())
        logits = model(tok, pos)
        out_logits.append(logits.float().cpu().numpy())
        pos += 1
    return np.stack(out_tok, 1), out_logits


def record_decode(m: ModelConfig, context: int, seed=0, batch=1, device=None, weights=None) -> DecodeTrace:
    """Trace of the decode step at ``context``: the prompt fills context - 1 positions,
    greedy decoding produces the token at position ``context``."""
    import torch
    model = build_model(m, seed, batch, max_len=context + 2, device=device, weights=weights)
    prompt = prompt_tokens(m, seed, batch, max(context, 1))
    dev = next(model.parameters()).device
    ids = torch.as_tensor(prompt, device=dev)
    logits = None
    from tqdm import tqdm
    for pos in tqdm(range(context), desc=f"{m.name}: prompt", unit="token", disable=None, leave=False):
        logits = model(ids[:, pos], pos)
    nxt = logits.argmax(-1) if logits is not None else ids[:, 0]
    ops = []
    handles = [mod.register_forward_hook(
        lambda mod, inp, out, name=name: ops.append(_op_from(name, mod, inp, out, m.layers)))
        for name, mod in model.named_modules() if hasattr(mod, "op_kind")]
    try:
        model(nxt, context)
        if dev.type == "cuda":
            torch.cuda.synchronize()
    finally:
        for h in handles:
            h.remove()
    header = {"format": "decodesim-trace", "version": 1, "source": "recorded", "model": m.name,
              "context": context, "attended": context + 1, "batch": batch, "weights": "fp32", "kv": "fp32",
              "kv_window": 0, "group_size": 0, "device": str(dev), "torch": torch.__version__}
    return DecodeTrace(header, ops)
