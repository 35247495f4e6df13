"""Split computing between an edge device and a server (Sung et al., arXiv 2511.04002).

- :mod:`.memory`   bytes each side holds at each token position (weights, KV, activations, workspace)
- :mod:`.link`     link presets (``hw_configs/links/``) and what crosses the link
- :mod:`.pipeline` edge, link and server as SimPy processes over a whole generation
- :mod:`.search`   the joint search under memory / server-time / latency constraints, Pareto front
- :mod:`.cli`      ``decodesim split`` and ``decodesim plot split``
- :mod:`.doc`      generates docs/split_computing.md
"""

# what ``decodesim split --objective`` may rank by (:func:`.search.rank_key`); here, not in .search,
# so building the CLI parser does not import the simulation stack
OBJECTIVES = ("latency", "bits")
