"""The same signup work written the way a Temporal user would write it by hand, for the benchmark
(bench/compare.py) to measure the engine against: plain `@workflow.defn` workflows calling
`workflow.execute_activity` / `execute_local_activity` with the application's own activity classes
(the same database writes, the same outbox), started directly with the Temporal client by a
minimal signup endpoint. No Pipeline, router, event log or admission gates.

Two modes (RAW_MODE): `naive` runs every step as an ordinary activity; `split` runs the steps
whose activity carries the project's `@local_activity` mark as local activities, the others as
ordinary ones, the same split the project makes.

The trial (RAW_TRIAL): `child` (default) starts manage-trial-workflow as an abandoned child
workflow of provision-account, what a Temporal user writes to start an independent run from a
workflow; `activity` starts it from an activity with the client, as the project's send_event
step does (local in split mode, like the project's)."""
