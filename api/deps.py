from typing import Annotated

from fastapi import Depends, Request
from temporalio.client import Client

from api.services import Services
from inngest_temporal import Sessions
from settings import Settings


# Dependencies are `async def` even when they do not await: FastAPI runs a plain `def` on a worker
# thread, a hand-off to a thread and back on every request.
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_sessions(services: ServicesDep) -> Sessions:
    return services.sessions


async def get_settings(services: ServicesDep) -> Settings:
    return services.settings


async def get_client(services: ServicesDep) -> Client:
    return services.client


SessionsDep = Annotated[Sessions, Depends(get_sessions)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ClientDep = Annotated[Client, Depends(get_client)]
