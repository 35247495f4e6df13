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


def test_readme_scripts_use_the_venv():
    text = (ROOT / "README.md").read_text()
    bare = [ln for ln in re.findall(r"`([^`\n]+)`", text) + text.splitlines()
            if re.match(r"\s*python3? ", ln)]
    assert not bare, bare


def test_readme_trace_diff_compares_like_with_like():
    """The README's `trace diff A B` compares traces of the same model and context."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Decode traces of a model\n\n```sh\n(.*?)```", text, re.S).group(1)
    lines = [ln.split("#")[0] for ln in block.splitlines()]
    a, b = re.search(r"trace diff (\S+) (\S+)", block).groups()

    def made(out):
        cmd = next(ln for ln in lines if f"--out {out}" in ln)
        return re.search(r"--model (\S+)", cmd).group(1), re.search(r"--context (\S+)", cmd).group(1)
    assert made(a) == made(b)
