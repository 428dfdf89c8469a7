"""A toy run function for the sweep runner: examples, docs and the runner's own tests.

:func:`toy_run` needs no env and no training: its ``score`` is ``scale + noise · z`` with ``z``
a standard normal drawn from the run's seed, so a sweep over ``scale`` has a known answer and
its confidence intervals a known width. Knobs that exercise the runner's failure paths:
``sleep_s`` (pretend to work), ``fail`` (raise), and ``crash_once_dir`` (the first attempt of
each run kills its own process with ``os._exit``, as a segfault or an OOM kill would; a retry
then succeeds).

Example:
    >>> import tempfile
    >>> out = toy_run({"scale": 2.0, "noise": 0.0, "seed": 0}, tempfile.mkdtemp())
    >>> out["score"], out["attempt"]
    (2.0, 1)
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np


def toy_run(config: dict[str, Any], run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Score ``scale + noise * N(0, 1)`` (seeded); see the module doc for the failure knobs.

    Args:
        config: ``scale`` (default 1.0), ``noise`` (0.0), ``seed`` (0), ``sleep_s`` (0.0),
            ``fail`` (False), ``crash_once_dir`` (None).
        run_dir: the run's folder; a ``marker.txt`` is written there.

    Returns:
        ``score``, ``scale``, ``attempt`` (1 unless a crashed attempt came first) and ``pid``.
    """
    scale = float(config.get("scale", 1.0))
    noise = float(config.get("noise", 0.0))
    seed = int(config.get("seed", 0))
    attempt = 1
    crash_dir = config.get("crash_once_dir")
    if crash_dir is not None:
        tag = f"{config.get('tag', '')}_{scale}_{noise}_{seed}".replace("/", "_")
        marker = Path(crash_dir) / f"crashed_{tag}"
        if not marker.exists():
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text("first attempt crashed\n")
            os._exit(3)  # no exception, no cleanup: the worker process just dies
        attempt = 2
    time.sleep(float(config.get("sleep_s", 0.0)))
    if config.get("fail", False):
        raise RuntimeError(f"toy_run asked to fail (scale {scale}, seed {seed})")
    Path(run_dir, "marker.txt").write_text(f"seed {seed}\n")
    z = float(np.random.default_rng(seed).standard_normal())
    return {"score": scale + noise * z, "scale": scale, "attempt": attempt, "pid": os.getpid()}
