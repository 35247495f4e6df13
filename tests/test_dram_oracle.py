"""The DRAM core against the reference simulator's results (../shared/oracle)."""

import numpy as np
import pandas as pd
import pytest

from simulator.dram.refdata import STD_NAMES, large_cases, large_trace, small_cases
from simulator.dram.run import run_trace
from simulator.dram.standard import load_standard
from simulator.dram.trace_io import read_trace


def _case_ids(cases):
    """``standard.trace`` ids of a reference case table; none when ../shared/oracle is absent."""
    from simulator.dram.refdata import oracle_dir
    if oracle_dir() is None:
        return []
    return [f"{r.standard}.{r.trace}" for r in cases().itertuples()]


@pytest.mark.parametrize("case", _case_ids(small_cases))
def test_small_trace_exact(oracle, case):
    std_name, kind = case.split(".")
    row = small_cases().set_index(["standard", "trace"]).loc[(std_name, kind)]
    std = load_standard(STD_NAMES[std_name])
    addrs, writes = read_trace(oracle / "small" / f"{case}.trace")
    res = run_trace(std, addrs, writes, log=True)
    # end cycle
    assert res.cycles == row.cycles_drain
    # every request: accepted and completed at the reference's cycle
    pr = pd.read_csv(oracle / "small" / f"{case}.perreq.csv.gz")
    assert np.array_equal(res.accept_cycle, pr.accept_cycle.to_numpy())
    assert np.array_equal(res.complete_cycle, pr.complete_cycle.to_numpy())
    # every command: same cycle, name and address
    ref = pd.read_csv(oracle / "small" / f"{case}.cmds.csv.gz")
    mine = res.command_log()
    assert len(mine) == len(ref)
    assert np.array_equal(mine.cycle.to_numpy(), ref.clock.to_numpy())
    assert list(mine.command) == list(ref.command)
    ref_levels = [c for c in ref.columns if c not in ("clock", "command", "type", "source")]
    mine_levels = list(std.level_names) + ["row", "column"]
    assert np.array_equal(mine[mine_levels].to_numpy(), ref[ref_levels].to_numpy())
    assert np.array_equal(mine["type"].to_numpy(), ref["type"].to_numpy())


@pytest.mark.parametrize("case", _case_ids(large_cases))
def test_large_trace_within_one_percent(oracle, case):
    std_name, kind = case.split(".")
    row = large_cases().set_index(["standard", "trace"]).loc[(std_name, kind)]
    path = large_trace(std_name, kind, int(row.requests), int(row.seed), row.trace_sha256)
    addrs, writes = read_trace(path)
    res = run_trace(load_standard(STD_NAMES[std_name]), addrs, writes)
    assert abs(res.cycles - row.cycles_drain) <= 0.01 * row.cycles_drain
    # row-buffer outcome counts and refreshes, also within 1%
    for mine, ref in ((res.row_hits, row.row_hits), (res.row_misses, row.row_misses),
                      (res.row_conflicts, row.row_conflicts), (res.refreshes, row.refreshes)):
        assert abs(mine - ref) <= max(1, 0.01 * ref)
    assert res.avg_read_latency_cycles == pytest.approx(row.avg_read_latency_cycles, rel=0.01)


def test_reference_logs_pass_the_checker(oracle):
    """The independent checker accepts the reference simulator's own command logs."""
    from simulator.dram.checker import check_log
    for r in small_cases().itertuples():
        std = load_standard(STD_NAMES[r.standard])
        ref = pd.read_csv(oracle / "small" / f"{r.standard}.{r.trace}.cmds.csv.gz")
        cols = ["clock", "command"] + [c for c in ref.columns if c not in ("clock", "command", "type", "source")]
        assert check_log(std, ref[cols].itertuples(index=False, name=None)) == [], (r.standard, r.trace)
