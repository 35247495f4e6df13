"""Dump every DRAM preset's resolved table (timing values, commands, organisation, expanded
constraint pairs, refresh, buses, energy) as JSON.

Run once, BEFORE the presets were rewritten with ``extends:`` (main at 3900203, after the dram2 merge), to produce
``dram_presets_resolved.json``; ``tests/test_dram_extends.py`` checks that every preset still
resolves to exactly these values. Usage::

    PYTHONPATH=. python tests/data/dump_resolved_presets.py > tests/data/dram_presets_resolved.json
"""
import json
import sys

from simulator.dram.standard import list_standards, load_standard


def resolved(std) -> dict:
    """Order-independent view of a resolved standard: every constraint expanded to one
    (level, from, to, latency, window, sibling) row per command pair, sorted."""
    lv, cn = std.level_names, std.commands
    pairs = sorted([lv[c["level"]], cn[p], cn[f], c["latency"], c["window"], bool(c["sibling"])]
                   for c in std.constraints for p in c["prec"] for f in c["follow"])
    return dict(
        name=std.name, family=std.family, source=std.source, compat=std.compat,
        tck_ps=std.tck_ps, data_rate_mtps=std.data_rate_mtps,
        levels=dict(zip(lv, std.level_sizes)), rows=std.rows, columns=std.columns,
        device_width_bits=std.device_width_bits, channel_width_bits=std.channel_width_bits,
        burst_length=std.burst_length, devices_per_rank=std.devices_per_rank,
        timing=std.timing, read_latency=std.read_latency,
        commands=[[c, sorted(f), lv[s]] for c, f, s in zip(cn, std.flags, std.scopes)],   # in id order
        constraints=pairs, refresh=[lv[std.refresh_scope], std.refresh_interval],
        controller=std.controller, energy=std.energy,
        buses={c: std.bus_names[b] for c, b in zip(cn, std.cmd_bus)},
        cmd_cycles=dict(zip(cn, std.cmd_cycles)))


if __name__ == "__main__":
    json.dump({n: resolved(load_standard(n)) for n in list_standards()}, sys.stdout,
              indent=1, sort_keys=True)
    sys.stdout.write("\n")
