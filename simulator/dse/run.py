"""Run a sweep: expand points, skip finished ones, evaluate the rest with an executor."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from .spec import expand, load_spec
from .store import done_keys, evaluate_and_store


class PointFailed(Exception):
    """A point failed and the sweep stopped (``keep_going=False``)."""

    def __init__(self, cfg, error):
        from .point import describe
        self.cfg, self.error = cfg, error
        super().__init__(f"point {cfg['key']} ({describe(cfg)}) failed: {error}")


def run_sweep(spec_path, store, executor="local", workers=None, scheduler=None, progress=True,
              limit=None, keep_going=False, allow_overcommit=False) -> dict:
    """Run every point of the spec not yet in ``store``. Every point is checked before the first
    runs (ConfigError); a failing point stops the sweep (PointFailed) unless ``keep_going``, when
    failures are reported as they happen and counted in ``failed``. Failed points are retried
    by the next run. ``allow_overcommit`` (or the spec's ``allow_overcommit: true``) simulates
    points whose workload exceeds the memory capacity."""
    spec = load_spec(spec_path)
    spec["allow_overcommit"] = spec.get("allow_overcommit", False) or allow_overcommit
    points = expand(spec)
    done = done_keys(store)
    todo = pending = [p for p in points if p["key"] not in done]
    if limit is not None:
        todo = todo[:limit]
    Path(store).mkdir(parents=True, exist_ok=True)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(points), initial=len(points) - len(pending), unit="pt", desc=spec["name"],
                   smoothing=0.1, mininterval=0.5 if sys.stderr.isatty() else 15.0)
    tally = {"ran": 0, "failed": 0}
    by_key = {p["key"]: p for p in todo}

    def finished(result):
        key, err = result
        tally["ran"] += 1
        if bar:
            bar.update(1)
        if err:
            tally["failed"] += 1
            failure = PointFailed(by_key[key], err)
            if not keep_going:
                raise failure
            msg = f"failed: {failure}"
            (bar.write(msg, file=sys.stderr) if bar else print(msg, file=sys.stderr))

    try:
        if executor == "dask":
            _run_dask(todo, store, scheduler, workers, finished)
        elif executor == "local":
            _run_local(todo, store, workers, finished)
        else:
            from ..errors import ConfigError
            raise ConfigError("--executor", executor, "allowed: local, dask")
    finally:
        if bar:
            bar.close()
    return {"points": len(points), "already_done": len(points) - len(pending), **tally}


def _run_local(todo, store, workers, finished):
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        for p in todo:
            finished(evaluate_and_store(p, str(store)))
        return
    with ProcessPoolExecutor(max_workers=workers) as ex:
        futs = [ex.submit(evaluate_and_store, p, str(store)) for p in todo]
        try:
            for f in as_completed(futs):
                finished(f.result())
        except BaseException:
            for f in futs:
                f.cancel()
            raise


def _run_dask(todo, store, scheduler, workers, finished):
    from dask.distributed import Client, LocalCluster, as_completed as das_completed
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futs = client.map(evaluate_and_store, todo, store=str(store), pure=False)
        for f in das_completed(futs):
            finished(f.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
