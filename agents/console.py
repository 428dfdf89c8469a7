"""One rich ``Console`` factory, so tables stay whole when the output is piped.

Rich formats for 80 columns when stdout is not a terminal, which folds or cuts long cells (run
directories, env ids) in ``rewardgym ... | tee log``. Piped output gets a wide console instead, so
every row stays on one line and paths can be copied; ``COLUMNS`` still wins when set.

Example:
    >>> make_console(width=120).width
    120
"""

from __future__ import annotations

import os
import sys

from rich.console import Console

__all__ = ["PIPED_WIDTH", "make_console"]

#: Width of a console whose stream is not a terminal (tables are only as wide as their content).
PIPED_WIDTH = 400


def make_console(*, stderr: bool = False, width: int | None = None) -> Console:
    """A rich console for ``stdout`` (or ``stderr``) that is not cut at 80 columns when piped.

    Args:
        stderr: Write to ``sys.stderr`` instead of ``sys.stdout``.
        width: Force a width; None: the terminal's, or ``COLUMNS``, or :data:`PIPED_WIDTH`.
    """
    stream = sys.stderr if stderr else sys.stdout
    if width is None and not stream.isatty() and "COLUMNS" not in os.environ:
        width = PIPED_WIDTH
    return Console(stderr=stderr, width=width)
