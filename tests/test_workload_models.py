"""Model catalog: loads, parameter counts against published figures, validation."""

import pytest
import yaml

from simulator.errors import ConfigError
from simulator.workload import Workload, list_models, load_model
from simulator.workload.model import MODEL_DIR

REQUIRED = ["gpt2-small", "gpt2-medium", "gpt2-large", "gpt2-xl", "gpt3-small", "gpt3-medium", "gpt3-large",
            "gpt3-xl", "opt-1.3b", "opt-6.7b", "llama-2-7b", "llama-2-13b", "llama-3-8b", "mistral-7b", "qwen-2.5-7b"]


def test_catalog_complete():
    assert set(REQUIRED) <= set(list_models())


@pytest.mark.parametrize("name", REQUIRED)
def test_parameter_count_matches_published(name):
    m = load_model(name)
    n = m.param_count()
    if m.published_params_exact:
        assert abs(n - m.published_params_exact) <= 0.01 * m.published_params_exact
    else:
        # GPT-3 paper sizes are rounded nominal figures ("350M"): within 2%
        nominal = float(m.published_params[:-1]) * {"M": 1e6, "B": 1e9}[m.published_params[-1]]
        assert abs(n - nominal) <= 0.02 * nominal


@pytest.mark.parametrize("name,published", [("gpt2-small", 124e6), ("gpt2-medium", 355e6), ("gpt2-large", 774e6),
                                            ("gpt2-xl", 1.5e9), ("llama-2-7b", 6.74e9), ("qwen-2.5-7b", 7.62e9),
                                            ("llama-3-8b", 8.03e9), ("mistral-7b", 7.24e9), ("opt-6.7b", 6.7e9)])
def test_parameter_count_against_issue_figures(name, published):
    assert load_model(name).param_count() == pytest.approx(published, rel=0.04 if name == "gpt2-xl" else 0.01)


def test_qwen_real_shapes():
    m = load_model("qwen-2.5-7b")
    assert (m.heads, m.kv_heads, m.intermediate, m.vocab, m.tied_embeddings, m.qkv_bias) == (28, 4, 18944, 152064, False, True)


@pytest.mark.parametrize("name", REQUIRED)
@pytest.mark.parametrize("kv,bits", [("bf16", 16), ("int8", 8), ("int4", 4), ("fp32", 32)])
def test_kv_bytes_per_token(name, kv, bits):
    m = load_model(name)
    assert Workload(m, kv=kv).kv_bytes_per_token() == 2 * m.layers * m.kv_heads * (m.hidden // m.heads) * bits // 8


def _base():
    return yaml.safe_load((MODEL_DIR / "llama-2-7b.yaml").read_text())


@pytest.mark.parametrize("mutate,key,fragment", [
    (lambda d: d.update(colour="red"), "colour", "unknown key"),
    (lambda d: d.pop("layers"), "layers", "missing required key"),
    (lambda d: d.update(kv_heads=5), "kv_heads", "multiple of kv_heads"),
    (lambda d: d.update(heads=33), "heads", "multiple of heads"),
    (lambda d: d.update(layers=0), "layers", "out of range"),
    (lambda d: d.update(norm="batchnorm"), "norm", "not one of"),
    (lambda d: d.update(bias="yes"), "bias", "true or false"),
])
def test_malformed_model_yaml(bad_config, mutate, key, fragment):
    d = _base()
    mutate(d)
    bad_config(d, load_model, key, fragment, name="m.yaml")


def test_unknown_model_lists_catalog():
    with pytest.raises(ConfigError, match="available: .*gpt2-small"):
        load_model("gpt-9")
