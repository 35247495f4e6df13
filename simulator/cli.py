"""The ``decodesim`` command line.

Each sub-command lives in its own small function; bad input (ConfigError)
prints one line naming the file, key and allowed range, and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import ConfigError


def _cmd_dram(args) -> int:
    from .dram.checker import check_result, summarize
    from .dram.energy import energy_of
    from .dram.run import ControllerConfig, run_trace
    from .dram.standard import load_standard
    from .dram.trace_io import check_capacity, load_trace

    std = load_standard(args.standard)
    if args.channels:
        std = std.with_channels(args.channels)
    if args.commands:
        _check_writable(args.commands, "--commands")
    tr = load_trace(args.trace, args.format)
    addrs, writes = check_capacity(tr, std, wrap=args.wrap), tr.is_write
    ctrl = ControllerConfig(read_queue=args.queue, write_queue=args.queue,
                            requests_per_cycle=args.requests_per_cycle, scheduler=args.scheduler,
                            row_hit_cap=args.row_hit_cap)
    res = run_trace(std, addrs, writes, mapping=args.mapping, controller=ctrl,
                    log=bool(args.commands or args.check), arrival_cycle=tr.arrival_cycle)
    en = energy_of(res)
    bits = res.transferred_bytes * 8
    out = {
        "standard": std.name, "channels": std.channels, "mapping": args.mapping,
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
        "avg_read_latency_cycles": res.avg_read_latency_cycles,
        "avg_read_latency_ns": res.avg_read_latency_cycles * std.tck_ns,
        "refreshes": res.refreshes, "energy_pj": en.as_dict(),
        "energy_pj_per_bit": en.total_pj / bits if bits else 0.0,
        "commands": res.command_counts,
    }
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


def _check_writable(path, flag):
    """Fail before a long run when an output file cannot be written."""
    import os
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise ConfigError(flag, str(path), "is a directory; give a file name")
    if not parent.is_dir():
        raise ConfigError(flag, str(path), f"folder {parent} does not exist")
    if not os.access(p if p.exists() else parent, os.W_OK):
        raise ConfigError(flag, str(path), "not writable (permission denied)")


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
        ("read latency", f"{o['avg_read_latency_cycles']:.1f} cycles = {o['avg_read_latency_ns']:.1f} ns (average)"),
        ("refreshes", str(o["refreshes"])),
        ("energy", f"{o['energy_pj']['total_pj'] / 1e6:.3f} uJ = {o['energy_pj_per_bit']:.2f} pJ/bit moved "
                   f"(act {o['energy_pj']['activate_pj'] / 1e6:.3f}, rd {o['energy_pj']['read_pj'] / 1e6:.3f}, "
                   f"wr {o['energy_pj']['write_pj'] / 1e6:.3f}, ref {o['energy_pj']['refresh_pj'] / 1e6:.3f}, "
                   f"bg {o['energy_pj']['background_pj'] / 1e6:.3f}, io {o['energy_pj']['io_pj'] / 1e6:.3f} uJ)"),
    ]
    if "checker_violations" in o:
        rows.append(("checker", f"{o['checker_violations']} timing violations"))
    w = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{w}}  {v}")


def _workload_from(args):
    from .workload import Workload, load_model
    m = load_model(args.model)
    return Workload(m, weights=args.weights, kv=args.kv, kv_window=args.kv_window, batch=args.batch,
                    group_size=args.group_size)


def _cmd_trace_generate(args) -> int:
    from .workload import generate_trace
    from .workload.trace_io import write_trace
    tr = generate_trace(_workload_from(args), args.context)
    write_trace(tr, args.out)
    print(f"wrote {len(tr.ops)} ops to {args.out}")
    return 0


def _cmd_trace_record(args) -> int:
    from .workload import load_model
    from .workload.record import record_decode
    from .workload.trace_io import write_trace
    tr = record_decode(load_model(args.model), args.context, seed=args.seed, batch=args.batch, device=args.device)
    write_trace(tr, args.out)
    print(f"recorded {len(tr.ops)} ops on {tr.header['device']} to {args.out}")
    return 0


def _cmd_trace_show(args) -> int:
    from .workload import generate_trace
    from .workload.report import trace_table
    from .workload.trace_io import read_trace
    if args.file:
        tr = read_trace(args.file)
        w = None
    else:
        if not args.model:
            from .errors import ConfigError
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
    ctx = [int(c) for c in args.contexts.split(",") if c]
    df = run_harness(args.model, ctx, steps=args.steps, warmup=args.warmup, device=args.device,
                     weights=args.weights, device_config=args.device_config, fit_first=not args.all_heldout)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False)
    print(f"wrote {len(df)} rows to {out}")
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


def _cmd_compare(args) -> int:
    from .pim.compare import PIM_GPT_MODELS, against_published, compare
    models = args.workload or PIM_GPT_MODELS
    df = compare(models, args.hw, args.context)
    first = args.hw[0]
    print(f"context {args.context}, batch 1; speed-up and energy ratio of {first} over each config "
          f"(GPU/CPU energy = TDP x time)")
    print(f"{'model':12s} {'hw':16s} {'ms/token':>10s} {'speedup':>8s} {'mJ/token':>10s} {'E ratio':>8s} "
          f"{'row hit':>8s}  breakdown")
    for r in df.itertuples():
        fr = {k[5:]: v for k, v in r._asdict().items() if k.startswith("frac_") and v == v and v > 0.0005}
        bd = ", ".join(f"{k} {100 * v:.1f}%" for k, v in sorted(fr.items(), key=lambda kv: -kv[1]))
        hit = "" if r.row_hit_rate != r.row_hit_rate else f"{r.row_hit_rate:.3f}"
        print(f"{r.model:12s} {r.hw:16s} {r.latency_ms:10.3f} {r.speedup_of_first:8.1f} {r.energy_mj:10.3f} "
              f"{r.energy_ratio_of_first:8.1f} {hit:>8s}  {bd}")
    pub = against_published(df)
    for b in pub.itertuples():
        print(f"{first} over {b.baseline}: {b.metric} {b.ours_low:.1f}-{b.ours_high:.1f}x on {b.models} models; "
              f"published {b.published_low:g}-{b.published_high:g}x on {b.published_models} ({b.verdict}; "
              f"validation/data/published/pim_gpt_bands.csv)")
    if args.csv:
        df.to_csv(args.csv, index=False)
    return 0


def _cmd_sweep(args) -> int:
    from .dse.run import run_sweep
    from .dse.store import read_store
    out = Path(args.out)
    try:
        info = run_sweep(args.spec, out, executor=args.executor, workers=args.workers, scheduler=args.scheduler,
                         progress=not args.quiet)
    except KeyboardInterrupt:
        n = len(list(out.glob("*.parquet"))) if out.exists() else 0
        print(f"\ninterrupted: {n} finished points are in {out}; run the same command to resume", file=sys.stderr)
        return 130
    df = read_store(out)
    bad = int((df["error"] != "").sum()) if len(df) else 0
    print(f"{info['points']} points: {info['already_done']} already done, {info['ran']} run now; "
          f"{len(df)} rows in {out} ({bad} failed)")
    return 0


def _cmd_run(args) -> int:
    from .pim.config import list_pims
    from .workload import Workload, load_model
    m = load_model(args.model)
    if args.hw in list_pims():
        from .pim.config import load_pim
        from .pim.system import simulate_token
        from .report.timeline import chrome_trace, rows_from_pim
        s = simulate_token(load_pim(args.hw), Workload(m, weights="bf16"), args.context)
        print(f"{m.name} on {args.hw}, context {args.context}: {s.latency_ms:.4f} ms/token, "
              f"{s.energy_mj:.3f} mJ/token, row-hit rate {s.row_hit_rate:.4f}")
        for k, v in s.breakdown_ns.items():
            print(f"  {k:14s} {v / 1e3:10.2f} us ({100 * v / s.latency_ns:5.1f}%)")
        rows = rows_from_pim(s)
    else:
        from .devices.config import load_device
        from .engine.sim import simulate_step
        from .report.timeline import chrome_trace, rows_from_engine
        dev = load_device(args.hw)
        r = simulate_step(Workload(m, weights=args.weights, batch=args.batch), args.context, dev, args.mode)
        print(f"{m.name} on {dev.name} ({args.mode}), context {args.context}: {r.latency_ms:.4f} ms/token")
        for k, v in r.breakdown_ns().items():
            print(f"  {k:10s} {v / 1e6:10.3f} ms of device time")
        rows = rows_from_engine(r.timeline)
    if args.timeline:
        n = chrome_trace(rows, args.timeline)
        print(f"timeline: {n} events -> {args.timeline} (open in ui.perfetto.dev or chrome://tracing)")
    return 0


def _cmd_plot(args) -> int:
    from .report import plots
    kind = args.kind
    if kind == "split":
        from .split.cli import cmd_plot_split
        return cmd_plot_split(args)
    if kind in ("speedup", "breakdown"):
        from .pim.compare import PIM_GPT_MODELS, compare
        models = args.workload or (PIM_GPT_MODELS if kind == "speedup" else ["gpt2-small", "gpt3-xl"])
        hws = args.hw or ["pim-gpt-gddr6", "t4", "xeon-gold-6154"]
        df = compare(models, hws, args.context)
        files = (plots.speedup_bars if kind == "speedup" else plots.breakdown_bars)(df, args.out)
    elif kind == "roofline":
        from .devices.config import load_device
        from .engine.sim import simulate_step
        from .workload import Workload, load_model
        dev = load_device((args.hw or ["h100-sxm5"])[0])
        r = simulate_step(Workload(load_model((args.workload or ["llama-2-7b"])[0]), batch=args.batch), args.context,
                          dev, args.mode)
        files = plots.roofline(r.timeline, dev, args.out)
    elif kind == "context":
        from .pim.compare import run_one
        model = (args.workload or ["gpt2-xl"])[0]
        ctxs = [int(c) for c in args.contexts.split(",")]
        series = {hw: (ctxs, [run_one(model, hw, c)["latency_ms"] for c in ctxs])
                  for hw in (args.hw or ["pim-gpt-gddr6", "t4", "a100-80gb"])}
        files = plots.latency_vs_context(series, args.out, title=f"{model}: latency vs context")
    elif kind == "pareto":
        from .dse.store import read_store
        if not args.store:
            from .errors import ConfigError
            raise ConfigError("plot pareto", "--store", "give the results store of a sweep")
        files = plots.pareto(read_store(args.store), args.out)
    else:   # validation
        import pandas as pd

        from .devices.config import load_calibration
        from .validate import evaluate, measured_cells, plot, published_cells
        df = evaluate(pd.concat([published_cells(), measured_cells()], ignore_index=True), load_calibration())
        files = []
        for ext in (".png", ".pdf"):
            p = Path(args.out).with_suffix(ext)
            p.parent.mkdir(parents=True, exist_ok=True)
            plot(df, p)
            files.append(p)
    for f in files:
        print(f"wrote {f}")
    return 0


def _cmd_configs(args) -> int:
    from .configs import check_all, check_paths, list_configs
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


def _workload_args(p, need_model=True):
    from .workload.workload import KV_FORMATS, WEIGHT_FORMATS
    p.add_argument("--model", required=need_model, help="catalog model (see workloads/models) or a YAML path")
    p.add_argument("--context", type=int, default=2048, help="tokens already in the KV cache (default 2048)")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--weights", default="bf16", choices=list(WEIGHT_FORMATS))
    p.add_argument("--group-size", type=int, default=0, help="quantization group size (0 = format default)")
    p.add_argument("--kv", default="bf16", choices=list(KV_FORMATS))
    p.add_argument("--kv-window", type=int, default=0, help="keep only the last W tokens (0 = full cache)")


def build_parser() -> argparse.ArgumentParser:
    from .dram.mapping import MAPPINGS
    p = argparse.ArgumentParser(prog="decodesim", description="Cycle-accurate simulator for memory-bound LLM decode.")
    sub = p.add_subparsers(dest="command", required=True)
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
    d.add_argument("--channels", type=int, default=0, help="override the number of channels")
    d.add_argument("--mapping", default="RoBaRaCoCh", help=f"address mapping, MSB first ({', '.join(MAPPINGS)})")
    d.add_argument("--queue", type=int, default=32, help="read and write queue depth (default 32)")
    d.add_argument("--requests-per-cycle", type=int, default=1,
                   help="frontend width: requests offered per cycle (default 1)")
    d.add_argument("--scheduler", default="frfcfs", choices=["frfcfs", "frfcfs-cap", "fcfs"],
                   help="read/write buffer scheduling policy (default frfcfs, as the reference)")
    d.add_argument("--row-hit-cap", type=int, default=4,
                   help="frfcfs-cap: column accesses per activation that may bypass an older request to "
                        "another row of the bank (default 4)")
    d.add_argument("--commands", metavar="OUT.csv", help="write the command log as CSV")
    d.add_argument("--check", action="store_true", help="verify the command log with the independent checker")
    d.add_argument("--json", action="store_true", help="print the results as JSON")
    d.set_defaults(func=_cmd_dram)

    t = sub.add_parser("trace", help="decode traces: generate, record from PyTorch, show, diff")
    tsub = t.add_subparsers(dest="trace_command", required=True)
    g = tsub.add_parser("generate", help="generate the trace of one decode step from the model config")
    _workload_args(g)
    g.add_argument("--out", required=True, help="output .jsonl")
    g.set_defaults(func=_cmd_trace_generate)
    r = tsub.add_parser("record", help="record a decode step from a PyTorch run (seeded random weights)")
    r.add_argument("--model", required=True)
    r.add_argument("--context", type=int, default=16)
    r.add_argument("--batch", type=int, default=1)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    r.add_argument("--out", required=True)
    r.set_defaults(func=_cmd_trace_record)
    s = tsub.add_parser("show", help="per-layer and total bytes, flops and arithmetic intensity")
    s.add_argument("file", nargs="?", help="a trace file (or use --model to generate one)")
    _workload_args(s, need_model=False)
    s.add_argument("--totals-only", action="store_true")
    s.set_defaults(func=_cmd_trace_show)
    df = tsub.add_parser("diff", help="compare two traces op by op")
    df.add_argument("a")
    df.add_argument("b")
    df.add_argument("--limit", type=int, default=30)
    df.set_defaults(func=_cmd_trace_diff)
    ms = sub.add_parser("measure", help="measure real decode on this machine's device (PyTorch, seeded weights)")
    ms.add_argument("--model", default="gpt2-small")
    ms.add_argument("--contexts", default="16,128,512,1000", help="comma-separated context lengths")
    ms.add_argument("--steps", type=int, default=10)
    ms.add_argument("--warmup", type=int, default=3)
    ms.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    ms.add_argument("--weights", default=None, choices=["fp32", "bf16", "fp16"])
    ms.add_argument("--device-config", default=None, help="hw_configs/devices entry to predict this device with")
    ms.add_argument("--out", required=True, help="CSV to write (validation/data/measured/ for validation)")
    ms.add_argument("--all-heldout", action="store_true",
                    help="mark every row held-out (default: the first context is a calibration cell)")
    ms.set_defaults(func=_cmd_measure)
    cp = sub.add_parser("compare", help="one workload on several hardware configs (PIM presets, devices)")
    cp.add_argument("--workload", action="append", help="catalog model (repeatable; default: the 8 GPT models)")
    cp.add_argument("--hw", action="append", required=True, help="PIM preset or device (repeatable; first = reference)")
    cp.add_argument("--context", type=int, default=128)
    cp.add_argument("--csv")
    cp.set_defaults(func=_cmd_compare)
    sw = sub.add_parser("sweep", help="run a design-space sweep spec (resumable; one row per point)")
    sw.add_argument("spec", help="sweep spec YAML (see hw_configs/sweeps/)")
    sw.add_argument("--out", required=True, help="results store: a folder of Parquet files (a Parquet dataset)")
    sw.add_argument("--executor", default="local", choices=["local", "dask"])
    sw.add_argument("--scheduler", default=None, help="dask scheduler address (default: a LocalCluster)")
    sw.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    sw.set_defaults(func=_cmd_sweep)
    rn = sub.add_parser("run", help="one configuration: latency, breakdown, optional timeline")
    rn.add_argument("--model", required=True)
    rn.add_argument("--hw", required=True, help="PIM preset or device")
    rn.add_argument("--context", type=int, default=512)
    rn.add_argument("--weights", default="bf16", help="weight format: bf16, int4, awq, q4_k_m, exl2-4.65, ... "
                    "(simulator/workload/formats.py)")
    rn.add_argument("--batch", type=int, default=1)
    rn.add_argument("--mode", default="eager", help="eager, cuda_graphs, compiled (PyTorch), llamacpp (the device back end's "
                    "llama.cpp profile), tensorrt_llm, mlc, exllamav2, tinychat, vllm (devices)")
    rn.add_argument("--timeline", help="write a Chrome trace / Perfetto JSON")
    rn.set_defaults(func=_cmd_run)
    from .split.cli import add_split_parser, add_split_plot
    add_split_parser(sub)
    pl = sub.add_parser("plot", help="figures (PNG and PDF)")
    pl.add_argument("kind", choices=["speedup", "breakdown", "roofline", "context", "pareto", "validation", "split"])
    pl.add_argument("--out", required=True, help="output path stem (writes .png and .pdf)")
    pl.add_argument("--workload", action="append")
    pl.add_argument("--hw", action="append")
    pl.add_argument("--context", type=int, default=128)
    pl.add_argument("--contexts", default="128,256,512,1000")
    pl.add_argument("--batch", type=int, default=1)
    pl.add_argument("--mode", default="eager")
    pl.add_argument("--store", help="sweep results store (pareto)")
    add_split_plot(pl)
    pl.set_defaults(func=_cmd_plot)
    cf = sub.add_parser("configs", help="list or check shipped and user configs")
    cf.add_argument("action", choices=["list", "check"])
    cf.add_argument("paths", nargs="*", help="YAML files to check (default: every shipped config)")
    cf.set_defaults(func=_cmd_configs)
    va = sub.add_parser("validate", help="predict every published and measured cell; errors and MAPE")
    va.add_argument("--refit", action="store_true", help="re-fit calibration.yaml on its named cells first")
    va.add_argument("--plot", help="predicted-vs-measured plot (PNG or PDF)")
    va.add_argument("--csv", help="write the per-cell table")
    va.set_defaults(func=_cmd_validate)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"decodesim: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
