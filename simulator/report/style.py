"""The one figure style of every plot: what IEEE/ACM camera-ready checks and readers need.

* TrueType (Type 42) fonts in PDF and PS, never Type 3; 300 dpi PNG;
* 8-9 pt text, no rotated 6 pt labels; plain tick labels (``0.5``, ``20``, ``1000``; no
  scientific notation or offsets);
* the Okabe-Ito colour-blind-safe palette (Okabe & Ito, "Color Universal Design", 2008), with
  a marker per series so print in grey stays readable;
* legends outside the axes (:func:`legend_outside`), so they never cover data.

Every plot goes through :func:`figure` and :func:`save`.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator  # noqa: E402

PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
MARKERS = ["o", "s", "D", "^", "v", "P", "X", "<"]
DPI = 300
RC = {
    "pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "none",
    "savefig.dpi": DPI, "savefig.bbox": "tight", "figure.dpi": 100,
    "font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8, "legend.fontsize": 7.5,
    "xtick.labelsize": 7.5, "ytick.labelsize": 7.5,
    "axes.grid": True, "grid.alpha": 0.3, "grid.linewidth": 0.5,
    "axes.formatter.useoffset": False, "axes.formatter.limits": (-6, 7),
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "legend.frameon": False,
}


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def marker(i: int) -> str:
    return MARKERS[i % len(MARKERS)]


@contextmanager
def figure(width_in: float = 5.0, height_in: float = 3.2, **kw):
    """A figure and axes under the style (``kw`` go to ``plt.subplots``)."""
    with plt.rc_context(RC):
        fig, ax = plt.subplots(figsize=(width_in, height_in), **kw)
        yield fig, ax


def _plain(v, _pos=None) -> str:
    """A tick label without exponent notation: ``0.05``, ``20``, ``100000``, ``1000000`` (``%g``
    would switch to ``1e+06`` at a million, mixing two notations on one axis)."""
    if v == 0 or 1e-4 <= abs(v) < 1:
        return f"{v:g}"
    if abs(v) < 1e-4:
        return f"{v:.1e}"
    return f"{v:.0f}" if float(v).is_integer() else f"{v:g}"


def plain_log_axis(ax, which: str = "y"):
    """A log axis with plain labels (``0.5 1 2 5 10``, not ``10^0``); call after plotting, as
    the ticks follow the span: decades when it is wide, 1-2-5 steps, or 4 linear steps when
    it is under one decade."""
    import math

    from matplotlib.ticker import MaxNLocator
    axis = ax.yaxis if which == "y" else ax.xaxis
    (ax.set_yscale if which == "y" else ax.set_xscale)("log")
    lo, hi = sorted(ax.get_ylim() if which == "y" else ax.get_xlim())
    decades = math.log10(hi / lo) if lo > 0 else 9
    if decades < 1:
        axis.set_major_locator(MaxNLocator(4))
    else:
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 2.5 else (1.0,)))
    axis.set_major_formatter(FuncFormatter(_plain))
    axis.set_minor_formatter(NullFormatter())


def legend_outside(ax, title=None, ncol=1):
    """The legend to the right of the axes, outside the data area."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                  title=title, ncol=ncol)


def ratio_label(v: float) -> str:
    """A ratio with three significant digits: 0.03x stays 0.03x, 123.4x is 123x."""
    return f"{v:.3g}x" if v < 100 else f"{v:.0f}x"


def save(fig, stem, exts=(".png", ".pdf")) -> list:
    """Write ``<stem>.png`` (300 dpi) and ``<stem>.pdf`` (Type 42 fonts); close the figure."""
    stem = Path(stem)
    out = []
    with plt.rc_context(RC):
        for ext in exts:
            p = stem.with_suffix(ext)
            fig.savefig(p, dpi=DPI)
            out.append(p)
    plt.close(fig)
    return out
