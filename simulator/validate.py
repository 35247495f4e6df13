"""`decodesim validate`: predictions for every published and measured cell, error per
cell, MAPE per device and overall, fitted cells reported apart from held-out ones."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd

from .devices.config import CALIBRATION, load_calibration, load_device, load_runtime, runtime_for
from .engine.sim import simulate_step
from .lowering.gpu import achievable_bandwidth_gbps
from .workload import Workload, generate_trace, load_model

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "validation" / "data" / "published" / "decode_cells.csv"
MEASURED_DIR = ROOT / "validation" / "data" / "measured"


def source_floor_ms(model, device, context, weights, kv, batch=1) -> float:
    """Memory floor as the sources define it: all weights + KV of one step / peak bandwidth."""
    w = Workload(load_model(model), weights=weights, kv=kv, batch=batch)
    m = w.model
    weight_bytes = m.param_count() * w.format.bits / 8
    kv_bytes = w.kv_bytes_per_token() * (context + 1) * batch
    return (weight_bytes + kv_bytes) / (load_device(device).memory["peak_gbps"] * 1e6)


def _group_size(row) -> int:
    """The cell's quantization group size; blank (NaN) or absent = the format's default."""
    g = row.get("group_size")
    return 0 if g is None or pd.isna(g) else int(g)


def _step_ms(row, calibration, device=None):
    dev = device or load_device(row["device"])
    rt = runtime_for(dev, row["mode"], calibration)
    w = Workload(load_model(row["model"]), weights=row["weights"], kv=row["kv"], batch=int(row["batch"]),
                 group_size=_group_size(row))
    return simulate_step(w, int(row["context"]), dev, row["mode"], rt).latency_ms


def predict_cell(row, calibration, device=None):
    """(predicted, measured) in the cell's metric."""
    metric = row["metric"]
    if metric == "achievable_bandwidth_gbps":
        dev = device or load_device(row["device"])
        return achievable_bandwidth_gbps(dev, load_runtime(dev.runtime, calibration)), float(row["value"])
    if metric == "graphs_speedup":
        eager = dict(row, mode="eager")
        return _step_ms(eager, calibration, device) / _step_ms(row, calibration, device), float(row["value"])
    ms = _step_ms(row, calibration, device)
    if metric == "ms_per_step":
        return ms, float(row["value"])
    if metric == "tokens_per_s":
        return 1000.0 / ms, float(row["value"])
    if metric == "floor_fraction":
        return source_floor_ms(row["model"], row["device"], int(row["context"]), row["weights"], row["kv"]) / ms, \
            float(row["value"])
    raise ValueError(f"unknown metric {metric!r}")


def published_cells() -> pd.DataFrame:
    return pd.read_csv(PUBLISHED)


# the columns `decodesim measure` writes that a cell needs; other CSVs in the folder (e.g. the
# gpu_info.csv of validation/gpu_session.sh) are not cells
HARNESS_COLUMNS = {"model", "weights", "batch", "context", "mode", "ms_per_step_median", "probe_gbps",
                   "device_config", "role"}
# the calibrated parameter a harness row marked `fit` fits, per runtime profile: on a CPU the
# GEMV bandwidth ratio, on a GPU (eager, batch 1: dispatch-bound) the host dispatch cost
MEASURED_FIT_PARAMETER = {"cpu-pytorch": "memory_efficiency", "gpu-pytorch": "host_dispatch_us"}


def measured_cells() -> pd.DataFrame:
    """Harness CSVs turned into cells (metric ms_per_step), device from each file's probe;
    CSVs without the harness's columns are skipped."""
    frames = []
    for p in sorted(MEASURED_DIR.glob("*.csv")):
        df = pd.read_csv(p)
        if not HARNESS_COLUMNS <= set(df.columns):
            continue
        df["file"] = p.name
        frames.append(df)
    if not frames:
        return pd.DataFrame()
    df = pd.concat(frames, ignore_index=True)
    out = pd.DataFrame({
        "cell_id": [f"{r.file}:{r.model}:ctx{r.context}:{r.mode}" for r in df.itertuples()],
        "model": df.model, "device": df.device_config, "weights": df.weights, "kv": df.weights,
        "context": df.context, "batch": df.batch, "mode": df["mode"], "metric": "ms_per_step",
        "value": df.ms_per_step_median, "role": df.role, "probe_gbps": df.probe_gbps,
        "source": "measured: " + df.file})
    return out


def _device_for(row):
    """The cell's device; a CPU measured by the harness takes its memory bandwidth from the
    file's probe (the host config), a GPU keeps its datasheet peak (its calibrated efficiency
    is relative to that)."""
    dev = load_device(row["device"])
    if dev.kind == "cpu" and not pd.isna(row.get("probe_gbps", float("nan"))):
        dev = dev.with_memory(peak_gbps=float(row["probe_gbps"]))
    return dev


def step_floor_ms(row, device) -> float:
    """Bytes of the cell's decode step (weights in their format, KV, activations) over the
    device's datasheet peak bandwidth: no run can be faster."""
    w = Workload(load_model(row["model"]), weights=row["weights"], kv=row["kv"], batch=int(row["batch"]),
                 group_size=_group_size(row))
    return generate_trace(w, int(row["context"])).totals()["bytes"] / (device.memory["peak_gbps"] * 1e6)


def measured_ms(row):
    """The cell's measurement as ms per step (None for metrics that are not a step time)."""
    v = float(row["value"])
    return {"ms_per_step": v, "tokens_per_s": 1000.0 / v if v else None}.get(row["metric"])


def evaluate(cells: pd.DataFrame, calibration=None) -> pd.DataFrame:
    """Per cell: predicted, measured, error, the runtime profile and device class it runs on,
    and ``floor_pct`` = bandwidth floor / measured step time in % (above 100: the measurement
    beats the datasheet bandwidth, so the cell or its set-up is wrong)."""
    cal = calibration or load_calibration()
    rows = []
    for _, r in cells.iterrows():
        row = r.to_dict()
        dev = _device_for(r)
        pred, meas = predict_cell(row, cal, dev)
        ms = measured_ms(row)
        floor = 100.0 * step_floor_ms(row, dev) / ms if ms else float("nan")
        rows.append({**row, "predicted": pred, "measured": meas, "error_pct": 100.0 * (pred - meas) / meas,
                     "runtime": runtime_for(dev, row["mode"], cal).name, "device_class": dev.kind,
                     "floor_pct": floor})
    return pd.DataFrame(rows)


def mape(df) -> float:
    return float(np.mean(np.abs(df.error_pct))) if len(df) else float("nan")


def refit(cells: pd.DataFrame, calibration: dict) -> dict:
    """Re-fit each calibrated parameter on the cells it names (1-D bisection each, a few
    rounds since they interact)."""
    cal = copy.deepcopy(calibration)
    by_id = {r.cell_id: r._asdict() for r in cells.itertuples(index=False)}
    _adopt_fit_cells(cells, cal)
    from tqdm import tqdm
    jobs = [(prof, name) for prof, params in cal.items() for name in params]
    bar = tqdm(total=4 * len(jobs), desc="refit", unit="parameter", disable=None)
    for _ in range(4):
        for prof, name in jobs:
            spec = cal[prof][name]
            bar.update(1)
            rows = [by_id[c] for c in spec["fitted_on"] if c in by_id]
            if not rows:
                continue

            def err(v):
                spec["value"] = v
                e = 0.0
                for row in rows:
                    p, m = predict_cell(row, cal, _device_for(row))
                    e += (p - m) / m
                return e
            lo, hi = (0.05, 1.2) if name.startswith("memory_efficiency") else (0.0, 200.0)
            e_lo, e_hi = err(lo), err(hi)
            if e_lo * e_hi > 0:
                spec["value"] = lo if abs(e_lo) < abs(e_hi) else hi
                continue
            for _ in range(40):
                mid = 0.5 * (lo + hi)
                e_mid = err(mid)
                if e_mid * e_lo > 0:
                    lo, e_lo = mid, e_mid
                else:
                    hi = mid
            spec["value"] = round(0.5 * (lo + hi), 4)
    bar.close()
    return cal


def _adopt_fit_cells(cells: pd.DataFrame, cal: dict):
    """Cells with role ``fit`` (as ``decodesim measure`` marks them) that no parameter names yet
    join the ``fitted_on`` of their runtime's MEASURED_FIT_PARAMETER (written back by --refit)."""
    named = {c for params in cal.values() for spec in params.values() for c in spec["fitted_on"]}
    for r in cells[(cells.role == "fit") & ~cells.cell_id.isin(named)].itertuples(index=False):
        profile = load_device(r.device).runtime
        param = MEASURED_FIT_PARAMETER.get(profile)
        if profile in cal and param in cal[profile]:
            cal[profile][param]["fitted_on"].append(r.cell_id)


def write_calibration(cal: dict, path=CALIBRATION):
    import yaml
    head = ("# Fitted parameters. Each says what it was fitted on; `decodesim validate --refit` recomputes\n"
            "# them from those cells and validation reports error on every other cell as held-out.\n")
    Path(path).write_text(head + yaml.safe_dump(cal, sort_keys=False))


def report(df: pd.DataFrame) -> str:
    lines = [f"{'cell':52s} {'role':8s} {'metric':25s} {'measured':>10s} {'predicted':>10s} {'error':>8s}"]
    for r in df.itertuples():
        lines.append(f"{r.cell_id[:52]:52s} {r.role:8s} {r.metric:25s} {r.measured:10.3f} {r.predicted:10.3f} "
                     f"{r.error_pct:+7.1f}%")
    lines.append("")
    for role in ("fit", "heldout"):
        sub = df[df.role == role]
        lines.append(f"MAPE {role:8s} {mape(sub):6.1f}% over {len(sub)} cells")
    held = df[df.role == "heldout"]
    measured = held.source.str.startswith("measured:")
    lines.append(f"  held-out MAPE, published cells        {mape(held[~measured]):6.1f}% ({int((~measured).sum())} cells)")
    lines.append(f"  held-out MAPE, this machine's harness {mape(held[measured]):6.1f}% ({int(measured.sum())} cells)")
    for dev, sub in held.groupby("device"):
        lines.append(f"  held-out MAPE on {dev:18s} {mape(sub):6.1f}% ({len(sub)} cells)")
    for key, label in (("runtime", "runtime"), ("device_class", "device class")):
        for name, sub in held.groupby(key):
            lines.append(f"  held-out MAPE, {label} {name:16s} {mape(sub):6.1f}% ({len(sub)} cells)")
    bad = df[df.floor_pct > 100.0]
    for r in bad.itertuples():
        lines.append(f"  FLAG {r.cell_id}: measured step is {r.floor_pct:.0f}% of its bandwidth floor "
                     "(faster than the datasheet bandwidth allows): check the cell")
    return "\n".join(lines)


METRIC_UNITS = {"ms_per_step": "time per token (ms)", "tokens_per_s": "tokens per second",
                "achievable_bandwidth_gbps": "bandwidth (GB/s)", "graphs_speedup": "CUDA Graphs speed-up (x)",
                "floor_fraction": "memory floor / time per token (ratio)"}


def plot(df: pd.DataFrame, path):
    """Predicted vs measured, one panel per metric (never two units on one axis), fitted and
    held-out cells apart, y = x for reference; written through simulator.report.style."""
    from .report import style
    metrics = list(dict.fromkeys(df.metric))
    ncols = min(3, len(metrics))
    nrows = -(-len(metrics) // ncols)
    with style.figure(2.6 * ncols + 1.6, 2.6 * nrows, nrows=nrows, ncols=ncols, squeeze=False) as (fig, axes):
        flat = list(axes.ravel())
        for ax in flat[len(metrics):]:
            ax.remove()
        for ax, metric in zip(flat, metrics):
            sub_m = df[df.metric == metric]
            for i, role in enumerate(("fit", "heldout")):
                sub = sub_m[sub_m.role == role]
                if len(sub):
                    ax.scatter(sub.measured, sub.predicted, marker=style.marker(i), color=style.colour(i), s=14,
                               label=f"{'fitted' if role == 'fit' else 'held-out'} cells")
            vals = pd.concat([sub_m.measured, sub_m.predicted])
            lim = [float(vals.min()) * 0.7, float(vals.max()) * 1.4]
            ax.plot(lim, lim, "k--", lw=0.8, label="y = x")
            style.plain_log_axis(ax, "x")
            style.plain_log_axis(ax, "y")
            ax.set_xlim(lim)
            ax.set_ylim(lim)
            unit = METRIC_UNITS.get(metric, metric.replace("_", " "))
            ax.set_xlabel(f"measured {unit}")
            ax.set_ylabel(f"predicted {unit}")
            held = sub_m[sub_m.role == "heldout"]
            n = len(sub_m)
            err = f", held-out MAPE {mape(held):.1f}%" if len(held) else ""
            ax.set_title(f"{unit[0].upper() + unit[1:]}: {n} cell{'s' if n != 1 else ''}{err}", fontsize=7.5)
        fig.tight_layout()
        style.legend_outside(flat[ncols - 1])
        style.save(fig, Path(path).with_suffix(""), exts=(Path(path).suffix,))
