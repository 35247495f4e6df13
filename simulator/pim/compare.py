"""`decodesim compare`: one workload on several hardware configs (PIM presets, GPUs, CPUs)."""

from __future__ import annotations

from pathlib import Path

from ..backends import baseline_weights  # noqa: F401  (re-exported: callers import it from here)
from ..workload import load_model


# the 8 GPT models of the PIM-GPT paper (the default workloads of compare, plot and the demo)
PIM_GPT_MODELS = ["gpt2-small", "gpt2-medium", "gpt2-large", "gpt2-xl",
                  "gpt3-small", "gpt3-medium", "gpt3-large", "gpt3-xl"]
BANDS = Path(__file__).resolve().parents[2] / "validation" / "data" / "published" / "pim_gpt_bands.csv"
RATIO_COLUMNS = {"speedup": "speedup_of_first", "energy_ratio": "energy_ratio_of_first"}


def run_one(model, hw, context: int, weights=None, batch=None, kv="bf16", kv_window=0, group_size=0,
            mode=None, overrides=None, allow_overcommit=False) -> dict:
    """One decode step of ``model`` (name, path or ModelConfig) on ``hw`` (any registered backend's
    config, name or YAML path, with dotted ``overrides``), run by its backend
    (:mod:`simulator.backends`).

    Returns a dict: hw, kind, latency_ms, energy_mj (PIM: per-command energy; devices: TDP x time,
    an upper bound), row_hit_rate (NaN for devices), breakdown_ns (parts adding up to the latency,
    devices' idle time its own part), ``frac_<part>`` = part / latency, the backend's summary keys,
    ``hw_result`` (the :class:`~simulator.backends.HwResult`) and ``result`` (its native object).
    ``weights=None``: bf16 on PIM, :func:`baseline_weights` on a device.

    Raises ConfigError for options a backend cannot honour (PIM with batch > 1, other weights, a
    mode), a context beyond the model's positions and a workload larger than the memory."""
    from ..backends import backend
    from ..checks import check_positions
    from ..hw import check_backend, load_hw
    m = load_model(model) if isinstance(model, str) else model
    h = load_hw(hw, overrides)
    check_backend(h.kind, {"weights": weights, "batch": batch, "mode": mode, "group_size": group_size})
    check_positions(m, context)
    res = backend(h.kind).run(h.obj, m, context, h.name, dict(
        weights=weights, batch=batch, kv=kv, kv_window=kv_window, group_size=group_size, mode=mode,
        allow_overcommit=allow_overcommit))
    out = res.as_dict()
    lat_ns = out["latency_ms"] * 1e6
    return {"hw": str(hw), "kind": h.kind, **out, "result": res.native, "hw_result": res,
            **{f"frac_{k}": v / lat_ns for k, v in out["breakdown_ns"].items()}}


def compare(models, hws, context: int, **options):
    """One row per (model, hw); ratios are relative to the first hw of the same model.
    ``options``: keywords of :func:`run_one` (weights, batch, kv, overrides, ...)."""
    import pandas as pd
    rows = []
    for model in models:
        first = None
        for hw in hws:
            r = run_one(model, hw, context, **options)
            r.pop("breakdown_ns")
            r.pop("result", None)
            r.pop("hw_result", None)
            first = first or r
            r["model"] = model
            r["speedup_of_first"] = r["latency_ms"] / first["latency_ms"]
            r["energy_ratio_of_first"] = r["energy_mj"] / first["energy_mj"]
            rows.append(r)
    return pd.DataFrame(rows)


def against_published(df, bands_csv=BANDS):
    """This project's range of each ratio over the compared models next to the published band
    for the same (reference, baseline) pair: one row per matching band (compared, never fitted)."""
    import pandas as pd
    bands = pd.read_csv(bands_csv)
    first = df.hw.iloc[0]
    rows = []
    for b in bands[bands.reference == first].itertuples():
        ours = df[df.hw == b.baseline][RATIO_COLUMNS[b.metric]]
        if ours.empty:
            continue
        lo, hi = float(ours.min()), float(ours.max())
        verdict = "inside" if lo >= b.low and hi <= b.high else ("below" if hi < b.low else
                                                                  "above" if lo > b.high else "overlaps")
        rows.append({"baseline": b.baseline, "metric": b.metric, "ours_low": lo, "ours_high": hi,
                     "models": len(ours), "published_low": b.low, "published_high": b.high,
                     "published_models": b.models, "verdict": verdict, "source": b.source})
    return pd.DataFrame(rows)
