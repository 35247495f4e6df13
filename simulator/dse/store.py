"""The results store: one Parquet file per finished point in a folder (a Parquet dataset).

A point's file is named by the hash of its resolved config and written atomically
(temporary file, then rename) by the process that computed it, so an interrupted
sweep (Ctrl-C, SIGKILL, a crashed worker) keeps every finished point, and a resumed
sweep skips them: exactly one row per point, never a duplicate. A failed point is stored as
``<key>.failed.parquet`` (its error in the ``error`` column): it is not done, so a resumed sweep
runs it again, and its success replaces the failure.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from pathlib import Path

import pandas as pd


def done_keys(store: Path) -> set:
    store = Path(store)
    if not store.exists():
        return set()
    return {p.stem for p in store.glob("*.parquet") if not p.stem.endswith(FAILED)}


FAILED = ".failed"


def write_row(store: Path, cfg: dict, metrics: dict, error: str = "", seconds: float = 0.0):
    store = Path(store)
    store.mkdir(parents=True, exist_ok=True)
    row = {"key": cfg["key"], "hw": cfg["hw"], "config": json.dumps(cfg, sort_keys=True), "error": error,
           "seconds": seconds, **{f"workload.{k}": v for k, v in cfg["workload"].items()},
           **{k: v for k, v in cfg.get("overrides", {}).items()},
           **{f"{sec}.{k}": v for sec in ("split", "link") for k, v in cfg.get(sec, {}).items()}, **metrics}
    tmp = store / f".{cfg['key']}.{os.getpid()}.tmp"
    pd.DataFrame([row]).to_parquet(tmp, index=False)
    failed = store / f"{cfg['key']}{FAILED}.parquet"
    os.replace(tmp, failed if error else store / f"{cfg['key']}.parquet")
    if not error:
        failed.unlink(missing_ok=True)


def evaluate_and_store(cfg: dict, store: str) -> tuple:
    """Worker entry point (local processes and Dask alike): (key, '' or a one-line error)."""
    from ..errors import ConfigError
    from . import point
    t = time.perf_counter()
    short = ""
    try:
        metrics, err = point.evaluate(cfg), ""
    except Exception as exc:                      # a crashing point is recorded, not lost
        short = " ".join(str(exc).split()) if isinstance(exc, ConfigError) else f"{type(exc).__name__}: {exc}"
        metrics, err = {}, f"{short} | {traceback.format_exc(limit=3)!r}"
    write_row(Path(store), cfg, metrics, err, time.perf_counter() - t)
    return cfg["key"], short


def read_store(store) -> pd.DataFrame:
    store = Path(store)
    files = sorted(store.glob("*.parquet"))
    if not files:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
