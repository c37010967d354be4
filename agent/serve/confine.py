"""Path sources in the service: off by default; when on, only files under the configured roots, bounded.

A client of `brief serve` must not make the server read its own files (/etc/passwd, a symlink out
of a root, another client's sources in the data dir). Every path is resolved (symlinks followed)
before it is compared with the roots, the data dir is never readable, and a refusal reads the same
whether or not the path exists. The CLI does not come here: it reads whatever its user names.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from agent.config import Service
from agent.errors import PathRefused

_URL_SOURCE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
SCAN_FACTOR = 20  # directory entries looked at per allowed file: a huge tree of other files is bounded too


def is_url_source(item: str) -> bool:
    return bool(_URL_SOURCE.match(item))


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _refused(item: str) -> PathRefused:
    return PathRefused(f"path source '{item[:200]}' is not under a folder this server may read "
                       "(send the text inline instead: {\"text\": ...})")


class PathPolicy:
    """Which files a request may make the server read, and how many."""

    def __init__(self, service: Service, data_dir: Path):
        self.enabled = service.path_sources
        self.roots = [Path(os.path.realpath(r)) for r in service.path_roots]
        self.data_dir = Path(os.path.realpath(data_dir))
        self.max_files, self.max_bytes = service.max_path_files, service.max_path_bytes

    def allowed(self, path: Path) -> bool:
        """A resolved path under a root and outside the data dir."""
        return any(_inside(path, root) for root in self.roots) and not _inside(path, self.data_dir)

    def files(self, items: list[str], max_file_bytes: int) -> list[Path]:
        """The resolved files that `items` name (folders walked, bounded); raises PathRefused."""
        from agent.sources.ingest import EXTENSIONS

        if not items:
            return []
        if not self.enabled:
            raise PathRefused("this server does not read path sources; send the text inline ({\"text\": ...})")
        found: list[Path] = []
        budget = {"bytes": 0, "scanned": 0}
        for item in items:
            if "\x00" in item:
                raise _refused(item)
            path = Path(os.path.realpath(item))
            if not self.allowed(path):
                raise _refused(item)
            if path.is_dir():
                found += self._walk(path, EXTENSIONS, max_file_bytes, budget, len(found))
            else:
                found.append(path)  # missing or odd files inside a root are reported by ingest
                self._count(path, max_file_bytes, budget, len(found))
        return list(dict.fromkeys(found))

    def _count(self, path: Path, max_file_bytes: int, budget: dict, n_files: int) -> None:
        if n_files > self.max_files:
            raise PathRefused(f"path sources name more than {self.max_files} files (the server's limit per request)")
        try:
            budget["bytes"] += min(path.stat().st_size, max_file_bytes)
        except OSError:
            return
        if budget["bytes"] > self.max_bytes:
            raise PathRefused(f"path sources hold more than {self.max_bytes} bytes (the server's limit per request)")

    def _walk(self, top: Path, extensions: set[str], max_file_bytes: int, budget: dict, n_before: int) -> list[Path]:
        """Supported files under `top`, hidden entries and the data dir left out, symlinks out of the roots skipped."""
        out: list[Path] = []
        for root, dirs, names in os.walk(top, followlinks=False):
            budget["scanned"] += len(dirs) + len(names)
            if budget["scanned"] > SCAN_FACTOR * self.max_files:
                raise PathRefused(f"path sources hold more than {SCAN_FACTOR * self.max_files} folder entries "
                                  "(the server's limit per request)")
            dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                             and not _inside(Path(os.path.realpath(os.path.join(root, d))), self.data_dir))
            for name in sorted(names):
                if name.startswith(".") or name.lower() == "readme.md" or Path(name).suffix.lower() not in extensions:
                    continue
                path = Path(os.path.realpath(os.path.join(root, name)))
                if not self.allowed(path) or not path.is_file():
                    continue  # a symlink out of the roots (or into the data dir) is never followed
                out.append(path)
                self._count(path, max_file_bytes, budget, n_before + len(out))
        return out
