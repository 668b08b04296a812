"""Who may read the event log (`GET /api/events/{id}`, which shows names and emails): staff, or a
producer holding an event key. Without any key configured (development), anyone."""

from fastapi import Request

from api.deps import SettingsDep
from api.errors import Unauthorized
from api.staff import bearer, is_staff_token
from inngest_temporal import EventKeys


def may_read_events(request: Request, settings: SettingsDep) -> None:
    token = bearer(request)
    if token and is_staff_token(token, settings):
        return
    keys = EventKeys(settings.event_key, settings.event_keys)
    if keys.scope(token) is None:
        raise Unauthorized("send Authorization: Bearer <ADMIN_TOKEN> or an event key")
