"""Mutation test of the physical checker: remove each constraint row of every preset in turn,
run the core on a fuzzed trace (and, for the PIM standard, a GEMV's all-bank command stream),
and wherever the command log changes, the physical checker
(which never reads the table) must report a violation the unmutated log does not have.

Rows whose removal does not change the log (redundant on this trace: RDA/WRA rows under an
open-page policy, rows implied by a stricter one) are listed in the output (-s), not failed.
Every preset's unmutated logs are physically clean, so "caught" means any violation at all;
the one exception is a reference variant (``compat: ramulator2``) on a rule where the
reference departs from the standard (:data:`REFERENCE_DEPARTURES`, listed in each variant's
YAML): there the baseline's own violations must be of those rules only, and a mutation is
caught by a violation record (cycle, command, rule, detail) the baseline does not have.
Presets with variants (``extends``) are mutated on their resolved rows."""

import copy

import numpy as np
import pytest

from simulator.dram.physcheck import physical_check
from simulator.dram.run import ControllerConfig, run_trace
from simulator.dram.standard import list_standards, parse_standard, preset_dict
from dram_traffic import mixed_traffic

# presets, plus two ranks where the standard has a rank level (the sibling rows)
RANK_PRESETS = [n for n in list_standards() if "rank" in preset_dict(n)["organization"]["levels"]]
VARIANTS = [(n, None) for n in list_standards()] + [(n, 2) for n in RANK_PRESETS]
# where a reference variant departs from the standard on purpose (its YAML header lists why):
# the baseline may break these rules, and only these
REFERENCE_DEPARTURES = {
    "gddr6-14000-ramulator2": {"refresh-after-precharge"},     # REFab after PREpb: no tRP in Ramulator 2
    "lpddr5-6400-ramulator2": {"refresh-after-precharge"},     # REFab after PREab: nRP, not tRPab
    ("ddr4-3200-ramulator2", 2): {"data-bus", "rank-switch"},  # Ramulator 2's rank-to-rank rows
    ("lpddr5-6400-ramulator2", 2): {"data-bus", "rank-switch", "refresh-after-precharge"},
}


def _yaml(name, ranks):
    d = preset_dict(name)
    if ranks:
        d["organization"]["levels"]["rank"] = ranks
    return d


def _std(d, name):
    std = parse_standard(d, name)
    return std.with_channels(1) if std.channels > 1 else std


def _trace(std, n=3000, seed=0):
    """Hot rows (hits), scattered lines (misses/conflicts) and 30% writes, long enough for refresh."""
    return mixed_traffic(std, n, seed, hot_frac=0.6)


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
    if any("pim" in f for f in std.flags):
        import dataclasses
        from simulator.pim.config import load_pim
        from simulator.pim.lowering import gemv_stream, run_stream
        p = dataclasses.replace(load_pim("pim-gpt-gddr6"), std=std)
        logs.append(run_stream(p, *gemv_stream(p, 256, 2048))[0])
    return logs


def _records(rep):
    return {(v.cycle, v.command, v.rule, v.detail) for v in rep.violations}


@pytest.mark.parametrize("name,ranks", VARIANTS, ids=[f"{n}{'x%d' % r if r else ''}" for n, r in VARIANTS])
def test_every_row_whose_removal_changes_the_log_is_caught(name, ranks):
    d = _yaml(name, ranks)
    std = _std(d, name)
    base_logs = _logs(std)
    base = [physical_check(std, lg, max_records=100_000) for lg in base_logs]
    allowed = REFERENCE_DEPARTURES.get((name, ranks) if ranks else name, set())
    base_rules = {k for b in base for k, v in b.counts.items() if v}
    assert base_rules <= allowed, (name, ranks, [b.summary() for b in base])
    unchanged, missed = [], []
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
            rep = physical_check(std, logs[k], max_records=0 if base[k].total == 0 else 100_000)
            caught |= rep.total > 0 if base[k].total == 0 else bool(_records(rep) - _records(base[k]))
        if not caught:
            missed.append(i)
    print(f"\n{name}{' x%d ranks' % ranks if ranks else ''}: {len(d['constraints'])} rows, "
          f"{len(d['constraints']) - len(unchanged)} change the log and are caught "
          f"(baseline violations per log {[b.total for b in base]}); removal changes nothing for rows {unchanged}")
    assert not missed, [d["constraints"][i] for i in missed]


HBM_PRESETS = [n for n in list_standards() if preset_dict(n).get("command_cycles")]


@pytest.mark.parametrize("name", HBM_PRESETS)
def test_hbm_two_cycle_act_is_caught(name):
    """HBM's ACT holds the row bus two clocks and takes effect on the second (``command_cycles:
    {ACT: 2}``, data in the YAML since the table row went away): a core run with one-clock
    commands issues ACT -> RD at nRCD (one clock early) and row commands right behind an ACT;
    the physical checker, judging with the preset's own bus data, must see it."""
    d = _yaml(name, None)
    assert d["command_cycles"].get("ACT") == 2
    std = _std(d, name)
    a, w = _trace(std)
    assert physical_check(std, run_trace(std, a, w, log=True, controller=CTRL).log).total == 0
    d2 = copy.deepcopy(d)
    d2["command_cycles"] = {}
    log = run_trace(_std(d2, f"{name} with one-cycle ACT"), a, w, log=True, controller=CTRL).log
    rep = physical_check(std, log)
    assert rep.counts["tRCD"] > 0 or rep.counts["command-bus"] > 0, rep.summary()
