"""The one way tests wait for state that lives in another thread or process (a store, a pty, CUPS)
and has no event to block on: poll with a deadline, never a bare sleep."""
from __future__ import annotations

import time

import pytest


def wait_until(predicate, timeout: float = 10.0, what: str = "condition", interval: float = 0.01):
    """Return predicate()'s first truthy value; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
