"""Memory of each side of a split, token position by token position.

With the split at layer ``k`` of ``L`` (0 = all on the server, L = all on the edge):

* edge (k >= 1): the token embedding (+ learned position table), layers ``0..k-1``; at k = L
  also the final norm and the LM head (a tied LM head shares the embedding: counted once).
* server (k < L): layers ``k..L-1``, the final norm and the LM head; a tied LM head is a full
  copy of the token table unless the server also holds the embedding (k = 0).

Per layer: every linear matrix in its weight format, with the format's scales / zero points
(:data:`simulator.workload.workload.WEIGHT_FORMATS`, the same bytes the trace charges); biases
and norm gains in the activation precision (16-bit, fp32 when the weights are fp32).
Embedding and LM head stay 16-bit (as in the trace: quantization schemes leave them).
KV cache: K and V of ``kv_heads x head_dim`` per layer per cached token at the KV precision.

Activations (assumption, decode at batch 1): the residual stream plus the largest
intermediate live with it: ``act x (d + max(d + 2 kv, up, heads x n))`` where ``up`` is ``2 f``
for a gated MLP (gate and up live together) else ``f``, and ``heads x n`` the attention scores
of one token over ``n`` cached tokens; the side holding the LM head adds fp32 logits
(``4 x vocab``). Prefill of ``P`` tokens: ``P`` times the per-token set without scores
(fused attention), plus the last token's fp32 logits.

Runtime workspace (assumption per runtime, :data:`RUNTIME_WORKSPACE_MB`): memory the software
stack holds besides tensors. Not measured here; override with ``workspace_mb``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..workload.model import ModelConfig
from ..workload.workload import KV_FORMATS, Workload

# ASSUMED resident overhead of the runtime beside the model's tensors (MiB):
#   gpu-pytorch: CUDA context + cuBLAS/cuDNN handles and workspace + caching-allocator slack of
#                a PyTorch process on a CUDA device (order of a few hundred MiB).
#   cpu-pytorch: the Python interpreter with torch imported.
RUNTIME_WORKSPACE_MB = {"gpu-pytorch": 512.0, "cpu-pytorch": 256.0}
MIB = 1 << 20


@dataclass(frozen=True)
class SideMemory:
    """Bytes one side holds at one token position."""
    weights_bytes: int        # matrices (with scales), biases, norms, embedding / LM head
    kv_bytes: int
    act_bytes: int
    workspace_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.kv_bytes + self.act_bytes + self.workspace_bytes

    def as_dict(self) -> dict:
        return {**asdict(self), "total_bytes": self.total_bytes}


def side_layers(m: ModelConfig, k: int, side: str) -> tuple:
    """(first layer, end layer, holds embedding, holds LM head) of ``side`` at split ``k``."""
    if side == "edge":
        return 0, k, k >= 1, k == m.layers
    return k, m.layers, k == 0, k < m.layers


def params_bytes(m: ModelConfig, k: int, side: str, weights: str) -> int:
    """Parameter bytes ``side`` holds at split ``k`` with its layers in format ``weights``."""
    lo, hi, embed, head = side_layers(m, k, side)
    if lo == hi and not embed and not head:
        return 0
    w = Workload(m, weights=weights)
    a = w.act_bytes
    norm = (2 if m.norm == "layernorm" else 1) * m.hidden * a                # the final norm
    per_layer = (sum(c * (w.matrix_bytes(o, i) + (o * a if b else 0)) for o, i, b, c in m.layer_linears())
                 + m.norm_params_per_layer() * a)
    total = (hi - lo) * per_layer
    table = m.vocab * m.hidden * a
    if embed:
        total += table + (m.max_positions + m.position_offset) * m.hidden * a * (m.position == "learned")
    if head:
        total += norm + (0 if (embed and m.tied_embeddings) else table)
    return total


def kv_bytes(m: ModelConfig, k: int, side: str, kv: str, tokens: int, kv_window: int = 0) -> int:
    """KV cache bytes of ``side`` with ``tokens`` tokens cached (a window keeps the last W)."""
    lo, hi, _, _ = side_layers(m, k, side)
    n = min(tokens, kv_window) if kv_window else tokens
    return (hi - lo) * 2 * n * m.kv_heads * m.head_dim * KV_FORMATS[kv] // 8


def activation_bytes(m: ModelConfig, k: int, side: str, weights: str, tokens: int, prefill: int = 0) -> int:
    """Peak live activations (the assumption in the module docstring); ``prefill`` > 0: the
    prefill of that many tokens instead of one decode step."""
    lo, hi, _, head = side_layers(m, k, side)
    a = Workload(m, weights=weights).act_bytes
    up = (2 if m.mlp == "gated" else 1) * m.intermediate
    inner = max(m.hidden + 2 * m.kv_dim, up)
    out = 0
    if hi > lo:
        out = a * prefill * (m.hidden + inner) if prefill else a * (m.hidden + max(inner, m.heads * tokens))
    return out + (4 * m.vocab if head else 0)


def workspace_bytes(runtime: str, workspace_mb=None) -> int:
    mb = RUNTIME_WORKSPACE_MB.get(runtime, 0.0) if workspace_mb is None else workspace_mb
    return int(mb * MIB)


def side_memory(m: ModelConfig, k: int, side: str, weights: str, kv: str, tokens: int, runtime: str,
                workspace_mb=None, kv_window: int = 0, prefill: int = 0) -> SideMemory:
    """Memory of ``side`` with ``tokens`` tokens in its KV cache. A side with nothing on it
    (the edge at k = 0) holds nothing, not even a runtime."""
    lo, hi, embed, head = side_layers(m, k, side)
    if lo == hi and not embed and not head:
        return SideMemory(0, 0, 0, 0)
    return SideMemory(params_bytes(m, k, side, weights), kv_bytes(m, k, side, kv, tokens, kv_window),
                      activation_bytes(m, k, side, weights, tokens, prefill), workspace_bytes(runtime, workspace_mb))


def first_oom_token(m: ModelConfig, k: int, side: str, weights: str, kv: str, runtime: str, budget_bytes: float,
                    start: int, end: int, workspace_mb=None, kv_window: int = 0):
    """The smallest KV length ``n`` in ``[start, end]`` at which the side exceeds the budget,
    or None. Memory never falls as ``n`` grows, so this is a bisection."""
    def over(n):
        return side_memory(m, k, side, weights, kv, n, runtime, workspace_mb, kv_window).total_bytes > budget_bytes
    if not over(end):
        return None
    lo, hi = start, end
    while lo < hi:
        mid = (lo + hi) // 2
        if over(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo
