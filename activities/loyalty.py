"""The loyalty ledger: points for a fulfilled order, credited once per order."""

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from temporalio import activity

from db.models import LoyaltyEntry
from inngest_temporal import CamelModel, NonRetriableError, Sessions, insert_ignore, local_activity

CENTS_PER_POINT = 100  # one point per whole dollar spent
MAX_POINTS = 2**31 - 1  # loyalty_ledger.points: a 32-bit integer on PostgreSQL


class LoyaltyCredit(CamelModel):
    order_id: str
    customer_id: str
    total_cents: int


class LoyaltyBalance(CamelModel):
    credited: bool  # False when this order's points were credited before
    points: int
    balance: int


class LoyaltyActivities:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    @local_activity
    @activity.defn
    async def credit_loyalty_points(self, credit: LoyaltyCredit) -> LoyaltyBalance:
        points = credit.total_cents // CENTS_PER_POINT
        if points > MAX_POINTS:
            # No real order is that large (orders.total_cents is 32-bit too): a wrong event.
            raise NonRetriableError(f"{points} points for order {credit.order_id}: over the limit")
        async with self._sessions() as session:
            try:
                # The ledger's unique order id makes a second delivery of the event a no-op;
                # RETURNING answers only for a row this call inserted.
                inserted = await session.scalar(
                    insert_ignore(session, LoyaltyEntry)
                    .values(order_id=credit.order_id, customer_id=credit.customer_id, points=points)
                    .returning(LoyaltyEntry.id)
                )
                await session.commit()
            except IntegrityError as err:
                raise NonRetriableError(
                    f"order {credit.order_id} or customer {credit.customer_id} does not exist"
                ) from err
            balance = await session.scalar(
                select(func.coalesce(func.sum(LoyaltyEntry.points), 0)).where(
                    LoyaltyEntry.customer_id == credit.customer_id
                )
            )
        return LoyaltyBalance(
            credited=inserted is not None, points=points, balance=int(balance or 0)
        )
