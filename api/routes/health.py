"""`GET /healthz`: the database and Temporal, reported separately. The API is ready when its
database answers: with Temporal down it still accepts events (stored, routed later)."""

from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES

router = APIRouter(tags=["health"], responses=ERROR_RESPONSES)
_TIMEOUT = timedelta(seconds=2)


class Health(BaseModel):
    status: Literal["ok", "degraded", "unavailable"]
    database: str
    temporal: str


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
async def healthz(services: ServicesDep, response: Response) -> Health:
    database = temporal = "ok"
    try:
        async with services.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception as err:
        database = f"unavailable: {err.__class__.__name__}"
    try:
        await services.client.service_client.check_health(timeout=_TIMEOUT)
    except Exception as err:
        temporal = f"unavailable: {err.__class__.__name__}"
    if database != "ok":
        response.status_code = 503
        return Health(status="unavailable", database=database, temporal=temporal)
    overall: Literal["ok", "degraded"] = "ok" if temporal == "ok" else "degraded"
    return Health(status=overall, database=database, temporal=temporal)
