"""Settings for runs against the fake server (small passages, hashing embeddings, a short retry budget),
and an earlier output folder for the disk-fault cases."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from agent.config import Settings, load_settings


def settings_for(tmp_path: Path, base_url: str, **draft) -> Settings:
    """A drafter at `base_url` with two attempts, data under tmp_path; `draft` overrides [draft] keys."""
    return load_settings(
        overrides={
            "data_dir": str(tmp_path / "data"),
            "embeddings": {"backend": "hashing"},
            "drafter": {"base_url": base_url, "max_attempts": 2, "timeout_s": 5, "max_retry_after_s": 1},
            "draft": draft,
            "ingest": {"passage_chars": 200},
        },
        env={},
    )


# The drafter the CLI cases use: three attempts, two re-asks, a 3 s timeout (as TOML and as Settings).
CONFIG = ('[embeddings]\nbackend = "hashing"\n[drafter]\nmax_attempts = 3\nmax_reasks = 2\ntimeout_s = 3\n'
          'max_retry_after_s = 1\n[ingest]\npassage_chars = 200\nmin_source_chars = 40\n')


def settings(tmp_path: Path, base_url: str, **sections) -> Settings:
    """CONFIG as Settings, with the drafter at `base_url`; `sections` merge into their config sections."""
    layer = {"data_dir": str(tmp_path / "data"), "embeddings": {"backend": "hashing"},
             "drafter": {"base_url": base_url, "max_attempts": 3, "max_reasks": 2, "timeout_s": 3,
                         "max_retry_after_s": 1}, "ingest": {"passage_chars": 200, "min_source_chars": 40}}
    for name, values in sections.items():
        layer[name] = {**layer.get(name, {}), **values}
    return load_settings(overrides=layer, env={})


def write_old_output(out: Path) -> dict[str, bytes]:
    """A previous run's brief files in `out`; returns their bytes, to compare after a failed run."""
    out.mkdir(parents=True, exist_ok=True)
    for name in ("brief.md", "brief.html", "brief.json"):
        (out / name).write_text(f"earlier {name}\n")
    return {p.name: p.read_bytes() for p in out.iterdir()}


def failing_replace(n: int):
    """os.replace that fails with ENOSPC on its n-th call (a disk filling part-way through a set)."""
    real, count = os.replace, [0]

    def replace(src, dst):
        count[0] += 1
        if count[0] == n:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    return replace
