"""Every string, list and integer a request can carry has a bound in the OpenAPI document (a
length, a number of items, a maximum, or a fixed set of values), so generated clients and
fuzzers see the rules the validator holds. The one free-form field is the envelope's `user`,
bounded by the event's size limit."""

from typing import Any

from api.main import create_app
from settings import Settings

FREE_FORM = {"user"}  # Inngest's envelope: any JSON, within MAX_EVENT_BYTES


def unbounded(schema: dict[str, Any], components: dict[str, Any], where: str) -> list[str]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    if "const" in schema or "enum" in schema:
        return []
    found: list[str] = []
    for alternatives in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(alternatives, []):
            found += unbounded({"type": schema.get("type"), **option}, components, where)
    kind = schema.get("type")
    if kind == "string" and "maxLength" not in schema and "format" not in schema:
        found.append(f"{where}: string without maxLength")
    if kind == "integer" and "anyOf" not in schema and "maximum" not in schema:
        found.append(f"{where}: integer without maximum")
    if kind == "array":
        if "maxItems" not in schema:
            found.append(f"{where}: array without maxItems")
        found += unbounded(schema.get("items", {}), components, f"{where}[]")
    for name, field in schema.get("properties", {}).items():
        if name not in FREE_FORM:
            found += unbounded(field, components, f"{where}.{name}")
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        found += unbounded(extra, components, f"{where}.*")
    return found


def test_every_request_field_is_bounded() -> None:
    document = create_app(Settings()).openapi()
    components = document["components"]["schemas"]
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            label = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                where = f"{label} {parameter['in']} {parameter['name']}"
                found += unbounded(parameter["schema"], components, where)
            for media in operation.get("requestBody", {}).get("content", {}).values():
                found += unbounded(media["schema"], components, f"{label} body")
    assert found == []
