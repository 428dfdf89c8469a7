"""RouteDrive's reward modes: CaRL == progress + InfractionPenalty, and reward invariants."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rewardgym  # noqa: F401  (registers the envs)
from rewardgym.envs.driving import DriveConfig, RouteDriveEnv
from rewardgym.envs.driving import kernels as k
from rewardgym.envs.driving.baselines import RouteFollower
from rewardgym.wrappers import CARL_TABLE, InfractionPenalty, InfractionPenaltyVector
from rewardgym.wrappers.driving import infraction_table
from tests.envs.driving.scenarios import SOFT, drive, follower

NOISY = {"speed_frac": 1.15, "stop_for_lights": True, "keep_distance": False}


def _noisy_policy(seed: int, noise: float):
    rng = np.random.default_rng(seed)
    driver = RouteFollower(**NOISY)

    def policy(obs):
        action = driver(obs) + rng.normal(0.0, noise, size=2)
        return np.clip(action, -1, 1).astype(np.float32)

    return policy


@pytest.mark.parametrize("overrides", [{}, {"ttc_hold_steps": 0, "comfort_hold_steps": 7}])
def test_progress_mode_with_infraction_penalty_equals_carl_mode(overrides):
    carl = RouteDriveEnv(reward_mode="carl", **overrides)
    wrapped = InfractionPenalty(RouteDriveEnv(reward_mode="progress", **overrides),
                                infraction_table(carl.config))
    seen = dict.fromkeys(SOFT, 0.0)
    ends = set()
    for episode in range(15):
        noise = (0.2, 0.5, 0.9)[episode % 3]
        policy_a, policy_b = _noisy_policy(episode, noise), _noisy_policy(episode, noise)
        obs_a, _ = carl.reset(seed=episode)
        obs_b, _ = wrapped.reset(seed=episode)
        while True:
            obs_a, r_a, term_a, trunc_a, info_a = carl.step(policy_a(obs_a))
            obs_b, r_b, term_b, trunc_b, info_b = wrapped.step(policy_b(obs_b))
            assert r_a == r_b, (episode, info_a, info_b)
            assert (term_a, trunc_a) == (term_b, trunc_b)
            assert info_a["reward_terms"] == info_b["reward_terms"]
            np.testing.assert_array_equal(obs_a, obs_b)
            for name in SOFT:
                seen[name] += info_a[name]
            if term_a or trunc_a:
                ends |= {name for name in ("collision", "red_light", "off_road", "route_done")
                         if info_a[name]}
                break
    assert all(v > 0 for v in seen.values()), seen  # every soft rule was exercised
    assert {"collision", "route_done"} <= ends, ends


def test_carl_table_is_the_infraction_table_of_carls_hold_lengths():
    # The comfort holds live in the env (one per metric), so only the TTC hold is the table's.
    cfg = DriveConfig(ttc_hold_steps=500, comfort_hold_steps=500)
    assert infraction_table(cfg) == tuple(r for r in CARL_TABLE if r.name != "stop_sign")


@pytest.mark.parametrize("mode", ["next_step", "same_step"])
def test_vector_progress_with_penalty_equals_vector_carl(mode):
    n = 16
    carl = gym.make_vec("rewardgym/RouteDrive-v1", n, vectorization_mode="vector_entry_point",
                        autoreset_mode=mode)
    progress = InfractionPenaltyVector(
        gym.make_vec("rewardgym/RouteDrive-v1", n, vectorization_mode="vector_entry_point",
                     autoreset_mode=mode, reward_mode="progress"),
        infraction_table(DriveConfig()))
    driver = RouteFollower(**NOISY)
    rng = np.random.default_rng(0)
    obs_a, _ = carl.reset(seed=11)
    obs_b, _ = progress.reset(seed=11)
    done = 0
    for _ in range(600):
        actions = np.clip(driver(obs_a) + rng.normal(0, 0.3, (n, 2)), -1, 1).astype(np.float32)
        obs_a, r_a, t_a, u_a, _ = carl.step(actions)
        obs_b, r_b, t_b, _u_b, _ = progress.step(actions)
        np.testing.assert_array_equal(r_a, r_b)
        np.testing.assert_array_equal(t_a, t_b)
        np.testing.assert_array_equal(obs_a, obs_b)
        done += int(np.sum(t_a | u_a))
    assert done > 20


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), noise=st.floats(0.0, 0.8), speed=st.floats(0.3, 1.6))
def test_carl_return_is_at_most_100(seed, noise, speed):
    env = RouteDriveEnv()
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    driver = RouteFollower(speed_frac=speed)
    total, progress = 0.0, 0.0
    while True:
        action = np.clip(driver(obs) + rng.normal(0, noise, 2), -1, 1).astype(np.float32)
        obs, reward, terminated, truncated, info = env.step(action)
        total += reward
        progress += info["progress"]
        assert reward <= info["progress"] + 1e-12  # factors never raise the progress
        if terminated or truncated:
            break
    assert total <= 100.0 + 1e-9
    assert progress <= 100.0 + 1e-9
    assert progress == pytest.approx(info["route_completion"])
    assert total >= -2.0 * env.config.terminal_penalty


@pytest.mark.parametrize("seed", range(4))
def test_standing_still_earns_exactly_zero_in_carl_mode(seed):
    env = RouteDriveEnv(init_speed_frac=0.0, blocked_s=20.0)
    obs, _ = env.reset(seed=seed)
    infos = drive(env, lambda o: np.array([0.0, -1.0], np.float32), obs)
    assert all(info["reward"] == 0.0 for info in infos)
    assert infos[-1]["blocked"]
    assert infos[-1]["driving_score"] == 0.0


def _stop_at_red(mode: str, seed: int):
    env = RouteDriveEnv(scenario="intersection", reward_mode=mode, num_npcs=0)
    obs, _ = env.reset(seed=seed)
    tm, r = env._world.wi[0, k.W_TMPL], env._world.ei[0, 0, k.E_ROUTE]
    group = env._bank.route_stop_group[tm, r, 0]
    half = env._world.wf[0, k.W_GREEN] + env.config.yellow_s
    env._world.wf[0, k.W_PHASE0] = (half - group * half) % (2 * half)  # red from the start
    driver = RouteFollower(speed_frac=0.6)
    waiting = []
    for _ in range(300):
        obs, reward, terminated, truncated, _info = env.step(driver(obs))
        if env._world.ef[0, 0, k.E_V] < 0.05 and obs[k.EGO_FEATURES + 2 * k.LOOKAHEAD +
                                                       k.ACTORS * k.ACTOR_FEATURES] == 1.0:
            waiting.append(reward)
        if terminated or truncated:
            break
    return waiting


def test_roach_pays_for_waiting_at_a_red_light_and_carl_does_not():
    roach, carl = _stop_at_red("roach", 0), _stop_at_red("carl", 0)
    assert len(roach) >= 10
    assert len(roach) == len(carl)
    assert min(roach) > 0.5  # r_speed = 1 when the desired speed is 0
    assert sum(carl) < 0.05  # only the last centimetres crept forward pay


@pytest.mark.parametrize(("mode", "names"), [
    ("carl", ("progress", "terminal")),
    ("roach", ("speed", "position", "rotation", "action", "terminal")),
    ("progress", ("progress",)), ("sparse", ("route_done",))])
def test_reward_terms_sum_to_the_reward_in_every_mode(mode, names):
    env = RouteDriveEnv(reward_mode=mode)
    policy = _noisy_policy(0, 0.2)
    for seed in range(3):
        obs, _ = env.reset(seed=seed)
        infos = drive(env, policy, obs)
        for info in infos:
            assert tuple(info["reward_terms"]) == names
            assert sum(info["reward_terms"].values()) == pytest.approx(info["reward"], abs=1e-12)


def test_sparse_mode_pays_100_only_on_finishing():
    env = RouteDriveEnv(reward_mode="sparse", scenario="road", num_npcs=0)
    obs, _ = env.reset(seed=4)
    infos = drive(env, follower(speed_frac=0.8), obs)
    assert [i["reward"] for i in infos[:-1]] == [0.0] * (len(infos) - 1)
    assert infos[-1]["reward"] == 100.0
    assert infos[-1]["is_success"]


def test_reward_modes_share_dynamics_and_driving_score():
    runs = {}
    for mode in ("carl", "roach", "progress", "sparse"):
        env = RouteDriveEnv(reward_mode=mode)
        obs, _ = env.reset(seed=9)
        runs[mode] = drive(env, _noisy_policy(9, 0.2), obs)
    scores = {mode: [i["driving_score"] for i in infos] for mode, infos in runs.items()}
    assert len({tuple(s) for s in scores.values()}) == 1


def test_config_is_frozen_and_validated():
    cfg = DriveConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.num_npcs = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match="reward_mode"):
        DriveConfig(reward_mode="dense")
    with pytest.raises(ValueError, match="num_npcs"):
        DriveConfig(num_npcs=17)
    with pytest.raises(TypeError):
        DriveConfig(num_npc=3)  # type: ignore[call-arg]
