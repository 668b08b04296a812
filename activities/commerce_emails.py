"""The shop's emails, rendered from plain values (every value is HTML-escaped here)."""

import html
from dataclasses import dataclass
from datetime import datetime

from activities.mail import EmailMessage

UPGRADE_DISCOUNT_CODE = "WELCOME20"


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str

    def message(self, to: str, idempotency_key: str) -> EmailMessage:
        return EmailMessage(
            to=to, subject=self.subject, html=self.html, idempotency_key=idempotency_key
        )


@dataclass(frozen=True)
class Line:
    name: str
    quantity: int
    price_cents: int


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) / 100:,.2f}"


def _day(when: datetime | None) -> str:
    return "soon" if when is None else f"{when:%A %d %B %Y}"


def order_confirmation(
    name: str, order_id: str, lines: list[Line], total_cents: int, delivery: datetime | None
) -> Rendered:
    rows = "\n".join(
        f"<li>{line.quantity} x {html.escape(line.name)}: "
        f"{money(line.quantity * line.price_cents)}</li>"
        for line in lines
    )
    return Rendered(
        subject=f"Your order {order_id} is on its way",
        html=(
            f"<p>Hi {html.escape(name)}, thank you for your order {html.escape(order_id)}.</p>\n"
            f"<ul>\n{rows}\n</ul>\n"
            f"<p>Total: <strong>{money(total_cents)}</strong></p>\n"
            f"<p>Estimated delivery: {_day(delivery)}</p>"
        ),
    )


def order_shipped(name: str, order_id: str, tracking_number: str) -> Rendered:
    return Rendered(
        subject=f"Your order {order_id} has shipped",
        html=(
            f"<p>Hi {html.escape(name)}, your order {html.escape(order_id)} has shipped.</p>\n"
            f"<p>Tracking number: <strong>{html.escape(tracking_number)}</strong></p>"
        ),
    )


def refund_rejected(order_id: str, amount_cents: int, timed_out: bool) -> Rendered:
    why = (
        "we could not review it in time"
        if timed_out
        else "our support team reviewed it and could not approve it"
    )
    return Rendered(
        subject=f"Your refund request for order {order_id}",
        html=(
            f"<p>Your request for a refund of {money(amount_cents)} on order "
            f"{html.escape(order_id)} was not approved: {why}.</p>\n"
            "<p>Reply to this email if you would like us to take another look.</p>"
        ),
    )


def refund_failed(order_id: str, amount_cents: int) -> Rendered:
    return Rendered(
        subject=f"Your refund for order {order_id} could not be completed",
        html=(
            f"<p>We could not complete your refund of {money(amount_cents)} on order "
            f"{html.escape(order_id)}.</p>\n"
            "<p>Our team has been told and will get back to you. Reply to this email if you "
            "have any questions.</p>"
        ),
    )


def refund_confirmed(order_id: str, amount_cents: int, refund_id: str) -> Rendered:
    return Rendered(
        subject=f"Your refund of {money(amount_cents)} is on its way",
        html=(
            f"<p>We refunded {money(amount_cents)} for order {html.escape(order_id)}.</p>\n"
            f"<p>Refund reference: {html.escape(refund_id)}. It usually reaches your account "
            "within 5-10 business days.</p>"
        ),
    )


# The drip sequence's emails: subject and body, with `{name}` filled in.
ONBOARDING: dict[str, tuple[str, str]] = {
    "welcome": (
        "Welcome aboard, {name}!",
        "<p>Hi {name}, welcome! Here is how to get started in five minutes.</p>",
    ),
    "day-1-tips": (
        "3 tips to get the most out of your first week",
        "<p>Hi {name}, three things our most successful customers do first:</p>\n"
        "<ol><li>Invite your team</li><li>Connect your data</li>"
        "<li>Set up your first automation</li></ol>",
    ),
    "day-3-case-study": (
        "How teams like yours save 10 hours a week",
        "<p>Hi {name}, here is how one team automated their weekly reporting.</p>",
    ),
    "day-7-upgrade": (
        "20% off Pro, this week only",
        "<p>Hi {name}, ready for more? Upgrade to Pro with the code "
        f"<strong>{UPGRADE_DISCOUNT_CODE}</strong> for 20% off.</p>",
    ),
}


def onboarding(template: str, name: str) -> Rendered:
    subject, body = ONBOARDING[template]
    return Rendered(subject.format(name=name), body.format(name=html.escape(name)))


def daily_digest(
    since: datetime,
    until: datetime,
    order_count: int,
    revenue_cents: int,
    refunded_cents: int = 0,
) -> Rendered:
    orders = "order" if order_count == 1 else "orders"
    return Rendered(
        subject=f"Daily digest: {order_count} {orders}, {money(revenue_cents)}",
        html=(
            f"<p>From {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC:</p>\n"
            f"<ul><li>Orders: <strong>{order_count}</strong></li>\n"
            f"<li>Revenue: <strong>{money(revenue_cents)}</strong></li>\n"
            f"<li>Refunded: <strong>{money(refunded_cents)}</strong></li></ul>\n"
            "<p>Revenue is net of the refunds made in the period. Cancelled and failed orders "
            "are not counted.</p>"
        ),
    )
