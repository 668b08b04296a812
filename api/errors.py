"""Every error the API answers, mapped to HTTP in one place: a short, human `detail` naming what
is wrong, and a status. Routes raise these; the handlers below turn them (and the failures of
the systems behind the API) into JSON answers."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError, OperationalError
from temporalio.service import RPCError

log = logging.getLogger("pipelines.api")


class FieldProblem(BaseModel):
    """One invalid field, as FastAPI's own validation names it."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """Every error answer: `detail` names the problem, or lists each invalid field."""

    detail: str | list[FieldProblem]


# Documented on every operation (`FastAPI(responses=...)`), so clients and fuzzers know the shape
# of any error: the body checks (400, 413, 415), keys (401, 403), validation (422), a system
# behind the API unavailable or refusing (502, 503: nothing was stored).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": Problem, "description": "the request is wrong: `detail` says how"},
    "5XX": {"model": Problem, "description": "nothing was stored: `detail` says what failed"},
}


class ApiError(Exception):
    status_code = 400

    def __init__(self, detail: str, **extra: Any) -> None:
        """`extra`: fields answered next to `detail` (e.g. the state a conflict found)."""
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class BadRequest(ApiError):
    status_code = 400


class Unauthorized(ApiError):
    status_code = 401


class Forbidden(ApiError):
    status_code = 403


class NotFound(ApiError):
    status_code = 404


class Conflict(ApiError):
    status_code = 409


class Gone(ApiError):
    status_code = 410


class Unprocessable(ApiError):
    status_code = 422


class BadGateway(ApiError):
    """A provider behind us (Stripe) refused what we asked on the caller's behalf."""

    status_code = 502


class Unavailable(ApiError):
    status_code = 503


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, ApiError)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(err, Unauthorized) else None
        return JSONResponse(
            {"detail": err.detail, **err.extra}, status_code=err.status_code, headers=headers
        )

    async def temporal_down(_: Request, err: Exception) -> JSONResponse:
        # Only reads call Temporal from a request (writes go to the event log first).
        message = err.message if isinstance(err, RPCError) else str(err)
        return JSONResponse({"detail": f"Temporal is unavailable: {message}"}, status_code=503)

    async def database_down(request: Request, err: Exception) -> JSONResponse:
        log.warning("database error on %s %s: %r", request.method, request.url.path, err)
        return JSONResponse(
            {"detail": "the database is unavailable: nothing was stored, please retry"},
            status_code=503,
        )

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RPCError, temporal_down)
    app.add_exception_handler(OperationalError, database_down)
    app.add_exception_handler(DBAPIError, database_down)
    # A database that cannot be reached at all: asyncpg's refused or timed-out connection is an
    # OSError that SQLAlchemy passes on unwrapped. Nothing else a request does raises one (Temporal
    # raises RPCError, Stripe its own errors).
    app.add_exception_handler(OSError, database_down)
