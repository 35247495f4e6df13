"""``decodesim split`` (search and report) and ``decodesim plot split`` (figure).

Registered from :mod:`simulator.cli` with :func:`add_split_parser` and :func:`add_split_plot`.
"""

from __future__ import annotations

import json
import sys

from ..errors import ConfigError

DEFAULTS = {"edge_weights": "int4,int8,bf16", "server_weights": "bf16,int8", "act_bits": "4,8,16"}


def _csv(value: str, flag: str, conv=str) -> list:
    try:
        out = [conv(v.strip()) for v in str(value).split(",") if v.strip()]
    except ValueError:
        raise ConfigError(flag, "", f"{value!r} is not a comma-separated list of {conv.__name__}") from None
    if not out:
        raise ConfigError(flag, "", "empty list")
    return out


# the options that name each checked field in errors (simulator.split.search.check_request/make_constraints)
CLI_NAMES = {f: ("--" + f.replace("_", "-"), "") for f in
             ("prompt", "staging_us", "edge_memory_gb", "server_ms", "latency_ms", "ttft_ms")}


def add_split_options(p, required=True):
    """The options shared by ``split`` and ``plot split``."""
    from ..workload.workload import KV_FORMATS
    from .link import list_links
    from . import OBJECTIVES
    g = p.add_argument_group("split computing (plot split only)") if not required else p
    if "--model" not in p._option_string_actions:      # `plot` has the shared --model and --kv already
        g.add_argument("--model", required=required, help="catalog model (see workloads/models) or a YAML path")
    g.add_argument("--edge", required=required, help="edge device (hw_configs/devices) or a YAML path")
    g.add_argument("--server", required=required, help="server device (hw_configs/devices) or a YAML path")
    g.add_argument("--link", help=f"link preset ({', '.join(list_links())}) or a YAML path")
    from ..schema import field_help       # help, unit and range from the link schema
    g.add_argument("--link-mbps", type=float,
                   help=f"link goodput, both directions: {field_help('link', 'uplink_mbps')}; overrides the preset")
    g.add_argument("--down-mbps", type=float, help=f"{field_help('link', 'downlink_mbps')}; default: as the uplink")
    g.add_argument("--rtt-ms", type=float, help=f"{field_help('link', 'rtt_ms')}; overrides the preset")
    g.add_argument("--edge-memory-gb", type=float, help="edge memory budget (GB = 1e9 bytes; default: the "
                   "edge device's capacity)")
    g.add_argument("--latency-ms", type=float, default=float("inf"),
                   help="target: slowest time between tokens at the edge (ms/token; default: none)")
    g.add_argument("--ttft-ms", type=float, default=float("inf"),
                   help="target: time to the first token at the edge (ms; default: none)")
    g.add_argument("--server-ms", type=float, default=float("inf"),
                   help="budget: server compute per token (ms/token; default: none)")
    g.add_argument("--prompt", type=int, default=128, help="prompt length (tokens; default 128)")
    g.add_argument("--generate", default="128", help="tokens to generate; a comma-separated list searches "
                   "several sequence lengths, each with its own front and best point (default 128)")
    g.add_argument("--layers", help="split layers to search, comma-separated (default: all, 0..L; "
                   "0 = all on the server, L = all on the edge)")
    g.add_argument("--edge-weights", default=DEFAULTS["edge_weights"],
                   help=f"edge weight formats to search (default {DEFAULTS['edge_weights']})")
    g.add_argument("--server-weights", default=DEFAULTS["server_weights"],
                   help=f"server weight formats to search (default {DEFAULTS['server_weights']})")
    g.add_argument("--act-bits", default=DEFAULTS["act_bits"],
                   help=f"bits per hidden-state element on the uplink (default {DEFAULTS['act_bits']})")
    g.add_argument("--outlier-frac", type=float, default=0.0,
                   help="fraction of hidden-state elements kept at 16 bit with their index (default 0)")
    if "--kv" not in p._option_string_actions:
        g.add_argument("--kv", default="bf16", choices=list(KV_FORMATS), help="KV cache precision (both sides)")
    g.add_argument("--edge-mode", default="eager", help="edge runtime mode, as `run --mode`: eager, cuda_graphs, compiled, llamacpp or an engine "
                   "(tinychat, mlc, ...); picks the profile for the device's backend (default eager)")
    g.add_argument("--server-mode", default="cuda_graphs", help="server runtime mode, as --edge-mode (default cuda_graphs)")
    g.add_argument("--staging-us", type=float, help="copy each payload through host memory on the edge: "
                   "fixed cost (us) plus a read and a write at the edge's memory bandwidth (default: no copy)")
    g.add_argument("--edge-workspace-mb", type=float,
                   help="edge runtime workspace (MiB; default: the runtime's stated assumption)")
    g.add_argument("--samples", type=int, default=5,
                   help="contexts timed exactly per generation, interpolated between (0 = every step; default 5)")
    g.add_argument("--objective", default="latency", choices=list(OBJECTIVES),
                   help="best point: lowest latency, or most bits (weights, then activations)")


def build(args):
    """(setup, constraints, space) from parsed options; bad values raise ConfigError."""
    from ..config_io import check_choice, check_float, check_int
    from ..devices.config import load_device
    from ..workload import load_model
    from ..workload.workload import WEIGHT_FORMATS
    from .link import make_link
    from .pipeline import SplitSetup, check_point
    from .search import check_request, make_constraints, search_space
    m = load_model(args.model)
    edge, server = load_device(args.edge), load_device(args.server)
    link = make_link(args.link, args.link_mbps, args.rtt_ms, args.down_mbps)
    check_request(CLI_NAMES, args.prompt, args.staging_us)
    lengths = [check_int("--generate", "", n, 1, 1 << 20) for n in _csv(args.generate, "--generate", int)]
    check_int("--samples", "", args.samples, 0, 1 << 20)
    setup = SplitSetup(m, edge, server, link, args.prompt, max(lengths), args.edge_mode, args.server_mode,
                       args.staging_us, args.samples)
    c = make_constraints(CLI_NAMES, edge, server, args.edge_memory_gb, args.server_ms, args.latency_ms,
                         args.ttft_ms, args.edge_workspace_mb)
    layers = None
    if args.layers:
        layers = _csv(args.layers, "--layers", int)
        for k in layers:
            check_int("--layers", "", k, 0, m.layers)
    fmts = {}
    for flag, val in (("--edge-weights", args.edge_weights), ("--server-weights", args.server_weights)):
        fmts[flag] = [check_choice(flag, "", f, list(WEIGHT_FORMATS)) for f in _csv(val, flag)]
    bits = _csv(args.act_bits, "--act-bits", int)
    check_float("--outlier-frac", "", args.outlier_frac, 0.0, 1.0)
    space = search_space(m.layers, layers, fmts["--edge-weights"], fmts["--server-weights"], bits,
                         args.outlier_frac, args.kv)
    for p in space:
        check_point(setup, p)
    return setup, c, space, sorted(set(lengths))


def search(args):
    """(setup, constraints, runs): one run per generation length, ``(generate, evaluated points,
    Pareto front, best point or None)``."""
    from .search import best_point, pareto_front, run_search
    setup, c, space, lengths = build(args)
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm
        bar = tqdm(total=len(space) * len(lengths), unit="pt", desc="split search", leave=False)
    runs = []
    try:
        for n in lengths:
            setup.generate = n
            ev = run_search(setup, c, space, progress=bar.update if bar else None)
            runs.append((n, ev, pareto_front(ev), best_point(ev, args.objective, setup.model.layers)))
    finally:
        if bar:
            bar.close()
    return setup, c, runs


def _row(e) -> str:
    r, p = e.result, e.point
    return (f"{p.layer:>4d} {p.edge_weights:>5s} {p.server_weights:>6s} {p.act_bits:>4d} {r.tpot_max_ms:>9.2f} "
            f"{r.ttft_ms:>9.1f} {r.tokens_per_s:>7.2f} {e.edge_memory_bytes / 1e9:>8.3f} {r.server_ms_per_token:>9.3f} "
            f"{r.link_bytes / 1e3:>9.1f} {r.edge_mj_per_token:>8.1f} "
            f"{e.max_tokens:>7d}")


HEADER = (f"{'k':>4s} {'edge':>5s} {'server':>6s} {'act':>4s} {'ms/token':>9s} {'TTFT ms':>9s} {'tok/s':>7s} "
          f"{'edge GB':>8s} {'server ms':>9s} {'link kB':>9s} {'edge mJ':>8s} {'max seq':>7s}")
HEADER_NOTE = ("k = split layer (0 all server, L all edge); ms/token = slowest time between tokens at the edge; "
               "edge GB at the last token; edge mJ per generated token; max seq = longest sequence the edge "
               "budget admits")


def _describe(setup, c, lengths) -> list:
    lk = setup.link
    cons = [f"edge memory <= {c.edge_memory_gb:g} GB"]
    if c.server_ms != float("inf"):
        cons.append(f"server <= {c.server_ms:g} ms/token")
    if c.latency_ms != float("inf"):
        cons.append(f"latency <= {c.latency_ms:g} ms/token")
    if c.ttft_ms != float("inf"):
        cons.append(f"TTFT <= {c.ttft_ms:g} ms")
    return [f"{setup.model.name}: edge {setup.edge.name} ({setup.edge_mode}), server {setup.server.name} "
            f"({setup.server_mode}), link {lk.name}: {lk.uplink_mbps:g}/{lk.downlink_mbps:g} Mbit/s up/down, "
            f"RTT {lk.rtt_ms:g} ms",
            f"request: {setup.prompt}-token prompt, {'/'.join(map(str, lengths))} tokens generated; constraints: "
            + ", ".join(cons)]


def cmd_split(args) -> int:
    setup, c, runs = search(args)
    if args.json:
        points, out_runs = [], []
        for n, ev, front, best in runs:
            idx = {id(e): len(points) + i for i, e in enumerate(ev)}
            points += [{**e.as_dict(), "generate": n} for e in ev]
            out_runs.append({"generate": n, "pareto": [idx[id(e)] for e in front],
                             "best": None if best is None else idx[id(best)]})
        out = {"model": setup.model.name, "edge": setup.edge.key, "server": setup.server.key,
               "link": {"name": setup.link.name, "uplink_mbps": setup.link.uplink_mbps,
                        "downlink_mbps": setup.link.downlink_mbps, "rtt_ms": setup.link.rtt_ms,
                        "source": setup.link.source},
               "prompt": setup.prompt, "objective": args.objective,
               "constraints": {k: (None if v == float("inf") else v) for k, v in vars(c).items()},
               "points": points, "runs": out_runs}
        print(json.dumps(out, indent=2))
        return 0
    for line in _describe(setup, c, [r[0] for r in runs]):
        print(line)
    print(HEADER_NOTE)
    found = [_print_run(args, *r, many=len(runs) > 1) for r in runs]
    if len(runs) > 1:
        print(f"\nbest ({args.objective}) by sequence length:")
        for (n, _, _, best) in runs:
            print(f"  {setup.prompt} + {n} tokens: " + ("none feasible" if best is None else
                  f"{best.point.label()}, {best.result.tpot_max_ms:.2f} ms/token, edge "
                  f"{best.edge_memory_bytes / 1e9:.3f} GB"))
    return 0 if all(found) else 1


def _print_run(args, n, ev, front, best, many) -> bool:
    from collections import Counter
    from .search import CONSTRAINTS
    if many:
        print(f"\n=== {n} tokens generated ===")
    bad = Counter(k for e in ev for k in e.violations)
    n_ok = sum(e.feasible for e in ev)
    print(f"{len(ev)} points, {n_ok} feasible; infeasible by constraint: "
          + (", ".join(f"{bad[k]} {k.replace('_', ' ')}" for k in CONSTRAINTS if bad[k]) or "none"))
    if args.all:
        print(f"\nall points:\n{HEADER}  status")
        for e in ev:
            print(_row(e) + "  " + ("ok" if e.feasible else "; ".join(e.violations.values())))
    print(f"\nPareto front of the feasible set ({len(front)} points; ms/token vs edge GB vs link bytes):\n{HEADER}")
    for e in front:
        print(_row(e))
    if best is None:
        print("\nno point meets every constraint; the points closest to it (fewest constraints broken, "
              "then lowest latency):")
        for e in sorted(ev, key=lambda e: (len(e.violations), e.result.tpot_max_ms))[:5]:
            print(_row(e) + "  " + "; ".join(e.violations.values()))
        return False
    r = best.result
    print(f"\nbest ({args.objective}): {best.point.label()}: {r.tpot_max_ms:.2f} ms/token (mean {r.tpot_ms:.2f}), "
          f"TTFT {r.ttft_ms:.1f} ms, {r.tokens_per_s:.2f} tokens/s, edge {best.edge_memory_bytes / 1e9:.3f} GB, "
          f"server {r.server_ms_per_token:.3f} ms/token, link {r.link_bytes / 1e3:.1f} kB, "
          f"edge energy {r.edge_energy_mj / 1e3:.2f} J")
    return True


def cmd_plot_split(args) -> int:
    from ..report.plots import split_layers
    import pandas as pd
    if isinstance(args.model, list):                # plot's shared --model is repeatable
        if len(args.model) > 1:
            raise ConfigError("plot split", "--model", "give one model")
        args.model = args.model[0]
    if not (args.model and args.edge and args.server):
        raise ConfigError("plot split", "--model/--edge/--server", "all three are required")
    setup, c, runs = search(args)
    ev = runs[-1][1]                      # the longest generation
    df = pd.DataFrame([{"layer": e.point.layer, "edge_weights": e.point.edge_weights,
                        "ms_per_token": e.result.tpot_max_ms, "edge_memory_gb": e.edge_memory_bytes / 1e9,
                        "feasible": e.feasible} for e in ev])
    files = split_layers(df, args.out, edge_budget_gb=c.edge_memory_gb,
                         latency_ms=None if c.latency_ms == float("inf") else c.latency_ms,
                         title=f"{setup.model.name}: {setup.edge.name} + {setup.server.name}, {setup.prompt} + {runs[-1][0]} "
                               f"tokens, {setup.link.name} "
                               f"({setup.link.uplink_mbps:g} Mbit/s up, RTT {setup.link.rtt_ms:g} ms)")
    for f in files:
        print(f"wrote {f}")
    return 0


def add_split_parser(subparsers):
    p = subparsers.add_parser("split", help="edge/server split computing: search split layer and precisions "
                              "under memory, server-time and latency constraints",
                              description="Simulates a whole request (prefill + generation) for every point of "
                              "the search space, prints the feasible Pareto front and the best point. Exit status "
                              "1 when no point meets every constraint, 2 on bad input. Worked example: "
                              "docs/split_computing.md.")
    add_split_options(p)
    p.add_argument("--all", action="store_true", help="print every point with the constraint it breaks")
    p.add_argument("--json", action="store_true", help="print every point, the Pareto front and the best as JSON")
    p.set_defaults(func=cmd_split)
    return p


def add_split_plot(plot_parser):
    """Adds the ``split`` options to ``decodesim plot`` (used by ``decodesim plot split``)."""
    add_split_options(plot_parser, required=False)
