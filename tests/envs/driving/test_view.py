"""RouteDrive's reward view: layout, agreement with the env's info and reward, batch == single."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import rewardgym  # noqa: F401  (registers the envs)
from rewardgym.envs.driving import RouteDriveEnv, RouteDriveVectorEnv
from rewardgym.envs.driving import kernels as k
from rewardgym.envs.driving import view as v
from rewardgym.envs.driving.baselines import RouteFollower
from tests.envs.driving.scenarios import place_ego, put_npc_ahead


def test_layout_names_units_and_fixed_indices():
    layout = v.LAYOUT
    assert layout.size == v.SIZE == len(v.FEATURES)
    assert len(set(layout.names)) == layout.size
    # The signals follow in the env's order, under the info's names.
    assert layout.names[v.SIGNAL0:v.SIGNAL0 + len(k.SIGNALS)] == k.SIGNALS
    for name, index in (("speed", v.SPEED), ("target_speed", v.TARGET_SPEED),
                        ("lead_ttc", v.LEAD_TTC), ("light_time_left", v.LIGHT_TIME_LEFT),
                        ("ttc_hold_left", v.TTC_HOLD_LEFT), ("driving_score", v.DRIVING_SCORE)):
        assert layout[name].start == index
    table = v.describe()
    assert all(f"| {name} | {layout[name].start} |" in table for name in layout.names)
    assert all(f.unit and f.doc for f in layout.features)


def _drive(env, steps, driver):
    obs, info = env.reset(seed=3)
    yield obs, info, None
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(driver(obs))
        yield obs, info, reward
        if terminated or truncated:
            return


def test_view_agrees_with_info_and_state_along_an_episode():
    env = RouteDriveEnv(reward_mode="roach")
    driver = RouteFollower(speed_frac=1.1, stop_for_lights=False)
    base = env
    seen = 0
    for _obs, info, reward in _drive(env, 300, driver):
        view = v.features(env)
        row = np.asarray(view)
        assert row.shape == (v.SIZE,)
        assert np.all(np.isfinite(row))
        assert view.route_completion == info["route_completion"]
        assert view.progress == info["progress"]
        assert view.driving_score == info["driving_score"]
        for name in k.SIGNALS:
            assert getattr(view, name) == float(info[name])
        ef = base._world.ef[0, 0]
        assert view.speed == ef[k.E_V]
        assert view.lateral_error == ef[k.E_LAT]
        assert view.heading_error == ef[k.E_PSI]
        assert view.light_red + view.light_yellow + view.light_green <= 1.0
        assert 0.0 <= view.light_distance <= v.LIGHT_RANGE
        assert 0.0 <= view.lead_ttc <= v.TTC_CAP
        assert 0.0 <= view.nearest_ttc <= v.TTC_CAP
        assert 0.0 <= view.nearest_distance <= k.SENSE_RANGE
        if reward is not None:
            # Roach's speed term is 1 - |v - v_des| / v_max with the view's target speed.
            speed_term = 1.0 - abs(view.speed - view.target_speed) / env.config.roach_vmax
            assert info["reward_terms"]["speed"] == pytest.approx(speed_term, abs=1e-12)
            seen += 1
    assert seen > 50


def test_reset_rows_have_no_signals_or_progress():
    env = RouteDriveEnv()
    env.reset(seed=0)
    view = v.features(env)
    assert view.progress == 0.0
    assert all(getattr(view, name) == 0.0 for name in k.SIGNALS)
    assert view.time_left == pytest.approx(env._world.wi[0, k.W_LIMIT] * env.config.dt)


def test_batch_rows_equal_single_env_rows():
    n, seed = 3, 11
    envs = RouteDriveVectorEnv(n)
    singles = [RouteDriveEnv() for _ in range(n)]
    obs, _ = envs.reset(seed=seed)
    single_obs = [s.reset(seed=seed + i)[0] for i, s in enumerate(singles)]
    driver = RouteFollower(speed_frac=1.0, stop_for_lights=False)
    for _ in range(40):
        batch = np.asarray(v.features_batch(envs))
        for i, s in enumerate(singles):
            np.testing.assert_array_equal(batch[i], np.asarray(v.features(s)))
        actions = driver(obs)
        obs = envs.step(actions)[0]
        single_obs = [s.step(actions[i])[0] for i, s in enumerate(singles)]
        np.testing.assert_array_equal(obs, np.stack(single_obs))


def test_lead_car_gap_ttc_and_target_speed():
    env = RouteDriveEnv(num_npcs=1)
    env.reset(seed=0)
    cfg = env.config
    s0 = env._world.ef[0, 0, k.E_S] + 5.0
    place_ego(env, s0, 5.0)
    put_npc_ahead(env, 20.0, 0.0)
    view = v.features(env)
    # The car sits on the nearest lane point about 20 m ahead: a bumper gap of about 15.4 m.
    assert view.lead_gap == pytest.approx(20.0 - cfg.car_length, abs=1.5)
    assert view.lead_speed == 0.0
    assert view.lead_ttc == pytest.approx(view.lead_gap / 5.0, rel=1e-12)
    assert view.nearest_distance == pytest.approx(20.0, abs=1.5)
    # 20 m is outside Roach's 9.5 m vehicle hazard; 9 m ahead lowers the target to ~(9-8)/5.
    assert view.target_speed == cfg.roach_vmax or view.light_distance < 25.0
    put_npc_ahead(env, 9.0, 0.0)
    near = v.features(env)
    d = near.nearest_distance
    assert near.target_speed == pytest.approx(cfg.roach_vmax * min(max(d - 8.0, 0.0), 5.0) / 5.0)
    assert near.lead_gap < view.lead_gap


def test_single_view_refuses_a_batch():
    with pytest.raises(ValueError, match="use features_batch"):
        v.features(RouteDriveVectorEnv(2))


def test_view_of_a_registered_env_through_wrappers():
    env = gym.make("rewardgym/RouteDrive-v1")
    env.reset(seed=1)
    view = v.features(env)
    assert view.speed_limit > 0.0
    assert math.isfinite(view.target_speed)
