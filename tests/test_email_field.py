"""The email field type: pydantic's EmailStr rules and schema, each address validated once."""

import pytest
from pydantic import BaseModel, ValidationError

from api.routes.auth import SignupRequest
from events.fields import Email, _valid_email
from events.users import SignupCompletedData


class Contact(BaseModel):
    email: Email


def test_an_address_is_checked_as_emailstr_checks_it() -> None:
    assert Contact(email="Someone@Example.COM").email == "Someone@example.com"
    with pytest.raises(ValidationError, match="not a valid email address"):
        Contact(email="no-at-sign.example.com")
    assert Contact.model_json_schema()["properties"]["email"] == {
        "format": "email",
        "title": "Email",
        "type": "string",
    }


def test_a_signups_address_is_validated_once_for_its_request_and_its_event() -> None:
    _valid_email.cache_clear()
    body = SignupRequest(email="once@example.com", name="Once")
    SignupCompletedData(user_id="user_1", email=body.email, name=body.name, plan="free")
    info = _valid_email.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_a_refused_address_is_not_remembered() -> None:
    _valid_email.cache_clear()
    for _ in range(2):
        with pytest.raises(ValidationError):
            Contact(email="two@@example.com")
    assert _valid_email.cache_info().currsize == 0
