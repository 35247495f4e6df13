"""The benchmark scripts still run (they are not part of the timed suite, so nothing else would notice a
script broken by a change of the standard format: dram_fuzz.py read a removed ``role`` key until this test).
Each runs on a small budget; what is asserted is its own verdict, not a speed."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_dram_fuzz_runs_every_preset_without_violations():
    p = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "dram_fuzz.py"), "--commands", "3e6"],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    from simulator.dram.standard import list_standards
    for name in list_standards():        # every preset was fuzzed
        assert f"\n  {name} refresh=" in p.stdout, name
    # the presets that follow the standards: no violation (the *-ramulator2 variants may have some: their
    # YAML lists where Ramulator 2 departs from the standard, e.g. LPDDR5's rank-to-rank turnarounds)
    line = next(x for x in p.stdout.splitlines() if x.startswith("violations on the default presets"))
    assert line.rstrip().endswith(": 0"), line


def test_dram_channels_benchmark_finds_the_replays_identical():
    p = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "dram_channels.py"), "--requests", "2e4",
                        "--runs", "1"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]      # it exits with an error when a replay differs
    rows = [x for x in p.stdout.splitlines() if x.startswith("| ") and " x8, " in x]
    assert len(rows) == 4, p.stdout
