"""Lowering: trace ops -> device kernels with bytes, flops and timing inputs.

- :mod:`.membw`  achievable memory bandwidth from the DRAM core (memoised per signature)
- :mod:`.gpu`    kernels for GPU / edge / CPU devices under a runtime profile
"""
