"""Non-finite actions raise, out-of-range ones are clipped, diverged simulations truncate."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from rewardgym.envs.locomotion import LocomotionEnv, LocomotionVectorEnv


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_action_raises_naming_env_and_action(bad):
    env = gym.make("rewardgym/HopperJump-v0")
    env.reset(seed=0)
    action = np.array([0.1, bad, 0.0])
    with pytest.raises(ValueError, match=r"HopperJump-v0: action must be finite.*array\(\[ ?0\.1"):
        env.step(action)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        env.step(np.zeros(4))
    with pytest.raises(ValueError, match="float array"):
        env.step("jump")


def test_vector_non_finite_action_names_the_env_rows():
    envs = gym.make_vec("rewardgym/AntGoal-v1", 3, vectorization_mode="vector_entry_point")
    envs.reset(seed=0)
    actions = np.zeros((3, 8))
    actions[1, 4] = np.nan
    with pytest.raises(ValueError, match=r"AntGoal-v1: action must be finite at env indices \[1\]"):
        envs.step(actions)
    with pytest.raises(ValueError, match="shape"):
        envs.step(np.zeros(2, dtype=np.int64))


def test_vector_clips_out_of_range_rows_and_says_so():
    envs = gym.make_vec("rewardgym/AntLieDown-v1", 3, vectorization_mode="vector_entry_point")
    sync = gym.make_vec("rewardgym/AntLieDown-v1", 3, vectorization_mode="sync")
    assert envs.metadata["action_policy"] == "clip"
    envs.reset(seed=0)
    sync.reset(seed=0)
    bad = np.zeros((3, 8), dtype=np.float32)
    bad[1] = envs.single_action_space.high + 1.0
    a, b = envs.step(bad), sync.step(np.clip(bad, -1.0, 1.0))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_out_of_range_actions_are_clipped_to_the_action_space():
    clipped, raw = LocomotionEnv(task="ant_goal"), LocomotionEnv(task="ant_goal")
    clipped.reset(seed=1)
    raw.reset(seed=1)
    big = np.array([5.0, -3.0, 1.5, 0.2, -9.0, 0.0, 2.0, -1.0])
    a = raw.step(big)
    b = clipped.step(np.clip(big, -1.0, 1.0))
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1]
    assert a[4]["reward_terms"]["ctrl"] == pytest.approx(-0.1 * np.sum(np.clip(big, -1, 1) ** 2))


def test_diverged_simulation_truncates_with_info_and_needs_reset(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # MuJoCo logs its instability warning to ./MUJOCO_LOG.TXT
    env = gym.make("rewardgym/HalfCheetahBackward-v1")
    obs, _ = env.reset(seed=0)
    obs, *_ = env.step(np.zeros(6))
    env.unwrapped.data.qvel[:] = 1e12  # what an exploding controller or model would produce
    after, reward, terminated, truncated, info = env.step(np.zeros(6))
    assert truncated
    assert not terminated
    assert info["diverged"]
    assert reward == 0.0
    assert all(v == 0.0 for v in info["reward_terms"].values())
    np.testing.assert_array_equal(after, obs)  # the last finite observation
    assert np.isfinite(after).all()
    with pytest.raises(gym.error.ResetNeeded, match="reset"):
        env.unwrapped.step(np.zeros(6))
    env.reset(seed=1)
    _, _, _, truncated, info = env.step(np.zeros(6))
    assert not truncated
    assert not info["diverged"]


def test_diverged_sub_env_truncates_and_autoresets_alone(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for mode in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP):
        envs = LocomotionVectorEnv(3, task="hopper_jump", autoreset_mode=mode)
        envs.reset(seed=0)
        envs.unwrapped._core.datas[2].qpos[:] = np.nan
        obs, rewards, _terminated, truncated, infos = envs.step(np.zeros((3, 3)))
        np.testing.assert_array_equal(truncated, [False, False, True])
        assert rewards[2] == 0.0
        assert np.isfinite(obs).all()
        if mode == AutoresetMode.SAME_STEP:
            np.testing.assert_array_equal(infos["final_info"]["diverged"], [False, False, True])
            assert obs[2][0] == pytest.approx(1.25, abs=0.01)  # already the reset state
        else:
            np.testing.assert_array_equal(infos["diverged"], [False, False, True])
        obs, _, _, truncated, infos = envs.step(np.zeros((3, 3)))
        assert not truncated.any()
        assert not infos["diverged"].any()
