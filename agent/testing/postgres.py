"""A throwaway PostgreSQL on loopback for tests and benchmarks: initdb/pg_ctl in a temp dir, on a free port.

PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user (or `nobody`)
and every command runs through runuser. start() returns what is missing (tests skip with it), never raises.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def find_binary(name: str) -> str | None:
    """On PATH, else the newest /usr/lib/postgresql/<version>/bin (Debian's layout)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """initdb + pg_ctl start in a temp dir; `dsn` connects over TCP on 127.0.0.1 as user `brief`, no password."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
        self.root = Path(tempfile.mkdtemp(prefix="brief-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    self.user = pwd.getpwnam(name)
                    break
                except KeyError:
                    continue

    @property
    def dsn(self) -> str:
        return f"postgresql://brief@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess:
        if self.user is not None:
            argv = ("runuser", "-u", self.user.pw_name, "--", *argv)
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=self.root)

    def start(self) -> str | None:
        """None when running; else why it could not start."""
        if not (self.initdb and self.pg_ctl):
            return "no PostgreSQL binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin"
        if os.geteuid() == 0:
            if self.user is None or not shutil.which("runuser"):
                return "running as root with no 'postgres'/'nobody' user or no runuser: PostgreSQL refuses root"
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        made = self._run(self.initdb, "-D", str(self.data), "-A", "trust", "-U", "brief", "--no-sync", "-E", "UTF8")
        if made.returncode != 0:
            return f"initdb failed: {(made.stderr or made.stdout).strip().splitlines()[-1:]}"
        options = f"-p {self.port} -k {self.root} -h 127.0.0.1 -c fsync=off -c full_page_writes=off"
        started = self._run(self.pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w",
                            "-t", "30", "start")
        if started.returncode != 0:
            log = (self.root / "log").read_text(errors="replace") if (self.root / "log").exists() else started.stderr
            return f"pg_ctl start failed: {log.strip().splitlines()[-1:]}"
        return None

    def stop(self) -> None:
        if self.pg_ctl and self.data.exists():
            self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop", timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)
