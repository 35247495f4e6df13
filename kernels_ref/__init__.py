"""Golden reference kernels in plain numpy (fp32 or fp64), one function per op kind,
and a whole-model reference decode step. Written for clarity, not speed; the
simulator's functional core and the PyTorch models are checked against these."""

from .ops import (attn_context, attn_score, embedding, gelu_tanh, layernorm, linear, relu,  # noqa: F401
                  residual, rmsnorm, rope, silu_mul, softmax)
from .decode import ReferenceLM  # noqa: F401
