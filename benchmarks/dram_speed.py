"""Speed of the DRAM core on the reference's large traces.

Two modes:

* default: decodesim's core against the reference simulator's *recorded* speed
  (``driver_req_per_s`` in ../shared/oracle/results.csv, measured on another machine
  state: the ratio printed is labelled "vs recorded" and is only indicative).
* ``--side-by-side``: builds the reference (Ramulator 2.1) from
  ../shared/tools/ramulator2/ (or $DECODESIM_RAMULATOR_SRC; ``build.sh``, about 2 minutes the first time), and runs
  both simulators on the same traces in one run, interleaved, keeping the minimum of
  ``--runs`` runs (default 9); simulation time only on both sides (the reference's
  ``run_s``: trace parsing excluded; decodesim: the ``simulate`` call, trace parsing and
  address mapping and loading the compiled core from numba's cache excluded: the child replays
  64 requests first; that start-up is the "warm" time printed). Every run is its own process, so the peak RSS of each
  side is measured per trace. Prints req/s for both, the ratio, the core's evaluated
  cycles and scanned queue entries per request, compile time (cold numba cache) and
  peak memory. ``--before DIR`` (a checkout of an earlier decodesim) adds that
  version's core to the same interleaved runs.

    python benchmarks/dram_speed.py [--csv out.csv]
    python benchmarks/dram_speed.py --side-by-side [--runs 9] [--before /tmp/old] [--csv out.csv]

The default trace set for ``--side-by-side`` is the five large kinds of DDR4_3200 and
GDDR6_14000 (the oracle README's sizes and seeds; GDDR6 traces are regenerated with the
reference's trace_gen.py, no recorded SHA-256).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if "--child" not in sys.argv:     # a child replays the tree its PYTHONPATH names (--before), not this one
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from simulator.dram.refdata import STD_NAMES, cache_dir, large_cases, large_trace, oracle_dir  # noqa: E402

KINDS = ("seq", "rand", "conflict_1bank", "conflict_allbanks", "mix5050")
# the oracle README's sizes and seeds (results.csv rows of DDR4_3200)
SIZES = {"seq": (1048576, 0), "rand": (1048576, 1592590337), "conflict_1bank": (65536, 0),
         "conflict_allbanks": (262144, 0), "mix5050": (1048576, 1592590338)}
RAMULATOR_DIR = Path(os.environ.get("DECODESIM_RAMULATOR_SRC", ROOT.parent / "shared" / "tools" / "ramulator2"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side-by-side", action="store_true",
                    help="build the reference and run both on the same traces, interleaved")
    ap.add_argument("--runs", type=int, default=9, help="runs per trace and side; the minimum is kept (default 9)")
    ap.add_argument("--standards", default="DDR4_3200,GDDR6_14000",
                    help="comma-separated reference standard names (default DDR4_3200,GDDR6_14000)")
    ap.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated trace kinds (default: all of {KINDS})")
    ap.add_argument("--ref-dir", default="/tmp/ramulator2", help="reference build folder (default /tmp/ramulator2)")
    ap.add_argument("--before", help="folder of an earlier decodesim checkout to time beside this one")
    ap.add_argument("--csv", help="also write the table as CSV")
    ap.add_argument("--child", nargs=2, metavar=("NPZ", "STANDARD"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return _child(*args.child)
    if oracle_dir() is None:
        sys.exit("reference data (../shared/oracle) not found")
    if args.runs < 1:
        sys.exit(f"--runs: {args.runs} is not >= 1")
    if args.side_by_side:
        return side_by_side(args)
    return vs_recorded(args)


# ---------------------------------------------------------------- measurements in a child process
def _child(npz, standard):
    """Replay one prepared trace; print one JSON line (simulation seconds, counters, peak RSS)."""
    import simulator.dram.run as run_mod
    from simulator.dram.standard import load_standard
    d = np.load(npz)
    std = load_standard(STD_NAMES[standard])
    spent = _time_simulate(run_mod)
    # load the compiled core first (numba's cache: start-up, reported apart as the warm start), as the
    # reference's library is loaded before its timed sim.run()
    run_mod.run_trace(std, d["addrs"][:64], d["is_write"][:64])
    res = run_mod.run_trace(std, d["addrs"], d["is_write"])
    print(json.dumps(dict(tree=str(Path(run_mod.__file__).resolve().parents[2]), sim_s=spent[-1],
                          cycles=int(res.cycles), last_accept=int(res.accept_cycle.max()),
                          evaluated=int(res.evaluated_cycles), scanned=getattr(res, "scanned_entries", None),
                          maxrss_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))


def _time_simulate(run_mod):
    """Wrap ``run_mod.simulate`` (the core call inside run_trace) with a timer; returns the
    list the seconds of each call are appended to (simulation time only)."""
    sim = run_mod.simulate
    spent = []

    def timed(*a, **k):
        t = time.perf_counter()
        out = sim(*a, **k)
        spent.append(time.perf_counter() - t)
        return out

    run_mod.simulate = timed
    return spent


def _run_json(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def _env(tree, cache=None):
    env = dict(os.environ, PYTHONPATH=str(tree))
    if cache:
        env["NUMBA_CACHE_DIR"] = cache
    return env


def compile_times(tree):
    """(cold, warm) wall seconds of a first tiny replay in a fresh process: cold with an empty
    numba cache, warm with the cache the cold run left."""
    cache = tempfile.mkdtemp(prefix="decodesim-numba-")
    code = ("import time,numpy as np;t=time.perf_counter();from simulator.dram.run import run_trace;"
            "from simulator.dram.standard import load_standard;"
            "run_trace(load_standard('ddr4-3200'),np.array([0,64],np.uint64),np.array([False,True]));"
            "print(time.perf_counter()-t)")
    out = []
    for _ in range(2):
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(tree, cache))
        if p.returncode != 0:
            raise RuntimeError(p.stderr[-2000:])
        out.append(float(p.stdout.strip().splitlines()[-1]))
    return out


def build_reference(dest):
    print(f"building the reference into {dest} (first time about 2 minutes) ...", flush=True)
    p = subprocess.run(["bash", str(RAMULATOR_DIR / "build.sh"), dest], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"reference build failed:\n{p.stderr[-3000:]}")


def prepare(standard, kind):
    """(trace path, parsed-arrays .npz path, requests) for one large trace."""
    from simulator.dram.trace_io import read_trace
    n, seed = SIZES[kind]
    rec = large_cases()
    row = rec[(rec.standard == standard) & (rec.trace == kind)]
    sha = row.trace_sha256.iloc[0] if len(row) else None
    path = large_trace(standard, kind, n, seed, sha)
    npz = cache_dir() / f"{path.stem}.npz"
    if not npz.exists() or npz.stat().st_mtime < path.stat().st_mtime:
        addrs, writes = read_trace(path)
        np.savez(npz, addrs=addrs, is_write=writes)
    return path, npz, n


def warm_caches(trees, prepared):
    """Fill each tree's numba cache in a process of its own before any timed run: code compiled in the
    process that runs it measured 15-30% slower than the same code loaded from the cache."""
    for std in {c[0] for c in prepared}:
        npz = next(p[1] for c, p in prepared.items() if c[0] == std)
        small = Path(tempfile.mkdtemp(prefix="decodesim-warm-")) / "small.npz"
        d = np.load(npz)
        np.savez(small, addrs=d["addrs"][:256], is_write=d["is_write"][:256])
        for tree, _, _ in trees.values():
            _run_json([sys.executable, str(Path(__file__).resolve()), "--child", str(small), std], env=_env(tree))


def side_by_side(args):
    build_reference(args.ref_dir)
    trees = {"after": ROOT}
    if args.before:
        trees = {"before": Path(args.before).resolve(), "after": ROOT}
    for name, tree in trees.items():
        cold, warm = compile_times(tree)
        print(f"{name}: first replay in a fresh process, cold numba cache {cold:.2f} s, warm {warm:.2f} s", flush=True)
        trees[name] = (tree, cold, warm)
    cases = [(s, k) for s in args.standards.split(",") for k in args.kinds.split(",")]
    prepared = {c: prepare(*c) for c in cases}
    warm_caches(trees, prepared)
    best = {}
    for rep in range(args.runs):
        for c in cases:
            path, npz, n = prepared[c]
            # interleaved: reference, then each decodesim tree, on the same trace
            ref = _run_json([str(Path(args.ref_dir) / "venv" / "bin" / "python"), str(RAMULATOR_DIR / "run_trace.py"),
                             args.ref_dir, c[0], str(path)])
            _keep(best, c + ("ref",), dict(sim_s=ref["run_s"], last_accept=ref["cycles"]))
            for name, (tree, _, _) in trees.items():
                out = _run_json([sys.executable, str(Path(__file__).resolve()), "--child", str(npz), c[0]],
                                env=_env(tree))
                if out["tree"] != str(tree):
                    sys.exit(f"the {name} run replayed {out['tree']}, not {tree}")
                _keep(best, c + (name,), out)
        print(f"run {rep + 1}/{args.runs} done", flush=True)
    ref_rss = {c: _ref_rss(args.ref_dir, c[0], prepared[c][0]) for c in cases}
    rows = []
    cols = ["standard", "trace", "requests", "ref_req_per_s"] + \
        [f"{t}_req_per_s" for t in trees] + [f"ratio_{t}" for t in trees] + \
        ["eval_cycles_per_req", "scanned_per_req", "ref_rss_mb", "ours_rss_mb", "last_accept_match"]
    print("\n" + " | ".join(cols))
    for c in cases:
        n = prepared[c][2]
        ref = best[c + ("ref",)]
        after = best[c + ("after",)]
        row = dict(standard=c[0], trace=c[1], requests=n, ref_req_per_s=n / ref["sim_s"])
        for t in trees:
            row[f"{t}_req_per_s"] = n / best[c + (t,)]["sim_s"]
        for t in trees:
            row[f"ratio_{t}"] = row[f"{t}_req_per_s"] / row["ref_req_per_s"]
        row["eval_cycles_per_req"] = after["evaluated"] / n
        row["scanned_per_req"] = after["scanned"] / n if after.get("scanned") is not None else float("nan")
        row["ref_rss_mb"] = ref_rss[c] / 1024
        row["ours_rss_mb"] = after["maxrss_kb"] / 1024
        row["last_accept_match"] = after["last_accept"] == ref["last_accept"]
        rows.append(row)
        print(" | ".join(_fmt(row[k]) for k in cols), flush=True)
    ratios = np.array([r["ratio_after"] for r in rows])
    print(f"\nside by side, minimum of {args.runs} interleaved runs, simulation time only: ratio decodesim/reference "
          f"min {ratios.min():.2f}x, geomean {np.exp(np.log(ratios).mean()):.2f}x, max {ratios.max():.2f}x "
          f"(target >= 10x on every trace)")
    for name, (_, cold, warm) in trees.items():
        print(f"{name}: compile (first replay, cold cache) {cold:.2f} s, warm start {warm:.2f} s")
    _csv(args.csv, rows)


def _ref_rss(ref_dir, standard, path):
    """Peak RSS (kB) of one reference run, measured alone (wait4)."""
    p = subprocess.Popen([str(Path(ref_dir) / "venv" / "bin" / "python"), str(RAMULATOR_DIR / "run_trace.py"),
                          ref_dir, standard, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, ru = os.wait4(p.pid, 0)
    return ru.ru_maxrss


def _keep(best, key, out):
    if key not in best or out["sim_s"] < best[key]["sim_s"]:
        best[key] = out


def _fmt(v):
    if isinstance(v, float):
        return f"{v:,.2f}" if v < 100 else f"{v:,.0f}"
    return str(v)


def _csv(path, rows):
    if path:
        import pandas as pd
        pd.DataFrame(rows).to_csv(path, index=False)


# ---------------------------------------------------------------- against recorded rates
def vs_recorded(args):
    """decodesim's core time against the reference's recorded rates (results.csv, other machine state)."""
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="decodesim-numba-")   # cold compile
    import simulator.dram.run as run_mod
    from simulator.dram.standard import load_standard
    from simulator.dram.trace_io import read_trace
    std0 = load_standard("ddr4-3200")
    t = time.perf_counter()
    run_mod.run_trace(std0, np.array([0, 64], np.uint64), np.array([False, True]))
    print(f"numba compile (cold cache): {time.perf_counter() - t:.2f} s\n")
    spent = _time_simulate(run_mod)
    rows = []
    print(f"{'standard':12s} {'trace':18s} {'requests':>9s} {'core s':>7s} {'e2e s':>7s} {'ours req/s':>11s} "
          f"{'recorded ref req/s':>18s} {'ratio vs recorded':>17s} {'cycles match':>12s}")
    for r in large_cases().itertuples():
        path = large_trace(r.standard, r.trace, int(r.requests), int(r.seed), r.trace_sha256)
        addrs, writes = read_trace(path)
        std = load_standard(STD_NAMES[r.standard])
        t = time.perf_counter()
        res = run_mod.run_trace(std, addrs, writes)
        e2e = time.perf_counter() - t
        core = spent[-1]
        ours = r.requests / core
        ratio = ours / r.driver_req_per_s
        rows.append(dict(standard=r.standard, trace=r.trace, requests=r.requests, core_s=core, e2e_s=e2e,
                         ours_req_per_s=ours, recorded_ref_req_per_s=r.driver_req_per_s, ratio_vs_recorded=ratio,
                         cycles=res.cycles, ref_cycles=r.cycles_drain))
        print(f"{r.standard:12s} {r.trace:18s} {r.requests:9d} {core:7.2f} {e2e:7.2f} {ours:11,.0f} "
              f"{r.driver_req_per_s:18,.0f} {ratio:17.2f} {str(res.cycles == r.cycles_drain):>12s}", flush=True)
    ratios = [x["ratio_vs_recorded"] for x in rows]
    print(f"\nratio ours / RECORDED reference rates (another machine state; use --side-by-side for a measured "
          f"ratio): min {min(ratios):.2f}x, geomean {np.exp(np.mean(np.log(ratios))):.2f}x, max {max(ratios):.2f}x")
    _csv(args.csv, rows)


if __name__ == "__main__":
    main()
