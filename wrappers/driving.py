"""RouteDrive's reward presets on the wrappers floor: its infraction table and its potential.

``reward_mode="progress"`` pays raw route-completion gains and leaves the infractions in
``info``; wrapping it in :class:`~rewardgym.wrappers.InfractionPenalty` with
:func:`infraction_table` of the same config reproduces ``reward_mode="carl"`` exactly (a test
pins it). CaRL's own table (:data:`~rewardgym.wrappers.CARL_TABLE`) differs only in the TTC
hold (500 ticks) and matches configs with ``ttc_hold_steps=500``.

Comfort: CaRL holds each of the six comfort metrics for its own countdown, so the env keeps
those countdowns (``comfort_hold_steps``) and reports ``info["comfort"]`` = the share of the six
metrics currently penalised; the table's ``comfort`` rule therefore holds nothing itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rewardgym.envs.driving.config import DriveConfig
from rewardgym.wrappers.infractions import InfractionRule


def infraction_table(config: DriveConfig | None = None) -> tuple[InfractionRule, ...]:
    """The :class:`InfractionRule` table that turns ``progress`` mode into ``carl`` mode.

    Example:
        >>> table = infraction_table(DriveConfig(ttc_hold_steps=20))
        >>> [r.hold_steps for r in table if r.name == "ttc"]
        [20]
    """
    cfg = DriveConfig() if config is None else config
    t = -cfg.terminal_penalty
    return (
        InfractionRule("collision", terminate=True, terminal_reward=t),
        InfractionRule("red_light", terminate=True, terminal_reward=t),
        InfractionRule("off_road", terminate=True),
        InfractionRule("off_route", terminate=True),
        InfractionRule("wrong_way", terminate=True),
        InfractionRule("blocked", terminate=True),
        InfractionRule("speeding", weight=1.0),
        InfractionRule("ttc", factor=cfg.ttc_factor, hold_steps=cfg.ttc_hold_steps),
        InfractionRule("comfort", weight=cfg.comfort_weight),
        InfractionRule("lane_center", weight=1.0),
        InfractionRule("outside_route_lanes", factor=0.0),
    )


def route_progress_potential(obs: Any, info: dict[str, Any]) -> Any:
    """Φ = route completion in percent (``info["route_completion"]``), single or batched.

    The built-in ``"route_progress"`` potential of
    :class:`~rewardgym.wrappers.PotentialShaping`: with ``scale=1`` and γ close to 1 its
    shaping term is about the route progress of the step (what ``"progress"`` mode pays).
    """
    value = np.asarray(info["route_completion"], dtype=np.float64)
    return float(value) if value.ndim == 0 else value


__all__ = ["infraction_table", "route_progress_potential"]
