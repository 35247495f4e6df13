"""DecodeTrace: the ordered ops of one decode step (one new token per sequence).

Byte accounting per op, kept separate: ``weight_bytes`` (parameters read),
``kv_read_bytes`` / ``kv_write_bytes`` (KV cache), ``act_read_bytes`` /
``act_write_bytes`` (activations). Flops count a multiply-add as 2; element-wise
ops use the per-element costs in :data:`ELEMENTWISE_FLOPS` (a convention that the
generated and the recorded traces share).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .workload import Workload

OP_KINDS = ("embedding", "layernorm", "rmsnorm", "gemv", "gemm", "rope", "kv_append",
            "attn_score", "softmax", "attn_context", "residual", "activation", "lm_head")

# flops per element (per output element for norms/softmax/activation, per input pair for residual)
ELEMENTWISE_FLOPS = {"layernorm": 8, "rmsnorm": 4, "softmax": 5, "residual": 1, "rope": 6,
                     "gelu": 8, "relu": 1, "silu": 5, "silu_mul": 6}


@dataclass
class Op:
    """One operation of a decode step: ``kind`` (one of :data:`OP_KINDS`), ``name`` (e.g.
    ``layers.0.attn.q``), ``layer`` (index), ``shape`` (a mapping: m = batch, n outputs, k row length,
    heads, head_dim, context tokens, as the kind has them), ``dtype`` (format name), the bytes it moves
    split as weight / KV read / KV write / activation read / activation write (bytes), and ``flops``
    (count, a multiply-add counts 2; element-wise costs from :data:`ELEMENTWISE_FLOPS`)."""
    kind: str
    name: str
    layer: int                          # -1 before the first layer, L after the last
    shape: dict = field(default_factory=dict)
    dtype: str = "bf16"
    weight_bytes: int = 0
    kv_read_bytes: int = 0
    kv_write_bytes: int = 0
    act_read_bytes: int = 0
    act_write_bytes: int = 0
    flops: int = 0

    @property
    def bytes(self) -> int:
        """Bytes the op moves (bytes): weight + KV cache read + KV cache write + activation read +
        activation write bytes, as generated; a runtime that re-reads K/V per query head counts more
        (:func:`simulator.lowering.gpu.op_bytes`)."""
        return (self.weight_bytes + self.kv_read_bytes + self.kv_write_bytes
                + self.act_read_bytes + self.act_write_bytes)

    def as_dict(self) -> dict:
        """The op as a plain dict, field name -> value (:func:`dataclasses.asdict`: kind, name, layer,
        a copy of the ``shape`` mapping, dtype name, the five byte counts in bytes, flops as a count), as
        written one per line by :mod:`.trace_io`."""
        return asdict(self)


@dataclass
class DecodeTrace:
    """The ordered ops of one decode step: ``header`` (a dict: format, version, source, model, context
    and attended tokens, batch, weights, kv, kv_window, group_size) and ``ops`` (a list of
    :class:`Op` in execution order). Made by :func:`generate_trace` or read by :mod:`.trace_io`."""
    header: dict
    ops: list

    def totals(self) -> dict:
        """Sums over all ops, a dict: ``weight_bytes``, ``kv_read_bytes``, ``kv_write_bytes``,
        ``act_read_bytes``, ``act_write_bytes`` and ``bytes`` (their sum, :attr:`Op.bytes`) in bytes,
        ``flops`` as a count (a multiply-add counts 2)."""
        keys = ("weight_bytes", "kv_read_bytes", "kv_write_bytes", "act_read_bytes", "act_write_bytes", "flops")
        t = {k: sum(getattr(o, k) for o in self.ops) for k in keys}
        t["bytes"] = sum(o.bytes for o in self.ops)
        return t

    def by_layer(self) -> dict:
        """Sums per layer, a dict layer index -> dict of ``bytes``, ``weight_bytes``, ``kv_bytes`` (KV
        read + write) in bytes, ``flops`` (count, a multiply-add counts 2) and ``ops`` (count of ops).
        Layer -1 holds the embedding; layer L (the model's layer count) the final norm and LM head."""
        out = {}
        for o in self.ops:
            d = out.setdefault(o.layer, {"bytes": 0, "weight_bytes": 0, "kv_bytes": 0, "flops": 0, "ops": 0})
            d["bytes"] += o.bytes
            d["weight_bytes"] += o.weight_bytes
            d["kv_bytes"] += o.kv_read_bytes + o.kv_write_bytes
            d["flops"] += o.flops
            d["ops"] += 1
        return out


def elementwise_flops(kind: str, elements: int) -> int:
    return ELEMENTWISE_FLOPS[kind] * elements


def generate_trace(w: Workload, context: int) -> DecodeTrace:
    """Ops of one decode step with ``context`` tokens already cached: a :class:`DecodeTrace` whose
    ops carry shapes (n, k, heads, head_dim, context), bytes and flops.

    Raises ConfigError for a negative context or one beyond a learned-position model's positions."""
    if context < 0 or context + 1 > w.model.max_positions and w.model.position == "learned":
        from ..errors import ConfigError
        raise ConfigError("workload", "context", f"{context} out of range; allowed [0, {w.model.max_positions - 1}] "
                          f"for {w.model.name} (learned positions)")
    m, B, a = w.model, w.batch, w.act_bytes
    d, q, kv, f, hd = m.hidden, m.q_dim, m.kv_dim, m.intermediate, m.head_dim
    kvb = w.kv_bits
    ops = []
    mm_kind = "gemv" if B == 1 else "gemm"

    def linear(name, layer, k, n, bias, experts=0.0):
        """A weight matrix n x k (row length k); ``experts``: an MoE expert tensor of which
        ``experts`` copies are read and each token uses ``m.experts_per_token``."""
        role = name.split(".", 2)[-1] if name.startswith("layers.") else name
        fmt = w.tensor_format(role, layer, k)
        wb = w.matrix_bytes(n, k, role, layer) + (n * a if bias else 0)
        per_tok = m.experts_per_token if experts else 1
        shape = {"m": B, "n": n, "k": k}
        if experts:
            shape.update(experts_read=experts, experts_per_token=per_tok)
            wb = int(round(wb * experts))
        ops.append(Op(mm_kind, name, layer, shape, fmt.name, weight_bytes=wb,
                      act_read_bytes=B * k * a * per_tok, act_write_bytes=B * n * a * per_tok,
                      flops=per_tok * (2 * B * n * k + (B * n if bias else 0))))

    def norm(name, layer):
        n_par = 2 * d if m.norm == "layernorm" else d
        ops.append(Op(m.norm, name, layer, {"m": B, "n": d}, w.weights, weight_bytes=n_par * a,
                      act_read_bytes=B * d * a, act_write_bytes=B * d * a, flops=elementwise_flops(m.norm, B * d)))

    def residual(name, layer):
        ops.append(Op("residual", name, layer, {"m": B, "n": d}, w.weights, act_read_bytes=2 * B * d * a,
                      act_write_bytes=B * d * a, flops=elementwise_flops("residual", B * d)))

    def mlp(p, i, width, experts=0.0):
        per_tok = m.experts_per_token if experts else 1
        if m.mlp == "gated":
            linear(f"{p}.mlp.gate", i, d, width, m.bias, experts)
            linear(f"{p}.mlp.up", i, d, width, m.bias, experts)
            act_kind, n_in = "silu_mul", 2
        else:
            linear(f"{p}.mlp.up", i, d, width, m.bias, experts)
            act_kind, n_in = m.activation, 1
        n_act = B * width * per_tok
        ops.append(Op("activation", f"{p}.mlp.act", i, {"m": B, "n": width * per_tok, "fn": act_kind}, w.weights,
                      act_read_bytes=n_in * n_act * a, act_write_bytes=n_act * a,
                      flops=elementwise_flops(act_kind, n_act)))
        linear(f"{p}.mlp.down", i, width, d, m.bias, experts)

    # embedding: one row of the token table (+ one of the position table)
    tok_row = w.matrix_bytes(1, d, "embed", -1)
    pos_row = d * a if m.position == "learned" else 0
    ops.append(Op("embedding", "embed", -1, {"m": B, "n": d, "vocab": m.vocab}, w.tensor_format("embed", -1, d).name,
                  weight_bytes=B * (tok_row + pos_row), act_write_bytes=B * d * a, flops=(B * d if pos_row else 0)))
    for i in range(m.layers):
        p = f"layers.{i}"
        L = w.context_kept(context, i)
        norm(f"{p}.norm1", i)
        if m.fused_qkv:
            linear(f"{p}.attn.qkv", i, d, q + 2 * kv, m.qkv_bias)
        else:
            linear(f"{p}.attn.q", i, d, q, m.qkv_bias)
            linear(f"{p}.attn.k", i, d, kv, m.qkv_bias)
            linear(f"{p}.attn.v", i, d, kv, m.qkv_bias)
        if m.position == "rope":
            n_rot = B * (q + kv)
            ops.append(Op("rope", f"{p}.attn.rope", i, {"m": B, "heads": m.heads, "kv_heads": m.kv_heads, "head_dim": hd},
                          w.weights, act_read_bytes=n_rot * a, act_write_bytes=n_rot * a,
                          flops=elementwise_flops("rope", n_rot)))
        ops.append(Op("kv_append", f"{p}.attn.kv_append", i, {"m": B, "kv_heads": m.kv_heads, "head_dim": hd},
                      w.kv, act_read_bytes=2 * B * kv * a, kv_write_bytes=2 * B * kv * kvb // 8))
        attn_shape = {"m": B, "heads": m.heads, "kv_heads": m.kv_heads, "head_dim": hd, "context": L}
        ops.append(Op("attn_score", f"{p}.attn.score", i, dict(attn_shape), w.kv, kv_read_bytes=B * L * kv * kvb // 8,
                      act_read_bytes=B * q * a, act_write_bytes=B * m.heads * L * a, flops=2 * B * m.heads * hd * L))
        ops.append(Op("softmax", f"{p}.attn.softmax", i, {"m": B, "heads": m.heads, "context": L}, w.weights,
                      act_read_bytes=B * m.heads * L * a, act_write_bytes=B * m.heads * L * a,
                      flops=elementwise_flops("softmax", B * m.heads * L)))
        ops.append(Op("attn_context", f"{p}.attn.context", i, dict(attn_shape), w.kv, kv_read_bytes=B * L * kv * kvb // 8,
                      act_read_bytes=B * m.heads * L * a, act_write_bytes=B * q * a, flops=2 * B * m.heads * L * hd))
        linear(f"{p}.attn.out", i, q, d, m.bias)
        residual(f"{p}.residual1", i)
        norm(f"{p}.norm2", i)
        if m.experts:
            # the router (ffn_gate_inp: never quantized by llama.cpp) scores every expert
            ops.append(Op(mm_kind, f"{p}.mlp.router", i, {"m": B, "n": m.experts, "k": d}, w.weights,
                          weight_bytes=m.experts * d * a, act_read_bytes=B * d * a, act_write_bytes=B * m.experts * a,
                          flops=2 * B * m.experts * d))
            mlp(p, i, m.expert_intermediate, m.experts_read(B))
        else:
            mlp(p, i, f)
        residual(f"{p}.residual2", i)
    norm("final_norm", m.layers)
    # the LM head: 16-bit for most formats; llama.cpp mixes give it their output type
    head = w.tensor_format("lm_head", m.layers, d)
    ops.append(Op("lm_head", "lm_head", m.layers, {"m": B, "n": m.vocab, "k": d}, head.name,
                  weight_bytes=w.matrix_bytes(m.vocab, d, "lm_head", m.layers), act_read_bytes=B * d * a,
                  act_write_bytes=B * m.vocab * a, flops=2 * B * m.vocab * d))
    L = w.context_kept(context)
    header = {"format": "decodesim-trace", "version": 1, "source": "generated", "model": m.name,
              "context": context, "attended": L, "batch": B, "weights": w.weights, "kv": w.kv,
              "kv_window": w.kv_window, "group_size": w.group_size}
    return DecodeTrace(header, ops)
