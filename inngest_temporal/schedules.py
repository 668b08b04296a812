"""Cron-triggered functions become Temporal Schedules, created or updated idempotently at worker
start: any number of workers starting at once leave exactly one schedule per function."""

import logging

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from inngest_temporal.events import ScheduledTimer, ScheduledTimerData
from inngest_temporal.function import Cron, FunctionSpec
from inngest_temporal.registry import Registry

log = logging.getLogger("inngest_temporal.schedules")


def schedule_id(function: FunctionSpec) -> str:
    return f"cron-{function.id}"


def build_schedule(function: FunctionSpec, task_queue: str, time_zone: str) -> Schedule:
    assert isinstance(function.trigger, Cron)
    cron = function.trigger.expression
    return Schedule(
        action=ScheduleActionStartWorkflow(
            function.id,
            ScheduledTimer(data=ScheduledTimerData(cron=cron)),
            id=function.id,
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(cron_expressions=[cron], time_zone_name=time_zone),
    )


async def ensure_schedules(
    client: Client, registry: Registry, task_queue: str, time_zone: str
) -> list[str]:
    ids = []
    for function in registry.scheduled:
        schedule = build_schedule(function, task_queue, time_zone)
        sid = schedule_id(function)
        try:
            await client.create_schedule(sid, schedule)
            log.info("created schedule %s", sid)
        except ScheduleAlreadyRunningError:

            def replace(_: ScheduleUpdateInput, new: Schedule = schedule) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=new)

            await client.get_schedule_handle(sid).update(replace)
        ids.append(sid)
    return ids
