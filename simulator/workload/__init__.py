"""Workloads: model catalog -> Workload (precision, KV policy) -> DecodeTrace.

- :mod:`.model`    model configurations (``workloads/models/*.yaml``), parameter counts
- :mod:`.workload` weight/KV precision and KV policy
- :mod:`.trace`    the DecodeTrace of one token (ops with shapes, bytes, flops)
- :mod:`.trace_io` the versioned JSON Lines trace format
- :mod:`.torch_model` / :mod:`.record`  the same model in PyTorch, and traces recorded from it
"""

from .model import ModelConfig, list_models, load_model  # noqa: F401
from .trace import DecodeTrace, Op, generate_trace  # noqa: F401
from .workload import Workload  # noqa: F401
