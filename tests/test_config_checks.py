"""Issue #12: DRAM tables whose timing is inconsistent, and validate's inputs."""

from pathlib import Path

import pytest
import yaml

from simulator.cli import main
from simulator.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def _std(tmp_path, **timing):
    d = yaml.safe_load((ROOT / "hw_configs/dram/ddr4-3200.yaml").read_text())
    d["timing"].update(timing)
    p = tmp_path / "std.yaml"
    p.write_text(yaml.safe_dump(d, sort_keys=False))
    return p


@pytest.mark.parametrize("timing,needle", [
    ({"nRC": 10}, "nRC"),                 # JEDEC: tRC >= tRAS + tRP
    ({"nRP": 0}, "nRP"),
    ({"nFOO": 5}, "nFOO"),                # a name nothing uses: a typo of a real one
])
def test_inconsistent_dram_timing_rejected(tmp_path, timing, needle):
    from simulator.dram.standard import load_standard
    p = _std(tmp_path, **timing)
    with pytest.raises(ConfigError) as e:
        load_standard(p)
    assert needle in str(e.value) and str(p) in str(e.value)


def test_shipped_configs_still_pass(capsys):
    assert main(["configs", "check"]) == 0, capsys.readouterr().out


def test_validate_reads_only_cell_csvs(tmp_path, monkeypatch):
    import pandas as pd

    import simulator.validate as v
    d = tmp_path / "measured"
    d.mkdir()
    for p in (ROOT / "validation/data/measured").glob("*.csv"):
        (d / p.name).write_text(p.read_text())
    pd.DataFrame([{"name": "NVIDIA H200", "driver": "560", "memory_total_mib": 143771}]).to_csv(
        d / "gpu_info.csv", index=False)
    monkeypatch.setattr(v, "MEASURED_DIR", d)
    cells = v.measured_cells()
    n = sum(len(pd.read_csv(p)) for p in (ROOT / "validation/data/measured").glob("*.csv"))
    assert len(cells) == n and cells.model.notna().all()


def test_refit_honours_the_fit_role_measure_assigns(tmp_path, monkeypatch):
    """A new harness file (not named in calibration.yaml) with a `fit` row is fitted on."""
    import simulator.validate as v
    from simulator.devices.config import load_calibration
    (tmp_path / "mine.csv").write_text((ROOT / "validation/data/measured/cpu-local-gpt2-small.csv").read_text())
    monkeypatch.setattr(v, "MEASURED_DIR", tmp_path)
    cells = v.measured_cells()
    fit = cells[cells.role == "fit"]
    assert len(fit)
    cal = {"cpu-pytorch": load_calibration()["cpu-pytorch"]}
    new = v.refit(fit, cal)
    named = {c for params in new.values() for spec in params.values() for c in spec["fitted_on"]}
    assert set(fit.cell_id) <= named
    df = v.evaluate(fit, {**load_calibration(), **new})
    assert (df.error_pct.abs() < 5).all()


def test_plain_clone_finds_the_vendored_oracle(monkeypatch, tmp_path):
    """Without a sibling shared/ folder the oracle tests use tests/data/oracle (not skipped)."""
    import simulator.dram.refdata as rd
    fake = tmp_path / "clone"
    (fake / "tests" / "data").mkdir(parents=True)
    (fake / "tests" / "data" / "oracle").symlink_to(ROOT / "tests" / "data" / "oracle")
    monkeypatch.delenv("DECODESIM_ORACLE", raising=False)
    monkeypatch.setattr(rd, "REPO", fake)
    assert rd.oracle_dir() == fake / "tests" / "data" / "oracle"
    assert len(rd.small_cases()) == 15


def test_sample_dram_trace_runs(capsys):
    import json
    assert main(["dram", str(ROOT / "tests/data/sample_ddr4_3200_mix5050.trace"), "--standard", "ddr4-3200",
                 "--json"]) == 0
    o = json.loads(capsys.readouterr().out)
    assert o["requests"] == 2048 and o["writes"] > 0
