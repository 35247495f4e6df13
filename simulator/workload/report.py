"""Text tables for decode traces."""

from __future__ import annotations


def _fmt_bytes(b: float) -> str:
    for unit, k in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if b >= k:
            return f"{b / k:.3f} {unit}"
    return f"{b:.0f} B"


def trace_table(tr, workload=None, per_layer=True) -> str:
    h = tr.header
    lines = [f"model {h.get('model')}  context {h.get('context')} (attending {h.get('attended')})  batch {h.get('batch')}  "
             f"weights {h.get('weights')}  kv {h.get('kv')}  source {h.get('source')}"]
    if per_layer:
        lines.append(f"{'layer':>6s} {'ops':>4s} {'bytes':>12s} {'weights':>12s} {'KV':>12s} {'GFLOP':>9s} {'flop/B':>7s}")
        for layer, d in sorted(tr.by_layer().items()):
            name = "embed" if layer == -1 else ("head" if layer == max(tr.by_layer()) else str(layer))
            lines.append(f"{name:>6s} {d['ops']:4d} {_fmt_bytes(d['bytes']):>12s} {_fmt_bytes(d['weight_bytes']):>12s} "
                         f"{_fmt_bytes(d['kv_bytes']):>12s} {d['flops'] / 1e9:9.4f} {d['flops'] / max(d['bytes'], 1):7.2f}")
    t = tr.totals()
    kv = t["kv_read_bytes"] + t["kv_write_bytes"]
    act = t["act_read_bytes"] + t["act_write_bytes"]
    lines += [
        f"total bytes per token:  {t['bytes']:,d} B ({_fmt_bytes(t['bytes'])})",
        f"  weights read:         {t['weight_bytes']:,d} B",
        f"  KV cache read+write:  {kv:,d} B ({t['kv_read_bytes']:,d} read, {t['kv_write_bytes']:,d} written)",
        f"  activations:          {act:,d} B",
        f"total flops per token:  {t['flops']:,d} ({t['flops'] / max(t['bytes'], 1):.3f} flop/B)",
    ]
    if workload is not None:
        m = workload.model
        p = m.active_params() if workload.batch == 1 else m.param_count()   # MoE: the routed experts
        per_param = workload.matrix_bytes(1, 1 << 20) / (1 << 20)
        kv_tok = workload.kv_bytes_per_token()
        attended = h["attended"]
        check = per_param * p + kv_tok * attended * workload.batch
        lines += [
            f"check: {per_param:g} B x {p:,d} {'active ' if m.experts and workload.batch == 1 else ''}parameters + KV ({kv_tok:,d} B/token x {attended} tokens"
            f"{' x batch' if workload.batch > 1 else ''}) = {check:,.0f} B",
            f"  the trace reads {t['weight_bytes'] + t['kv_read_bytes']:,d} B of weights+KV: the embedding lookup "
            f"reads {workload.batch} of {m.vocab} rows, so {(m.vocab - workload.batch) * m.hidden * workload.act_bytes:,d} B "
            f"of the token table are not read"
            + (" (tied: the LM head reads it)" if m.tied_embeddings else ""),
        ]
    return "\n".join(lines)
