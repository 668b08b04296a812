"""The comparison's tables: per-signup figures side by side with their ratios, then where the
figures come from (history shapes, time inside a provisioning run) and how loaded the machine was.
Rounds of one rendition are pooled: CPU summed over every signup, latencies merged."""

import argparse
from collections.abc import Callable

from bench.drive import percentile
from bench.histories import COUNTED
from bench.measure import Measured

# (numerator, denominator, column heading)
RATIOS = (
    ("project", "raw-naive", "proj/naive"),
    ("project", "raw-split", "proj/split"),
    ("project+key", "project", "key cost proj"),
    ("raw-split+key", "raw-split", "key cost split"),
)

Figure = Callable[[list[Measured]], float]


def _cpu_ms(process: str) -> Figure:
    def figure(ms: list[Measured]) -> float:
        return sum(m.cpu_seconds.get(process, 0.0) for m in ms) * 1000 / sum(m.signups for m in ms)

    return figure


def _request(q: float) -> Figure:
    return lambda ms: percentile(sorted(x for m in ms for x in m.driven.latencies_ms), q)


def _provision(q: float) -> Figure:
    return lambda ms: percentile(
        sorted(s.start_to_close_ms for m in ms for s in m.provision if s.start_to_close_ms), q
    )


def _per_signup(label: str | None) -> Figure:
    """History events (label None) or counted events of every type, per signup."""

    def figure(ms: list[Measured]) -> float:
        total = 0.0
        for m in ms:
            for t in m.types:
                per_run = t.events_per_run if label is None else t.counts_per_run[label]
                total += per_run * t.runs
        # Types count the warm-up's runs too: divide by every signup the server saw.
        return total / sum(m.signups + m.warmup for m in ms)

    return figure


ROWS: tuple[tuple[str, Figure], ...] = (
    ("Temporal server CPU ms", _cpu_ms("temporal")),
    ("worker CPU ms", _cpu_ms("worker")),
    ("API CPU ms", _cpu_ms("api")),
    ("  all three, ms", lambda ms: sum(_cpu_ms(p)(ms) for p in ("temporal", "worker", "api"))),
    ("signup request p50 ms", _request(0.50)),
    ("signup request p99 ms", _request(0.99)),
    ("provision-account p50 ms", _provision(0.50)),
    ("provision-account p99 ms", _provision(0.99)),
    ("history events", _per_signup(None)),
    ("workflow tasks", _per_signup("workflow tasks")),
    ("activity tasks", _per_signup("activity tasks")),
    ("local activities", _per_signup("local activities")),
    ("signals + updates", lambda ms: sum(_per_signup(k)(ms) for k in ("signals in", "updates"))),
    # What the server spends per event written: it follows the event count closely.
    ("server CPU ms / event", lambda ms: _cpu_ms("temporal")(ms) / _per_signup(None)(ms)),
)


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def _row(label: str, values: list[float], width: int) -> str:
    return f"{label:28}" + "".join(f"{v:>{width}.{1 if abs(v) < 100 else 0}f}" for v in values)


def print_report(results: dict[str, list[Measured]], args: argparse.Namespace) -> None:
    names = [n for n, ms in results.items() if ms]
    ratios = [(a, b, h) for a, b, h in RATIOS if a in results and b in results]
    width = 15
    head = [*names, *(h for _, _, h in ratios)]
    print(f"\nper signup ({args.n} signups at {args.rate}/s per rendition, x{args.rounds})")
    if ratios:
        print("ratios: " + "; ".join(f"{h} = {a} / {b}" for a, b, h in ratios))
    print(f"{'':28}" + "".join(f"{h:>{width}}" for h in head))
    for label, figure in ROWS:
        values = {n: figure(results[n]) for n in names}
        shown = [values[n] for n in names] + [_ratio(values[a], values[b]) for a, b, _ in ratios]
        print(_row(label, shown, width))
    _print_provision_breakdown(results, names, width)
    _print_types(results, names)
    _print_conditions(results, names)


def _print_provision_breakdown(
    results: dict[str, list[Measured]], names: list[str], width: int
) -> None:
    print("\nprovision-account: where its time goes, mean ms per run (from the histories)")
    labels = ["workflow task queued", "workflow task running", "activity queued"]
    labels += ["activity running"]
    print(f"{'':28}" + "".join(f"{n:>{width}}" for n in names))
    for label in labels:
        values = []
        for n in names:
            shapes = [s for m in results[n] for s in m.provision]
            values.append(sum(s.phases_ms.get(label, 0.0) for s in shapes) / max(len(shapes), 1))
        print(_row(label, values, width))


def _print_types(results: dict[str, list[Measured]], names: list[str]) -> None:
    print("\nruns per signup and what one run takes (history events; tasks, markers, messages)")
    short = {"workflow tasks": "wft", "activity tasks": "act", "local activities": "local"}
    short |= {"signals in": "sig-in", "signals out": "sig-out", "updates": "upd"}
    short |= {"timers": "timers", "children": "child", "patch markers": "patch"}
    for n in names:
        m = results[n][0]
        signups = m.signups + m.warmup
        print(f"  {n}:")
        for t in m.types:
            counts = ", ".join(
                f"{short[label]} {t.counts_per_run[label]:.1f}"
                for label, _ in COUNTED
                if t.counts_per_run[label]
            )
            print(
                f"    {t.workflow_type:30} {t.runs / signups:5.2f} runs/signup "
                f"({t.runs} runs, {t.runs_read} read): {t.events_per_run:6.1f} events/run; {counts}"
            )


def _print_conditions(results: dict[str, list[Measured]], names: list[str]) -> None:
    print("\nconditions")
    for n in names:
        for m in results[n]:
            failures = sum(m.driven.failures.values())
            cpu = ", ".join(f"{p} {s:.1f}" for p, s in m.cpu_seconds.items())
            encrypted = {None: "not checked", True: "yes", False: "no"}[m.encrypted]
            idle = ", ".join(f"{p} {c * 1000:.0f}" for p, c in m.idle_cores.items() if p != "bench")
            others = max(m.other_cpu_seconds, 0.0) / m.wall_seconds  # ticks can round below 0
            alone = [m]
            print(
                f"  {n}: {m.wall_seconds:.0f}s from first signup to drained; load average "
                f"{m.load_average[0]:.2f} -> {m.load_average[1]:.2f}; other processes used "
                f"{others:.2f} cores meanwhile; CPU s: {cpu}; "
                f"failed requests {failures} {m.driven.failures or ''}; runs not completed "
                f"{m.failed or 0}; payloads encrypted: {encrypted}; "
                f"idle CPU ms/s: {idle}\n    this run alone: "
                + ", ".join(f"{label.strip()} {figure(alone):.1f}" for label, figure in ROWS[:8])
            )
