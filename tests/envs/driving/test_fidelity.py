"""RouteDrive's ``carl`` and ``roach`` modes and its driving score against their sources.

One scripted check per quantity that follows CaRL's released code (jkli-2/CaRL @ 829e7eeb,
``CARLA/team_code/reward/simple_reward.py``), CaRL's Roach reproduction (ngductri/carl @
cc2676f9, ``CARLA/team_code/reward/roach_reward.py``, with carla-roach's ``hazard_actor.py``)
and the CARLA leaderboard (``leaderboard/utils/statistics_manager.py``); ``docs/fidelity.md``
lists what deliberately differs.
"""

from __future__ import annotations

import itertools
import math
from collections import deque

import numpy as np
import pytest

from rewardgym.envs.driving import DriveConfig, RouteDriveEnv
from rewardgym.envs.driving import kernels as k
from rewardgym.envs.driving.maps import LANE_WIDTH
from rewardgym.envs.driving.savgol import filter_matrix, last_value_tables
from rewardgym.wrappers import InfractionPenalty, InfractionRule
from rewardgym.wrappers.driving import infraction_table
from rewardgym.wrappers.infractions import _check, penalize
from tests.envs.driving.scenarios import (
    HARD,
    active,
    drive,
    follower,
    nearest_lane,
    place_ego,
    put_npc_on_lane,
    route_point,
)

QUIET = {"num_npcs": 0, "init_speed_frac": 0.0}
# nuPlan's comfort bounds (CaRL's rl_config.py comments, nuPlan ppo_config.py): tight enough
# that ordinary driving manoeuvres trip them.
NUPLAN_BOUNDS = {"lon_accel_min": -4.05, "lon_accel_max": 2.40, "lat_accel_max": 4.89,
                 "jerk_max": 8.37, "lon_jerk_max": 4.13, "yaw_rate_max": 0.95,
                 "yaw_accel_max": 1.93}
FROZEN_TRAFFIC = {"idm_accel": 1e-9}  # a traffic car set down at rest stays put
STOP = np.array([0.0, -1.0], np.float32)
COAST = np.array([0.0, 0.0], np.float32)


# ---------------------------------------------------------------------------------------------
# Comfort: Savitzky–Golay filters, jerk of |a|, one hold per metric, from the 8th frame on


def test_savgol_tables_equal_scipy_savgol_filter_as_carl_calls_it():
    signal = pytest.importorskip("scipy.signal")
    rng = np.random.default_rng(0)
    tables = last_value_tables()
    for n in range(8, 16):
        for _ in range(5):
            x = rng.normal(size=n) * 10.0
            smooth = signal.savgol_filter(x, min(8, n), polyorder=2, axis=-1)
            jerk = signal.savgol_filter(smooth, polyorder=2, deriv=1, delta=1.0,
                                        window_length=min(15, n), axis=-1)
            rate = signal.savgol_filter(x, polyorder=2, deriv=1, delta=1.0,
                                        window_length=min(5, n), axis=-1)
            accel = signal.savgol_filter(x, polyorder=3, deriv=2, delta=1.0,
                                         window_length=min(5, n), axis=-1)
            for name, expected in (("smooth", smooth), ("jerk", jerk), ("yaw_rate", rate),
                                   ("yaw_accel", accel)):
                got = tables[name][n, :n] @ x
                assert got == pytest.approx(expected[-1], rel=1e-9, abs=1e-9), (name, n)
            np.testing.assert_allclose(filter_matrix(n, min(8, n), 2) @ x, smooth, rtol=1e-9,
                                       atol=1e-9)


def _carl_comfort(history: dict[str, deque], counters: np.ndarray, cfg: DriveConfig,
                  lon: float, lat: float, yaw: float) -> int:
    """CaRL's compute_comfort_penalty on (lon, lat, yaw), with scipy, as the source does it."""
    signal = pytest.importorskip("scipy.signal")
    counters[:] = np.clip(counters - 1, 0, None)
    history["lon"].append(lon)
    history["lat"].append(lat)
    history["mag"].append(math.hypot(lon, lat))
    history["yaw"].append(yaw)
    n = len(history["lon"])
    if n >= 8:
        lon_s = signal.savgol_filter(history["lon"], polyorder=2, window_length=min(8, n))
        lat_s = signal.savgol_filter(history["lat"], polyorder=2, window_length=min(8, n))
        mag_s = signal.savgol_filter(history["mag"], polyorder=2, window_length=min(8, n))
        dt = cfg.dt
        jerk = signal.savgol_filter(mag_s, polyorder=2, deriv=1, delta=dt,
                                    window_length=min(15, n))
        lon_jerk = signal.savgol_filter(lon_s, polyorder=2, deriv=1, delta=dt,
                                        window_length=min(15, n))
        yaw_np = np.array(history["yaw"])
        adjust = np.zeros_like(yaw_np)
        adjust[1:] = np.cumsum(np.round(np.diff(yaw_np) / (2 * np.pi)))
        unwrapped = yaw_np - 2 * np.pi * adjust
        rate = signal.savgol_filter(unwrapped, polyorder=2, deriv=1, delta=dt,
                                    window_length=min(5, n))
        yaw_acc = signal.savgol_filter(unwrapped, polyorder=3, deriv=2, delta=dt,
                                       window_length=min(5, n))
        violated = (lon_s[-1] > cfg.lon_accel_max or lon_s[-1] < cfg.lon_accel_min,
                    abs(lat_s[-1]) > cfg.lat_accel_max, abs(jerk[-1]) > cfg.jerk_max,
                    abs(lon_jerk[-1]) > cfg.lon_jerk_max, abs(rate[-1]) > cfg.yaw_rate_max,
                    abs(yaw_acc[-1]) > cfg.yaw_accel_max)
        for m, bad in enumerate(violated):
            if bad:
                counters[m] = cfg.comfort_hold_steps
    return int(np.count_nonzero(counters))


def test_comfort_matches_carls_compute_comfort_penalty_step_for_step():
    env = RouteDriveEnv(scenario="mixed", comfort_hold_steps=7, **NUPLAN_BOUNDS)
    cfg = env.config
    rng = np.random.default_rng(1)
    driver = follower(speed_frac=1.0)
    counts = np.zeros(7, int)
    steps = 0
    for episode in range(6):
        obs, _ = env.reset(seed=episode)
        history = {key: deque(maxlen=15) for key in ("lon", "lat", "mag", "yaw")}
        counters = np.zeros(6, int)
        for _ in range(300):
            action = np.clip(driver(obs) + rng.normal(0.0, 0.4, 2), -1, 1).astype(np.float32)
            obs, _reward, terminated, truncated, info = env.step(action)
            ef = env._world.ef[0, 0]
            expected = _carl_comfort(history, counters, cfg, ef[k.E_ACC],
                                     ef[k.E_V] * ef[k.E_YR], ef[k.E_YAW])
            assert info["comfort"] * 6 == pytest.approx(expected, abs=1e-12), steps
            np.testing.assert_array_equal(
                env._world.ei[0, 0, k.E_COMF_CD:k.E_COMF_CD + 6], counters)
            counts[expected] += 1
            steps += 1
            if terminated or truncated:
                break
    assert counts[0] > 0
    assert counts[1:].sum() > 0
    assert counts[2:].sum() > 0  # and several metrics at once


def test_comfort_does_not_fire_on_a_smooth_drive():
    env = RouteDriveEnv(scenario="road", **QUIET)
    obs, _ = env.reset(seed=4)
    infos = drive(env, follower(speed_frac=0.6), obs)
    assert infos[-1]["route_done"]
    assert not any(info["comfort"] for info in infos)


def test_comfort_waits_for_eight_frames_then_fires_on_a_hard_brake_and_holds_per_metric():
    env = RouteDriveEnv(scenario="road", comfort_hold_steps=20, init_speed_frac=0.0, num_npcs=0,
                        **NUPLAN_BOUNDS)
    _obs, _ = env.reset(seed=2)
    place_ego(env, 20.0, 8.0)
    # Full brake from the first step: -6 m/s² is beyond nuPlan's -4.05 at once, but CaRL's check
    # needs 8 frames of history.
    infos = [env.step(STOP)[-1] for _ in range(12)]
    assert [bool(i["comfort"]) for i in infos[:7]] == [False] * 7
    fired = next(t for t, i in enumerate(infos) if i["comfort"])
    assert fired == 7  # the 8th frame
    assert not any(active(i, HARD) for i in infos)
    # The longitudinal-acceleration countdown restarted while braking, and is observable.
    cd = env._world.ei[0, 0, k.E_COMF_CD:k.E_COMF_CD + 6]
    assert cd[0] > 0
    assert obs_value_features(env)[4:] == pytest.approx(cd / 20)
    # Stopped, nothing is violated any more: each metric's hold runs out on its own.
    last = [env.step(STOP)[-1]["comfort"] for _ in range(60)]
    assert last[-1] == 0.0
    # Stopping adds jerk violations; then each metric's hold runs out at its own step, so the
    # penalised count falls one metric at a time (one countdown per metric, not one factor).
    levels = [round(c * 6) for c in last]
    peak = len(levels) - 1 - levels[::-1].index(max(levels))
    tail = levels[peak:]
    assert max(levels) >= 3
    assert all(b <= a for a, b in itertools.pairwise(tail))
    assert set(range(max(levels) + 1)) <= set(tail)


def obs_value_features(env: RouteDriveEnv) -> np.ndarray:
    """The 10 value features at the end of the current observation."""
    return np.asarray(env._out.obs[0, -k.VALUE_FEATURES:], dtype=np.float64)


def test_comfort_factor_scales_the_progress_as_carl():
    env = RouteDriveEnv(scenario="road", comfort_hold_steps=30, **QUIET, **NUPLAN_BOUNDS)
    obs, _ = env.reset(seed=5)
    infos = drive(env, follower(speed_frac=1.0), obs)
    penalised = [i for i in infos if i["comfort"] and not (
        i["speeding"] or i["ttc"] or i["lane_center"] or i["outside_route_lanes"])]
    assert penalised
    for info in penalised:
        n = round(info["comfort"] * 6)
        assert info["comfort"] == pytest.approx(n / 6)
        assert info["reward"] == pytest.approx(info["progress"] * (1 - 0.5 * n / 6))


def test_comfort_hold_zero_disables_the_factor_as_carls_zero_ticks():
    env = RouteDriveEnv(scenario="road", comfort_hold_steps=0, **QUIET, **NUPLAN_BOUNDS)
    obs, _ = env.reset(seed=5)
    infos = drive(env, follower(speed_frac=1.0), obs)
    assert not any(info["comfort"] for info in infos)


# ---------------------------------------------------------------------------------------------
# Lane centre: the nearest lane's centre, so a legal same-direction lane is not punished


def _two_lane_road(env: RouteDriveEnv) -> tuple[int, float]:
    """Reset to a road with two lanes each way; returns (seed, lateral offset to the other
    same-direction lane)."""
    for seed in range(60):
        env.reset(seed=seed)
        tm, r = env._world.wi[0, k.W_TMPL], env._world.ei[0, 0, k.E_ROUTE]
        x, y, yaw = route_point(env, 30.0)
        for side in (1.0, -1.0):
            px = x - side * LANE_WIDTH * math.sin(yaw)
            py = y + side * LANE_WIDTH * math.cos(yaw)
            col = math.floor(px - env._bank.origin[tm, 0])
            row = math.floor(py - env._bank.origin[tm, 1])
            same_way = env._bank.raster[tm, row, col] & (k.ROUTE0 << r)
            lane = nearest_lane(env, px, py)
            n = env._bank.lane_n[tm, lane]
            pts = env._bank.lane_xy[tm, lane, :n]
            if same_way and np.hypot(pts[:, 0] - px, pts[:, 1] - py).min() < 0.5:
                return seed, side * LANE_WIDTH
    raise AssertionError("no two-lane road in 60 seeds")


def test_overtaking_in_a_same_direction_lane_keeps_the_lane_centre_factor_at_one():
    env = RouteDriveEnv(scenario="road", off_route_m=50.0, **QUIET)
    seed, offset = _two_lane_road(env)
    env.reset(seed=seed)
    place_ego(env, 20.0, 8.0, lateral=offset)
    for _ in range(25):
        obs, reward, terminated, _, info = env.step(COAST)
        assert not terminated
        assert not info["outside_route_lanes"]
        # 3.5 m from the route's centre line, on another lane's centre: no penalty.
        assert abs(obs[5]) * 0.5 * LANE_WIDTH == pytest.approx(LANE_WIDTH, abs=0.2)
        assert info["lane_center"] < 0.05
        assert reward == pytest.approx(info["progress"] * (1 - info["lane_center"]))


def test_lane_centre_between_two_lanes_is_fully_penalised():
    env = RouteDriveEnv(scenario="road", off_route_m=50.0, **QUIET)
    seed, offset = _two_lane_road(env)
    env.reset(seed=seed)
    place_ego(env, 20.0, 8.0, lateral=offset / 2)  # on the lane marking
    _, reward, _, _, info = env.step(COAST)
    assert info["lane_center"] == pytest.approx(1.0, abs=0.03)
    assert reward == pytest.approx(info["progress"] * (1 - info["lane_center"]))


# ---------------------------------------------------------------------------------------------
# TTC: every actor, skipped at standstill


def _car_behind(gap_m: float, ego_speed: float, npc_speed: float) -> tuple[RouteDriveEnv, dict]:
    env = RouteDriveEnv(scenario="road", num_npcs=1, init_speed_frac=0.0)
    env.reset(seed=3)
    place_ego(env, 40.0, ego_speed)
    x, y, _ = route_point(env, 40.0 - gap_m)
    lane = nearest_lane(env, x, y)
    tm = env._world.wi[0, k.W_TMPL]
    n = env._bank.lane_n[tm, lane]
    pts = env._bank.lane_xy[tm, lane, :n]
    j = int(np.argmin(np.hypot(pts[:, 0] - x, pts[:, 1] - y)))
    put_npc_on_lane(env, lane, float(env._bank.lane_s[tm, lane, j]), npc_speed)
    action = np.array([0.0, 0.0], np.float32) if ego_speed > 0 else STOP
    return env, env.step(action)[-1]


def test_ttc_fires_for_a_car_closing_from_behind():
    _env, info = _car_behind(gap_m=8.0, ego_speed=1.0, npc_speed=12.0)
    assert info["ttc"]
    assert not info["collision"]


def test_ttc_is_skipped_when_the_ego_stands_still():
    env, info = _car_behind(gap_m=8.0, ego_speed=0.0, npc_speed=12.0)
    assert env._world.ef[0, 0, k.E_V] < 0.1
    assert not info["ttc"]
    assert not info["collision"]


def test_ttc_fires_for_a_car_crossing_from_the_side():
    from rewardgym.envs.driving import RouteDriveParallelEnv
    from tests.envs.driving.test_multi_agent import _crossing_pair

    env = RouteDriveParallelEnv(num_npcs=0)
    for seed_used in range(50):
        env.reset(seed=seed_used)
        pair = _crossing_pair(env)
        if pair is not None:
            break
    assert pair is not None
    a, b, sa, sb = pair
    fired_from_the_side = 0
    for slow, fast in ((a, b), (b, a)):
        s_slow, s_fast = (sa, sb) if slow == a else (sb, sa)
        for past in (1.5, 2.5, 3.5):
            for before in (3.0, 4.0, 5.0, 6.0):
                env.reset(seed=seed_used)
                # The slow car creeps just past the crossing point (4 m after s_*), the fast one
                # comes at it along its own route.
                place_ego(env, s_slow + 4.0 + past, 0.5, e=slow)
                place_ego(env, s_fast + 4.0 - before, 8.0, e=fast)
                _, _, _, _, infos = env.step({agent: COAST for agent in env.agents})
                info = infos[f"car_{slow}"]
                ef = env._world.ef[0]
                ahead = ((ef[fast, k.E_X] - ef[slow, k.E_X]) * math.cos(ef[slow, k.E_YAW])
                         + (ef[fast, k.E_Y] - ef[slow, k.E_Y]) * math.sin(ef[slow, k.E_YAW]))
                if ahead < 0.0 and not info["collision"]:
                    fired_from_the_side += bool(info["ttc"])
    # Not ahead of the slow car (the old "actors ahead" check never looked), yet TTC fires.
    assert fired_from_the_side > 0


# ---------------------------------------------------------------------------------------------
# Terminal penalty: -1 once per episode end


def _red_light_and_collision_ahead(env: RouteDriveEnv) -> None:
    """Set up the next tick to run a red light and hit a stopped car at once."""
    env.reset(seed=0)
    world, bank = env._world, env._bank
    tm, r = world.wi[0, k.W_TMPL], world.ei[0, 0, k.E_ROUTE]
    group = bank.route_stop_group[tm, r, 0]
    half = world.wf[0, k.W_GREEN] + env.config.yellow_s
    world.wf[0, k.W_PHASE0] = (half - group * half) % (2 * half)  # red from now on
    stop = float(bank.route_stop_s[tm, r, 0])
    half_len = 0.5 * env.config.car_length
    # A stopped car on the junction lane the route takes, its rear 0.2 m before the stop line;
    # the ego's front 0.3 m before the line at 5 m/s: the next tick crosses the line on red and
    # touches the car.
    x, y, _ = route_point(env, stop + 3.0)
    put_npc_on_lane(env, nearest_lane(env, x, y, junction=True), half_len - 0.2, 0.0)
    place_ego(env, stop - 0.3 - half_len, 5.0)


def _collision_course_env(reward_mode: str) -> RouteDriveEnv:
    return RouteDriveEnv(scenario="intersection", num_npcs=1, init_speed_frac=0.0,
                         reward_mode=reward_mode, **FROZEN_TRAFFIC)


def test_terminal_penalty_is_paid_once_for_two_infractions_on_one_step():
    env = _collision_course_env("carl")
    _red_light_and_collision_ahead(env)
    _, reward, terminated, _, info = env.step(COAST)
    assert terminated
    assert info["collision"]
    assert info["red_light"]
    assert info["reward_terms"]["terminal"] == -1.0
    assert reward == pytest.approx(info["reward_terms"]["progress"] - 1.0)


def test_infraction_penalty_pays_one_terminal_reward_for_two_infractions_too():
    base = _collision_course_env("progress")
    wrapped = InfractionPenalty(base, infraction_table(base.config))
    _red_light_and_collision_ahead(base)
    _, reward, terminated, _, info = wrapped.step(COAST)
    assert terminated
    assert info["collision"]
    assert info["red_light"]
    assert info["reward_terms"]["terminal"] == -1.0
    assert reward == pytest.approx(info["progress"] - 1.0)


def test_penalize_pays_the_terminal_reward_of_largest_magnitude_once():
    rules = (InfractionRule("a", terminate=True, terminal_reward=-1.0),
             InfractionRule("b", terminate=True, terminal_reward=-1.0),
             InfractionRule("c", terminate=True),
             InfractionRule("d", terminate=True, terminal_reward=-3.0))
    fired = np.array([[1.0, 1.0, 1.0, 0.0],   # a and b (and c): -1 once
                      [1.0, 0.0, 0.0, 0.0],   # a alone
                      [0.0, 0.0, 1.0, 0.0],   # c: ends, pays nothing
                      [1.0, 0.0, 0.0, 1.0],   # a and d: the larger, -3
                      [0.0, 0.0, 0.0, 0.0]])  # nothing
    kind, value, hold = _check(rules, "progress")
    n = len(fired)
    reward, terminal, ends = np.zeros(n), np.zeros(n), np.zeros(n, bool)
    penalize(np.full(n, 0.5), fired, kind, value, hold, np.ones((n, 4)),
             np.zeros((n, 4), np.int64), reward, terminal, ends)
    np.testing.assert_array_equal(terminal, [-1.0, -1.0, 0.0, -3.0, 0.0])
    np.testing.assert_array_equal(ends, [True, True, True, True, False])
    np.testing.assert_array_equal(reward, 0.5 + terminal)


# ---------------------------------------------------------------------------------------------
# Driving score: a route timeout is not a scenario timeout


def test_a_timed_out_route_keeps_its_route_completion_as_driving_score():
    env = RouteDriveEnv(scenario="road", min_timeout_s=2.0, timeout_factor=0.01, **QUIET)
    obs, _ = env.reset(seed=0)
    last = drive(env, follower(speed_frac=0.5), obs)[-1]
    assert last["truncated"]
    assert last["timeout"]
    assert last["route_completion"] > 0.0
    assert last["driving_score"] == pytest.approx(last["route_completion"], rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Roach: hazard geometry, stop distance from the centre, -1 on truncation


def _roach_speed_term(distance: float, bearing_deg: float, heading_deg: float = 0.0) -> float:
    """Roach's speed term for a standing ego with one parked car at ``distance`` (centre to
    centre), ``bearing_deg`` off the ego's heading, heading ``heading_deg`` relative to it."""
    env = RouteDriveEnv(scenario="road", num_npcs=1, init_speed_frac=0.0, reward_mode="roach",
                        **FROZEN_TRAFFIC)
    env.reset(seed=3)
    x, y, _ = route_point(env, 40.0)
    tm = env._world.wi[0, k.W_TMPL]
    lane = nearest_lane(env, x, y)
    n = env._bank.lane_n[tm, lane]
    pts = env._bank.lane_xy[tm, lane, :n]
    j = int(np.argmin(np.hypot(pts[:, 0] - x, pts[:, 1] - y)))
    put_npc_on_lane(env, lane, float(env._bank.lane_s[tm, lane, j]), 0.0)
    nx, ny = env._world.nf[0, 0, k.N_X], env._world.nf[0, 0, k.N_Y]
    npc_yaw = math.atan2(env._world.nf[0, 0, k.N_SIN], env._world.nf[0, 0, k.N_COS])
    ego_yaw = npc_yaw - math.radians(heading_deg)
    direction = ego_yaw + math.radians(bearing_deg)
    place_ego(env, 20.0, 0.0)
    ef = env._world.ef
    ef[0, 0, k.E_X] = nx - distance * math.cos(direction)
    ef[0, 0, k.E_Y] = ny - distance * math.sin(direction)
    ef[0, 0, k.E_YAW] = ego_yaw
    env._world.ei[0, 0, k.E_SEG] = 0
    env._world.ef[0, 0, k.E_RCMAX] = 100.0
    info = env.step(STOP)[-1]
    assert not info["collision"]
    return info["reward_terms"]["speed"]


def test_roach_vehicle_hazard_is_within_9_5_m_centre_to_centre():
    vmax = DriveConfig().roach_vmax
    near = _roach_speed_term(9.4, 0.0)
    assert near == pytest.approx(1.0 - vmax * (9.4 - 8.0) / 5.0 / vmax, abs=1e-6)
    assert _roach_speed_term(9.6, 0.0) == pytest.approx(0.0, abs=1e-9)  # no hazard: v_des 6


def test_roach_vehicle_hazard_is_within_45_degrees():
    inside = _roach_speed_term(9.0, 44.0)
    assert inside == pytest.approx(1.0 - 6.0 * (9.0 - 8.0) / 5.0 / 6.0, abs=1e-6)
    assert _roach_speed_term(9.0, 46.0) == pytest.approx(0.0, abs=1e-9)
    assert _roach_speed_term(9.0, -44.0) == pytest.approx(inside, abs=1e-9)
    assert _roach_speed_term(9.0, -46.0) == pytest.approx(0.0, abs=1e-9)


def test_roach_vehicle_hazard_excludes_oncoming_cars():
    same_way = _roach_speed_term(9.0, 0.0, heading_deg=140.0)
    assert same_way == pytest.approx(0.8, abs=1e-6)
    assert _roach_speed_term(9.0, 0.0, heading_deg=160.0) == pytest.approx(0.0, abs=1e-9)
    assert _roach_speed_term(9.0, 0.0, heading_deg=180.0) == pytest.approx(0.0, abs=1e-9)


def test_roach_red_light_distance_is_from_the_ego_centre_minus_5_m():
    env = RouteDriveEnv(scenario="intersection", reward_mode="roach", **QUIET)
    env.reset(seed=0)
    world, bank = env._world, env._bank
    tm, r = world.wi[0, k.W_TMPL], world.ei[0, 0, k.E_ROUTE]
    group = bank.route_stop_group[tm, r, 0]
    half = world.wf[0, k.W_GREEN] + env.config.yellow_s
    world.wf[0, k.W_PHASE0] = (half - group * half) % (2 * half)  # red from now on
    stop = float(bank.route_stop_s[tm, r, 0])
    place_ego(env, stop - 7.0, 0.0)
    info = env.step(STOP)[-1]
    # v_des = 6 * clip(7 - 5, 0, 5) / 5 = 2.4 (measured from the front bumper it would be 0).
    assert info["reward_terms"]["speed"] == pytest.approx(1.0 - 2.4 / 6.0, abs=1e-6)


def test_roach_pays_minus_one_on_truncation_and_on_finishing():
    env = RouteDriveEnv(scenario="road", min_timeout_s=2.0, timeout_factor=0.01,
                        reward_mode="roach", **QUIET)
    obs, _ = env.reset(seed=0)
    last = drive(env, follower(speed_frac=0.5), obs)[-1]
    assert last["truncated"]
    assert not last["terminated"]
    assert last["reward_terms"]["terminal"] == -1.0
    env = RouteDriveEnv(scenario="road", reward_mode="roach", **QUIET)
    obs, _ = env.reset(seed=4)
    infos = drive(env, follower(speed_frac=0.8), obs)
    assert infos[-1]["route_done"]
    assert infos[-1]["reward_terms"]["terminal"] == -1.0
    assert all(i["reward_terms"]["terminal"] == 0.0 for i in infos[:-1])
