"""Signups at a steady rate through an API's `POST /api/auth/signup`, open loop: request i is sent
at start + i / rate whatever the earlier ones are doing, so a slow side is not sent less work,
and its slowness shows in its request latency."""

import asyncio
import time
from dataclasses import dataclass, field

import httpx


@dataclass
class Driven:
    sent: int
    seconds: float  # from the first request sent to the last answer
    latencies_ms: list[float] = field(default_factory=list)  # of the 201 answers, sorted
    user_ids: list[str] = field(default_factory=list)
    failures: dict[int, int] = field(default_factory=dict)  # status (0: no answer) -> count


def signup_body(tag: str, i: int) -> dict[str, str]:
    return {"email": f"{tag}-{i}@example.com", "name": f"Bench {i}", "plan": "pro"}


async def drive(api_url: str, count: int, rate: float, tag: str) -> Driven:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    latencies: list[float] = []
    user_ids: list[str] = []
    failures: dict[int, int] = {}
    async with httpx.AsyncClient(base_url=api_url, timeout=120, limits=limits) as http:

        async def one(i: int) -> None:
            began = time.perf_counter()
            try:
                response = await http.post("/api/auth/signup", json=signup_body(tag, i))
            except httpx.HTTPError:
                failures[0] = failures.get(0, 0) + 1
                return
            if response.status_code != 201:
                failures[response.status_code] = failures.get(response.status_code, 0) + 1
                return
            latencies.append((time.perf_counter() - began) * 1000)
            user_ids.append(response.json()["userId"])

        start = time.perf_counter()
        tasks = []
        for i in range(count):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        seconds = time.perf_counter() - start
    return Driven(count, seconds, sorted(latencies), user_ids, failures)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted values (nan when there are none)."""
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]
