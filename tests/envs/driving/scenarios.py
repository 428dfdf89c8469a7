"""Scripted RouteDrive scenarios: set up a world by hand, then drive it with a fixed policy."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from rewardgym.envs.driving import RouteDriveEnv
from rewardgym.envs.driving import kernels as k
from rewardgym.envs.driving.baselines import RouteFollower

HARD = ("collision", "red_light", "off_road", "off_route", "wrong_way", "blocked")
SOFT = ("speeding", "ttc", "comfort", "lane_center", "outside_route_lanes")


def route_point(env: RouteDriveEnv, s: float) -> tuple[float, float, float]:
    """World position and heading at arc ``s`` of the ego's route."""
    bank, world = env._bank, env._world
    tm, r = world.wi[0, k.W_TMPL], world.ei[0, 0, k.E_ROUTE]
    n = bank.route_n[tm, r]
    arc = bank.route_s[tm, r, :n]
    j = int(np.clip(np.searchsorted(arc, s) - 1, 0, n - 2))
    a, b = bank.route_xy[tm, r, j], bank.route_xy[tm, r, j + 1]
    f = (s - arc[j]) / (arc[j + 1] - arc[j])
    p = a + f * (b - a)
    return float(p[0]), float(p[1]), math.atan2(b[1] - a[1], b[0] - a[0])


def put_npc_ahead(env: RouteDriveEnv, ahead_m: float, speed: float, npc: int = 0) -> None:
    """Place traffic car ``npc`` on the ego's lane ``ahead_m`` metres ahead, at ``speed``."""
    bank, world = env._bank, env._world
    tm = world.wi[0, k.W_TMPL]
    x, y, yaw = route_point(env, world.ef[0, 0, k.E_S] + ahead_m)
    best = (1e9, 0, 0)
    for lane in range(bank.n_lanes[tm]):
        n = bank.lane_n[tm, lane]
        d = np.hypot(bank.lane_xy[tm, lane, :n, 0] - x, bank.lane_xy[tm, lane, :n, 1] - y)
        j = int(np.argmin(d))
        if d[j] < best[0]:
            best = (d[j], lane, j)
    _, lane, j = best
    j = min(j, bank.lane_n[tm, lane] - 2)
    world.nf[0, npc] = 0.0
    world.nf[0, npc, k.N_S] = bank.lane_s[tm, lane, j]
    world.nf[0, npc, k.N_X], world.nf[0, npc, k.N_Y] = bank.lane_xy[tm, lane, j]
    world.nf[0, npc, k.N_COS], world.nf[0, npc, k.N_SIN] = math.cos(yaw), math.sin(yaw)
    world.nf[0, npc, k.N_V], world.nf[0, npc, k.N_VDES] = speed, max(speed, 0.01)
    world.ni[0, npc] = 0
    world.ni[0, npc, k.N_LANE], world.ni[0, npc, k.N_SEG] = lane, j
    world.ni[0, npc, k.N_RECKLESS], world.ni[0, npc, k.N_ACTIVE] = 1, 1


def drive(env: RouteDriveEnv, policy: Callable[[Any], np.ndarray], obs: Any,
          max_steps: int = 3000) -> list[dict[str, Any]]:
    """Step ``policy`` until the episode ends; returns every step's info (with the reward)."""
    infos = []
    for _ in range(max_steps):
        obs, reward, terminated, truncated, info = env.step(policy(obs))
        infos.append({**info, "reward": reward, "terminated": terminated,
                      "truncated": truncated})
        if terminated or truncated:
            return infos
    raise AssertionError("the episode did not end")


def follower(**kwargs: Any) -> RouteFollower:
    """A pure-pursuit driver (lights and cars ignored unless asked)."""
    return RouteFollower(**{"stop_for_lights": False, "keep_distance": False, **kwargs})


def active(info: dict[str, Any], names: tuple[str, ...]) -> set[str]:
    """The names among ``names`` active in ``info``."""
    return {name for name in names if info[name]}


def place_ego(env: Any, s: float, speed: float, *, e: int = 0, lateral: float = 0.0,
              yaw_offset: float = 0.0) -> None:
    """Put ego ``e`` at arc ``s`` of its route, ``lateral`` metres to the left of it, heading
    along the route turned by ``yaw_offset``; route completion so far is set to that arc, so
    the jump is not paid as progress."""
    bank, world = env._bank, env._world
    tm, r = world.wi[0, k.W_TMPL], world.ei[0, e, k.E_ROUTE]
    n = bank.route_n[tm, r]
    arc = bank.route_s[tm, r, :n]
    seg = int(np.clip(np.searchsorted(arc, s, "right") - 1, 0, n - 2))
    x, y, yaw = _route_point(env, e, s)
    ef = world.ef
    ef[0, e, k.E_X] = x - lateral * math.sin(yaw)
    ef[0, e, k.E_Y] = y + lateral * math.cos(yaw)
    ef[0, e, k.E_YAW] = yaw + yaw_offset
    ef[0, e, k.E_COS], ef[0, e, k.E_SIN] = math.cos(yaw + yaw_offset), math.sin(yaw + yaw_offset)
    ef[0, e, k.E_V], ef[0, e, k.E_STEER] = speed, 0.0
    ef[0, e, k.E_S] = s
    ef[0, e, k.E_FRONT] = s + 0.5 * env.config.car_length
    ef[0, e, k.E_RCMAX] = 100.0 * (s - ef[0, e, k.E_S0]) / ef[0, e, k.E_LEN]
    world.ei[0, e, k.E_SEG] = seg


def _route_point(env: Any, e: int, s: float) -> tuple[float, float, float]:
    bank, world = env._bank, env._world
    tm, r = world.wi[0, k.W_TMPL], world.ei[0, e, k.E_ROUTE]
    n = bank.route_n[tm, r]
    arc = bank.route_s[tm, r, :n]
    j = int(np.clip(np.searchsorted(arc, s) - 1, 0, n - 2))
    a, b = bank.route_xy[tm, r, j], bank.route_xy[tm, r, j + 1]
    p = a + (s - arc[j]) / (arc[j + 1] - arc[j]) * (b - a)
    return float(p[0]), float(p[1]), math.atan2(b[1] - a[1], b[0] - a[0])


def put_npc_on_lane(env: Any, lane: int, s: float, speed: float, npc: int = 0) -> None:
    """Place traffic car ``npc`` at arc ``s`` of ``lane`` (exactly), at ``speed``."""
    bank, world = env._bank, env._world
    tm = world.wi[0, k.W_TMPL]
    n = bank.lane_n[tm, lane]
    arc = bank.lane_s[tm, lane, :n]
    j = int(np.clip(np.searchsorted(arc, s, "right") - 1, 0, n - 2))
    a, b = bank.lane_xy[tm, lane, j], bank.lane_xy[tm, lane, j + 1]
    p = a + (s - arc[j]) / (arc[j + 1] - arc[j]) * (b - a)
    d = (b - a) / np.linalg.norm(b - a)
    world.nf[0, npc] = 0.0
    world.nf[0, npc, k.N_S] = s
    world.nf[0, npc, k.N_X], world.nf[0, npc, k.N_Y] = p
    world.nf[0, npc, k.N_COS], world.nf[0, npc, k.N_SIN] = d
    world.nf[0, npc, k.N_V], world.nf[0, npc, k.N_VDES] = speed, max(speed, 0.01)
    world.ni[0, npc] = 0
    world.ni[0, npc, k.N_LANE], world.ni[0, npc, k.N_SEG] = lane, j
    world.ni[0, npc, k.N_RECKLESS], world.ni[0, npc, k.N_ACTIVE] = 1, 1


def nearest_lane(env: Any, x: float, y: float, *, junction: bool | None = None) -> int:
    """The lane whose centre line passes nearest to ``(x, y)`` (optionally: junction lanes
    only, or none of them)."""
    bank, world = env._bank, env._world
    tm = world.wi[0, k.W_TMPL]
    best, found = np.inf, -1
    for lane in range(bank.n_lanes[tm]):
        if junction is not None and bool(bank.lane_junction[tm, lane]) != junction:
            continue
        n = bank.lane_n[tm, lane]
        d = np.hypot(bank.lane_xy[tm, lane, :n, 0] - x, bank.lane_xy[tm, lane, :n, 1] - y).min()
        if d < best:
            best, found = d, lane
    return found
