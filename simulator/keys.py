"""One key for results and caches: a hash of every input that affects a number.

A result (a sweep point, a cached bandwidth) is keyed on the *contents* of the files it was
computed from (hardware preset, DRAM table, runtime profile, calibration, model config), the
request itself and the project version, so an edited preset never returns a stale number.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from . import __version__


def file_digest(path) -> str:
    """sha256 of a file's bytes ('' for a missing file: a later run that finds it differs)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def inputs_key(request, files=(), length: int = 16) -> str:
    """Hex key of ``request`` (JSON-able), the contents of ``files`` and ``__version__``."""
    body = {"request": request, "version": __version__,
            "files": sorted((Path(f).name, file_digest(f)) for f in files)}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:length]
