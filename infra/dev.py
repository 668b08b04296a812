"""`make dev`: the Temporal dev server (with its Web UI), the worker and the API, together.

State persists under .data/ (the app database, the Temporal server's own SQLite file, and the
development secrets: a signing key, an admin token and a payload encryption key, made on first
run), so runs survive a restart. The Web UI decodes the encrypted payloads through the API's
codec server. With TEMPORAL_ADDRESS set, no dev server is started. Ctrl-C stops everything.

`python -m infra.dev api` or `... worker` runs just that one, with the same development settings.
"""

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from temporalio.client import Client

from inngest_temporal.codec import generate_key

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
SECRETS_FILE = DATA / "dev-secrets.env"
BIN = Path(sys.executable).parent
API_URL = "http://127.0.0.1:8000"
UI_URL = "http://127.0.0.1:8233"
TEMPORAL_ADDRESS = "127.0.0.1:7233"


def development_secrets() -> dict[str, str]:
    """The development secrets, made once and kept under .data/ (never committed). Values
    already in the environment win."""
    DATA.mkdir(exist_ok=True)
    if not SECRETS_FILE.exists():
        SECRETS_FILE.write_text(
            f"SECRET_KEY={secrets.token_urlsafe(32)}\n"
            f"ADMIN_TOKEN={secrets.token_urlsafe(32)}\n"
            f"PAYLOAD_ENCRYPTION_KEY={generate_key()}\n"
        )
        SECRETS_FILE.chmod(0o600)
    values = dict(
        line.split("=", 1) for line in SECRETS_FILE.read_text().splitlines() if "=" in line
    )
    return {name: os.environ.get(name, value) for name, value in values.items()}


def development_env() -> dict[str, str]:
    return {**os.environ, "ENVIRONMENT": "development", **development_secrets()}


def start_dev_server() -> subprocess.Popen[bytes]:
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
            # The Web UI decodes inputs, results and step ids through the API's codec server.
            "--ui-codec-endpoint",
            f"{API_URL}/codec",
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


def api_command() -> list[str]:
    return [
        str(BIN / "uvicorn"),
        "--factory",
        "api.main:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        "8000",
    ]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(only: str | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    env = development_env()
    if only == "api":
        return subprocess.call(api_command(), cwd=ROOT, env=env)
    if only == "worker":
        return subprocess.call([sys.executable, "worker.py"], cwd=ROOT, env=env)
    processes: list[subprocess.Popen[bytes]] = []
    external = os.environ.get("TEMPORAL_ADDRESS")
    if external:
        print(f"Using the Temporal server at {external} (no dev server started)")
    else:
        processes.append(start_dev_server())
        asyncio.run(wait_for_temporal(TEMPORAL_ADDRESS))
    processes.append(subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env))
    processes.append(subprocess.Popen(api_command(), cwd=ROOT, env=env))
    print(
        f"\n  API          {API_URL}   (docs: {API_URL}/docs)"
        + (
            f"\n  Temporal UI  {UI_URL}   (payloads decoded by {API_URL}/codec)"
            if not external
            else ""
        )
        + f"\n  Temporal     {external or TEMPORAL_ADDRESS}"
        + f"\n  Outbox       {API_URL}/api/dev/outbox"
        + f"\n  Staff token  ADMIN_TOKEN in {SECRETS_FILE.relative_to(ROOT)}"
        + f"\n  Try it:      curl -X POST {API_URL}/api/auth/signup"
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
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
