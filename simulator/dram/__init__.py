"""Command-level, cycle-accurate DRAM core.

- :mod:`.standard`  DRAM standards as data (organisation, timings, command flags, constraint table)
- :mod:`.policies`  scheduling, row and refresh policies as named switch sets (registries)
- :mod:`.state`     named layout of the core's arrays (flags, selectors, state columns)
- :mod:`.mapping`   address mapping as a bit-slice order
- :mod:`.core`      the numba controller/device engine
- :mod:`.run`       Python entry point: trace in, results out
- :mod:`.checker`   independent plain-Python timing checker for command logs
- :mod:`.energy`    DRAMPower-style energy from command counts and IDD values
"""

from .policies import (RefreshManager, RowPolicy, Scheduler, register_row_policy,  # noqa: F401
                       register_scheduler)
from .standard import DramStandard, load_standard, list_standards  # noqa: F401
