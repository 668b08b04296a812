"""The same signup work written the way a Temporal user would write it by hand, for the benchmark
(bench/compare.py) to measure the engine against: plain `@workflow.defn` workflows calling
`workflow.execute_activity` / `execute_local_activity` with the application's own activity classes
(the same database writes, the same outbox), started directly with the Temporal client by a
minimal signup endpoint. No Pipeline, router, event log or admission gates.

Two modes (RAW_MODE): `naive` runs every step as an ordinary activity; `split` runs the steps
whose activity carries the project's `@local_activity` mark as local activities, the others as
ordinary ones, the same split the project makes.

The trial (RAW_TRIAL): `activity` (default) starts manage-trial-workflow from an activity holding
the client, what a Temporal user writes to start a run that lives on its own (14 days) from a
short one, and what the project's start-trial step does (local in split mode, like the project's,
so the step ids and the local/ordinary split stay the same on both sides); `child` starts it as an
abandoned child workflow instead, the other common way, which costs the provisioning run a second
workflow task (it waits for ChildWorkflowExecutionStarted)."""
