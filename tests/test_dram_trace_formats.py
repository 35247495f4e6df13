"""DRAMsim3's timed trace format (``0x<addr> READ|WRITE <cycle>``): open-loop replay,
``--format`` and autodetection. Expected cycles derived by hand from DDR4-3200's timings
(nRCD 22, nCL 22, nBL 4, nCCDL 8; read latency nCL + nBL = 26); addresses 0x0, 0x40, 0x80
are columns 0, 1, 2 of row 0, bank 0 (mapping RoBaRaCoCh)."""

import json

import pytest

from simulator.cli import main
from simulator.dram.trace_io import load_trace
from simulator.errors import ConfigError


def _run(tmp_path, capsys, text, *extra):
    p = tmp_path / "t.trace"
    p.write_text(text)
    assert main(["dram", str(p), "--standard", "ddr4-3200", "--json", "--commands", str(tmp_path / "c.csv"),
                 *extra]) == 0
    import pandas as pd
    return json.loads(capsys.readouterr().out), pd.read_csv(tmp_path / "c.csv")


def test_timed_requests_enter_at_their_cycle(tmp_path, capsys):
    """A arrives at 100: ACT at 101, RD at 101 + nRCD = 123, done 123 + 26 = 149.
    B (same row) arrives at 102: RD at 123 + nCCDL = 131, done 157.
    C (same row, still open) arrives at 1000: RD at 1001, done 1027 = the end.
    Read latency from arrival: (49 + 55 + 27) / 3."""
    o, log = _run(tmp_path, capsys, "0x0 READ 100\n0x40 READ 102\n0x80 READ 1000\n")
    assert o["trace_format"] == "dramsim3" and o["replay"] == "open-loop timed"
    assert list(zip(log.command, log.cycle)) == [("ACT", 101), ("RD", 123), ("RD", 131), ("RD", 1001)]
    assert o["cycles"] == 1027
    assert o["avg_read_latency_cycles"] == pytest.approx((49 + 55 + 27) / 3)


def test_timed_request_waits_for_room(tmp_path, capsys):
    """Queue depth 1, three reads all due at cycle 0. A enters at 0 and moves to the active
    buffer at its ACT (cycle 1), so B enters at 1; B stays queued until its RD at
    23 + nCCDL = 31 (A's RD at 1 + nRCD = 23), so C enters at 31 and reads at 31 + 8 = 39.
    Done: 49, 57, 65; latency from the trace cycle 0: (49 + 57 + 65) / 3."""
    o, log = _run(tmp_path, capsys, "0x0 READ 0\n0x40 READ 0\n0x80 READ 0\n", "--queue", "1")
    assert list(log[log.command == "RD"].cycle) == [23, 31, 39]
    assert o["cycles"] == 65
    assert o["avg_read_latency_cycles"] == pytest.approx((49 + 57 + 65) / 3)


def test_untimed_format_is_closed_loop(tmp_path, capsys):
    o, log = _run(tmp_path, capsys, "LD 0x0\nLD 0x40\n")
    assert o["trace_format"] == "ramulator" and o["replay"] == "closed-loop"
    assert list(log.cycle) == [1, 23, 31]


@pytest.mark.parametrize("text,fmt,fragment", [
    ("0x0 READ 5\n0x40 READ 3\n", "auto", "line 2"),               # cycles must not decrease
    ("0x0 READ 5\nLD 0x40\n", "auto", "line 2"),                    # formats mixed
    ("0x0 READ 5\n", "ramulator", "line 1"),                        # forced format does not match
    ("LD 0x0\n", "dramsim3", "line 1"),
    ("0x0 FETCH 5\n", "auto", "READ|WRITE"),
])
def test_format_errors_name_the_line(tmp_path, text, fmt, fragment):
    p = tmp_path / "t.trace"
    p.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_trace(p, fmt)
    assert str(p) in str(e.value) and fragment in str(e.value)


def test_cli_format_option_and_exit_code(tmp_path, capsys):
    p = tmp_path / "t.trace"
    p.write_text("0x0 WRITE 7\n")
    assert main(["dram", str(p), "--standard", "ddr4-3200", "--format", "ramulator"]) == 2
    assert "format ramulator" in capsys.readouterr().err
    assert main(["dram", str(p), "--standard", "ddr4-3200", "--format", "dramsim3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["writes"] == 1
