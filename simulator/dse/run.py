"""Run a sweep: expand points, skip finished ones, evaluate the rest with an executor."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from .spec import expand, load_spec
from .store import done_keys, evaluate_and_store


def run_sweep(spec_path, store, executor="local", workers=None, scheduler=None, progress=True,
              limit=None) -> dict:
    spec = load_spec(spec_path)
    points = expand(spec)
    done = done_keys(store)
    todo = pending = [p for p in points if p["key"] not in done]
    if limit is not None:
        todo = todo[:limit]
    Path(store).mkdir(parents=True, exist_ok=True)
    bar = None
    if progress:
        import sys

        from tqdm import tqdm
        bar = tqdm(total=len(points), initial=len(points) - len(pending), unit="pt", desc=spec["name"],
                   smoothing=0.1, mininterval=0.5 if sys.stderr.isatty() else 15.0)
    n = 0
    try:
        if executor == "dask":
            n = _run_dask(todo, store, scheduler, workers, bar)
        elif executor == "local":
            n = _run_local(todo, store, workers, bar)
        else:
            from ..errors import ConfigError
            raise ConfigError("--executor", executor, "allowed: local, dask")
    finally:
        if bar:
            bar.close()
    return {"points": len(points), "already_done": len(points) - len(pending), "ran": n}


def _run_local(todo, store, workers, bar):
    workers = workers or os.cpu_count() or 1
    n = 0
    if workers == 1:
        for p in todo:
            evaluate_and_store(p, str(store))
            n += 1
            if bar:
                bar.update(1)
        return n
    with ProcessPoolExecutor(max_workers=workers) as ex:
        futs = [ex.submit(evaluate_and_store, p, str(store)) for p in todo]
        try:
            for f in as_completed(futs):
                f.result()
                n += 1
                if bar:
                    bar.update(1)
        except KeyboardInterrupt:
            for f in futs:
                f.cancel()
            raise
    return n


def _run_dask(todo, store, scheduler, workers, bar):
    from dask.distributed import Client, LocalCluster, as_completed as das_completed
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    n = 0
    try:
        futs = client.map(evaluate_and_store, todo, store=str(store), pure=False)
        for f in das_completed(futs):
            f.result()
            n += 1
            if bar:
                bar.update(1)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return n
