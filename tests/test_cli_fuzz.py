"""Fuzz: every subcommand, every option with a checked value, malformed values (hypothesis).
Each must end in exit code 2 with a one-line message on stderr and no traceback, before any
simulation runs."""

import argparse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.cli import build_parser, main

NAME_OPTIONS = {"--model", "--workload", "--hw", "--standard", "--device-config", "--mapping", "--weights", "--mode",
                "--edge", "--server", "--link", "--edge-mode", "--server-mode"}
MALFORMED = ["abc", "-5", "0", "", "1.5", "1e99", "nan", "1,x", "16,,abc", "9999999999999999999999", "x=y",
             "--", "\u221e", " ", "0x10"]


def _base(tmp_path):
    trace = tmp_path / "t.trace"
    trace.write_text("0x0 R\n0x40 W\n")
    spec = tmp_path / "s.yaml"
    spec.write_text("name: s\nbase: {hw: t4, workload: {model: gpt2-small, context: 16}}\n"
                    "axes: {workload.context: [16]}\n")
    out = str(tmp_path / "o")
    return {
        ("run",): ["run", "--model", "gpt2-small", "--hw", "t4", "--context", "16"],
        ("compare",): ["compare", "--model", "gpt2-small", "--hw", "t4", "--context", "16"],
        ("plot",): ["plot", "context", "--out", out, "--model", "gpt2-small", "--hw", "t4", "--contexts", "16"],
        ("trace", "generate"): ["trace", "generate", "--model", "gpt2-small", "--context", "4", "--out", out],
        ("trace", "show"): ["trace", "show", "--model", "gpt2-small", "--context", "4"],
        ("trace", "record"): ["trace", "record", "--model", "gpt2-small", "--context", "4", "--device", "cpu",
                              "--out", out],
        ("trace", "diff"): ["trace", "diff", str(trace), str(trace)],
        ("measure",): ["measure", "--contexts", "4", "--out", out],
        ("sweep",): ["sweep", str(spec), "--out", out],
        ("dram",): ["dram", str(trace), "--standard", "ddr4-3200"],
        ("validate",): ["validate"],
        ("configs",): ["configs", "list"],
        ("split",): ["split", "--model", "gpt2-small", "--edge", "jetson-orin-nano", "--server", "h100-sxm5",
                     "--layers", "0", "--edge-weights", "int8", "--server-weights", "bf16", "--act-bits", "16",
                     "--generate", "2", "--prompt", "2", "--samples", "1"],
    }


def _options():
    out = []

    def walk(p, path):
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for name, sp in a.choices.items():
                    walk(sp, path + (name,))
            elif a.option_strings and a.nargs != 0 and a.dest not in ("help", "version"):
                if a.type is not None or a.choices or a.option_strings[0] in NAME_OPTIONS:
                    out.append((path, a.option_strings[0]))
    walk(build_parser(), ())
    return out


OPTIONS = _options()


def _valid(action, value) -> bool:
    try:
        v = action.type(value) if action.type else value
    except (argparse.ArgumentTypeError, ValueError, TypeError):
        return False
    return not action.choices or v in action.choices


def _action(path, flag):
    p = build_parser()
    for name in path:
        sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
        p = sub.choices[name]
    return next(a for a in p._actions if flag in a.option_strings)


def test_every_subcommand_is_fuzzed():
    assert {p for p, _ in OPTIONS} >= {("run",), ("compare",), ("plot",), ("trace", "generate"), ("trace", "show"),
                                       ("trace", "record"), ("measure",), ("sweep",), ("dram",)}


@pytest.mark.parametrize("path,flag", OPTIONS, ids=[" ".join(p) + " " + f for p, f in OPTIONS])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_malformed_option_values_exit_2_with_one_line(tmp_path, capsys, path, flag, data):
    action = _action(path, flag)
    if flag in NAME_OPTIONS:
        value = "zz-" + data.draw(st.text(alphabet="abcxyz-_.", min_size=1, max_size=8))
    elif action.type is not None and getattr(action.type, "__name__", "") == "out_file":
        value = str(tmp_path / "no-such-folder" / data.draw(st.text(alphabet="abc", min_size=1, max_size=4)))
    else:
        value = data.draw(st.sampled_from(MALFORMED) | st.text(max_size=6))
        if _valid(action, value):
            return
    base = _base(tmp_path).get(path)
    if base is None:
        pytest.skip(f"no base command for {path}")
    if flag in base:                              # replace the base command's value
        i = base.index(flag)
        argv = base[:i + 1] + [value] + base[i + 2:]
    else:
        argv = base + [flag, value]
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, (argv, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, (argv, err)
