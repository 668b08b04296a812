"""`make dev`: the Temporal dev server (with its Web UI), the worker and the API, together.

State persists under .data/ (the app database and the Temporal server's own SQLite file), so runs
survive a restart. With TEMPORAL_ADDRESS set, no dev server is started: the worker and API use
that server instead. Ctrl-C stops everything.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from temporalio.client import Client

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
BIN = Path(sys.executable).parent
API_URL = "http://127.0.0.1:8000"
UI_URL = "http://127.0.0.1:8233"
TEMPORAL_ADDRESS = "127.0.0.1:7233"


def start_dev_server() -> subprocess.Popen[bytes]:
    DATA.mkdir(exist_ok=True)
    return subprocess.Popen(
        [
            str(BIN / "temporal"),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            "7233",
            "--ui-port",
            "8233",
            "--db-filename",
            str(DATA / "temporal.db"),
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
            "--log-level",
            "warn",
        ],
        cwd=ROOT,
    )


async def wait_for_temporal(address: str, seconds: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            await Client.connect(address)
            return
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    processes: list[subprocess.Popen[bytes]] = []
    external = os.environ.get("TEMPORAL_ADDRESS")
    if external:
        print(f"Using the Temporal server at {external} (no dev server started)")
    else:
        processes.append(start_dev_server())
        asyncio.run(wait_for_temporal(TEMPORAL_ADDRESS))
    processes.append(subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT))
    processes.append(
        subprocess.Popen(
            [str(BIN / "uvicorn"), "api.main:app", "--host", "127.0.0.1", "--port", "8000"],
            cwd=ROOT,
        )
    )
    print(
        "\n  API          "
        + API_URL
        + "   (docs: "
        + API_URL
        + "/docs)"
        + ("\n  Temporal UI  " + UI_URL if not external else "")
        + "\n  Temporal     "
        + (external or TEMPORAL_ADDRESS)
        + "\n  Outbox       "
        + API_URL
        + "/api/dev/outbox"
        + "\n  Try it:      curl -X POST "
        + API_URL
        + "/api/auth/signup"
        + " -H 'content-type: application/json'"
        + ' -d \'{"email":"ada@example.com","name":"Ada","plan":"pro"}\''
        + "\n  Ctrl-C stops everything.\n",
        flush=True,
    )
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(1)
        exited = [str(p.args) for p in processes if p.poll() is not None]
        print(f"stopping: {exited} exited", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in reversed(processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    sys.exit(main())
