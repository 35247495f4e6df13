"""`decodesim compare`: one workload on several hardware configs (PIM presets, GPUs, CPUs)."""

from __future__ import annotations

from pathlib import Path

from ..devices.config import list_devices, load_device
from ..engine.sim import simulate_step
from ..workload import Workload, load_model
from .config import list_pims, load_pim
from .system import simulate_token


# the 8 GPT models of the PIM-GPT paper (the default workloads of compare, plot and the demo)
PIM_GPT_MODELS = ["gpt2-small", "gpt2-medium", "gpt2-large", "gpt2-xl",
                  "gpt3-small", "gpt3-medium", "gpt3-large", "gpt3-xl"]
BANDS = Path(__file__).resolve().parents[2] / "validation" / "data" / "published" / "pim_gpt_bands.csv"
RATIO_COLUMNS = {"speedup": "speedup_of_first", "energy_ratio": "energy_ratio_of_first"}


def baseline_weights(dev) -> str:
    """Weight format of a baseline device: fp32 on a CPU (PyTorch's CPU default), else fp16."""
    return "fp32" if dev.kind == "cpu" else "fp16"


def run_one(model: str, hw: str, context: int):
    """dict: latency_ms, energy_mj, breakdown (fractions) for a PIM preset or a device."""
    m = load_model(model)
    if hw in list_pims():
        s = simulate_token(load_pim(hw), Workload(m, weights="bf16"), context)
        tot = sum(s.breakdown_ns.values())
        return {"hw": hw, "latency_ms": s.latency_ms, "energy_mj": s.energy_mj, "row_hit_rate": s.row_hit_rate,
                **{f"frac_{k}": v / tot for k, v in s.breakdown_ns.items()}}
    if hw not in list_devices():
        from ..errors import ConfigError
        raise ConfigError("--hw", hw, f"unknown; PIM presets: {', '.join(list_pims())}; devices: {', '.join(list_devices())}")
    dev = load_device(hw)
    r = simulate_step(Workload(m, weights=baseline_weights(dev)), context, dev, "eager")
    energy = dev.power["tdp_w"] * r.latency_ns * 1e-9 * 1e3          # TDP x time (upper bound), mJ
    tl = r.timeline
    tot = (tl.end_ns - tl.start_ns).sum()
    bd = (tl.end_ns - tl.start_ns).groupby(tl.bound).sum() / max(tot, 1)
    return {"hw": hw, "latency_ms": r.latency_ms, "energy_mj": energy, "row_hit_rate": float("nan"),
            **{f"frac_{k}": float(v) for k, v in bd.items()}}


def compare(models, hws, context: int):
    """One row per (model, hw); ratios are relative to the first hw of the same model."""
    import pandas as pd
    rows = []
    for model in models:
        first = None
        for hw in hws:
            r = run_one(model, hw, context)
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
