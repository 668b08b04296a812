from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=None)
async def healthz(services: ServicesDep) -> dict[str, Any] | JSONResponse:
    problems = []
    try:
        async with services.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception as err:
        problems.append(f"database: {err}")
    try:
        await services.client.service_client.check_health()
    except Exception as err:
        problems.append(f"temporal: {err}")
    if problems:
        return JSONResponse(
            status_code=503, content={"status": "unavailable", "problems": problems}
        )
    return {"status": "ok"}
