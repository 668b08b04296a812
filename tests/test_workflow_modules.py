"""Runs of one workflow module share its module-level state: the engine's sandbox loads each
workflow module once per worker (inngest_temporal/sandbox.py). A pipeline keeps its state on its
instance, so no pipeline module holds a mutable value at module level."""

import sys

from application import FUNCTIONS
from inngest_temporal.gate import GateWorkflow

MUTABLE = (list, dict, set, bytearray)


def test_no_pipeline_module_holds_mutable_state() -> None:
    modules = {sys.modules[cls.__module__] for cls in [*FUNCTIONS, GateWorkflow]}
    mutable = sorted(
        f"{module.__name__}.{name}"
        for module in modules
        for name, value in vars(module).items()
        if not name.startswith("__") and isinstance(value, MUTABLE)
    )
    assert mutable == []
