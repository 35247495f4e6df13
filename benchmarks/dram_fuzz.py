"""Fuzz the DRAM core and judge every command with the physical checker.

Runs seeded random traffic (hot rows, scattered lines, streams, case f2's row ping-pong in one
bank, 0-60% writes, queue depths
4-64, 1-2 requests per cycle, several address mappings) on every preset, with 1-4 ranks
where the standard has a rank level, 1-8 channels, and both refresh scopes where the
standard has a per-bank refresh command (``refresh: {scope: bank, interval: nREFI // banks}``;
a configuration the core rejects or crashes on is reported as such, not skipped silently),
until at least ``--commands`` commands (default 10^7) have been issued. Every command log
goes through :func:`simulator.dram.physcheck.physical_check`; the script prints the
violations per preset and per rule, their total, and the checker's and the core's speed
(commands/s) and time.

    python benchmarks/dram_fuzz.py [--commands 1e7] [--seed 0] [--csv out.csv]
"""

import argparse
import copy
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from simulator.dram.physcheck import RULES, physical_check  # noqa: E402
from simulator.dram.run import ControllerConfig, run_trace  # noqa: E402
from simulator.dram.standard import list_standards, parse_standard, preset_dict  # noqa: E402

MAPPINGS = ["RoBaRaCoCh", "RoCoBaRaCh", "ChRaBaRoCo"]


def configs(rng):
    """Round-robin over (preset, ranks 2/4/1 in turn, 1-8 channels at random, refresh scope)."""
    for rnd in range(1 << 30):
        for name in list_standards():
            d = preset_dict(name)
            levels = d["organization"]["levels"]
            ranks = (2, 4, 1)[rnd % 3] if "rank" in levels else None
            scopes = ["default"]
            if any("refresh" in c["flags"] and "all_banks" not in c["flags"] for c in d["commands"].values()):
                scopes.append("bank")
            for scope in scopes:
                yield name, d, ranks, int(rng.choice([1, 2, 4, 8])), scope


def build(name, d, ranks, channels, scope):
    d = copy.deepcopy(d)
    if ranks:
        d["organization"]["levels"]["rank"] = ranks
    if scope == "bank":
        # one REFpb per bank of each refresh unit (rank / pseudo-channel, else channel) per tREFI
        lv = d["organization"]["levels"]
        unit = int(np.prod(list(lv.values())[2 if list(lv)[1] in ("rank", "pseudochannel") else 1:]))
        d["refresh"] = {"scope": "bank", "interval": f"nREFI // {unit}"}
    return parse_standard(d, f"{name}.yaml").with_channels(channels)


def traffic(std, n, rng):
    lines = std.channels * std.banks_per_channel * std.rows * std.column_bursts
    kind = rng.integers(0, 4)
    if kind == 0:       # hot rows + scattered lines
        hot = rng.integers(0, lines, 16)
        a = np.where(rng.random(n) < 0.6, (hot[rng.integers(0, 16, n)] + rng.integers(0, 16, n)) % lines,
                     rng.integers(0, lines, n))
    elif kind == 1:     # uniform random
        a = rng.integers(0, lines, n)
    elif kind == 2:     # a few interleaved streams
        starts = rng.integers(0, lines, 4)
        a = (starts[np.arange(n) % 4] + np.arange(n) // 4) % lines
    else:               # case f2: two rows of one bank in turns of 20-40 requests
        i = np.arange(n)
        row_lines = std.channels * std.banks_per_channel * std.column_bursts
        a = np.where((i // rng.integers(20, 41)) % 2 == 0, 1, 2) * row_lines + (i % std.column_bursts) * std.channels
    w = rng.random(n) < rng.choice([0.0, 0.2, 0.4, 0.6])
    return (a * std.tx_bytes).astype(np.uint64), w


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commands", type=float, default=1e7, help="stop after this many DRAM commands (default 1e7)")
    ap.add_argument("--requests", type=int, default=40_000, help="requests per configuration (default 40000)")
    ap.add_argument("--seed", type=int, default=0, help="RNG seed (default 0)")
    ap.add_argument("--csv", help="also write one row per configuration as CSV")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    total_cmd, core_s, check_s = 0, 0.0, 0.0
    per_rule = Counter()            # default presets (the standard)
    per_rule_ref = Counter()        # reference variants (compat: ramulator2), which depart on purpose
    ref_cmd = 0
    per_preset = defaultdict(Counter)
    rows, errors = [], []
    it = configs(rng)
    print(f"{'preset':12s} {'ranks':>5s} {'ch':>3s} {'refresh':>8s} {'mapping':>11s} {'commands':>9s} "
          f"{'violations':>10s}  kinds")
    while total_cmd < args.commands:
        name, d, ranks, channels, scope = next(it)
        std = build(name, d, ranks, channels, scope)
        mapping = MAPPINGS[int(rng.integers(0, len(MAPPINGS)))]
        q = int(rng.choice([4, 16, 32, 64]))
        ctrl = ControllerConfig(read_queue=q, write_queue=q, requests_per_cycle=int(rng.choice([1, 2])))
        a, w = traffic(std, args.requests, rng)
        tag = f"{name:12s} {ranks or '-':>5} {channels:3d} {scope:>8s} {mapping:>11s}"
        t = time.perf_counter()
        try:
            res = run_trace(std, a, w, mapping=mapping, controller=ctrl, log=True)
        except Exception as exc:        # the core's own failure is a finding, reported below
            errors.append(f"{tag.split()[0]} refresh={scope}: {type(exc).__name__}: {exc}")
            print(f"{tag} core failed: {type(exc).__name__}: {exc}", flush=True)
            continue
        core_s += time.perf_counter() - t
        t = time.perf_counter()
        rep = physical_check(std, res.log, max_records=0)
        check_s += time.perf_counter() - t
        total_cmd += rep.commands
        kinds = {k: v for k, v in rep.counts.items() if v}
        (per_rule_ref if std.compat else per_rule).update(kinds)
        ref_cmd += rep.commands if std.compat else 0
        per_preset[f"{name} refresh={scope}{' ranks>1' if ranks and ranks > 1 else ''}"].update(kinds)
        rows.append(dict(preset=name, ranks=ranks or 0, channels=channels, refresh=scope, mapping=mapping,
                         queue=q, commands=rep.commands, violations=rep.total,
                         **{k: rep.counts[k] for k in RULES}))
        print(f"{tag} {rep.commands:9d} {rep.total:10d}  {kinds or ''}", flush=True)
    print()
    print(f"commands checked: {total_cmd:,} in {len(rows)} configurations")
    print(f"physical checker: {check_s:.2f} s, {total_cmd / check_s:,.0f} commands/s")
    print(f"core (run_trace with log): {core_s:.2f} s, {total_cmd / core_s:,.0f} commands/s")
    print(f"violations on the default presets ({total_cmd - ref_cmd:,} commands): {sum(per_rule.values()):,}")
    for k, v in per_rule.most_common():
        print(f"  {k:26s} {v:10,d}")
    print(f"violations on the reference variants ({ref_cmd:,} commands; where Ramulator 2 departs from the "
          f"standard, listed in each variant's YAML): {sum(per_rule_ref.values()):,}")
    for k, v in per_rule_ref.most_common():
        print(f"  {k:26s} {v:10,d}")
    print("by preset:")
    for p, c in sorted(per_preset.items()):
        print(f"  {p:40s} {dict(c) if c else 0}")
    if errors:
        print("configurations the core could not run:")
        for e in sorted(set(errors)):
            print(f"  {e}")
    if args.csv:
        import pandas as pd
        pd.DataFrame(rows).to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
