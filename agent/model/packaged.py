"""Find a data file shipped inside an installed PyPI package, without importing its code."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path


def packaged_file(distribution: str, suffix: str) -> Path | None:
    """Path of the first file of `distribution` whose path ends with `suffix`, or None."""
    try:
        files = importlib.metadata.distribution(distribution).files or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in files:
        if str(f).endswith(suffix):
            return Path(f.locate()).resolve()
    return None
