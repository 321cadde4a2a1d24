"""A throwaway PostgreSQL cluster for tests, run as the unprivileged `postgres` user (it refuses root).

Debian's postgresql package provides the binaries; the cluster lives in a temp dir owned by
`postgres`, listens only on a unix socket in that dir, and is deleted on stop.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + args, check=True, capture_output=True, text=True, timeout=60, **kwargs)


class Cluster:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="tdp-pg-"))
        self.data = self.dir / "data"
        self.port = 5432

    def start(self) -> "Cluster":
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        _as_postgres([str(BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                      "-E", "UTF8", "--locale=C.UTF-8"])
        options = (f"-c listen_addresses='' -c unix_socket_directories='{self.dir}' -c port={self.port} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        _as_postgres([str(BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-t", "30",
                      "-l", str(self.dir / "log"), "start"])
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.dir}&port={self.port}"

    def create_database(self, name: str) -> str:
        import psycopg
        with psycopg.connect(host=str(self.dir), port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            _as_postgres([str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "-t", "20", "stop"])
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
