"""Command-level, cycle-accurate DRAM core.

- :mod:`.standard`  DRAM standards as data (organisation, timings, constraint table)
- :mod:`.mapping`   address mapping as a bit-slice order
- :mod:`.core`      the numba controller/device engine
- :mod:`.run`       Python entry point: trace in, results out
- :mod:`.checker`   independent plain-Python timing checker for command logs
- :mod:`.energy`    DRAMPower-style energy from command counts and IDD values
"""

from .standard import DramStandard, load_standard, list_standards  # noqa: F401
