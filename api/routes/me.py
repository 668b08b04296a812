"""The caller's own account: `POST /api/me/onboarding/complete` records that the user finished
onboarding and sends `user/onboarding.completed` (in one transaction), so the drip skips its
day-1 tips. Other producers may send the event itself; `mark-onboarding-completed` sets the flag
from it."""

from fastapi import APIRouter
from sqlalchemy import update

from api.deps import ServicesDep
from api.errors import ERROR_RESPONSES
from api.security import CurrentUser
from db.models import User
from events.users import OnboardingCompleted, OnboardingCompletedData
from inngest_temporal import CamelModel

router = APIRouter(prefix="/api/me", tags=["me"], responses=ERROR_RESPONSES)


class OnboardingStatus(CamelModel):
    user_id: str
    onboarding_completed: bool
    event_id: str


@router.post("/onboarding/complete", response_model=OnboardingStatus)
async def complete_onboarding(who: CurrentUser, services: ServicesDep) -> OnboardingStatus:
    """The signed-in customer's own onboarding. Idempotent: completing twice sends the event once
    (its id is the user's)."""
    user_id = who.id
    event_id = f"onboarding-completed-{user_id}"
    async with services.change() as change:
        await change.session.execute(
            update(User).where(User.id == user_id).values(onboarding_completed=True)
        )
        await change.emit(
            OnboardingCompleted(id=event_id, data=OnboardingCompletedData(user_id=user_id))
        )
    return OnboardingStatus(user_id=user_id, onboarding_completed=True, event_id=event_id)
