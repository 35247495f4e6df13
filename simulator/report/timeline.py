"""Timeline export in the Chrome trace event format (opens in chrome://tracing and Perfetto):
one track per device unit, one complete ("X") event per op, times in microseconds."""

from __future__ import annotations

import json


def chrome_trace(rows, path, process="decodesim"):
    """``rows``: iterable of (name, track, start_ns, end_ns, args dict)."""
    tracks = {}
    events = []
    for name, track, start, end, args in rows:
        tid = tracks.setdefault(track, len(tracks) + 1)
        events.append({"name": name, "ph": "X", "pid": 1, "tid": tid, "ts": start / 1e3,
                       "dur": max(end - start, 0) / 1e3, "args": args})
    meta = [{"name": "process_name", "ph": "M", "pid": 1, "args": {"name": process}}]
    meta += [{"name": "thread_name", "ph": "M", "pid": 1, "tid": tid, "args": {"name": t}} for t, tid in tracks.items()]
    from pathlib import Path
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        json.dump({"traceEvents": meta + events, "displayTimeUnit": "ns"}, f)
    return len(events)


def rows_from_engine(timeline):
    """Chrome-trace rows of a timeline DataFrame (:data:`simulator.engine.timeline.COLUMNS`, any
    backend's ``HwResult.timeline``)."""
    for r in timeline.itertuples():
        yield (r.op, r.device, r.start_ns, r.end_ns,
               {"kind": r.kind, "layer": int(r.layer), "bytes": int(r.bytes), "flops": float(r.flops), "bound": r.bound})
