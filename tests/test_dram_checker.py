"""The independent checker: clean on fuzzed traces, and it catches corrupted logs."""

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.dram.checker import check_log, check_result
from simulator.dram.run import ControllerConfig, run_trace
from simulator.dram.standard import list_standards, load_standard, parse_standard

PRESETS = list_standards()


def _capacity_lines(std):
    return std.channels * std.banks_per_channel * std.rows * std.column_bursts


@st.composite
def traces(draw, std):
    """Mixes of hot rows (hits), scattered lines (conflicts) and writes."""
    n = draw(st.integers(1, 160))
    lines = _capacity_lines(std)
    hot = draw(st.lists(st.integers(0, lines - 1), min_size=1, max_size=6))
    out_a, out_w = [], []
    for _ in range(n):
        if draw(st.booleans()):
            base = draw(st.sampled_from(hot))
            line = (base + draw(st.integers(0, 7))) % lines
        else:
            line = draw(st.integers(0, lines - 1))
        out_a.append(line * std.tx_bytes)
        out_w.append(draw(st.integers(0, 3)) == 0)
    return np.array(out_a, np.uint64), np.array(out_w, bool)


@pytest.mark.parametrize("name", PRESETS)
def test_fuzzed_traces_have_no_violations(name):
    std = load_standard(name)
    if std.channels > 2:
        std = std.with_channels(2)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(traces(std), st.sampled_from([1, 2]), st.sampled_from([4, 32]))
    def run(tr, rpc, q):
        res = run_trace(std, tr[0], tr[1], log=True,
                        controller=ControllerConfig(read_queue=q, write_queue=q, requests_per_cycle=rpc))
        assert check_result(res) == []
        assert (res.complete_cycle >= res.accept_cycle).all()

    run()


def _rows(res):
    df = res.command_log()
    cols = ["cycle", "command"] + list(res.standard.level_names) + ["row", "column"]
    return [tuple(r) for r in df[cols].itertuples(index=False, name=None)]


def _logs(std, seeds=3, n=1500):
    """Command logs of a few traffic mixes (random, streaming, writes, refresh)."""
    rng = np.random.default_rng(0)
    lines = _capacity_lines(std)
    out = []
    for s in range(seeds):
        a = rng.integers(0, lines, n) if s % 2 == 0 else (np.arange(n) * 3 + s * 1000) % lines
        w = rng.random(n) < (0.5 if s == 1 else 0.2)
        res = run_trace(std, (a * std.tx_bytes).astype(np.uint64), w, log=True)
        out.append(_rows(res))
    # long single-bank run to include refresh
    a = (np.arange(400) * std.column_bursts * std.banks_per_channel) % lines
    out.append(_rows(run_trace(std, (a * std.tx_bytes).astype(np.uint64), np.zeros(400, bool), log=True)))
    return out


def _matches(std, a, b, lvl, sibling):
    def m(upto):
        return all(a[l] == b[l] or a[l] == -1 or b[l] == -1 for l in range(upto + 1))
    if sibling:
        return m(lvl - 1) and a[lvl] != b[lvl] and a[lvl] != -1 and b[lvl] != -1
    return m(lvl)


def _violate(std, logs, ci):
    """Move some B closer to a matching A than constraint ``ci`` allows."""
    c = std.constraints[ci]
    if c["latency"] < 1:
        return None
    pn = {std.commands[p] for p in c["prec"]}
    fn = {std.commands[f] for f in c["follow"]}
    nl = std.n_levels
    for rows in logs:
        for j, rb in enumerate(rows):
            if rb[1] not in fn:
                continue
            seen = 0
            for i in range(j - 1, -1, -1):
                ra = rows[i]
                if ra[1] in pn and _matches(std, ra[2:2 + nl], rb[2:2 + nl], c["level"], c["sibling"]):
                    seen += 1
                    if seen == c["window"]:
                        new_t = ra[0] + c["latency"] - 1
                        if new_t <= ra[0] and c["window"] == 1:
                            break
                        bad = [r for k, r in enumerate(rows) if k != j]
                        bad.append((new_t,) + tuple(rb[1:]))
                        bad.sort(key=lambda r: r[0])
                        return bad
            # try the next B
    return None


def _two_rank(name):
    import yaml
    from simulator.dram.standard import CONFIG_DIR
    d = yaml.safe_load((CONFIG_DIR / f"{name}.yaml").read_text())
    d["organization"]["levels"]["rank"] = 2
    return parse_standard(d, f"{name} (2 ranks)")


@pytest.mark.parametrize("std_name", ["ddr4-3200", "lpddr5-6400", "gddr6-14000", "hbm2", "ddr4-3200x2"])
def test_checker_catches_each_constraint(std_name):
    std = _two_rank("ddr4-3200") if std_name == "ddr4-3200x2" else load_standard(std_name)
    if std.channels > 1:
        std = std.with_channels(1)
    logs = _logs(std)
    assert all(check_log(std, rows) == [] for rows in logs)
    caught, exercised = 0, 0
    for ci in range(len(std.constraints)):
        bad = _violate(std, logs, ci)
        if bad is None:
            continue
        exercised += 1
        rules = {v.rule for v in check_log(std, bad)}
        assert f"constraint[{ci}]" in rules, (ci, std.constraints[ci], rules)
        caught += 1
    # rows that cannot occur in these logs: per-bank refresh ones (all-bank refresh here)
    # and, with one rank, the rank-to-rank (sibling) rows
    refpb = {i for i, f in enumerate(std.flags) if set(f) == {"refresh"}}
    possible = [c for c in std.constraints
                if not (refpb & set(c["prec"] + c["follow"]))
                and not (c["sibling"] and std.level_sizes[c["level"]] == 1)]
    assert exercised >= 0.6 * len(possible)
    assert caught == exercised


def test_two_rank_sibling_rows_are_exercised():
    std = _two_rank("ddr4-3200")
    logs = _logs(std)
    sib = [ci for ci, c in enumerate(std.constraints) if c["sibling"] and c["latency"] >= 1]
    assert sib and all(_violate(std, logs, ci) is not None for ci in sib)


@pytest.fixture(scope="module")
def ddr4_log():
    std = load_standard("ddr4-3200")
    return std, _logs(std, seeds=1)[0]


def test_catches_activate_to_open_bank(ddr4_log):
    std, rows = ddr4_log
    k = next(i for i, r in enumerate(rows) if r[1] == "PREpb")
    rules = {v.rule for v in check_log(std, rows[:k] + rows[k + 1:])}
    assert "bank-state" in rules


def test_catches_column_access_to_wrong_row(ddr4_log):
    std, rows = ddr4_log
    k = next(i for i, r in enumerate(rows) if r[1] == "RD")
    bad = list(rows)
    r = list(bad[k])
    r[2 + std.n_levels] += 1
    bad[k] = tuple(r)
    assert "bank-state" in {v.rule for v in check_log(std, bad)}


def test_catches_refresh_with_open_bank(ddr4_log):
    std, rows = ddr4_log
    k = next(i for i, r in enumerate(rows) if r[1] == "RD")
    t = rows[k][0]
    bad = rows[:k + 1] + [(t + 1, "REFab", 0, 0, -1, -1, -1, -1)] + [(r[0] + 10_000,) + r[1:] for r in rows[k + 1:]]
    assert "bank-state" in {v.rule for v in check_log(std, bad)}


def test_catches_two_commands_in_one_cycle(ddr4_log):
    std, rows = ddr4_log
    bad = list(rows)
    bad[5] = (bad[4][0],) + tuple(bad[5][1:])
    assert "command-bus" in {v.rule for v in check_log(std, bad)}


def test_catches_unknown_command(ddr4_log):
    std, rows = ddr4_log
    bad = list(rows)
    bad[3] = (bad[3][0], "FOO") + tuple(bad[3][2:])
    assert "unknown-command" in {v.rule for v in check_log(std, bad)}


def test_catches_late_act2_and_missing_cas():
    std = load_standard("lpddr5-6400")
    rows = _logs(std, seeds=1)[0]
    k = next(i for i, r in enumerate(rows) if r[1] == "ACT2")
    late = copy.copy(rows)
    shift = std.controller["split_activate"]["deadline_cycles"] + 5
    late = rows[:k] + [(r[0] + shift,) + r[1:] for r in rows[k:]]
    assert "act2-deadline" in {v.rule for v in check_log(std, late)}
    k = next(i for i, r in enumerate(rows) if r[1] == "CAS_RD")
    assert "wck-sync" in {v.rule for v in check_log(std, rows[:k] + rows[k + 1:])}
    k = next(i for i, r in enumerate(rows) if r[1] == "ACT2")
    assert "bank-state" in {v.rule for v in check_log(std, rows[:k] + rows[k + 1:])}
