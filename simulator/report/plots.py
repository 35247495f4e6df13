"""Paper-style figures. Every function writes ``<stem>.png`` (300 dpi) and ``<stem>.pdf``
(TrueType fonts) through :mod:`simulator.report.style`, labels its axes with units, puts its
legend outside the data and takes its title from the data it draws."""

from __future__ import annotations

import numpy as np

from . import style

UNITS = {"latency_ms": "time per token (ms)", "energy_mj": "energy per token (mJ)"}


def breakdown_bars(df, stem, title=None):
    """``df`` from pim.compare.compare (``frac_*`` = share of the latency): one horizontal bar per
    (model, hw) split into components, on a linear 0-100 % axis; the latency is in the label."""
    fracs = [c for c in df.columns if c.startswith("frac_") and df[c].fillna(0).sum() > 0]
    labels = [f"{r.model} | {r.hw} ({r.latency_ms:.3g} ms)" for r in df.itertuples()]
    with style.figure(5.5, max(1.8, 0.8 + 0.28 * len(df))) as (fig, ax):
        left = np.zeros(len(df))
        y = np.arange(len(df))[::-1]
        for i, c in enumerate(fracs):
            vals = 100 * df[c].fillna(0).to_numpy()
            ax.barh(y, vals, left=left, color=style.colour(i), label=c[5:].replace("_", " "), height=0.7,
                    hatch=None if i < len(style.PALETTE) else "//")
            left += vals
        ax.set_yticks(y, labels)
        ax.set_xlim(0, 100)
        ax.set_xlabel("share of the time per token (%)")
        ax.grid(axis="y", visible=False)
        ax.set_title(title or f"Time per token by component: {', '.join(dict.fromkeys(df.model))}")
        style.legend_outside(ax, title="component")
        return style.save(fig, stem)


def speedup_bars(df, stem, reference=None, title=None):
    """Speed-up (latency of each other hw / latency of the reference) per model. Bars on a linear
    axis from 0 when the ratios span less than 30x; otherwise markers on a plain log axis (a bar
    on a log axis has no meaningful base). Each value is printed with three significant digits."""
    models = list(dict.fromkeys(df.model))
    hws = list(dict.fromkeys(df.hw))
    ref = reference or hws[0]
    others = [h for h in hws if h != ref]
    lat = {(r.model, r.hw): r.latency_ms for r in df.itertuples()}
    vals = {h: [lat[(m, h)] / lat[(m, ref)] for m in models] for h in others}
    allv = [v for vs in vals.values() for v in vs]
    use_log = max(allv) / min(allv) > 30
    with style.figure(max(4.0, 0.9 * len(models) + 2.2), 3.0) as (fig, ax):
        w = 0.8 / max(len(others), 1)
        for i, h in enumerate(others):
            pos = np.arange(len(models)) + (i - (len(others) - 1) / 2) * w
            if use_log:
                ax.plot(pos, vals[h], linestyle="none", marker=style.marker(i), color=style.colour(i), label=h)
            else:
                ax.bar(pos, vals[h], w, color=style.colour(i), label=h)
            for x, v in zip(pos, vals[h]):
                ax.annotate(style.ratio_label(v), (x, v), textcoords="offset points", xytext=(0, 3), ha="center",
                            va="bottom", fontsize=6.5, zorder=5,   # above the 1x line, which it may cross
                            bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none"))
        ax.axhline(1.0, color="k", lw=0.8, ls="--")
        if use_log:
            style.plain_log_axis(ax, "y")
            ax.set_ylim(min(allv) / 2, max(allv) * 3)
        else:
            ax.set_ylim(0, max(allv) * 1.18)
        ax.set_xticks(range(len(models)), models, rotation=20 if len(models) > 4 else 0,
                      ha="right" if len(models) > 4 else "center")
        ax.set_ylabel(f"speed-up of {ref} (x{', log scale' if use_log else ''})")
        ax.set_title(title or f"Speed-up of {ref} over {', '.join(others)}")
        style.legend_outside(ax, title="baseline")
        return style.save(fig, stem)


def roofline(timeline, device, stem, title=None):
    """Roofline of a device with the step's ops placed by arithmetic intensity (flop/byte).
    Ops without flops (copies, KV appends, embedding gathers) have no place on a log axis: they
    are counted, with their share of the step's op time, in a note under the plot."""
    bw = device.memory["peak_gbps"]                       # GB/s
    peak = device.compute["bf16_tflops"] * 1e3            # GFLOP/s
    tl = timeline[timeline.bytes > 0]
    dur_all = (tl.end_ns - tl.start_ns)
    placed = tl[tl.flops > 0]
    ai = placed.flops / placed.bytes
    perf = placed.flops / (placed.end_ns - placed.start_ns).clip(lower=1e-3)     # flop/ns = GFLOP/s
    lo_x = max(1e-3, float(ai.min()) / 3) if len(ai) else 1e-2
    x = np.logspace(np.log10(lo_x), 4, 200)
    with style.figure(5.0, 3.4) as (fig, ax):
        ax.plot(x, np.minimum(peak, bw * x), "k-", lw=1.2, label=f"roof ({bw:g} GB/s, {peak / 1e3:g} TFLOP/s)")
        for i, kind in enumerate(sorted(placed.kind.unique())):
            s = placed.kind == kind
            ax.scatter(ai[s], perf[s], s=14, color=style.colour(i), marker=style.marker(i // len(style.PALETTE) + i),
                       label=kind)
        style.plain_log_axis(ax, "x")
        style.plain_log_axis(ax, "y")
        ax.set_xlabel("arithmetic intensity (flop/byte)")
        ax.set_ylabel("achieved throughput (GFLOP/s)")
        ax.set_title(title or f"Decode ops of one step on {device.name}")
        zero = tl[tl.flops == 0]
        if len(zero):
            share = 100 * float((zero.end_ns - zero.start_ns).sum() / max(dur_all.sum(), 1e-9))
            ax.text(0.0, -0.22, f"not placed: {len(zero)} ops with 0 flops ({', '.join(sorted(zero.kind.unique()))}),"
                    f" {share:.3g}% of op time", transform=ax.transAxes, fontsize=6.5, va="top")
        style.legend_outside(ax, title="op kind")
        return style.save(fig, stem)


def latency_vs_context(series: dict, stem, title="Latency vs context"):
    """``series``: label -> (contexts, ms per token)."""
    with style.figure(5.0, 3.2) as (fig, ax):
        for i, (label, (ctx, ms)) in enumerate(series.items()):
            ax.plot(ctx, ms, "-", marker=style.marker(i), color=style.colour(i), label=label, ms=4)
        ax.set_xscale("log", base=2)
        ticks = sorted({int(c) for ctx, _ in series.values() for c in ctx})   # the contexts simulated
        ax.set_xticks(ticks, [str(c) for c in ticks])
        ax.xaxis.set_minor_locator(style.NullLocator())
        style.plain_log_axis(ax, "y")
        ax.set_xlabel("context (tokens in the KV cache)")
        ax.set_ylabel("time per token (ms)")
        ax.set_title(title)
        style.legend_outside(ax, title="hardware")
        return style.save(fig, stem)


def _front(pts) -> list:
    """Indices of the Pareto front (lower is better on both columns), by the first column."""
    front, best = [], np.inf
    for i in np.argsort(pts[:, 0], kind="stable"):
        if pts[i, 1] < best:
            best = pts[i, 1]
            front.append(i)
    return front


def pareto(df, stem, x="latency_ms", y="energy_mj", title=None):
    """Sweep points and the Pareto front of each workload (points of different models or
    contexts are never on one front); each front point is labelled with its design values."""
    ok = df[(df["error"] == "") & df[x].notna() & df[y].notna()] if "error" in df else df
    wl_cols = [c for c in ok.columns if c.startswith("workload.") and ok[c].nunique() > 1]
    design = [c for c in ok.columns if (c.startswith(("pim.", "device.")) or c == "hw") and ok[c].nunique() > 1]
    groups = list(ok.groupby(wl_cols, sort=True)) if wl_cols else [((), ok)]
    tags = []
    with style.figure(5.5, 3.6) as (fig, ax):
        for i, (key, g) in enumerate(groups):
            key = key if isinstance(key, tuple) else (key,)
            name = ", ".join(f"{c.split('.', 1)[1]}={v}" for c, v in zip(wl_cols, key)) or "all points"
            pts = g[[x, y]].to_numpy(dtype=float)
            ax.scatter(pts[:, 0], pts[:, 1], s=10, color=style.colour(i), marker=style.marker(i), alpha=0.45,
                       label=f"{name} ({len(pts)} points)")
            f = _front(pts)
            ax.plot(pts[f, 0], pts[f, 1], "-", marker=style.marker(i), color=style.colour(i), ms=4,
                    label=f"{name}: Pareto front ({len(f)})")
            tags.append((pts, f, g))
        mid = np.sqrt(np.prod(ax.get_xlim()))
        for pts, f, g in tags:              # front points named by their design values, text kept inside
            for j in f:
                tag = ", ".join(f"{c.split('.')[-1]}={g.iloc[j][c]}" for c in design)
                right = pts[j, 0] > mid
                if tag:
                    # a front falls to the right, so a label below-left (right half) or above-right
                    # (left half) of its point keeps off the front's own line
                    ax.annotate(tag, (pts[j, 0], pts[j, 1]), textcoords="offset points",
                                xytext=(-4, -4) if right else (4, 3), va="top" if right else "bottom",
                                ha="right" if right else "left", fontsize=5.5, zorder=5,
                                bbox=dict(boxstyle="square,pad=0.05", fc="white", ec="none", alpha=0.8))
        ax.margins(y=0.12)                                # room for the labels below the lowest point
        style.plain_log_axis(ax, "x")
        style.plain_log_axis(ax, "y")
        ax.set_xlabel(UNITS.get(x, x))
        ax.set_ylabel(UNITS.get(y, y))
        ax.set_title(title or f"Design space: {len(ok)} points, {len(groups)} workload{'s' if len(groups) != 1 else ''}")
        style.legend_outside(ax)
        return style.save(fig, stem)

def split_layers(df, stem, edge_budget_gb=None, latency_ms=None, title="Split computing"):
    """Two panels against the split layer (0 = all on the server, L = all on the edge), one line
    per edge weight format: the lowest per-token latency over the other searched dimensions,
    and the edge memory at the last token. ``df``: layer, edge_weights, ms_per_token,
    edge_memory_gb, feasible. Feasible points filled, infeasible hollow."""
    import pandas as pd
    with style.figure(8, 3.2, ncols=2) as (fig, (a1, a2)):
        fmts = [f for f in dict.fromkeys(df.edge_weights) if f != "-"]
        ends = df[df.edge_weights == "-"]
        for i, f in enumerate(fmts):
            s = pd.concat([df[df.edge_weights == f], ends]).sort_values("layer")
            g = s.groupby("layer").agg(ms=("ms_per_token", "min"), gb=("edge_memory_gb", "min"),
                                       ok=("feasible", "max")).reset_index()
            c = style.colour(i)
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
        from matplotlib.lines import Line2D
        (h1, l1), (h2, l2) = a1.get_legend_handles_labels(), a2.get_legend_handles_labels()
        by_label = dict(zip(l1 + l2, h1 + h2))           # one entry per label, below the panels
        by_label["feasible point"] = Line2D([], [], ls="none", marker="o", ms=4, color="0.4")
        by_label["infeasible point"] = Line2D([], [], ls="none", marker="o", ms=4, mfc="none", color="0.4")
        fig.legend(by_label.values(), by_label.keys(), loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=4)
        fig.suptitle(title, fontsize=9)
        return style.save(fig, stem)

