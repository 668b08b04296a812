"""The project against hand-written Temporal (issue 11): the same signups, at the same steady rate,
through the project's API and worker and through the raw rendition in bench/raw/ (once with
every step an ordinary activity, once with the project's local/ordinary split), in one run, side
by side, with ratios.

    python -m bench.compare [--n 120] [--rate 2] [--with-encryption-too]

Each rendition gets a fresh dev server and app database (same flags; the same SQLite driver and
pragmas: inngest_temporal.create_engine), so no rendition inherits another's backlog or history,
and the server's CPU is its own; they run one after the other (--order, --rounds to alternate the
order and pool the figures). Other sessions share this machine: the load and the CPU others used
during each rendition are printed, and the ratios are what to read.

The project's throttle and concurrency limits are lifted through FUNCTION_OVERRIDES so that a
production limit (10 welcome emails a minute) does not dominate; its gates still run."""

import argparse
import asyncio
import json
import os
import sys

from bench.ingest import lifted_limits, signup_functions
from bench.measure import Measured, Rendition, measure
from bench.report import print_report
from bench.stack import PROJECT_API
from inngest_temporal.codec import SETTING, generate_key

RAW_WORKER = ["-m", "bench.raw.worker"]
RAW_API = ("bench.raw.api:app",)


def renditions(args: argparse.Namespace) -> list[Rendition]:
    overrides = {"FUNCTION_OVERRIDES": json.dumps(lifted_limits(signup_functions()))}
    # The key is passed whether or not the project reads it yet: the report says whether the
    # histories came out encrypted.
    key = {SETTING: generate_key()}
    trial = {"RAW_TRIAL": args.raw_trial}
    chosen = {
        "project": Rendition("project", None, PROJECT_API, overrides),
        "raw-naive": Rendition("raw-naive", RAW_WORKER, RAW_API, {"RAW_MODE": "naive", **trial}),
        "raw-split": Rendition("raw-split", RAW_WORKER, RAW_API, {"RAW_MODE": "split", **trial}),
        # The trial as a child workflow whatever --raw-trial says, to see what that choice costs.
        "raw-split-child": Rendition(
            "raw-split-child", RAW_WORKER, RAW_API, {"RAW_MODE": "split", "RAW_TRIAL": "child"}
        ),
        "project+key": Rendition("project+key", None, PROJECT_API, {**overrides, **key}),
        "raw-split+key": Rendition(
            "raw-split+key", RAW_WORKER, RAW_API, {"RAW_MODE": "split", **trial, **key}
        ),
    }
    names = args.order.split(",")
    if args.with_encryption_too:
        names += ["project+key", "raw-split+key"]
    return [chosen[n] for n in names]


async def main(args: argparse.Namespace) -> None:
    plan = renditions(args)
    print(
        f"machine: nproc={os.cpu_count()}, load average {os.getloadavg()[0]:.2f} at start; "
        f"{args.n} signups per rendition at {args.rate}/s after {args.warmup} warm-up signups; "
        f"order {', '.join(r.name for r in plan)} x {args.rounds} round(s); "
        f"raw trial started by {args.raw_trial}",
        flush=True,
    )
    results: dict[str, list[Measured]] = {r.name: [] for r in plan}
    for round_number in range(args.rounds):
        # Alternate the order between rounds, so drift in the machine's load favours no one.
        for rendition in plan if round_number % 2 == 0 else list(reversed(plan)):
            print(f"  running {rendition.name} ...", end="", flush=True)
            m = await measure(rendition, args.n, args.warmup, args.rate)
            print(
                f" {m.wall_seconds:.0f}s, load {m.load_average[0]:.2f}->{m.load_average[1]:.2f}, "
                f"others used {m.other_cpu_seconds / m.wall_seconds:.2f} cores",
                flush=True,
            )
            results[rendition.name].append(m)
    print_report(results, args)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--n", type=int, default=120, help="measured signups per rendition")
    parser.add_argument("--rate", type=float, default=2.0, help="signups per second")
    parser.add_argument("--warmup", type=int, default=10, help="signups before measuring")
    parser.add_argument(
        "--order",
        default="project,raw-naive,raw-split",
        help="renditions, comma-separated: project, raw-naive, raw-split, raw-split-child",
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--raw-trial",
        choices=["child", "activity"],
        default="activity",
        help="how the raw provisioning run starts the trial (see bench/raw/__init__.py)",
    )
    parser.add_argument(
        "--with-encryption-too",
        action="store_true",
        help=f"also run the project and raw-split with {SETTING} set",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args(sys.argv[1:])))
