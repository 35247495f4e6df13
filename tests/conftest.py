import os
import sys
from pathlib import Path

import pytest

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
