"""Issue #12: every figure kind is paper-ready: TrueType (Type 42) fonts in the PDF, 300 dpi PNG,
a legend that covers no plotted data, plain tick labels, data-driven titles."""

import numpy as np
import pytest
import yaml
from matplotlib.collections import PathCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from simulator.cli import main
from simulator.report import style


@pytest.fixture
def figures(monkeypatch):
    seen = []
    orig = style.save

    def spy(fig, stem, **kw):
        fig.canvas.draw()
        seen.append(_layout(fig))
        return orig(fig, stem, **kw)
    monkeypatch.setattr(style, "save", spy)
    return seen


def _layout(fig):
    """Display-space boxes of every legend and every plotted point/bar of the figure."""
    legends = [lg.get_window_extent() for lg in fig.legends]
    data, titles = [], []
    for ax in fig.axes:
        if ax.get_legend():
            legends.append(ax.get_legend().get_window_extent())
        titles.append(ax.get_title())
        for art in ax.get_children():
            if isinstance(art, Line2D) and art.get_label() and not art.get_label().startswith("_"):
                xy = art.get_xydata()
                data += [ax.transData.transform(p) for p in xy if np.all(np.isfinite(p))]
            elif isinstance(art, PathCollection):
                data += [ax.transData.transform(p) for p in art.get_offsets() if np.all(np.isfinite(p))]
            elif isinstance(art, Rectangle) and art is not ax.patch and art.get_width() and art.get_height():
                bb = art.get_window_extent()
                data += [(bb.x0, bb.y0), (bb.x1, bb.y1), ((bb.x0 + bb.x1) / 2, (bb.y0 + bb.y1) / 2)]
    return legends, data, titles


def _sweep_store(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump({"name": "p", "base": {"hw": "pim-gpt-gddr6", "workload": {"model": "gpt2-small",
                                    "context": 64}}, "axes": {"pim.channels": [4, 8], "pim.mac.clock_mhz": [500, 1000],
                                                             "workload.model": ["gpt2-small", "gpt2-medium"]}}))
    store = tmp_path / "r"
    assert main(["sweep", str(spec), "--out", str(store), "--workers", "1", "--quiet"]) == 0
    return ["--store", str(store)]


KINDS = {
    "speedup": ["--model", "gpt2-small", "--model", "gpt2-medium", "--hw", "pim-gpt-gddr6", "--hw", "l4",
                "--hw", "xeon-gold-6154", "--context", "128"],
    "breakdown": ["--model", "gpt2-small", "--hw", "pim-gpt-gddr6", "--hw", "h100-sxm5", "--context", "128"],
    "roofline": ["--model", "gpt2-small", "--hw", "l4", "--context", "128"],
    "context": ["--model", "gpt2-small", "--contexts", "64,256", "--hw", "pim-gpt-gddr6", "--hw", "l4"],
    "pareto": None,
    "validation": [],
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_figure_is_paper_ready(tmp_path, capsys, figures, kind):
    from PIL import Image
    extra = KINDS[kind] if KINDS[kind] is not None else _sweep_store(tmp_path)
    stem = tmp_path / kind
    assert main(["plot", kind, "--out", str(stem)] + extra) == 0, capsys.readouterr().err
    pdf = stem.with_suffix(".pdf").read_bytes()
    # Type 42: TrueType outlines (FontFile2, as CIDFontType2 or TrueType), never a Type 3 font
    assert b"/Subtype /Type3" not in pdf and b"/FontFile2" in pdf
    dpi = Image.open(stem.with_suffix(".png")).info["dpi"]
    assert round(dpi[0]) == 300
    assert figures, "the plot did not go through simulator.report.style.save"
    legends, data, titles = figures[-1]
    assert data, "nothing plotted"
    for lg in legends:
        inside = [p for p in data if lg.x0 <= p[0] <= lg.x1 and lg.y0 <= p[1] <= lg.y1]
        assert not inside, f"legend covers {len(inside)} plotted points"


def test_speedup_title_names_the_reference_and_small_ratios_keep_digits(tmp_path, capsys, figures):
    assert main(["plot", "speedup", "--out", str(tmp_path / "s"), "--model", "gpt2-small", "--hw", "l4",
                 "--hw", "pim-gpt-gddr6", "--context", "128"]) == 0
    _, _, titles = figures[-1]
    assert any("l4" in t for t in titles) and not any(t.startswith("PIM speed-up") for t in titles)
    assert style.ratio_label(0.03) == "0.03x" and style.ratio_label(123.4) == "123x"


def test_one_hw_is_an_error_not_an_empty_figure(tmp_path, capsys):
    assert main(["plot", "speedup", "--out", str(tmp_path / "s"), "--model", "gpt2-small", "--hw", "l4"]) == 2
    assert not (tmp_path / "s.png").exists()
