"""The API's routes as FastAPI serves and documents them: each one the app's own, and each
documenting the error answers every route can give."""

from fastapi.routing import APIRoute
from starlette.routing import Route

from api.main import create_app
from inngest_temporal.codec import generate_key
from settings import Settings

# Every route there is: the development routes and the codec's (with a key) included.
SETTINGS = Settings(environment="development", payload_encryption_key=generate_key())


def test_each_route_is_the_apps_own() -> None:
    """An included router (FastAPI 0.137 on) is matched lazily, each request walking the routes
    of every router before its own, and its own twice: the routes sit on the app instead."""
    app = create_app(SETTINGS)
    foreign = [type(route).__name__ for route in app.routes if not isinstance(route, Route)]
    assert foreign == []
    paths = {route.path for route in app.routes if isinstance(route, APIRoute)}
    assert {"/api/auth/signup", "/api/events", "/e/{event_key}", "/api/dev/outbox"} <= paths
    assert {"/codec/decode", "/healthz"} <= paths


def test_every_operation_documents_the_error_answers() -> None:
    """The app's error answers (api/errors.py: ERROR_RESPONSES) are on every operation, the
    engine's event and codec routes included, so clients and fuzzers know their shape."""
    document = create_app(SETTINGS).openapi()
    problem = {"$ref": "#/components/schemas/Problem"}
    undocumented = [
        f"{method.upper()} {path} {status}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for status in ("4XX", "5XX")
        if operation["responses"].get(status, {}).get("content", {}).get("application/json")
        != {"schema": problem}
    ]
    assert undocumented == []
