"""The single RouteDrive env: the kit's single shell over :class:`DriveCore` with one world."""

from __future__ import annotations

import dataclasses
from typing import Any

from rewardgym.envs.driving.config import DriveConfig
from rewardgym.envs.driving.core import DriveAccess, DriveCore
from rewardgym.envs.native.single import NativeEnv


class RouteDriveEnv(DriveAccess, NativeEnv):
    """Drive a route through procedurally generated traffic scenes, rewarded as CaRL rewards.

    ## Description
    A 2D world at 10 Hz after CaRL (Jaeger et al., "CaRL: Learning Scalable Planning Policies
    with Simple Rewards", CoRL 2025): a kinematic-bicycle ego car follows a route through a
    road template (straight/curved multi-lane roads, signalised 4-way and T junctions, an
    on-ramp merge) drawn from a seeded scenario bank, among IDM traffic cars (Treiber et al.
    2000), some of which run red lights.

    ## Observation
    ``obs_mode="vector"``: ``Box(-5, 5, (80,), float32)``: ego state (speed / limit, limit,
    steering, previous action, lateral offset, heading error), 10 route points 4–40 m ahead in
    the ego frame, the 6 nearest cars (position, heading, speed, mask), the next traffic light
    (one-hot state, distance, time to change), route completion, and the timers the reward
    depends on (time left, blocked countdown, route left, the TTC and the six comfort
    countdowns: CaRL's 10 value measurements, kept in the observation since SB3 has no
    critic-only inputs).
    ``obs_mode="bev"`` adds ``bev``: ``uint8 (4, 48, 48)`` ego-centric raster at 1 px/m (road,
    route, cars coded by speed, stop lines coded by light state).

    ## Action
    ``Box(-1, 1, (2,))``: steering (× 0.6 rad, + turns left, rate-limited) and acceleration
    (+3 m/s² / −6 m/s² braking); ``action_mode="discrete"``: 15 actions (5 steering levels ×
    brake, coast, accelerate).  ``metadata["action_policy"]``: finite continuous actions are
    clipped to ``[-1, 1]``; non-finite ones, wrong shapes and discrete actions outside
    ``[0, 14]`` raise ``ValueError`` (the suite's rule per space kind, ``envs/action_policy.py``).

    ## Reward
    ``reward_mode="carl"`` (default): ΔRC × Π soft factors (speeding, TTC, comfort, lane centre,
    outside route lanes) − 1 once when the episode ends on a collision or red light; an episode
    returns at most 100.  ``"roach"``: Roach's summed speed, position, rotation, action and
    terminal terms (−1 on every episode end, as CaRL's reproduction).
    ``"progress"``: ΔRC only, with the infraction signals in ``info`` for
    :class:`~rewardgym.wrappers.InfractionPenalty` (with :func:`infraction_table` it equals
    ``"carl"`` exactly).  ``"sparse"``: 100 on finishing the route.  ``info["reward_terms"]``
    decomposes every mode.

    ## Episode end
    Terminates on collision, red light, off road, off route, wrong way, blocked, or on
    finishing the route (``info["is_success"]``); truncates at the route's time limit.
    ``info`` always holds the named infraction signals, their bitmask ``infraction``,
    ``route_completion`` (0–100), this step's ``progress`` and the leaderboard-style
    ``driving_score`` = RC × Π penalties (final at episode end).

    ## Version history
    * v1: CaRL's comfort (Savitzky–Golay filters, one hold per metric), lane-centre distance
      to the nearest lane, TTC on every actor (not at standstill), one terminal penalty per
      episode end, Roach's hazard geometry and −1 on truncation, no driving-score multiplier
      for a route timeout, 10 value features.
    * v0: initial release.

    Example:
        >>> import numpy as np
        >>> env = RouteDriveEnv()
        >>> obs, info = env.reset(seed=0)
        >>> obs.shape, info["route_completion"]
        ((80,), 0.0)
        >>> obs, reward, terminated, truncated, info = env.step(np.array([0.0, 0.5]))
        >>> sorted(info["reward_terms"])
        ['progress', 'terminal']
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, config: DriveConfig | None = None, render_mode: str | None = None,
                 **overrides: Any) -> None:
        base = DriveConfig() if config is None else config
        self.config = cfg = dataclasses.replace(base, **overrides)
        if cfg.num_egos != 1:
            raise ValueError(f"RouteDriveEnv: num_egos must be 1 (got {cfg.num_egos}); use "
                             "RouteDriveParallelEnv for several egos")
        super().__init__(DriveCore(cfg, 1), render_mode)


__all__ = ["RouteDriveEnv"]
