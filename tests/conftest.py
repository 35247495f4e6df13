import os
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def oracle():
    from simulator.dram.refdata import oracle_dir
    d = oracle_dir()
    if d is None:
        pytest.skip("reference data ../shared/oracle not present")
    return d


@pytest.fixture
def bad_config(tmp_path):
    """check(d, loader, *fragments, name=...): write ``d`` as a YAML file, load it with ``loader``
    and require a ConfigError whose message names the file and holds every fragment."""
    from simulator.errors import ConfigError

    def check(d, loader, *fragments, name="bad.yaml"):
        p = tmp_path / name
        p.write_text(yaml.safe_dump(d, sort_keys=False))
        with pytest.raises(ConfigError) as e:
            loader(p)
        msg = str(e.value)
        assert str(p) in msg
        for f in fragments:
            assert f in msg
        return msg
    return check


@pytest.fixture(scope="session")
def case_dir():
    """The users' DRAM case traces (copied from ../shared/cases/dram into tests/data)."""
    return ROOT / "tests" / "data" / "dram_cases"
