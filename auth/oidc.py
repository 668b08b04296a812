"""Tokens of the team's own identity provider (OIDC): a JWT signed with a key from its JWKS,
issued by AUTH_ISSUER for AUTH_AUDIENCE. The verified `email` claim names our user."""

import asyncio
from dataclasses import dataclass

import jwt

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class InvalidIdentity(ValueError):
    pass


@dataclass(frozen=True)
class Identity:
    subject: str
    email: str


class OidcVerifier:
    def __init__(self, jwks_url: str, issuer: str, audience: str) -> None:
        # PyJWKClient caches the key set and refetches it for an unknown key id (rotation).
        self._keys = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)
        self._issuer = issuer
        self._audience = audience

    async def verify(self, token: str) -> Identity:
        # The key set is fetched with blocking I/O: off the event loop.
        return await asyncio.to_thread(self._verify, token)

    def _verify(self, token: str) -> Identity:
        try:
            key = self._keys.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                issuer=self._issuer,
                audience=self._audience,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWKClientConnectionError as err:
            raise InvalidIdentity(f"the identity provider's keys are unreachable: {err}") from err
        except jwt.PyJWTError as err:
            raise InvalidIdentity(f"the identity token is not valid: {err}") from err
        email = claims.get("email")
        if not isinstance(email, str) or not email or claims.get("email_verified") is False:
            raise InvalidIdentity("the identity token carries no verified email")
        return Identity(subject=str(claims["sub"]), email=email.lower())
