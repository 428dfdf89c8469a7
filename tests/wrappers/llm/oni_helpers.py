"""Helpers shared by the ONI tests (classification and ranking models)."""

from __future__ import annotations

import itertools
import time


def scripted_captions(captions):
    """A captioner that cycles through ``captions``, whatever the transition."""
    it = itertools.cycle(captions)
    return lambda before, after: next(it)


class NoRequests:
    """A backend that fails the test if anything asks it for a completion."""

    name, model = "fixed", "fixed"

    def complete(self, messages, **kw):
        raise AssertionError("no request expected")


def until(predicate, timeout=10.0):
    """Wait for ``predicate()`` (a background thread's result), failing after ``timeout`` s."""
    end = time.perf_counter() + timeout
    while not predicate():
        assert time.perf_counter() < end, "timed out"
        time.sleep(0.01)
