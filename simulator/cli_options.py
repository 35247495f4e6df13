"""The command line's shared parts: a parser whose errors are one line (exit 2), value types
that check ranges at parse time (so nothing runs before bad input is reported), and one table
of the options every subcommand shares, with one default and one help text each.

A subcommand takes shared options by name::

    add_options(parser, "model", "hw", "context", "weights", "json")

and a new subcommand (``split``, ``dram``, ...) registers itself with :func:`register` in
``simulator.cli``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DEFAULT_CONTEXT = 512


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (``decodesim run: error: argument --batch: ...``), exit 2, and no
    abbreviated options (``--mode`` must not silently mean ``--model``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# ---- value types: a bad value is an argparse error naming the option ---------------------------
def int_in(lo: int, hi: int | None = None):
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if v < lo or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(f"{v} out of range; allowed [{lo}, {hi if hi is not None else 'inf'}]")
        return v
    parse.__name__ = "integer"
    return parse


def int_list(lo: int = 0):
    one = int_in(lo)

    def parse(text):
        items = [t for t in text.split(",") if t.strip()]
        if not items:
            raise argparse.ArgumentTypeError("expected comma-separated integers, e.g. 16,128,512")
        return [one(t.strip()) for t in items]
    parse.__name__ = "list of integers"
    return parse


def out_file(text):
    """An output file whose folder exists and may be written (checked before anything runs)."""
    p = Path(text)
    if p.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file path")
    if not p.parent.is_dir():
        raise argparse.ArgumentTypeError(f"folder {str(p.parent)!r} does not exist")
    if not os.access(p if p.exists() else p.parent, os.W_OK):
        raise argparse.ArgumentTypeError(f"{text!r} is not writable (permission denied)")
    return text


def out_dir(text):
    """An output folder (created if missing) whose parent exists; not an existing file."""
    p = Path(text)
    if p.exists() and not p.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a file; give a folder (a results store)")
    if not p.parent.is_dir():
        raise argparse.ArgumentTypeError(f"folder {str(p.parent)!r} does not exist")
    return text


def key_value(text):
    """``KEY=VALUE``; VALUE is read as YAML (``3000`` is a number, ``[1, 2]`` a list)."""
    import yaml
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (a dotted config key), got {text!r}")
    try:
        return key.strip(), yaml.safe_load(value)
    except yaml.YAMLError:
        raise argparse.ArgumentTypeError(f"value of {key!r} is not a YAML scalar or list: {value!r}") from None


def _kv_formats():
    from .workload.workload import KV_FORMATS
    return list(KV_FORMATS)


# ---- the shared options: name -> (flags, argparse keywords) --------------------------------------
def common_options() -> dict:
    return {
        "model": (["--model"], dict(help="model: catalog name (see `decodesim configs list`) or a model YAML path")),
        "models": (["--model", "--workload"], dict(dest="model", action="append", metavar="MODEL",
                   help="model: catalog name or YAML path (repeatable; --workload is an old spelling)")),
        "hw": (["--hw"], dict(help="hardware: PIM preset or device name, or a YAML path (kind read from its keys)")),
        "hws": (["--hw"], dict(action="append", metavar="HW",
                help="hardware: PIM preset or device name, or a YAML path (repeatable; the first is the reference)")),
        "context": (["--context"], dict(type=int_in(0), default=DEFAULT_CONTEXT,
                    help=f"tokens already in the KV cache (default {DEFAULT_CONTEXT}; below the model's max positions)")),
        "batch": (["--batch"], dict(type=int_in(1, 65536), default=None,
                  help="sequences decoded together (default 1; PIM presets: 1 only)")),
        "weights": (["--weights"], dict(default=None, help="weight format: bf16, fp16, int8, int4, awq, q4_k_m, "
                    "exl2-4.65, ... (simulator/workload/formats.py; default bf16; PIM presets: bf16 only; "
                    "baselines of compare: fp16 GPU, fp32 CPU)")),
        "group-size": (["--group-size"], dict(type=int_in(0, 1 << 20), default=0,
                       help="weights per quantisation scale for int4/nf4/int8 (default 0 = the format's default)")),
        "kv": (["--kv"], dict(default="bf16", choices=_kv_formats(), help="KV cache format (default bf16)")),
        "kv-window": (["--kv-window"], dict(type=int_in(0), default=0,
                      help="keep only the last W tokens in the KV cache (default 0 = full cache)")),
        "mode": (["--mode"], dict(default=None, help="runtime mode of a device: eager, cuda_graphs, compiled "
                 "(PyTorch), llamacpp (the device back end's llama.cpp profile), tensorrt_llm, mlc, exllamav2, "
                 "tinychat, vllm (default eager; PIM presets take none)")),
        "set": (["--set"], dict(action="append", type=key_value, default=[], metavar="KEY=VALUE",
                help="override a hardware-config key by dotted path, e.g. memory.peak_gbps=3000 or "
                     "pim.channels=16 (repeatable; checked like the YAML)")),
        "allow-overcommit": (["--allow-overcommit"], dict(action="store_true",
                             help="simulate even when weights + KV cache + activations exceed the memory capacity")),
        "json": (["--json"], dict(action="store_true", help="print the results as JSON")),
    }


def add_options(p, *names, **overrides):
    """Add shared options by name; ``overrides`` maps a name to keywords that replace the table's."""
    table = common_options()
    for n in names:
        flags, kw = table[n]
        kw = {**kw, **overrides.get(n.replace("-", "_"), {})}
        p.add_argument(*flags, **kw)


def register(parser, func):
    """Set the subcommand's function and remember its option defaults (for :func:`reject_unused`)."""
    parser.set_defaults(func=func, _defaults={a.dest: a.default for a in parser._actions
                                              if a.option_strings and a.dest not in ("help", "version")})


def reject_unused(args, used, where: str):
    """ConfigError for an option given a value that this use of the command would ignore."""
    from .errors import ConfigError
    given = sorted(d for d, v in args._defaults.items() if getattr(args, d, v) != v and d not in used)
    if given:
        takes = ", ".join("--" + d.replace("_", "-") for d in sorted(used)) or "no options"
        raise ConfigError(where, "--" + given[0].replace("_", "-"), f"is not used here (it would be ignored); "
                          f"{where} takes {takes}")


def stdout_closed_quietly():
    """After a BrokenPipeError (``decodesim ... | head``): send further output nowhere."""
    import os
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
