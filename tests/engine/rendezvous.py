"""Two workflow runs' activations made to overlap on the worker's threads: a run holds its
activation until the test lets it go. Passed through to the sandbox, so the runs and the test
share these events."""

import threading

HOLDING = threading.Event()
GO_ON = threading.Event()


def hold() -> None:
    HOLDING.set()
    GO_ON.wait(timeout=1.5)  # under the SDK's deadlock detector (2 s)
