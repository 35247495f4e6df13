"""Mutation test of the physical checker: remove each constraint row of every preset in turn,
run the core on a fuzzed trace (and, for the PIM standard, a GEMV's all-bank command stream),
and wherever the command log changes, the physical checker
(which never reads the table) must report a violation the unmutated log does not have.

Rows whose removal does not change the log (redundant on this trace: RDA/WRA rows under an
open-page policy, rows implied by a stricter one) are listed in the output (-s), not failed.
For a log whose baseline is physically clean "a violation the baseline does not have" means
any violation at all; where today's core already breaks a rule on the baseline (2 ranks,
lpddr5's tRPab, f2's refresh after PREpb on gddr6) it is a violation record (cycle, command,
rule, detail) absent from the baseline's: weaker, and strict again once the core is fixed."""

import copy

import numpy as np
import pytest
import yaml

from simulator.dram.physcheck import physical_check
from simulator.dram.run import ControllerConfig, run_trace
from simulator.dram.standard import CONFIG_DIR, list_standards, parse_standard

# presets, plus two ranks where the standard has a rank level (the sibling rows)
VARIANTS = [(n, None) for n in list_standards()] + [("ddr4-3200", 2), ("ddr5-4800", 2), ("lpddr5-6400", 2)]


def _yaml(name, ranks):
    d = yaml.safe_load((CONFIG_DIR / f"{name}.yaml").read_text())
    if ranks:
        d["organization"]["levels"]["rank"] = ranks
    return d


def _std(d, name):
    std = parse_standard(d, name)
    return std.with_channels(1) if std.channels > 1 else std


def _trace(std, n=3000, seed=0):
    """Hot rows (hits), scattered lines (misses/conflicts) and 30% writes, long enough for refresh."""
    rng = np.random.default_rng(seed)
    lines = std.channels * std.banks_per_channel * std.rows * std.column_bursts
    hot = rng.integers(0, lines, 8)
    a = np.where(rng.random(n) < 0.6, (hot[rng.integers(0, 8, n)] + rng.integers(0, 8, n)) % lines,
                 rng.integers(0, lines, n))
    return (a * std.tx_bytes).astype(np.uint64), rng.random(n) < 0.3


CTRL = ControllerConfig(read_queue=8, write_queue=8)


def _row_switch_trace(std, period):
    """Case f2's pattern: 640 reads to one bank, switching between two rows every ``period``
    requests, one request in flight; refreshes then fall right after a per-bank precharge."""
    i = np.arange(640)
    line = np.where((i // period) % 2 == 0, 1, 2) * std.channels * std.banks_per_channel * std.column_bursts \
        + (i % std.column_bursts) * std.channels
    return (line * std.tx_bytes).astype(np.uint64), np.zeros(640, bool)


def _logs(std):
    """Command logs of the fuzzed trace, of case f2's pattern at a few periods and, for a PIM
    standard, of a GEMV's all-bank stream."""
    logs = [run_trace(std, *_trace(std), log=True, controller=CTRL).log]
    one = ControllerConfig(read_queue=1, write_queue=1)
    logs += [run_trace(std, *_row_switch_trace(std, p), log=True, controller=one).log for p in (20, 25, 29, 30)]
    if "pim_mac_all" in std.roles:
        import dataclasses
        from simulator.pim.config import load_pim
        from simulator.pim.lowering import gemv_stream, run_stream
        p = dataclasses.replace(load_pim("pim-gpt-gddr6"), std=std)
        logs.append(run_stream(p, *gemv_stream(p, 256, 2048))[0])
    return logs


def _records(rep):
    return {(v.cycle, v.command, v.rule, v.detail) for v in rep.violations}


def _needs_fixed_yaml(row):
    """HBM's two-cycle ACT: today a table row (ACT -> row commands 2 cycles at channel level);
    the physical checker sees it only once the YAML says ``command_cycles: {ACT: 2}`` (issue #10
    item 3, the other branch)."""
    return row["level"] == "channel" and row["from"] == "ACT" and row["latency"] == 2


@pytest.mark.parametrize("name,ranks", VARIANTS, ids=[f"{n}{'x%d' % r if r else ''}" for n, r in VARIANTS])
def test_every_row_whose_removal_changes_the_log_is_caught(name, ranks):
    d = _yaml(name, ranks)
    std = _std(d, name)
    base_logs = _logs(std)
    base = [physical_check(std, lg, max_records=1_000_000) for lg in base_logs]
    unchanged, missed, waiting = [], [], []
    for i, row in enumerate(d["constraints"]):
        d2 = copy.deepcopy(d)
        del d2["constraints"][i]
        logs = _logs(_std(d2, f"{name} without constraints[{i}]"))
        changed = [k for k, (lg, bl) in enumerate(zip(logs, base_logs))
                   if lg.shape != bl.shape or (lg != bl).any()]
        if not changed:
            unchanged.append(i)
            continue
        caught = False
        for k in changed:
            rep = physical_check(std, logs[k], max_records=1_000_000)
            caught |= rep.total > 0 if base[k].total == 0 else bool(_records(rep) - _records(base[k]))
        if not caught:
            (waiting if "command_cycles" not in d and _needs_fixed_yaml(row) else missed).append(i)
    print(f"\n{name}{' x%d ranks' % ranks if ranks else ''}: {len(d['constraints'])} rows, "
          f"baseline violations per log {[b.total for b in base]}; removal changes nothing for rows {unchanged}; "
          f"caught only with the fixed YAML: {waiting}")
    assert not missed, [d["constraints"][i] for i in missed]


@pytest.mark.xfail(strict=True, reason="HBM's ACT holds the row command bus for two cycles: needs "
                                       "command_cycles: {ACT: 2} in hbm2.yaml (issue #10 item 3, other branch)")
@pytest.mark.parametrize("name", ["hbm2", "hbm2e", "hbm3"])
def test_hbm_two_cycle_act_row_is_caught(name):
    d = _yaml(name, None)
    std = _std(d, name)
    tr = _trace(std)
    rows = [i for i, r in enumerate(d["constraints"]) if _needs_fixed_yaml(r)]
    assert rows, "the two-cycle ACT is no longer a table row: drop this test"
    d2 = copy.deepcopy(d)
    for i in reversed(rows):
        del d2["constraints"][i]
    log = run_trace(_std(d2, name), *tr, log=True, controller=CTRL).log
    assert physical_check(std, log).total > 0
