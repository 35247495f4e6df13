"""Validation bookkeeping: fitted parameters name only fit cells; per-runtime / per-class MAPE
and the bandwidth-floor flag."""

import pandas as pd

from simulator.devices.config import load_calibration
from simulator.validate import evaluate, published_cells, report


def test_no_parameter_fitted_on_a_heldout_cell():
    cells = published_cells()
    role = dict(zip(cells.cell_id, cells.role))
    for prof, params in load_calibration().items():
        for name, spec in params.items():
            for c in spec["fitted_on"]:
                assert role.get(c, "fit") == "fit", f"{prof}.{name} fitted on held-out cell {c}"
            assert len(spec["fitted_on"]) <= 1, f"{prof}.{name}: at most one fit cell"


def _cell(value, **kw):
    row = dict(cell_id="x", model="llama-2-7b", device="rtx-3090", weights="q4_0", group_size=None, kv="fp16",
               context=64, batch=1, mode="llamacpp", metric="tokens_per_s", value=value, role="heldout",
               source="synthetic")
    row.update(kw)
    return pd.DataFrame([row])


def test_floor_flag_and_groupings():
    # Llama-2-7B Q4_0 is ~3.8 GB per token; the RTX 3090's 936 GB/s caps it near 245 tok/s
    ok = evaluate(_cell(100.0))
    assert ok.runtime[0] == "llamacpp-cuda" and ok.device_class[0] == "gpu"
    assert 35 < ok.floor_pct[0] < 45                      # 100 / 245 of the way to the floor
    bad = evaluate(_cell(400.0))
    assert bad.floor_pct[0] > 100
    text = report(bad)
    assert "FLAG x" in text and "runtime llamacpp-cuda" in text and "device class gpu" in text


def _published_eval():
    cells = published_cells()
    e = evaluate(cells)
    return e, e[e.role == "heldout"]


def test_published_set_breadth():
    """The published cells span >= 40 held-out cells, >= 12 devices (>= 4 edge) and >= 4 runtimes,
    and every fit cell is reproduced by its fitted parameters."""
    e, held = _published_eval()
    assert len(held) >= 40
    assert held.device.nunique() >= 12 and held[held.device_class == "edge"].device.nunique() >= 4
    assert held.runtime.nunique() >= 4
    assert e[e.role == "fit"].error_pct.abs().max() < 1.0


def test_published_old_cells_no_regression():
    """The 11 published cells that existed before the llama.cpp/TinyChat/Ollama cells stay at <= 21.3%."""
    from simulator.validate import mape
    _, held = _published_eval()
    old = held[~held.cell_id.str.startswith(("xd-", "tinychat-readme-", "gg-"))]
    assert len(old) == 11
    assert mape(old) <= 21.3 + 0.05
