"""Every command of the README's walk-through runs (make demo is covered by test_demo_runs)."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _walkthrough():
    text = (ROOT / "README.md").read_text()
    section = text.split("## From clone to your own sweep", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip() and not line.startswith("make ")]


def test_readme_walkthrough_commands_run(tmp_path):
    cmds = _walkthrough()
    assert len(cmds) >= 5
    os.symlink(ROOT / "hw_configs", tmp_path / "hw_configs")
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    for cmd in cmds:
        cmd = cmd.replace(".venv/bin/decodesim", f"{sys.executable} -m simulator.cli")
        if " sweep " in cmd:
            cmd += " --quiet"
        r = subprocess.run(cmd, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, (cmd, r.stdout[-2000:], r.stderr[-2000:])
    assert (tmp_path / "out" / "pim.json").exists()
    assert (tmp_path / "out" / "my_pareto.png").stat().st_size > 10_000
