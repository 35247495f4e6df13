"""Processing in memory (PIM-GPT style): bank-level MAC units driven by all-bank DRAM
commands, an ASIC for non-linear ops, GEMV/attention lowering, and the functional core."""

from .config import PimConfig, list_pims, load_pim  # noqa: F401
