"""Paper-style figures. Every function writes ``<stem>.png`` and ``<stem>.pdf`` and labels
its axes with units."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

STYLE = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
         "axes.grid": True, "grid.alpha": 0.3, "figure.dpi": 150, "savefig.bbox": "tight"}
COLORS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]


def _save(fig, stem) -> list:
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for ext in (".png", ".pdf"):
        p = stem.with_suffix(ext)
        fig.savefig(p)
        out.append(p)
    plt.close(fig)
    return out


def breakdown_bars(df, stem, title="Decode step time by component"):
    """``df`` from pim.compare.compare: stacked bars of ms/token split by component."""
    with plt.rc_context(STYLE):
        fracs = sorted({c for c in df.columns if c.startswith("frac_")})
        labels = [f"{r.model}\n{r.hw}" for r in df.itertuples()]
        fig, ax = plt.subplots(figsize=(max(4, 0.55 * len(df)), 3.2))
        bottom = np.zeros(len(df))
        for i, c in enumerate(fracs):
            vals = df[c].fillna(0).to_numpy() * df.latency_ms.to_numpy()
            if vals.sum() == 0:
                continue
            ax.bar(range(len(df)), vals, bottom=bottom, color=COLORS[i % len(COLORS)], label=c[5:].replace("_", " "))
            bottom += vals
        ax.set_yscale("log")
        ax.set_xticks(range(len(df)), labels, rotation=90, fontsize=6)
        ax.set_ylabel("time per token (ms, log scale)")
        ax.set_title(title)
        ax.legend(ncol=3, loc="upper left")
        return _save(fig, stem)


def speedup_bars(df, stem, reference=None, title="PIM speed-up over baselines"):
    """Grouped bars (PIM-GPT style): speed-up of the first hw over each other hw, per model."""
    with plt.rc_context(STYLE):
        models = list(dict.fromkeys(df.model))
        hws = list(dict.fromkeys(df.hw))
        ref = reference or hws[0]
        others = [h for h in hws if h != ref]
        fig, ax = plt.subplots(figsize=(6, 3))
        w = 0.8 / max(len(others), 1)
        for i, h in enumerate(others):
            vals = [df[(df.model == m) & (df.hw == h)].latency_ms.iloc[0] / df[(df.model == m) & (df.hw == ref)].latency_ms.iloc[0]
                    for m in models]
            pos = np.arange(len(models)) + (i - (len(others) - 1) / 2) * w
            ax.bar(pos, vals, w, label=f"vs {h}", color=COLORS[i])
            for x, v in zip(pos, vals):
                ax.text(x, v, f"{v:.0f}", ha="center", va="bottom", fontsize=6)
        ax.set_yscale("log")
        ax.set_xticks(range(len(models)), models, rotation=30, ha="right")
        ax.set_ylabel(f"speed-up of {ref} (x, log scale)")
        ax.set_title(title)
        ax.legend()
        return _save(fig, stem)


def roofline(timeline, device, stem, title=None):
    """Roofline of a device with the step's ops placed by arithmetic intensity."""
    with plt.rc_context(STYLE):
        bw = device.memory["peak_gbps"]                       # GB/s
        peak = device.compute["bf16_tflops"] * 1e3            # GFLOP/s
        tl = timeline[timeline.bytes > 0]
        ai = tl.flops / tl.bytes
        dur = (tl.end_ns - tl.start_ns).clip(lower=1e-3)
        perf = tl.flops / dur                                  # flop/ns = GFLOP/s
        x = np.logspace(-2, 4, 200)
        fig, ax = plt.subplots(figsize=(5, 3.4))
        ax.plot(x, np.minimum(peak, bw * x), "k-", lw=1.2, label=f"{device.name} roof")
        for i, kind in enumerate(sorted(tl.kind.unique())):
            s = tl.kind == kind
            ax.scatter(ai[s], perf[s].clip(lower=1e-3), s=10, color=COLORS[i % len(COLORS)], label=kind)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("arithmetic intensity (flop/byte)")
        ax.set_ylabel("achieved throughput (GFLOP/s)")
        ax.set_title(title or f"Decode ops on {device.name}")
        ax.legend(fontsize=6, ncol=2)
        return _save(fig, stem)


def latency_vs_context(series: dict, stem, title="Latency vs context"):
    """``series``: label -> (contexts, ms per token)."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5, 3.2))
        for i, (label, (ctx, ms)) in enumerate(series.items()):
            ax.plot(ctx, ms, "o-", color=COLORS[i % len(COLORS)], label=label, ms=3)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("context (tokens in the KV cache)")
        ax.set_ylabel("time per token (ms)")
        ax.set_title(title)
        ax.legend()
        return _save(fig, stem)


def pareto(df, stem, x="latency_ms", y="energy_mj", title="Design space: latency vs energy"):
    """Scatter of sweep points with the Pareto front (lower is better on both axes)."""
    with plt.rc_context(STYLE):
        ok = df[(df.get("error", "") == "") & df[x].notna() & df[y].notna()] if "error" in df else df
        pts = ok[[x, y]].to_numpy()
        order = np.argsort(pts[:, 0])
        front, best = [], np.inf
        for i in order:
            if pts[i, 1] < best:
                best = pts[i, 1]
                front.append(i)
        fig, ax = plt.subplots(figsize=(5, 3.4))
        ax.scatter(pts[:, 0], pts[:, 1], s=6, color="#999999", label=f"{len(pts)} design points")
        f = pts[front]
        ax.plot(f[:, 0], f[:, 1], "o-", color=COLORS[1], ms=3, label=f"Pareto front ({len(front)})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        units = {"latency_ms": "time per token (ms)", "energy_mj": "energy per token (mJ)"}
        ax.set_xlabel(units.get(x, x))
        ax.set_ylabel(units.get(y, y))
        ax.set_title(title)
        ax.legend()
        return _save(fig, stem)


def split_layers(df, stem, edge_budget_gb=None, latency_ms=None, title="Split computing"):
    """Two panels against the split layer (0 = all on the server, L = all on the edge), one line
    per edge weight format: the lowest per-token latency over the other searched dimensions,
    and the edge memory at the last token. ``df``: layer, edge_weights, ms_per_token,
    edge_memory_gb, feasible. Feasible points filled, infeasible hollow."""
    import pandas as pd
    with plt.rc_context(STYLE):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(8, 3.2))
        fmts = [f for f in dict.fromkeys(df.edge_weights) if f != "-"]
        ends = df[df.edge_weights == "-"]
        for i, f in enumerate(fmts):
            s = pd.concat([df[df.edge_weights == f], ends]).sort_values("layer")
            g = s.groupby("layer").agg(ms=("ms_per_token", "min"), gb=("edge_memory_gb", "min"),
                                       ok=("feasible", "max")).reset_index()
            c = COLORS[i % len(COLORS)]
            for ax, col in ((a1, "ms"), (a2, "gb")):
                ax.plot(g.layer, g[col], "-", color=c, label=f"edge {f}", lw=1)
                ax.scatter(g.layer[g.ok], g[col][g.ok], s=10, color=c)
                ax.scatter(g.layer[~g.ok], g[col][~g.ok], s=10, facecolors="none", edgecolors=c)
        if latency_ms:
            a1.axhline(latency_ms, color="k", ls="--", lw=0.8, label="latency target")
        if edge_budget_gb:
            a2.axhline(edge_budget_gb, color="k", ls="--", lw=0.8, label="edge budget")
        a1.set_ylabel("time per token (ms)")
        a2.set_ylabel("edge memory at the last token (GB)")
        for ax in (a1, a2):
            ax.set_xlabel("split layer (0 = all server)")
            ax.legend(fontsize=6)
        fig.suptitle(title, fontsize=9)
        return _save(fig, stem)

