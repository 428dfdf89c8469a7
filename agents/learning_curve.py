"""One learning-curve callback for every study: training success/return and periodic evaluations.

:class:`LearningCurveCallback` watches the episodes that finish during ``learn`` (PPO, SAC,
MaskablePPO alike: it reads SB3's per-step ``dones`` and ``infos``) and records points:

* **training points** (``points``): the success rate (``info["is_success"]`` at episode end, the
  same episodes SB3's ``ep_success_buffer`` holds) and the mean episode return
  (``info["episode"]["r"]``, present when episode statistics are recorded) over the last
  ``window`` finished episodes, once ``window`` episodes have finished. Early on the episodes that
  have ended are the short ones (often the successful ones), so a partial window would overstate
  the success rate; no point is recorded before the window is full. ``every="rollout"`` records
  one point per rollout (on-policy), ``every="episode"`` one per finished episode (off-policy,
  where a "rollout" is a single step).
* **evaluation points** (``evaluations``): every ``eval_every`` env steps (checked at the start of
  each rollout, and at step 0), ``evaluate(model)`` is called and its dict recorded.

Each point carries ``steps`` (``model.num_timesteps``) and ``wall_s`` (seconds since training
started). ``max_seconds`` stops training at a wall-clock budget.

Example:
    >>> cb = LearningCurveCallback(window=10, every="episode")
    >>> cb.points, cb.evaluations
    ([], [])
    >>> cb.first_reaching("success", 0.9) is None
    True
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

EVERY = ("rollout", "episode")


class LearningCurveCallback(BaseCallback):
    """Record training success/return over a window of episodes, and periodic evaluations.

    Args:
        window: finished episodes averaged in a training point (SB3's buffers hold 100).
        every: ``"rollout"`` (a point per rollout) or ``"episode"`` (a point per finished
            episode).
        evaluate: optional ``evaluate(model) -> dict`` of numbers, called every ``eval_every``
            env steps.
        eval_every: env steps between evaluations (required with ``evaluate``).
        max_seconds: stop ``learn`` once this much wall-clock time has passed (``None``: no
            budget).
        verbose: SB3 verbosity.

    Example:
        >>> cb = LearningCurveCallback(window=5, every="rollout", max_seconds=60.0)
        >>> cb.window, cb.every
        (5, 'rollout')
    """

    def __init__(self, *, window: int = 100, every: str = "rollout",
                 evaluate: Callable[[Any], dict[str, Any]] | None = None,
                 eval_every: int | None = None, max_seconds: float | None = None,
                 verbose: int = 0) -> None:
        super().__init__(verbose)
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"LearningCurveCallback: window must be an int >= 1, got {window!r}")
        if every not in EVERY:
            raise ValueError(f"LearningCurveCallback: every must be one of {EVERY}, "
                             f"got {every!r}")
        if (evaluate is None) != (eval_every is None):
            raise ValueError("LearningCurveCallback: evaluate and eval_every go together, got "
                             f"evaluate={evaluate!r}, eval_every={eval_every!r}")
        if eval_every is not None and (isinstance(eval_every, bool) or eval_every < 1):
            raise ValueError(f"LearningCurveCallback: eval_every must be >= 1, got {eval_every!r}")
        if max_seconds is not None and not max_seconds > 0:
            raise ValueError(f"LearningCurveCallback: max_seconds must be > 0, got {max_seconds!r}")
        self.window = window
        self.every = every
        self.evaluate = evaluate
        self.eval_every = eval_every
        self.max_seconds = max_seconds
        self.points: list[dict[str, Any]] = []
        self.evaluations: list[dict[str, Any]] = []
        self.episodes = 0
        self._successes: deque[float] = deque(maxlen=window)
        self._returns: deque[float] = deque(maxlen=window)
        self._start = time.perf_counter()
        self._next_eval = 0

    def _on_training_start(self) -> None:
        self._start = time.perf_counter()
        self._next_eval = self.num_timesteps

    def _elapsed(self) -> float:
        return time.perf_counter() - self._start

    def _on_rollout_start(self) -> None:
        if self.evaluate is not None and self.num_timesteps >= self._next_eval:
            while self._next_eval <= self.num_timesteps:
                self._next_eval += self.eval_every
            self.evaluations.append({"steps": int(self.num_timesteps),
                                     **self.evaluate(self.model), "wall_s": self._elapsed()})

    def _on_step(self) -> bool:
        dones = self.locals.get("dones")
        infos = self.locals.get("infos")
        if dones is not None and infos is not None:
            for done, info in zip(dones, infos, strict=True):
                if not done:
                    continue
                self.episodes += 1
                if "is_success" in info:  # the same rule as SB3's ep_success_buffer
                    self._successes.append(float(info["is_success"]))
                episode = info.get("episode")
                if isinstance(episode, dict) and "r" in episode:
                    self._returns.append(float(episode["r"]))
                if self.every == "episode":
                    self._record()
        return self.max_seconds is None or self._elapsed() < self.max_seconds

    def _on_rollout_end(self) -> None:
        if self.every == "rollout":
            self._record()

    def _record(self) -> None:
        full_success = len(self._successes) == self.window
        full_return = len(self._returns) == self.window
        if not (full_success or full_return):
            return
        self.points.append({
            "steps": int(self.num_timesteps),
            "success": float(np.mean(self._successes)) if full_success else None,
            "return": float(np.mean(self._returns)) if full_return else None,
            "episodes": self.episodes,
            "wall_s": self._elapsed(),
        })

    def first_reaching(self, key: str, threshold: float) -> int | None:
        """Env steps of the first training point whose ``key`` is >= ``threshold`` (or None)."""
        for point in self.points:
            value = point.get(key)
            if value is not None and not math.isnan(value) and value >= threshold:
                return point["steps"]
        return None

    def last(self, key: str) -> float | None:
        """``key`` of the last training point (None before the first full window)."""
        return self.points[-1][key] if self.points else None


__all__ = ["EVERY", "LearningCurveCallback"]
