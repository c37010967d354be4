"""The CLI in-process for tests and benchmarks (typer's runner), configured for the fake server."""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from agent.cli import app
from agent.testing.harness import CONFIG


def cli(tmp_path: Path, args: list[str], base_url: str = "http://127.0.0.1:9/v1", config: str = CONFIG):
    """The CLI in-process (typer's runner): exit code, stdout and stderr apart."""
    cfg = tmp_path / "cli.toml"
    cfg.write_text(config, encoding="utf-8")
    env = {k: None for k in os.environ if k.startswith(("OPENAI", "BRIEF"))}
    env.update(OPENAI_BASE_URL=base_url, BRIEF_DATA_DIR=str(tmp_path / "data"))
    return CliRunner().invoke(app, [*args, "--config", str(cfg)], env=env)
