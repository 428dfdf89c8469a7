"""One scripted scenario per infraction: each triggers exactly that infraction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rewardgym.envs.driving import RouteDriveEnv
from rewardgym.envs.driving import kernels as k
from tests.envs.driving.scenarios import (
    HARD,
    SOFT,
    active,
    drive,
    follower,
    put_npc_ahead,
    route_point,
)

QUIET = {"num_npcs": 0, "init_speed_frac": 0.0}


def _first(infos, name):
    return next(i for i, info in enumerate(infos) if info[name])


def test_collision_with_a_stopped_car_ends_the_episode_with_the_terminal_penalty():
    env = RouteDriveEnv(scenario="road", num_npcs=1, init_speed_frac=0.0)
    obs, _ = env.reset(seed=3)
    put_npc_ahead(env, 30.0, speed=0.0)
    infos = drive(env, follower(speed_frac=0.7), obs)
    last = infos[-1]
    assert last["terminated"]
    assert active(last, HARD) == {"collision"}
    assert last["reward_terms"]["terminal"] == -1.0
    assert last["reward"] == pytest.approx(last["reward_terms"]["progress"] - 1.0)
    assert last["infraction"] & (1 << k.COLLISION)
    # The time-to-collision penalty warned first, while no hard infraction was active.
    warned = _first(infos, "ttc")
    assert warned < len(infos) - 1
    assert not active(infos[warned], HARD)


def test_running_a_red_light():
    env = RouteDriveEnv(scenario="intersection", **QUIET)
    obs, _ = env.reset(seed=0)
    # Group 0 and 1 alternate; start the route's group at the beginning of its red phase.
    tm, r = env._world.wi[0, k.W_TMPL], env._world.ei[0, 0, k.E_ROUTE]
    group = env._bank.route_stop_group[tm, r, 0]
    green = env._world.wf[0, k.W_GREEN]
    half = green + env.config.yellow_s
    env._world.wf[0, k.W_PHASE0] = (half - group * half) % (2 * half)
    infos = drive(env, follower(speed_frac=1.0), obs)
    last = infos[-1]
    assert last["terminated"]
    assert active(last, HARD) == {"red_light"}
    assert last["reward_terms"]["terminal"] == -1.0


def test_the_same_route_on_green_passes_the_light():
    env = RouteDriveEnv(scenario="intersection", **QUIET)
    obs, _ = env.reset(seed=0)
    tm, r = env._world.wi[0, k.W_TMPL], env._world.ei[0, 0, k.E_ROUTE]
    group = env._bank.route_stop_group[tm, r, 0]
    half = env._world.wf[0, k.W_GREEN] + env.config.yellow_s
    env._world.wf[0, k.W_PHASE0] = (-group * half) % (2 * half)  # its green just started
    infos = drive(env, follower(speed_frac=1.0), obs)
    assert infos[-1]["route_done"]
    assert not any(info["red_light"] for info in infos)


def test_off_road():
    env = RouteDriveEnv(scenario="road", off_route_m=50.0, **QUIET)
    obs, _ = env.reset(seed=1)
    infos = drive(env, lambda o: np.array([-0.25, 0.5], np.float32), obs)
    assert infos[-1]["terminated"]
    assert active(infos[-1], HARD) == {"off_road"}


def test_off_route_on_a_road_the_route_does_not_take():
    # Straight across a junction whose route turns: still on the road, but away from the route.
    for seed in range(40):
        env = RouteDriveEnv(scenario="intersection", **QUIET)
        obs, _ = env.reset(seed=seed)
        _, _, start = route_point(env, 0.0)
        tm, r = env._world.wi[0, k.W_TMPL], env._world.ei[0, 0, k.E_ROUTE]
        _, _, end = route_point(env, env._bank.route_s[tm, r, env._bank.route_n[tm, r] - 1] - 1)
        if abs(math.cos(end - start)) < 0.5:
            break
    half = env._world.wf[0, k.W_GREEN] + env.config.yellow_s
    group = env._bank.route_stop_group[tm, r, 0]
    env._world.wf[0, k.W_PHASE0] = (-group * half) % (2 * half)
    infos = drive(env, lambda o: np.array([0.0, 0.4], np.float32), obs)
    assert infos[-1]["terminated"]
    assert active(infos[-1], HARD) == {"off_route"}


def test_wrong_way_after_one_second():
    env = RouteDriveEnv(scenario="road", **QUIET)
    obs, _ = env.reset(seed=2)
    env._world.ef[0, 0, k.E_YAW] += math.pi
    env._world.ef[0, 0, k.E_V] = 1.0
    infos = drive(env, lambda o: np.array([0.0, 0.0], np.float32), obs)
    assert infos[-1]["terminated"]
    assert active(infos[-1], HARD) == {"wrong_way"}
    assert len(infos) == round(env.config.wrong_way_s / env.config.dt)


def test_blocked_when_standing_still_too_long():
    env = RouteDriveEnv(scenario="road", blocked_s=3.0, **QUIET)
    obs, _ = env.reset(seed=0)
    infos = drive(env, lambda o: np.array([0.0, -1.0], np.float32), obs)
    assert infos[-1]["terminated"]
    assert active(infos[-1], HARD) == {"blocked"}
    assert len(infos) == 30
    assert all(info["reward"] == 0.0 for info in infos)  # standing still earns nothing


def test_timeout_truncates_without_a_leaderboard_penalty():
    env = RouteDriveEnv(scenario="road", min_timeout_s=2.0, timeout_factor=0.01, **QUIET)
    obs, _ = env.reset(seed=0)
    infos = drive(env, follower(speed_frac=0.5), obs)
    last = infos[-1]
    assert last["truncated"]
    assert not last["terminated"]
    assert last["timeout"]
    assert not active(last, HARD)
    assert len(infos) == 20
    # A route timeout is no scenario timeout: the leaderboard multiplies nothing for it.
    assert last["driving_score"] == pytest.approx(last["route_completion"])


def test_timeout_is_terminal_option():
    env = RouteDriveEnv(scenario="road", min_timeout_s=2.0, timeout_factor=0.01,
                        timeout_is_terminal=True, **QUIET)
    obs, _ = env.reset(seed=0)
    last = drive(env, follower(speed_frac=0.5), obs)[-1]
    assert last["terminated"]
    assert not last["truncated"]
    assert last["timeout"]


def test_finishing_the_route_is_a_success():
    env = RouteDriveEnv(scenario="road", **QUIET)
    obs, _ = env.reset(seed=4)
    infos = drive(env, follower(speed_frac=0.8), obs)
    last = infos[-1]
    assert last["terminated"]
    assert last["is_success"]
    assert last["route_done"]
    assert not active(last, HARD)
    assert last["route_completion"] >= env.config.route_done_pct


def test_speeding_scales_the_progress_down():
    env = RouteDriveEnv(scenario="road", comfort_hold_steps=0, ttc_hold_steps=0, **QUIET)
    obs, _ = env.reset(seed=5)
    infos = drive(env, follower(speed_frac=1.6), obs)
    fast = [i for i in infos if i["speeding"] > 0 and not i["comfort"] and not i["lane_center"]
            and not i["ttc"]]
    assert fast
    assert not any(active(i, HARD) for i in fast)
    for info in fast:
        factor = 1.0 - min(info["speeding"], 1.0)
        assert info["reward"] == pytest.approx(info["progress"] * factor)
    assert max(i["speeding"] for i in infos) == 1.0  # capped severity: the factor reaches 0


def test_lane_centre_distance_is_a_soft_factor():
    env = RouteDriveEnv(scenario="road", comfort_hold_steps=0, ttc_hold_steps=0, **QUIET)
    obs, _ = env.reset(seed=7)
    infos = drive(env, lambda o: np.array([-0.03, 0.3], np.float32), obs)
    drifting = [i for i in infos if 0 < i["lane_center"] < 1 and not (
        i["speeding"] or i["ttc"] or i["comfort"] or i["outside_route_lanes"])]
    assert drifting
    assert not any(active(i, HARD) for i in drifting)
    for info in drifting:
        assert info["reward"] == pytest.approx(info["progress"] * (1 - info["lane_center"]))


def test_outside_route_lanes_zeroes_progress_but_does_not_end_the_episode():
    env = RouteDriveEnv(scenario="road", off_route_m=50.0, **QUIET)
    for seed in range(40):
        obs, _ = env.reset(seed=seed)
        tm = env._world.wi[0, k.W_TMPL]
        if env._bank.n_lanes[tm] >= 6:  # two lanes each way
            break
    # Drift left across the centre line into the opposite lanes (still on the road).
    infos = drive(env, lambda o: np.array([0.06, 0.3], np.float32), obs)
    outside = [i for i in infos if i["outside_route_lanes"] and not active(i, HARD)]
    assert len(outside) >= 3
    assert not any(i["terminated"] for i in outside)
    assert all(i["progress"] > 0 and i["reward"] == 0.0 for i in outside)
    assert set(SOFT) >= {"outside_route_lanes"}


@pytest.mark.parametrize("name", HARD)
def test_hard_infraction_config_fields_are_named_in_errors(name):
    field = {"collision": "car_length", "red_light": "yellow_s", "off_road": "off_road_corners",
             "off_route": "off_route_m", "wrong_way": "wrong_way_deg",
             "blocked": "blocked_s"}[name]
    with pytest.raises(ValueError, match=field):
        RouteDriveEnv(**{field: -1})
