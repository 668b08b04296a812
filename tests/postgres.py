"""A throwaway PostgreSQL server for the test session, from the installed PostgreSQL binaries.

`initdb` into a fresh temporary directory (or a copy of a template: a data directory made once, see
`make_template`), trust authentication on 127.0.0.1 and a free port, the
unix socket inside the directory, durability off (fsync, synchronous_commit, full_page_writes: a
crash loses nothing we keep), and a server time zone far from UTC, so code that leans on the
server's zone fails here rather than in production. Stopping it deletes everything. Started as
root, the server runs as the `postgres` user (or `nobody`): PostgreSQL refuses to run as root.

The binaries are Debian's (/usr/lib/postgresql/<version>/bin, from the `postgresql` package that
`make tools` installs), or those of an `initdb` on PATH. Without them this raises: the suite does
not silently skip PostgreSQL.
"""

import fcntl
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import free_port

DEBIAN_BINARIES = Path("/usr/lib/postgresql")
PROGRAMS = ("initdb", "pg_ctl", "createdb")
SUPERUSER = "postgres"
DATABASE = "pipelines_test"
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "timezone": "'Pacific/Chatham'",  # UTC+12:45 or +13:45
}


class PostgresNotFound(RuntimeError):
    pass


def find_binaries() -> Path:
    """The directory holding initdb, pg_ctl and createdb: the newest Debian version, else the one
    `initdb` on PATH is in (or links to)."""
    candidates = sorted(
        DEBIAN_BINARIES.glob("*/bin"),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.name)],
        reverse=True,
    )
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for directory in candidates:
        if all((directory / program).is_file() for program in PROGRAMS):
            return directory
    raise PostgresNotFound(
        f"PostgreSQL's programs ({', '.join(PROGRAMS)}) not found in {DEBIAN_BINARIES}/*/bin or "
        "on PATH: install Debian's `postgresql` package (`make tools` does, as root)"
    )


@dataclass
class TemporaryPostgres:
    bin_dir: Path = field(default_factory=find_binaries)
    database: str = DATABASE
    directory: Path | None = None
    port: int = 0
    started_in: float = 0.0  # seconds, initdb to a created database

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{self.database}"

    @property
    def _data(self) -> Path:
        assert self.directory is not None
        return self.directory / "data"

    def start(self, template: Path | None = None) -> str:
        """A new server: `initdb` and an empty database, or a copy of `template` (the data
        directory of a stopped server, database included)."""
        began = time.monotonic()
        self.directory = Path(tempfile.mkdtemp(prefix="pytest-postgres-"))
        try:
            owner = _server_user()
            if owner is not None:
                os.chown(self.directory, owner.pw_uid, owner.pw_gid)
            if template is not None:
                shutil.copytree(template, self._data, symlinks=True)
                if owner is not None:
                    for path in [self._data, *self._data.rglob("*")]:
                        os.lchown(path, owner.pw_uid, owner.pw_gid)
            else:
                self._run(
                    "initdb",
                    f"--pgdata={self._data}",
                    f"--username={SUPERUSER}",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                )
            self._start_server()
            if template is None:
                self._run(
                    "createdb",
                    *("-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, self.database),
                )
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - began
        return self.url

    def _start_server(self, attempts: int = 3) -> None:
        """Another process may take the free port before the server binds it: try another (a
        setting appended again to postgresql.conf overrides the earlier one)."""
        for attempt in range(attempts):
            self.port = free_port()
            settings = {
                **SETTINGS,
                "port": str(self.port),
                "unix_socket_directories": f"'{self.directory}'",
            }
            with open(self._data / "postgresql.conf", "a") as conf:
                conf.write("".join(f"{key} = {value}\n" for key, value in settings.items()))
            log = self._data.parent / "postgres.log"
            try:
                self._run(
                    "pg_ctl", "start", "-w", "-t", "60", "-D", str(self._data), "-l", str(log)
                )
                return
            except RuntimeError:
                bind_failed = "could not bind" in log.read_text(errors="replace")
                if not bind_failed or attempt == attempts - 1:
                    raise

    def stop(self) -> None:
        if self.directory is None:
            return
        try:
            if (self._data / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-m", "immediate", "-w", "-D", str(self._data))
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def stop_into(self, data: Path) -> None:
        """A clean shutdown (what a copy needs to start from), its data directory kept as `data`."""
        assert self.directory is not None
        try:
            self._run("pg_ctl", "stop", "-m", "fast", "-w", "-D", str(self._data))
            shutil.move(self._data, data)
        finally:
            self.stop()

    def _run(self, program: str, *args: str) -> None:
        """A PostgreSQL program, as the server's user when we are root."""
        owner = _server_user()
        privileges: dict[str, Any] = (
            {}
            if owner is None
            else {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
        )
        done = subprocess.run(
            [str(self.bin_dir / program), *args],
            cwd=self.directory,
            env={**os.environ, "LC_ALL": "C"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            **privileges,
        )
        if done.returncode != 0:
            log = self.directory / "postgres.log" if self.directory else None
            server_log = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {done.stderr or done.stdout}{server_log}"
            )


def _server_user() -> pwd.struct_passwd | None:
    """Who runs the server: ourselves, unless we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root, and neither a `postgres` nor a `nobody` user exists")


def make_template(directory: Path, prepare: Callable[[str], object]) -> Path:
    """A stopped server's data directory in `directory`, its database prepared by `prepare(url)`
    (migrated), made once and copied by every server started from it: the suite's processes
    (xdist) start one server each, and making each from scratch cost each about 2 s of CPU
    (initdb, createdb, migrations). `directory` is one test session's: it holds no schema older
    than the session's code."""
    data = directory / "postgres-template"
    with open(directory / "postgres-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (data / "PG_VERSION").exists():
            server = TemporaryPostgres()
            server.start()
            prepare(server.url)
            server.stop_into(data)
    return data


@contextmanager
def running_postgres(template: Path | None = None) -> Iterator[TemporaryPostgres]:
    server = TemporaryPostgres()
    server.start(template)
    try:
        yield server
    finally:
        server.stop()
