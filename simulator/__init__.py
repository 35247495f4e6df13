"""decodesim: a cycle-accurate simulator for memory-bound LLM decode.

Data flow: workload -> trace -> lowering -> engine -> results -> report.
The command-level DRAM core lives in :mod:`simulator.dram`.
"""

__version__ = "0.1.0"
