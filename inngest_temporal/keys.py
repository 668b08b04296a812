"""Who may send which events: Inngest's event key (any event), and scoped keys that may send only
the names they list (`{"<key>": ["user/*", "order/created"]}`), so a storefront's key cannot send
a staff decision. Keys are compared in constant time, as bytes."""

import base64
import binascii
import fnmatch
import hmac
from dataclasses import dataclass, field

from ulid import ULID

MAX_KEY_LENGTH = 512
ANY_EVENT = ("*",)


@dataclass(frozen=True)
class EventKeys:
    full: str | None = None
    scoped: dict[str, list[str]] = field(default_factory=dict)

    @property
    def required(self) -> bool:
        """Without any key configured (development), anyone may send."""
        return bool(self.full or self.scoped)

    def scope(self, given: str | None) -> tuple[str, ...] | None:
        """The name patterns the key may send, or None for no valid key."""
        if not self.required:
            return ANY_EVENT
        if not given or len(given) > MAX_KEY_LENGTH:
            return None
        raw = given.encode("utf-8", "surrogateescape")
        found: tuple[str, ...] | None = None
        # Every key is compared, so the time taken does not tell which one was close.
        if self.full and hmac.compare_digest(raw, self.full.encode()):
            found = ANY_EVENT
        for key, patterns in self.scoped.items():
            if hmac.compare_digest(raw, key.encode()) and found is None:
                found = tuple(patterns)
        return found


def allowed(patterns: tuple[str, ...], name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def seeded_ids(seed: str, count: int) -> list[str]:
    """The ids an Inngest SDK's `x-inngest-event-id-seed: <ms>,<base64 10 bytes>` stands for: a
    retried send carries the same seed, so its events get the same ids and start nothing twice."""
    millis_text, _, entropy_text = seed.partition(",")
    try:
        millis = int(millis_text)
        entropy = base64.b64decode(entropy_text, validate=True)
    except (ValueError, binascii.Error):
        raise ValueError("x-inngest-event-id-seed must be '<milliseconds>,<base64>'") from None
    if len(entropy) != 10 or not 0 <= millis < 2**48:
        raise ValueError("x-inngest-event-id-seed must carry a ms timestamp and 10 bytes")
    base = int.from_bytes(entropy, "big")
    return [
        str(ULID.from_bytes(millis.to_bytes(6, "big") + ((base + i) % 2**80).to_bytes(10, "big")))
        for i in range(count)
    ]
