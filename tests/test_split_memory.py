"""The split memory model against a real PyTorch build of the same front end (and back end).

The PyTorch side: the project's op-level model (simulator/workload/torch_model.py) with seeded
random weights, run token by token on CPU so its KV cache tensors hold exactly n tokens; for
int8 the front end's linear weights are quantized in the test (int8 tensor + one fp16 scale per
output row; int4: codes packed two per byte + fp16 scale and zero per 128; biases / norms /
embedding cast to 16 bit). Bytes are counted from the tensors
(numel x element_size, shared storage once), never from the model under test.
"""

import pytest
import torch

from simulator.split.memory import activation_bytes, kv_bytes, params_bytes, side_memory, workspace_bytes
from simulator.workload import load_model
from simulator.workload.torch_model import DecoderLM, Linear
from simulator.workload.weights import init_weights

GPT2 = load_model("gpt2-small").scaled(name="gpt2-tiny", layers=3, hidden=64, heads=4, kv_heads=4,
                                       intermediate=256, vocab=211, max_positions=40)
LLAMA_GQA = load_model("llama-3-8b").scaled(name="llama-gqa-tiny", layers=3, hidden=64, heads=8, kv_heads=2,
                                            intermediate=176, vocab=223, max_positions=64)
TOKENS = (1, 6, 17)
# (weight format of the model under test, torch dtype of the run, KV format of the model under test)
PRECISIONS = {"bf16": ("bf16", torch.bfloat16, "bf16"), "int8+fp32kv": ("int8", torch.float32, "fp32")}


def _run(m, dtype, n):
    torch.manual_seed(0)
    lm = DecoderLM(m, init_weights(m, seed=1), max_len=n, dtype=dtype)
    ids = torch.randint(0, m.vocab, (1,))
    for pos in range(n):
        lm(ids, pos)
    assert all(blk.attn.kv_append.n == n for blk in lm.layers)
    return lm


def _tensor_bytes(modules, quantize_int8: bool) -> int:
    """Parameter bytes of ``modules``; with ``quantize_int8`` every Linear weight (not the LM
    head) becomes int8 + fp16 per-row scales and every other tensor 16-bit."""
    return _quantized_bytes(modules, _int8 if quantize_int8 else None)


def _int8(w):
    scale = (w.abs().amax(dim=1) / 127).to(torch.float16)
    q = torch.round(w / scale.float()[:, None]).clamp(-127, 127).to(torch.int8)
    return [q, scale]


def _int4_g128(w):
    """GPTQ/AWQ-style: 4-bit codes packed two per byte, fp16 scale and zero point per 128 weights."""
    g = w.reshape(-1, 128)
    lo, hi = g.amin(1), g.amax(1)
    scale = ((hi - lo) / 15).clamp(min=1e-8)
    codes = torch.round((g - lo[:, None]) / scale[:, None]).clamp(0, 15).to(torch.uint8).reshape(-1)
    packed = codes[0::2] | (codes[1::2] << 4)
    return [packed, scale.to(torch.float16), (-lo / scale).to(torch.float16)]


def _quantized_bytes(modules, quantize) -> int:
    seen, total = set(), 0
    for mod in modules:
        for sub in mod.modules():
            for name, p in sub.named_parameters(recurse=False):
                if p is None or p.data_ptr() in seen:
                    continue
                seen.add(p.data_ptr())
                t = p.detach()
                if quantize and type(sub) is Linear and name == "weight":
                    total += sum(x.numel() * x.element_size() for x in quantize(t.float()))
                elif quantize:
                    h = t.to(torch.bfloat16)
                    total += h.numel() * h.element_size()
                else:
                    total += t.numel() * t.element_size()
    return total


def _kv_tensor_bytes(blocks) -> int:
    return sum(b.attn.kv_append.k.numel() * b.attn.kv_append.k.element_size()
               + b.attn.kv_append.v.numel() * b.attn.kv_append.v.element_size() for b in blocks)


@pytest.mark.parametrize("n", TOKENS)
@pytest.mark.parametrize("prec", list(PRECISIONS))
@pytest.mark.parametrize("m", [GPT2, LLAMA_GQA], ids=lambda m: m.name)
def test_memory_equals_pytorch_tensor_bytes(m, prec, n):
    weights, dtype, kv = PRECISIONS[prec]
    lm = _run(m, dtype, n)
    q = weights == "int8"
    L = m.layers
    for k in range(0, L + 1):
        front = ([lm.embed] if k else []) + list(lm.layers[:k]) + ([lm.final_norm, lm.lm_head] if k == L else [])
        back = list(lm.layers[k:]) + ([lm.final_norm, lm.lm_head] if k < L else []) + ([lm.embed] if k == 0 else [])
        assert params_bytes(m, k, "edge", weights) == _tensor_bytes(front, q), (k, "edge params")
        assert params_bytes(m, k, "server", weights) == _tensor_bytes(back, q), (k, "server params")
        assert kv_bytes(m, k, "edge", kv, n) == _kv_tensor_bytes(lm.layers[:k]), (k, "edge KV")
        assert kv_bytes(m, k, "server", kv, n) == _kv_tensor_bytes(lm.layers[k:]), (k, "server KV")


@pytest.mark.parametrize("n", TOKENS)
def test_int4_front_end_equals_packed_pytorch_tensors(n):
    m = LLAMA_GQA.scaled(name="llama-gqa-128", hidden=128, heads=8, kv_heads=2, intermediate=384)
    lm = _run(m, torch.bfloat16, n)
    for k in range(m.layers + 1):
        front = ([lm.embed] if k else []) + list(lm.layers[:k]) + ([lm.final_norm, lm.lm_head] if k == m.layers else [])
        assert params_bytes(m, k, "edge", "int4") == _quantized_bytes(front, _int4_g128), k
        assert kv_bytes(m, k, "edge", "bf16", n) == _kv_tensor_bytes(lm.layers[:k]), k


def test_tied_head_counted_once_on_the_edge_and_copied_to_the_server():
    m = GPT2
    a = 2
    table = m.vocab * m.hidden * a
    # all on the edge: the LM head is the embedding; split: the server holds its own copy
    split = params_bytes(m, 1, "server", "bf16")
    back_layers = params_bytes(m, 0, "server", "bf16") - params_bytes(m, 1, "edge", "bf16")
    assert split == back_layers + table


def test_side_memory_adds_activations_and_stated_workspace():
    m, n = LLAMA_GQA, 9
    s = side_memory(m, 2, "edge", "int8", "bf16", n, "gpu-pytorch")
    assert s.workspace_bytes == 512 * 2 ** 20                     # the stated gpu-pytorch assumption
    # hand count: residual (d) + max(qkv = d + 2 kv, gate+up = 2 f, scores = heads x n), 2 bytes each
    d, kvd, f = 64, 2 * 8, 176
    assert s.act_bytes == 2 * (d + max(d + 2 * kvd, 2 * f, 8 * n)) == activation_bytes(m, 2, "edge", "int8", n)
    assert s.total_bytes == s.weights_bytes + s.kv_bytes + s.act_bytes + s.workspace_bytes
    assert side_memory(m, 0, "edge", "int8", "bf16", n, "gpu-pytorch").total_bytes == 0
    assert workspace_bytes("gpu-pytorch", 100) == 100 * 2 ** 20
    # the side with the LM head holds fp32 logits
    assert activation_bytes(m, m.layers, "edge", "bf16", n) == 2 * (d + max(d + 2 * kvd, 2 * f, 8 * n)) + 4 * m.vocab


@pytest.mark.parametrize("name", ["llama-2-7b", "gpt2-small", "gemma-3-4b", "mixtral-8x7b", "qwen3-30b-a3b"])
def test_all_edge_bf16_parameter_bytes_are_two_per_parameter(name):
    """A side holding the whole model in bf16 holds 2 bytes per parameter: every expert of a MoE
    (memory holds all of them, a token reads k of E), Q of width heads x head_dim (Gemma), the
    per-layer norms and Q/K norms. param_count() is checked against the published counts in
    tests/test_workload_hf.py and tests/test_workload_models.py (mixtral-8x7b 46.7 B)."""
    from simulator.split.memory import params_bytes
    from simulator.workload import load_model
    m = load_model(name)
    assert params_bytes(m, m.layers, "edge", "bf16") == 2 * m.param_count()
