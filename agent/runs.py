"""Run folders: every run leaves its inputs' hashes, settings, prompts, LLM calls and outputs."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agent.config import Settings
from agent.prompting import template_hashes
from agent.redact import redact_url
from agent.schema import Source

if TYPE_CHECKING:
    from agent.result import BriefResult


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, text: str) -> None:
    """Write via a temp file and rename, so a crash never leaves a partial file."""
    write_all_atomic({path: text})


def write_all_atomic(files: dict[Path, str]) -> None:
    """Write every file to a temp file first, then rename them all: a full disk leaves no new file."""
    temps: list[tuple[str, Path]] = []
    mode = 0o666 & ~_umask()  # mkstemp makes 0600; a brief is an ordinary file
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            temps.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.chmod(tmp, mode)
    except BaseException:
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)
        raise
    backups: dict[Path, str] = {}
    done: list[Path] = []
    try:
        for tmp, path in temps:
            if path.exists():  # a hard link keeps the old file, so a failed set can be put back
                backups[path] = tmp + ".old"
                os.link(path, backups[path])
        for tmp, path in temps:
            os.replace(tmp, path)
            done.append(path)
    except BaseException:
        for path in done:
            if path in backups:
                os.replace(backups.pop(path), path)
            else:
                path.unlink(missing_ok=True)
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        for old in backups.values():
            Path(old).unlink(missing_ok=True)


def ensure_data_dir(data_dir: Path) -> None:
    """The data dir is a folder this process can write, or a DataDirError (exit 2) that says what is wrong."""
    from agent.errors import DataDirError

    path = Path(data_dir)
    hint = "(set --data-dir or BRIEF_DATA_DIR to a writable folder)"
    if path.exists() and not path.is_dir():
        raise DataDirError(f"{path}: the data dir is not a folder {hint}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".write-probe-")
        probe.close()
    except OSError as e:
        raise DataDirError(f"{path}: the data dir cannot be written ({e.strerror or e.__class__.__name__}) {hint}") from None


def code_version() -> str:
    """The package version, plus the git commit when running from a checkout."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("brief-agent")
    except PackageNotFoundError:
        ours = "unknown"
    head = Path(__file__).resolve().parent.parent / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        commit = (head.parent / ref[5:]).read_text().strip() if ref.startswith("ref: ") else ref
        return f"{ours}+{commit[:12]}"
    except OSError:
        return ours


def corpus_hash(sources: list[Source]) -> str:
    return hashlib.sha256("\n".join(sorted(s.id for s in sources)).encode()).hexdigest()[:16]


@dataclass
class RunFolder:
    run_id: str
    path: Path

    @classmethod
    def create(cls, data_dir: Path, sources: list[Source], settings: Settings) -> "RunFolder":
        ensure_data_dir(data_dir)
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + corpus_hash(sources)[:8]
        path = Path(data_dir) / "runs" / run_id
        suffix = 1
        while path.exists():
            suffix += 1
            path = Path(data_dir) / "runs" / f"{run_id}-{suffix}"
        path.mkdir(parents=True)
        run = cls(run_id=path.name, path=path)
        manifest = {
            "run_id": run.run_id,
            "corpus_hash": corpus_hash(sources),
            "sources": [
                {"id": s.id, "origin": s.origin, "outlet": s.outlet, "title": s.title,
                 "content_sha256": s.content_sha256, "removed": [r.model_dump() for r in s.removed]}
                for s in sources
            ],
            "prompt_templates": template_hashes(),
            "code_version": code_version(),
            "models": {role: {"model": getattr(settings, role).model,
                              "endpoint": redact_url(getattr(settings, role).base_url) or "embedded (llama.cpp on 127.0.0.1)"}
                       for role in ("drafter", "judge")},
            "seed": settings.local_model.seed,
            "settings": settings.public_dump(),
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        write_atomic(path / "manifest.json", json.dumps(manifest, indent=2, default=str))
        return run

    @classmethod
    def open(cls, data_dir: Path, run_id: str) -> "RunFolder":
        from agent.errors import UsageError

        path = Path(data_dir) / "runs" / run_id
        if not run_id or "/" in run_id or not (path / "manifest.json").is_file():
            raise UsageError(f"no run '{run_id}' in {Path(data_dir) / 'runs'}")
        return cls(run_id=run_id, path=path)

    def save_sources(self, sources: list[Source]) -> None:
        """The cleaned sources themselves, so a resume does not depend on the original files."""
        write_atomic(self.path / "sources.json", json.dumps([s.model_dump(mode="json") for s in sources]))

    def load_sources(self) -> list[Source]:
        from agent.errors import UsageError

        try:
            data = json.loads((self.path / "sources.json").read_text(encoding="utf-8"))
            return [Source.model_validate(item) for item in data]
        except (OSError, ValueError) as e:
            raise UsageError(f"{self.path / 'sources.json'}: cannot read the run's sources ({e.__class__.__name__})") from None

    def finish(self, result: "BriefResult") -> None:
        """Record the outcome (status, check report, usage) beside the manifest."""
        write_atomic(self.path / "result.json", result.document().model_dump_json(indent=2))
