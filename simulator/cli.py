"""The ``decodesim`` command line.

Each sub-command is a small ``_cmd_*`` function plus a ``_add_*`` function that registers its
parser (see SUBCOMMANDS at the end: a new subcommand is one more entry). Shared options come
from one table (:mod:`simulator.cli_options`): the same flags, defaults and help everywhere.
Bad input (ConfigError, an unusable output path, a bad option value) prints one line naming
the file or option, the key and the allowed range, and exits 2, before anything runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .dram.policies import ROW_POLICIES, SCHEDULERS
from .errors import ConfigError


def _usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS has one, else all)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _cmd_dram(args) -> int:
    from .dram.checker import check_result, summarize
    from .dram.energy import energy_of
    from .dram.run import ControllerConfig, run_trace
    from .dram.standard import load_standard
    from .dram.trace_io import check_capacity, load_trace

    std = load_standard(args.standard)
    if args.channels is not None:
        std = std.with_channels(args.channels)
    scheduler = args.scheduler or std.scheduler
    if args.row_hit_cap is not None and not SCHEDULERS[scheduler].row_hit_cap:
        raise ConfigError("dram", "--row-hit-cap", f"only applies to a scheduler with a row-hit cap "
                          f"(frfcfs-cap); this run uses {scheduler}")
    tr = load_trace(args.trace, args.format)
    addrs, writes = check_capacity(tr, std, wrap=args.wrap), tr.is_write
    ctrl = ControllerConfig(read_queue=args.queue, write_queue=args.queue,
                            requests_per_cycle=args.requests_per_cycle, scheduler=args.scheduler,
                            row_hit_cap=args.row_hit_cap or ControllerConfig.row_hit_cap, row_policy=args.row_policy)
    res = run_trace(std, addrs, writes, mapping=args.mapping, controller=ctrl,
                    log=bool(args.commands or args.check), arrival_cycle=tr.arrival_cycle,
                    jobs=args.jobs or _usable_cores())
    en = energy_of(res)
    bits = res.transferred_bytes * 8
    lat = res.avg_read_latency_cycles
    out = {
        "standard": std.name, "channels": std.channels, "mapping": args.mapping,
        "scheduler": scheduler, "row_policy": args.row_policy or std.row_policy,
        "trace_format": tr.format, "replay": "open-loop timed" if tr.arrival_cycle is not None else "closed-loop",
        "requests": res.requests, "reads": int((~writes).sum()), "writes": int(writes.sum()),
        "cycles": res.cycles, "time_ns": res.time_ns, "tck_ns": std.tck_ns,
        "data_bursts": res.data_bursts, "transferred_bytes": res.transferred_bytes,
        "achieved_gbps": res.achieved_gbps, "peak_gbps": std.peak_gbps,
        "pct_of_peak": res.pct_of_peak,
        "forwarded_reads": res.forwarded_reads, "coalesced_writes": res.coalesced_writes,
        "served_from_queue_bytes": res.served_from_queue * std.tx_bytes,
        "row_hits": res.row_hits, "row_misses": res.row_misses,
        "row_conflicts": res.row_conflicts, "row_hit_rate": res.row_hit_rate,
        # null where undefined: no read reached the DRAM / no data bit crossed the bus
        "avg_read_latency_cycles": lat,
        "avg_read_latency_ns": None if lat is None else lat * std.tck_ns,
        "refreshes": res.refreshes, "energy_pj": en.as_dict(),
        "channels_alone_cycles": res.alone_cycles,
        "energy_pj_per_bit": en.total_pj / bits if bits else None,
        "commands": res.command_counts,
    }
    if res.warnings:
        out["warnings"] = res.warnings
        for w in res.warnings:
            print(f"decodesim dram: warning: {w}", file=sys.stderr)
    if args.check:
        v = check_result(res)
        out["checker_violations"] = len(v)
        if v:
            print(summarize(v), file=sys.stderr)
    if args.commands:
        res.command_log().to_csv(args.commands, index=False)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        _print_dram_table(out)
    return 1 if out.get("checker_violations") else 0


def _print_dram_table(o):
    rows = [
        ("standard", f"{o['standard']} x {o['channels']} channel(s), mapping {o['mapping']}"),
        ("requests", f"{o['requests']} ({o['reads']} reads, {o['writes']} writes; {o['trace_format']} trace, "
                     f"{o['replay']})"),
        ("cycles", f"{o['cycles']}  ({o['time_ns']:.1f} ns at tCK {o['tck_ns']:.4f} ns)"),
        ("bandwidth", f"{o['achieved_gbps']:.2f} GB/s = {o['pct_of_peak']:.1f}% of {o['peak_gbps']:.1f} GB/s peak "
                      f"({o['data_bursts']} bursts on the data bus)"),
        ("from queue", f"{o['forwarded_reads']} reads forwarded, {o['coalesced_writes']} writes coalesced "
                       f"({o['served_from_queue_bytes']} bytes not moved on the bus)"),
        ("row buffer", f"{o['row_hits']} hits, {o['row_misses']} misses, {o['row_conflicts']} conflicts"
                       f" (hit rate {o['row_hit_rate']:.3f})"),
        ("read latency", f"{o['avg_read_latency_cycles']:.1f} cycles = {o['avg_read_latency_ns']:.1f} ns (average)"
                         if o["avg_read_latency_cycles"] is not None else
                         f"n/a ({'every read forwarded from the write queue' if o['reads'] else 'no reads'})"),
        ("refreshes", str(o["refreshes"])),
        *([("channels alone", f"{o['channels_alone_cycles']} of {o['cycles']} cycles replayed one channel per "
                              f"thread (--jobs)")] if o["channels"] > 1 else []),
        ("energy", f"{o['energy_pj']['total_pj'] / 1e6:.3f} uJ = "
                   + (f"{o['energy_pj_per_bit']:.2f} pJ/bit moved " if o["energy_pj_per_bit"] is not None else
                      "n/a pJ/bit (no data moved) ")
                   + f"(act {o['energy_pj']['activate_pj'] / 1e6:.3f}, rd {o['energy_pj']['read_pj'] / 1e6:.3f}, "
                   f"wr {o['energy_pj']['write_pj'] / 1e6:.3f}, ref {o['energy_pj']['refresh_pj'] / 1e6:.3f}, "
                   f"bg {o['energy_pj']['background_pj'] / 1e6:.3f}, io {o['energy_pj']['io_pj'] / 1e6:.3f} uJ)"),
    ]
    if "checker_violations" in o:
        rows.append(("checker", f"{o['checker_violations']} timing violations"))
    w = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{w}}  {v}")


def _workload_from(args):
    from .checks import check_positions
    from .workload import Workload, load_model
    m = load_model(args.model)
    check_positions(m, args.context)
    return Workload(m, weights=args.weights or "bf16", kv=args.kv, kv_window=args.kv_window, batch=args.batch or 1,
                    group_size=args.group_size)


def _cmd_trace_generate(args) -> int:
    from .workload import generate_trace
    from .workload.trace_io import write_trace
    tr = generate_trace(_workload_from(args), args.context)
    write_trace(tr, args.out)
    print(f"wrote {len(tr.ops)} ops to {args.out}")
    return 0


def _torch_device(command, device):
    """``device`` (cpu, cuda or None = cuda when present) after checking this torch can use it; ``command``
    names the subcommand in the error when PyTorch itself is missing (the --device value is not at fault)."""
    try:
        import torch
    except ImportError:
        raise ConfigError(command, None, "needs PyTorch, which is not installed: pip install 'decodesim[measure]'") \
            from None
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device", "cuda",
                          f"this PyTorch ({torch.__version__}) sees no CUDA device; use --device cpu")
    return device or ("cuda" if torch.cuda.is_available() else "cpu")


def _available_bytes(device: str) -> float:
    """Free memory of the device a recording runs on: CUDA's free memory, else MemAvailable."""
    if device == "cuda":
        import torch
        return float(torch.cuda.mem_get_info()[0])
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except OSError:
        pass
    import os
    return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def _cmd_trace_record(args) -> int:
    from .checks import check_fits, check_positions
    from .workload import Workload, load_model
    m = load_model(args.model)
    check_positions(m, args.context)
    device = _torch_device("trace record", args.device)
    # the recording runs the model in fp32 with an fp32 KV cache: refuse before allocating it
    check_fits(Workload(m, weights="fp32", kv="fp32", batch=args.batch or 1), args.context,
               _available_bytes(device), f"{device} (available memory)", args.allow_overcommit)
    from .workload.record import record_decode
    from .workload.trace_io import write_trace
    tr = record_decode(m, args.context, seed=args.seed, batch=args.batch or 1, device=device)
    write_trace(tr, args.out)
    print(f"recorded {len(tr.ops)} ops on {tr.header['device']} to {args.out}")
    return 0


def _cmd_trace_show(args) -> int:
    from .workload import generate_trace
    from .workload.report import trace_table
    from .workload.trace_io import read_trace
    if args.file:
        from .cli_options import reject_unused
        reject_unused(args, {"totals_only"}, "trace show FILE")
        tr = read_trace(args.file)
        w = None
    else:
        if not args.model:
            raise ConfigError("trace show", "--model", "give a trace file or --model NAME")
        w = _workload_from(args)
        tr = generate_trace(w, args.context)
    print(trace_table(tr, w, per_layer=not args.totals_only))
    return 0


def _cmd_trace_diff(args) -> int:
    from .workload.trace_io import diff_traces, read_trace
    a, b = read_trace(args.a), read_trace(args.b)
    d = diff_traces(a, b)
    if not d:
        print(f"traces agree op for op ({len(a.ops)} ops)")
        return 0
    print(f"{len(d)} difference(s):")
    for line in d[:args.limit]:
        print("  " + line)
    return 1


def _cmd_measure(args) -> int:
    from .measure import run_harness
    from .workload import load_model
    load_model(args.model)                      # names checked before the first measurement
    if args.device_config:
        from .devices.config import load_device
        load_device(args.device_config)
    device = _torch_device("measure", args.device)
    df = run_harness(args.model, args.contexts, steps=args.steps, warmup=args.warmup, device=device,
                     weights=args.weights, device_config=args.device_config, fit_first=not args.all_heldout)
    df.to_csv(args.out, index=False)
    print(f"wrote {len(df)} rows to {args.out}")
    return 0


def _cmd_validate(args) -> int:
    import pandas as pd

    from .devices.config import load_calibration
    from .validate import evaluate, measured_cells, plot, published_cells, refit, report, write_calibration
    cells = pd.concat([published_cells(), measured_cells()], ignore_index=True)
    cal = load_calibration()
    if args.refit:
        cal = refit(cells, cal)
        write_calibration(cal)
        print("re-fitted hw_configs/calibration.yaml")
    df = evaluate(cells, cal)
    print(report(df))
    if args.csv:
        df.to_csv(args.csv, index=False)
    if args.plot:
        plot(df, args.plot)
        print(f"plot: {args.plot}")
    return 0


def _options(args) -> dict:
    """Keywords of :func:`simulator.pim.compare.run_one` from the shared options."""
    return {"weights": args.weights, "batch": args.batch, "kv": args.kv, "kv_window": args.kv_window,
            "group_size": args.group_size, "mode": getattr(args, "mode", None), "overrides": dict(args.set),
            "allow_overcommit": args.allow_overcommit}


def _cmd_compare(args) -> int:
    from .pim.compare import PIM_GPT_MODELS, against_published, compare
    models = args.model or PIM_GPT_MODELS
    df = compare(models, args.hw, args.context, **_options(args))
    if args.csv:
        df.to_csv(args.csv, index=False)
    if args.json:
        print(df.to_json(orient="records", indent=2))
        return 0
    first = args.hw[0]
    print(f"context {args.context}; speed-up and energy ratio of {first} over each config "
          f"(GPU/CPU energy = TDP x time); breakdown = shares of the latency")
    print(f"{'model':12s} {'hw':16s} {'ms/token':>10s} {'speedup':>8s} {'mJ/token':>10s} {'E ratio':>8s} "
          f"{'row hit':>8s}  breakdown")
    for r in df.itertuples():
        fr = {k[5:]: v for k, v in r._asdict().items() if k.startswith("frac_") and v == v and v > 0.0005}
        bd = ", ".join(f"{k} {100 * v:.1f}%" for k, v in sorted(fr.items(), key=lambda kv: -kv[1]))
        hit = "" if r.row_hit_rate != r.row_hit_rate else f"{r.row_hit_rate:.3f}"
        print(f"{r.model:12s} {r.hw:16s} {r.latency_ms:10.3f} {r.speedup_of_first:8.3g} {r.energy_mj:10.3f} "
              f"{r.energy_ratio_of_first:8.3g} {hit:>8s}  {bd}")
    pub = against_published(df)
    for b in pub.itertuples():
        print(f"{first} over {b.baseline}: {b.metric} {b.ours_low:.3g}-{b.ours_high:.3g}x on {b.models} models; "
              f"published {b.published_low:g}-{b.published_high:g}x on {b.published_models} ({b.verdict}; "
              f"validation/data/published/pim_gpt_bands.csv)")
    return 0


def _cmd_sweep(args) -> int:
    from .dse.run import PointFailed, run_sweep
    from .dse.store import read_store
    if args.scheduler and args.executor != "dask":
        raise ConfigError("sweep", "--scheduler", "is a Dask scheduler address; it needs --executor dask")
    out = Path(args.out)
    try:
        info = run_sweep(args.spec, out, executor=args.executor, workers=args.workers, scheduler=args.scheduler,
                         progress=not args.quiet, keep_going=args.keep_going,
                         allow_overcommit=args.allow_overcommit)
    except KeyboardInterrupt:
        n = len(list(out.glob("*.parquet"))) if out.exists() else 0
        print(f"\ninterrupted: {n} finished points are in {out}; run the same command to resume", file=sys.stderr)
        return 130
    except PointFailed as exc:
        print(f"decodesim sweep: {exc}; stopped (rerun to retry it, or pass --keep-going to run past failures)",
              file=sys.stderr)
        return 1
    df = read_store(out)
    bad = int((df["error"] != "").sum()) if len(df) else 0
    print(f"{info['points']} points: {info['already_done']} already done, {info['ran']} run now "
          f"({info['failed']} failed); {len(df)} rows in {out} ({bad} failed in all)")
    return 1 if bad else 0


def _cmd_run(args) -> int:
    from .pim.compare import run_one
    from .report.timeline import chrome_trace, rows_from_engine
    r = run_one(args.model, args.hw, args.context, **{**_options(args), "weights": args.weights or "bf16"})
    lat_ns = r["latency_ms"] * 1e6
    out = {"model": args.model, "hw": args.hw, "kind": r["kind"], "context": args.context,
           "latency_ms": r["latency_ms"], "energy_mj": r["energy_mj"], "breakdown_ns": r["breakdown_ns"]}
    if r["kind"] == "pim":                      # every field of simulator.pim.system.result_dict
        out.update({k: v for k, v in r.items() if k not in ("hw", "kind", "result", "hw_result")
                    and not k.startswith("frac_")})
    else:
        out.update(mode=args.mode or "eager", weights=args.weights or "bf16", batch=args.batch or 1)
    rows = rows_from_engine(r["hw_result"].timeline)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        extra = f", row-hit rate {out['row_hit_rate']:.4f}" if "row_hit_rate" in out else f", {out['mode']}"
        print(f"{args.model} on {args.hw}, context {args.context}: {r['latency_ms']:.4f} ms/token, "
              f"{r['energy_mj']:.3f} mJ/token{extra}")
        for k, v in r["breakdown_ns"].items():
            print(f"  {k:14s} {v / 1e6:10.4f} ms ({100 * v / lat_ns:5.1f}% of the latency)")
    if args.timeline:
        n = chrome_trace(rows, args.timeline)
        print(f"timeline: {n} events -> {args.timeline} (open in ui.perfetto.dev or chrome://tracing)",
              file=sys.stderr if args.json else sys.stdout)
    return 0


def _cmd_plot(args) -> int:
    from .cli_options import reject_unused
    from .report import plots
    kind = args.kind
    if kind == "split":
        from .split.cli import cmd_plot_split
        return cmd_plot_split(args)
    reject_unused(args, PLOT_USES[kind] | {"out"}, f"plot {kind}")
    opts = _options(args)
    if kind in ("speedup", "breakdown"):
        from .pim.compare import PIM_GPT_MODELS, compare
        models = args.model or (PIM_GPT_MODELS if kind == "speedup" else ["gpt2-small", "gpt3-xl"])
        hws = args.hw or ["pim-gpt-gddr6", "t4", "xeon-gold-6154"]
        if len(hws) < 2 and kind == "speedup":
            raise ConfigError("plot speedup", "--hw", "give at least two: the reference and what it is compared to")
        df = compare(models, hws, args.context, **opts)
        files = (plots.speedup_bars if kind == "speedup" else plots.breakdown_bars)(df, args.out)
    elif kind == "roofline":
        from .pim.compare import run_one
        hw = (args.hw or ["h100-sxm5"])[0]
        model = (args.model or ["llama-2-7b"])[0]
        r = run_one(model, hw, args.context, **opts)
        if r["kind"] != "device":
            raise ConfigError("plot roofline", "--hw", f"{hw} is a PIM preset; the roofline is drawn for a device")
        from .hw import load_hw
        dev = load_hw(hw, opts["overrides"]).obj
        from .backends import baseline_weights
        weights = opts.get("weights") or baseline_weights(dev)     # run_one's default on a device
        files = plots.roofline(r["result"].timeline, dev, args.out,
                               title=f"{model} ({weights}), context {args.context}: decode ops on {dev.name}")
    elif kind == "context":
        from .pim.compare import run_one
        model = (args.model or ["gpt2-xl"])[0]
        series = {hw: (args.contexts, [run_one(model, hw, c, **opts)["latency_ms"] for c in args.contexts])
                  for hw in (args.hw or ["pim-gpt-gddr6", "t4", "a100-80gb"])}
        files = plots.latency_vs_context(series, args.out, title=f"{model}: latency vs context")
    elif kind == "pareto":
        files = plots.pareto(_pareto_rows(args.store), args.out)
    else:   # validation
        import pandas as pd

        from .devices.config import load_calibration
        from .validate import evaluate, measured_cells, plot, published_cells
        df = evaluate(pd.concat([published_cells(), measured_cells()], ignore_index=True), load_calibration())
        files = []
        for ext in (".png", ".pdf"):
            p = Path(args.out).with_suffix(ext)
            plot(df, p)
            files.append(p)
    for f in files:
        print(f"wrote {f}")
    return 0


_WORKLOAD_DESTS = {"model", "hw", "context", "batch", "weights", "group_size", "kv", "kv_window", "mode", "set",
                   "allow_overcommit"}
# the options each figure kind uses (anything else given is an error, never silently ignored)
PLOT_USES = {"speedup": _WORKLOAD_DESTS, "breakdown": _WORKLOAD_DESTS, "roofline": _WORKLOAD_DESTS,
             "context": (_WORKLOAD_DESTS - {"context"}) | {"contexts"}, "pareto": {"store"}, "validation": set()}


def _pareto_rows(store):
    from .dse.store import read_store
    if not store:
        raise ConfigError("plot pareto", "--store", "give the results store of a sweep")
    if not Path(store).is_dir():
        raise ConfigError("--store", store, "no such results store (a folder written by `decodesim sweep --out`)")
    df = read_store(store)
    ok = df[df["error"] == ""] if len(df) else df
    if ok.empty:
        raise ConfigError("--store", store, f"no successful points to plot ({len(df)} rows, all failed)")
    return ok


def _cmd_configs(args) -> int:
    from .configs import check_all, check_paths, list_configs
    if args.action == "explain":                # decodesim configs explain KIND: the schema table
        from .schema import SCHEMAS, explain
        if len(args.paths) != 1 or args.paths[0] not in SCHEMAS:
            raise ConfigError("configs explain", "KIND", f"give one kind: {', '.join(SCHEMAS)}")
        print(explain(args.paths[0]))
        return 0
    if args.action == "list":
        for kind, names in list_configs().items():
            print(f"{kind}: {', '.join(names)}")
        return 0
    results = check_paths(args.paths) if args.paths else check_all()
    bad = 0
    for kind, name, err in results:
        print(f"{'ok  ' if not err else 'FAIL'} {kind:8s} {name}{'' if not err else ': ' + err}")
        bad += bool(err)
    print(f"{len(results) - bad} ok, {bad} failed")
    return 1 if bad else 0


# ---- parsers: one function per subcommand ------------------------------------------------------
def _add_dram(sub):
    from .cli_options import int_in, out_file
    from .dram.mapping import MAPPINGS
    d = sub.add_parser("dram", help="replay a memory-request trace on a DRAM standard",
                       description="Trace formats: ramulator ('LD|ST 0x<addr>' or '0x<addr> R|W', one request "
                                   "per line, replayed closed-loop: offered in order, retried while the queue is "
                                   "full) and dramsim3 ('0x<addr> READ|WRITE <cycle>', replayed timed and "
                                   "open-loop: a request enters the queue at its cycle or as soon as there is room).")
    d.add_argument("trace", help="trace file")
    d.add_argument("--format", default="auto", choices=["auto", "ramulator", "dramsim3"],
                   help="trace format (default auto: three fields per line = dramsim3, two = ramulator)")
    d.add_argument("--wrap", action="store_true",
                   help="fold addresses beyond the device capacity modulo the capacity (default: error)")
    d.add_argument("--standard", required=True, help="preset name (e.g. ddr4-3200, hbm2) or a YAML file")
    d.add_argument("--channels", type=int_in(1, 4096), default=None,
                   help="override the number of channels (default: the standard's)")
    d.add_argument("--mapping", default="RoBaRaCoCh", help=f"address mapping, MSB first ({', '.join(MAPPINGS)})")
    d.add_argument("--queue", type=int_in(1, 1 << 16), default=32, help="read and write queue depth (default 32)")
    d.add_argument("--requests-per-cycle", type=int_in(1, 1024), default=1,
                   help="frontend width: requests offered per cycle (default 1)")
    d.add_argument("--scheduler", default=None, choices=tuple(SCHEDULERS),
                   help="read/write buffer scheduling policy (default: the standard's controller.scheduler, "
                        "frfcfs: FR-FCFS with the open-row precharge rule; frfcfs-ramulator2 on the "
                        "*-ramulator2 presets: the reference's FR-FCFS)")
    d.add_argument("--row-hit-cap", type=int_in(1, 1 << 16), default=None,
                   help="frfcfs-cap: column accesses per activation that may bypass an older request to "
                        "another row of the bank (default 4)")
    d.add_argument("--row-policy", default=None, choices=tuple(ROW_POLICIES),
                   help="row (page) policy (default: the standard's controller.row_policy, open; closed: "
                        "auto-precharge when no queued request hits the row; closed-after-4: on the 4th "
                        "access since the activation)")
    d.add_argument("--commands", metavar="OUT.csv", type=out_file, help="write the command log as CSV")
    d.add_argument("--check", action="store_true", help="verify the command log with the independent checker")
    d.add_argument("--json", action="store_true", help="print the results as JSON")
    d.add_argument("--jobs", type=int_in(1, 1024), default=None,
                   help="threads: with several channels each is replayed on its own, this many at a time, for as "
                        "long as no request waits for room in its queue (the results are the same; default: all "
                        "cores)")
    d.set_defaults(func=_cmd_dram)


WORKLOAD = ("model", "context", "batch", "weights", "group-size", "kv", "kv-window")
HARDWARE = ("set", "allow-overcommit")


def _add_trace(sub):
    from .cli_options import add_options, int_in, out_file, register
    t = sub.add_parser("trace", help="decode traces: generate, record from PyTorch, show, diff")
    tsub = t.add_subparsers(dest="trace_command", required=True, parser_class=type(t))
    g = tsub.add_parser("generate", help="generate the trace of one decode step from the model config")
    add_options(g, *WORKLOAD, model={"required": True})
    g.add_argument("--out", required=True, type=out_file, help="output trace (.jsonl)")
    g.set_defaults(func=_cmd_trace_generate)
    r = tsub.add_parser("record", help="record a decode step from a PyTorch run (seeded random weights)")
    add_options(r, "model", "context", "batch", "allow-overcommit", model={"required": True},
                allow_overcommit={"help": "record even when the fp32 model and KV cache exceed the free memory"})
    r.add_argument("--seed", type=int_in(0), default=0, help="seed of the random weights and prompt (default 0)")
    r.add_argument("--device", default=None, choices=["cpu", "cuda"], help="PyTorch device (default: cuda when present)")
    r.add_argument("--out", required=True, type=out_file, help="output trace (.jsonl)")
    r.set_defaults(func=_cmd_trace_record)
    s = tsub.add_parser("show", help="per-layer and total bytes, flops and arithmetic intensity")
    s.add_argument("file", nargs="?", help="a trace file (or use --model to generate one)")
    add_options(s, *WORKLOAD)
    s.add_argument("--totals-only", action="store_true", help="print only the totals, not each layer")
    register(s, _cmd_trace_show)
    df = tsub.add_parser("diff", help="compare two traces op by op")
    df.add_argument("a", help="first trace (.jsonl)")
    df.add_argument("b", help="second trace (.jsonl)")
    df.add_argument("--limit", type=int_in(1), default=30, help="differences to print (default 30)")
    df.set_defaults(func=_cmd_trace_diff)


def _add_measure(sub):
    from .cli_options import add_options, int_in, int_list, out_file
    ms = sub.add_parser("measure", help="measure real decode on this machine's device (PyTorch, seeded weights)")
    add_options(ms, "model", model={"default": "gpt2-small", "help": "catalog model (default gpt2-small)"})
    ms.add_argument("--contexts", type=int_list(1), default=[16, 128, 512, 1000],
                    help="comma-separated context lengths in tokens (default 16,128,512,1000)")
    ms.add_argument("--steps", type=int_in(1), default=10, help="timed decode steps per context (default 10)")
    ms.add_argument("--warmup", type=int_in(0), default=3, help="untimed steps first (default 3)")
    ms.add_argument("--device", default=None, choices=["cpu", "cuda"], help="PyTorch device (default: cuda when present)")
    ms.add_argument("--weights", default=None, choices=["fp32", "bf16", "fp16"],
                    help="weight dtype (default: fp16 on CUDA, fp32 on CPU)")
    ms.add_argument("--device-config", default=None, help="hw_configs/devices entry to predict this device with")
    ms.add_argument("--out", required=True, type=out_file, help="CSV to write (validation/data/measured/ for validation)")
    ms.add_argument("--all-heldout", action="store_true",
                    help="mark every row held-out (default: the first context is a calibration cell)")
    ms.set_defaults(func=_cmd_measure)


def _add_compare(sub):
    from .cli_options import add_options, out_file
    cp = sub.add_parser("compare", help="workloads on several hardware configs (PIM presets, devices)")
    add_options(cp, "models", "hws", "context", "batch", "weights", "group-size", "kv", "kv-window", "mode", *HARDWARE,
                "json", models={"help": "model: catalog name or YAML path (repeatable; default: the 8 PIM-GPT "
                                        "models; --workload is an old spelling)"}, hws={"required": True})
    cp.add_argument("--csv", type=out_file, help="write the table as CSV")
    cp.set_defaults(func=_cmd_compare)


def _add_sweep(sub):
    from .cli_options import add_options, int_in, out_dir, register
    sw = sub.add_parser("sweep", help="run a design-space sweep spec (resumable; one row per point)")
    sw.add_argument("spec", help="sweep spec YAML (see hw_configs/sweeps/)")
    sw.add_argument("--out", required=True, type=out_dir,
                    help="results store: a folder of Parquet files (a Parquet dataset)")
    sw.add_argument("--executor", default="local", choices=["local", "dask"], help="where points run (default local)")
    sw.add_argument("--scheduler", default=None, help="dask scheduler address (default: a LocalCluster)")
    sw.add_argument("--workers", type=int_in(1, 1024), default=None, help="worker processes (default: all cores)")
    sw.add_argument("--keep-going", action="store_true",
                    help="run past failing points (default: stop at the first; failures are retried on resume)")
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    add_options(sw, "allow-overcommit")
    register(sw, _cmd_sweep)


def _add_run(sub):
    from .cli_options import add_options, out_file
    rn = sub.add_parser("run", help="one configuration: latency, breakdown, optional timeline")
    add_options(rn, *WORKLOAD, "hw", "mode", *HARDWARE, "json", model={"required": True}, hw={"required": True})
    rn.add_argument("--timeline", type=out_file, help="write a Chrome trace / Perfetto JSON")
    rn.set_defaults(func=_cmd_run)


def _add_plot(sub):
    from .cli_options import add_options, int_list, out_file, register
    pl = sub.add_parser("plot", help="figures (PNG and PDF)")
    pl.add_argument("kind", choices=["speedup", "breakdown", "roofline", "context", "pareto", "validation", "split"],
                    help="figure kind")
    pl.add_argument("--out", required=True, type=out_file, help="output path stem (writes .png and .pdf)")
    add_options(pl, "models", "hws", "context", "batch", "weights", "group-size", "kv", "kv-window", "mode",
                *HARDWARE)
    pl.add_argument("--contexts", type=int_list(0), default=[128, 256, 512, 1000],
                    help="context lengths in tokens for `plot context` (default 128,256,512,1000)")
    pl.add_argument("--store", help="sweep results store (pareto)")
    from .split.cli import add_split_plot
    add_split_plot(pl)
    register(pl, _cmd_plot)


def _add_split(sub):
    from .split.cli import add_split_parser
    add_split_parser(sub)


def _add_configs(sub):
    cf = sub.add_parser("configs", help="list, check or explain shipped and user configs")
    cf.add_argument("action", choices=["list", "check", "explain"],
                    help="list names, check files, or explain KIND's keys (types, ranges, units)")
    cf.add_argument("paths", nargs="*", help="YAML files to check (default: every shipped config); "
                    "for explain: the kind (device, pim, dram, runtime, link, sweep)")
    cf.set_defaults(func=_cmd_configs)


def _add_validate(sub):
    from .cli_options import out_file
    va = sub.add_parser("validate", help="predict every published and measured cell; errors and MAPE")
    va.add_argument("--refit", action="store_true", help="re-fit calibration.yaml on its named cells first")
    va.add_argument("--plot", type=out_file, help="predicted-vs-measured plot (PNG or PDF)")
    va.add_argument("--csv", type=out_file, help="write the per-cell table")
    va.set_defaults(func=_cmd_validate)


# a new subcommand is one more entry here (a function that adds its parser to ``sub``)
SUBCOMMANDS = [_add_dram, _add_trace, _add_measure, _add_compare, _add_sweep, _add_run, _add_split, _add_plot,
               _add_configs, _add_validate]


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .cli_options import Parser
    p = Parser(prog="decodesim", description="Cycle-accurate simulator for memory-bound LLM decode.")
    p.add_argument("--version", action="version", version=f"decodesim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for add in SUBCOMMANDS:
        add(sub)
    return p


def main(argv=None) -> int:
    from .cli_options import stdout_closed_quietly
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:                   # --help, --version, or a bad option (one line, exit 2)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"decodesim: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except BrokenPipeError:                     # `decodesim ... | head`: the reader left; not an error
        stdout_closed_quietly()
        return 0
    except OSError as exc:                      # a file that cannot be read or written
        if exc.filename is None:
            raise
        print(f"decodesim: error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
