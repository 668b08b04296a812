"""The loyalty ledger: points credited once per order, within the ledger's integer column."""

import pytest

from activities.loyalty import LoyaltyActivities, LoyaltyCredit
from inngest_temporal import NonRetriableError, Sessions
from tests.shop import add_order, add_product, add_user


async def credit(sessions: Sessions, total_cents: int) -> LoyaltyCredit:
    customer = await add_user(sessions)
    order = await add_order(sessions, customer.id, [(await add_product(sessions, 5), 1, 2_500)])
    return LoyaltyCredit(
        order_id=order.data.order_id, customer_id=customer.id, total_cents=total_cents
    )


async def test_an_order_is_credited_once(sessions: Sessions) -> None:
    loyalty = LoyaltyActivities(sessions)
    request = await credit(sessions, 2_599)

    first, again = (
        await loyalty.credit_loyalty_points(request),
        await loyalty.credit_loyalty_points(request),
    )

    assert (first.credited, first.points, first.balance) == (True, 25, 25)
    assert (again.credited, again.points, again.balance) == (False, 25, 25)


async def test_points_beyond_the_ledger_column_are_refused(sessions: Sessions) -> None:
    loyalty = LoyaltyActivities(sessions)
    request = await credit(sessions, (2**31) * 100)

    with pytest.raises(NonRetriableError, match="over the limit"):
        await loyalty.credit_loyalty_points(request)
