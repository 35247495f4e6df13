"""Reading YAML safely and checking keys, ranges and timing expressions."""

from __future__ import annotations

import ast
import operator
import re
from pathlib import Path

import yaml

from .errors import ConfigError


def load_yaml(path) -> dict:
    """Read a YAML mapping with ``yaml.safe_load``; errors name the file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(path, None, f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(path, None, "top level must be a mapping")
    return data


def is_path(name_or_path) -> bool:
    """A YAML file path (rather than a preset name such as ``opt-1.3b``)."""
    s = str(name_or_path)
    return s.endswith((".yaml", ".yml")) or "/" in s or "\\" in s


def find_config(name_or_path, folder: Path, flag: str, what: str, normalise=str.lower) -> Path:
    """The YAML file for a preset name (looked up in ``folder``) or a path; an unknown name
    is an error listing the presets."""
    if is_path(name_or_path):
        return Path(str(name_or_path))
    p = Path(folder) / f"{normalise(str(name_or_path))}.yaml"
    if not p.exists():
        names = sorted(q.stem for q in Path(folder).glob("*.yaml"))
        raise ConfigError(flag, str(name_or_path), f"unknown {what}; available: {', '.join(names)}")
    return p


def check_keys(source, prefix: str, data: dict, required: set, optional: set = frozenset()):
    """Reject unknown keys and report missing ones, naming the dotted key."""
    if not isinstance(data, dict):
        raise ConfigError(source, prefix, "must be a mapping")
    allowed = set(required) | set(optional)
    for key in data:
        if key not in allowed:
            raise ConfigError(source, _join(prefix, key),
                              f"unknown key; allowed keys: {', '.join(sorted(allowed))}")
    for key in required:
        if key not in data:
            raise ConfigError(source, _join(prefix, key), "missing required key")


def check_int(source, key: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(source, key, f"must be an integer in [{lo}, {hi}], got {value!r}")
    if not lo <= value <= hi:
        raise ConfigError(source, key, f"{value} is out of range; allowed [{lo}, {hi}]")
    return value


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def check_float(source, key: str, value, lo: float, hi: float) -> float:
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        value = float(value)            # YAML 1.1 reads 1e9 (no dot) as a string; it is a number
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(source, key, f"must be a number in [{lo}, {hi}], got {value!r}")
    if not lo <= float(value) <= hi:
        raise ConfigError(source, key, f"{value} is out of range; allowed [{lo}, {hi}]")
    return float(value)


def check_choice(source, key: str, value, choices) -> str:
    if value not in choices:
        raise ConfigError(source, key, f"{value!r} is not one of: {', '.join(map(str, choices))}")
    return value


def _join(prefix, key):
    return f"{prefix}.{key}" if prefix else str(key)


_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.FloorDiv: operator.floordiv}


def eval_expr(source, key: str, expr, names: dict) -> int:
    """Evaluate an integer timing expression such as ``"nCWL + nBL + nWR"``.

    Only integer literals, names from ``names``, ``+ - * //``, unary minus and
    ``max(...)``/``min(...)`` are allowed (no ``eval``)."""
    if isinstance(expr, bool):
        raise ConfigError(source, key, f"expected an integer or expression, got {expr!r}")
    if isinstance(expr, int):
        return expr
    if not isinstance(expr, str):
        raise ConfigError(source, key, f"expected an integer or expression, got {expr!r}")
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        raise ConfigError(source, key, f"cannot parse expression {expr!r}") from None

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise ConfigError(source, key, f"unknown timing name {node.id!r} in {expr!r}; "
                                  f"known: {', '.join(sorted(names))}")
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in ("max", "min") and node.args and not node.keywords):
            fn = max if node.func.id == "max" else min
            return fn(ev(a) for a in node.args)
        raise ConfigError(source, key, f"unsupported syntax in expression {expr!r}")

    return int(ev(tree))


# ---- DRAM timing tables: consistency beyond each value's range ---------------------------------
# JEDEC timing names (JESD79-4/-5, JESD209-5, JESD235/238, JESD250; n = in command-clock cycles)
# and the PIM extensions (nMAC, nMACLAT). A name outside this table must be referenced by an
# expression of the table itself (a constraint, read_latency, refresh or controller): an
# unknown, unused name is almost always a typo of a real one.
TIMING_NAMES = ("nAAD", "nBL", "nBL_max", "nBL_min", "nCAS", "nCCDL", "nCCDL_WR", "nCCDS", "nCCDS_WR", "nCL",
                "nCS", "nCWL", "nFAW", "nMAC", "nMACLAT", "nPBR2ACT", "nPBR2PBR", "nPPD", "nRAS", "nRC", "nRCD",
                "nRCDRD", "nRCDWR", "nREFI", "nREFIpb", "nRFC", "nRFCab", "nRFCpb", "nRP", "nRPab", "nRRDL",
                "nRRDS", "nRREFD", "nRTP", "nRTPL", "nRTPS", "nWCKPST", "nWR", "nWTRL", "nWTRS", "nXP", "nXS",
                "nCKE", "nCCD", "nRRD", "nWTR", "nRTW", "nCPDED", "nMOD", "nMRD", "nDQSCK", "nWPRE", "nRPRE")
# a zero here makes a row cycle, a precharge or an access free (JEDEC JESD79-4, JESD250: all > 0)
TIMING_AT_LEAST_ONE = ("nRP", "nRAS", "nRC", "nRCD", "nRCDRD", "nRCDWR", "nCL", "nBL", "nRFC", "nRFCab")
# JEDEC: tRC = tRAS + tRP at least (a row cycle is the activate's restore then the precharge);
# in cycles each term is rounded up on its own, so the sum may exceed nRC by one cycle
TIMING_SUMS = (("nRC", ("nRAS", "nRP")),)
ROUNDING_CYCLES = 1


def check_timing_table(source, d: dict, values: dict):
    """Reject a DRAM table whose timing is inconsistent: an unknown name nothing uses (usually a
    typo), a zero where the standard needs a cycle, tRC below tRAS + tRP."""
    import re
    exprs = [d.get("read_latency"), (d.get("refresh") or {}).get("interval")]
    exprs += [c.get("latency") for c in d.get("constraints") or [] if isinstance(c, dict)]
    for feature in (d.get("controller") or {}).values():
        exprs += list(feature.values()) if isinstance(feature, dict) else []
    used = set(re.findall(r"\bn[A-Za-z0-9_]+\b", " ".join(str(e) for e in exprs if e is not None)))
    for name in values:
        if name not in used and name not in TIMING_NAMES:
            raise ConfigError(source, f"timing.{name}", "unknown timing name, used by no constraint, read_latency, "
                              f"refresh or controller expression (a typo?); known: {', '.join(TIMING_NAMES)}")
    for name in TIMING_AT_LEAST_ONE:
        if name in values and values[name] < 1:
            raise ConfigError(source, f"timing.{name}", f"{values[name]} is out of range; allowed [1, 10000000] cycles")
    for total, parts in TIMING_SUMS:
        need = sum(values[p] for p in parts) if all(p in values for p in parts) else 0
        if total in values and values[total] < need - ROUNDING_CYCLES:
            raise ConfigError(source, f"timing.{total}", f"{values[total]} < {' + '.join(parts)} = {need}; JEDEC "
                              f"requires {total} >= {' + '.join(parts)} (less {ROUNDING_CYCLES} cycle of rounding)")
