"""Reference drivers for RouteDrive that read only the vector observation.

:class:`RouteFollower` is a pure-pursuit planner (Coulter, "Implementation of the Pure Pursuit
Path Tracking Algorithm", CMU-RI-TR-92-01, 1992) with a speed controller that stops for red
and yellow lights and keeps a gap to the car ahead; with lights and cars ignored it is the
scripted "reckless" driver the infraction tests use.  Batched: it maps ``(n, D)`` observations to
``(n, 2)`` actions, so it runs on single and vector envs alike.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rewardgym.envs.driving import kernels as k
from rewardgym.envs.driving.config import DriveConfig

_LOOK = k.EGO_FEATURES
_ACTORS = _LOOK + 2 * k.LOOKAHEAD
_LIGHT = _ACTORS + k.ACTORS * k.ACTOR_FEATURES


@dataclasses.dataclass(frozen=True)
class RouteFollower:
    """Pure pursuit along the route look-ahead points, with a simple speed policy.

    Args:
        speed_frac: target speed as a fraction of the speed limit.
        lookahead_point: which look-ahead point to pursue (0: 4 m, 1: 8 m, ...).
        stop_for_lights: brake to stop before red and yellow lights.
        keep_distance: slow down for cars ahead in the ego's lane.
        config: the env's config (wheelbase, steering and acceleration limits).

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> env = gym.make("rewardgym/RouteDrive-v1")
        >>> driver = RouteFollower()
        >>> obs, _ = env.reset(seed=0)
        >>> action = driver(obs)
        >>> action.shape, bool(abs(action).max() <= 1.0)
        ((2,), True)
    """

    speed_frac: float = 0.8
    lookahead_point: int = 1
    stop_for_lights: bool = True
    keep_distance: bool = True
    config: DriveConfig = dataclasses.field(default_factory=DriveConfig)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """Actions ``[steer, accel]`` in ``[-1, 1]`` for one observation or a batch."""
        batch = np.atleast_2d(np.asarray(obs["vec"] if isinstance(obs, dict) else obs))
        cfg = self.config
        vlim = batch[:, 1] * 25.0
        v = batch[:, 0] * vlim
        px = batch[:, _LOOK + 2 * self.lookahead_point] * 40.0
        py = batch[:, _LOOK + 2 * self.lookahead_point + 1] * 40.0
        distance2 = np.maximum(px * px + py * py, 1e-6)
        curvature = 2.0 * py / distance2
        steer = np.arctan(cfg.wheelbase * curvature) / cfg.max_steer
        target = self.speed_frac * vlim
        if self.stop_for_lights:
            red_or_yellow = (batch[:, _LIGHT + k.RED] + batch[:, _LIGHT + k.YELLOW]) > 0
            gap = batch[:, _LIGHT + 3] * 50.0 - 3.0  # stop ~3 m before the line
            braking = np.sqrt(2.0 * 0.5 * cfg.max_brake * np.maximum(gap, 0.0))
            target = np.where(red_or_yellow, np.minimum(target, braking), target)
        if self.keep_distance:
            actors = batch[:, _ACTORS:_LIGHT].reshape(len(batch), k.ACTORS, k.ACTOR_FEATURES)
            ahead = actors[:, :, 0] * k.SENSE_RANGE
            side = np.abs(actors[:, :, 1]) * k.SENSE_RANGE
            in_lane = (actors[:, :, 5] > 0) & (ahead > 0) & (side < 2.5)
            gap = np.where(in_lane, ahead - cfg.car_length - 3.0, np.inf).min(axis=1)
            safe = np.sqrt(2.0 * 0.5 * cfg.max_brake * np.maximum(gap, 0.0))
            target = np.minimum(target, safe)
        accel = np.where(target > v, 2.0 * (target - v) / cfg.max_accel,
                         4.0 * (target - v) / cfg.max_brake)
        actions = np.stack([np.clip(steer, -1, 1), np.clip(accel, -1, 1)], axis=1)
        actions = actions.astype(np.float32)
        return actions[0] if np.ndim(obs["vec"] if isinstance(obs, dict) else obs) == 1 else actions
