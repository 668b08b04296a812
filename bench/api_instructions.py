"""The API's own work per signup, counted in instructions, the project's against raw-split's.

    python -m bench.api_instructions [--n 100]

Each API runs in a process of its own under valgrind's callgrind (Debian: valgrind), driven in
process through httpx's ASGI transport, with a Temporal client that encodes each start's input
as the real one does and makes no call: both APIs start the same four runs through the same SDK,
so what this shows is the rest, the engine's bookkeeping against none. Instructions are counted
only while the measured signups run (after 30 warm-up ones), with garbage collection off, so
the figure is the same on every run and a change of a few percent shows, where the CPU seconds
of `bench.compare` move by 10-30% between rounds on a shared machine."""

import argparse
import asyncio
import gc
import itertools
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench.drive import signup_body
from bench.processes import ROOT, migrate
from inngest_temporal.codec import data_converter
from settings import load_settings

APIS = ("project", "raw-split")
WARMUP = 30
_COLLECTED = re.compile(r"Collected : (\d+)")


class EncodingClient:
    """What the APIs use of Temporal's client: `start_workflow` encodes its input with the real
    data converter, and returns."""

    def __init__(self, data_converter: Any) -> None:
        self.data_converter = data_converter

    async def start_workflow(self, workflow: str, arg: Any, **options: Any) -> None:
        await self.data_converter.encode([arg])
        await asyncio.sleep(0)  # an answer comes back on a later turn of the loop


def _instrument(state: str) -> None:
    subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=True)


async def _drive(api: str, n: int) -> None:
    """In the process valgrind runs: `n` signups through one API, counted."""
    client = EncodingClient(data_converter(load_settings().encryption_keys))

    async def connect() -> Any:
        return client

    if api == "project":
        # Imported here: the parent process, which only reads valgrind's output, needs neither.
        from api.main import create_app

        app = create_app(connect=connect)
    else:
        import bench.raw.api as raw

        raw.connect = connect  # type: ignore[attr-defined]
        app = raw.app
    # The driving client's own log line per request is not the API's work (the project's app
    # turns INFO on for the process).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    numbers = itertools.count()
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://api") as http,
    ):

        async def signup() -> None:
            response = await http.post("/api/auth/signup", json=signup_body(api, next(numbers)))
            response.raise_for_status()

        for _ in range(WARMUP):
            await signup()
        gc.collect()
        gc.disable()
        _instrument("on")
        for _ in range(n):
            await signup()
        _instrument("off")


def count(api: str, n: int) -> int:
    """Instructions `n` signups cost the API, from a process of its own under callgrind."""
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as workdir:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite+aiosqlite:///{Path(workdir) / 'app.db'}",
            "TASK_QUEUE": "bench",
            "ENVIRONMENT": "test",
            "TEMPORAL_ADDRESS": "127.0.0.1:1",  # never dialled
            "RAW_MODE": "split",
            # The dispatcher's write of what it routed, kept out of the counted signups.
            "ROUTING_RECORD_SECONDS": "25",
        }
        migrate(env, Path(workdir))
        argv = [
            *("valgrind", "--tool=callgrind", "--instr-atstart=no"),
            f"--callgrind-out-file={Path(workdir) / 'callgrind.out'}",
            *(sys.executable, "-m", "bench.api_instructions", "--child", api, "--n", str(n)),
        ]
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
        found = _COLLECTED.search(done.stderr)
        if done.returncode != 0 or found is None:
            raise RuntimeError(f"{api} under callgrind failed:\n{done.stderr[-3000:]}")
        return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="counted signups per API")
    parser.add_argument("--child", choices=APIS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(_drive(args.child, args.n))
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    per_signup = {api: count(api, args.n) / args.n for api in APIS}
    print(f"instructions per signup in the API, outside Temporal's client ({args.n} signups)")
    for api, instructions in per_signup.items():
        print(f"  {api:10} {instructions / 1e6:8.2f}M")
    print(f"  project / raw-split: {per_signup['project'] / per_signup['raw-split']:.2f}")


if __name__ == "__main__":
    main()
