"""The API served over a real socket by uvicorn, for what only shows over HTTP: a dropped
connection, a request the HTTP parser refuses, a client that brings its own HTTP stack."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from tests.conftest import free_port


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The app's base URL while uvicorn serves it (its lifespan included)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def raw_exchange(url: str, request: bytes) -> bytes:
    """Sends `request` as is (bytes no HTTP client would send) and returns the whole answer."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=30)
    finally:
        writer.close()
