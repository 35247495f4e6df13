"""Access to the DRAM reference data in ``../shared/oracle`` (Ramulator 2.1 runs), or its
copy vendored in ``tests/data/oracle`` (a plain clone; see tests/data/SOURCE.md).

Used by the tests, ``validation/dram_oracle.py`` and ``benchmarks/dram_speed.py``.
Large traces are regenerated with the reference's own ``trace_gen.py`` into a
cache folder and verified by SHA-256 before use.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The reference results are reproduced by the presets that follow the reference where it departs
# from the standard (hw_configs/dram/*-ramulator2.yaml; docs/dram_validation.md lists the differences).
STD_NAMES = {"DDR4_3200": "ddr4-3200-ramulator2", "LPDDR5_6400": "lpddr5-6400-ramulator2",
             "GDDR6_14000": "gddr6-14000-ramulator2"}
DEFAULT_NAMES = {"DDR4_3200": "ddr4-3200", "LPDDR5_6400": "lpddr5-6400", "GDDR6_14000": "gddr6-14000"}


def oracle_dir():
    """The reference-data folder, or None when it is not present."""
    env = os.environ.get("DECODESIM_ORACLE")
    for p in ([Path(env)] if env else []) + [REPO.parent / "shared" / "oracle", REPO / "shared" / "oracle",
                                             REPO / "tests" / "data" / "oracle"]:
        if (p / "results.csv").exists():
            return p
    return None


def cache_dir() -> Path:
    d = Path(os.environ.get("DECODESIM_CACHE", REPO / ".cache")) / "oracle_traces"
    d.mkdir(parents=True, exist_ok=True)
    return d


def small_cases():
    import pandas as pd
    return pd.read_csv(oracle_dir() / "small" / "summary.csv")


def large_cases():
    import pandas as pd
    return pd.read_csv(oracle_dir() / "results.csv")


def large_trace(standard: str, kind: str, n: int, seed: int, sha256: str | None) -> Path:
    """Path of a regenerated large trace, checked against its SHA-256 (None: a trace with no
    recorded digest, e.g. GDDR6_14000's large kinds; generated once and not checked)."""
    out = cache_dir() / f"{standard}.{kind}.{n}.{seed}.trace"
    if not out.exists() or (sha256 is not None and _sha(out) != sha256):
        od = oracle_dir()
        tmp = out.with_suffix(".tmp")
        subprocess.run([sys.executable, str(od / "trace_gen.py"), str(od / "configs" / f"{standard}.params.json"),
                        kind, str(n), str(seed), str(tmp)], check=True, capture_output=True)
        tmp.replace(out)
        got = _sha(out)
        if sha256 is not None and got != sha256:
            raise RuntimeError(f"{out}: SHA-256 {got} does not match the reference {sha256}")
    return out


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
