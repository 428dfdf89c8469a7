"""Native vector env options and the AntGoal shaping potential."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from rewardgym.envs.locomotion import LocomotionEnv, LocomotionVectorEnv, features, goal_potential
from rewardgym.wrappers import PotentialShaping
from rewardgym.wrappers.potential import BUILTIN_POTENTIALS
from tests.helpers import assert_same, vector_rollout


def test_physics_threads_do_not_change_results():
    kwargs = {"max_episode_steps": 30}
    one = gym.make_vec("rewardgym/AntGoal-v1", 4, vectorization_mode="vector_entry_point",
                       **kwargs)
    two = gym.make_vec("rewardgym/AntGoal-v1", 4, vectorization_mode="vector_entry_point",
                       physics_threads=2, **kwargs)
    assert_same(vector_rollout(one, seed=1, steps=120), vector_rollout(two, seed=1, steps=120))


def test_same_step_autoreset_matches_sync_with_terminations():
    # HumanoidKneel terminates when the humanoid falls: real terminations, not only time limits.
    mode = AutoresetMode.SAME_STEP
    native = gym.make_vec("rewardgym/HumanoidKneel-v0", 3, vectorization_mode="vector_entry_point",
                          autoreset_mode=mode)
    sync = gym.make_vec("rewardgym/HumanoidKneel-v0", 3, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": mode})
    a, b = vector_rollout(native, seed=2, steps=150), vector_rollout(sync, seed=2, steps=150)
    assert_same(a, b)
    assert sum(t.sum() for t in a["term"]) >= 3
    assert native.metadata["autoreset_mode"] == mode


def test_vector_rejects_bad_options():
    with pytest.raises(ValueError, match="num_envs"):
        LocomotionVectorEnv(0, task="ant_goal")
    with pytest.raises(ValueError, match="physics_threads"):
        LocomotionVectorEnv(2, task="ant_goal", physics_threads=0)


def test_disabled_autoreset_resets_only_the_masked_envs():
    # The kit's vector shell gives every family DISABLED (locomotion once refused it): stepping
    # never resets; reset(options={"reset_mask": m}) resets exactly the envs of m.
    envs = LocomotionVectorEnv(3, task="hopper_jump", autoreset_mode="disabled",
                               max_episode_steps=4)
    reference = LocomotionEnv(task="hopper_jump")
    obs, _ = envs.reset(seed=5)
    zeros = np.zeros((3, *envs.single_action_space.shape))
    for _ in range(4):
        obs, _, _, truncated, _ = envs.step(zeros)
    assert truncated.all()
    stepped, *_ = envs.step(zeros)  # no autoreset: every env keeps its episode
    assert not np.array_equal(stepped, obs)
    mask = np.array([False, True, False])
    after, infos = envs.reset(seed=[None, 9, None], options={"reset_mask": mask})
    np.testing.assert_array_equal(after[1], reference.reset(seed=9)[0])
    np.testing.assert_array_equal(after[[0, 2]], stepped[[0, 2]])
    assert infos["_is_success"].tolist() == [False, True, False]
    with pytest.raises(ValueError, match="reset_mask"):
        envs.reset(options={"reset_mask": np.zeros(3, dtype=bool)})


def test_goal_potential_is_minus_the_distance():
    env = LocomotionEnv(task="ant_goal")
    obs, _ = env.reset(seed=0)
    for _ in range(5):
        obs, *_ = env.step(env.action_space.sample())
        assert goal_potential(obs, {}) == pytest.approx(-features(env).goal_dist, rel=1e-12)
    batch = np.stack([obs, obs])
    np.testing.assert_allclose(goal_potential(batch, {}), [-features(env).goal_dist] * 2)
    assert BUILTIN_POTENTIALS["ant_goal_distance"].endswith(":goal_potential")


def test_sparse_ant_goal_with_potential_shaping():
    gamma = 0.99
    env = PotentialShaping(gym.make("rewardgym/AntGoal-v1", reward_mode="sparse"),
                           "ant_goal_distance", gamma=gamma)
    obs, _ = env.reset(seed=3)
    phi = goal_potential(obs, {})
    env.action_space.seed(0)
    for _ in range(20):
        obs, reward, terminated, _, info = env.step(env.action_space.sample())
        phi_next = goal_potential(obs, {})
        assert info["base_reward"] == 0.0  # far from the goal: sparse reward is silent
        assert info["reward_terms"]["shaping"] == pytest.approx(gamma * phi_next - phi)
        assert reward == pytest.approx(gamma * phi_next - phi)
        assert not terminated
        phi = phi_next


def test_render_single_pickled_and_vector():
    import pickle

    env = LocomotionEnv(task="ant_goal", render_mode="rgb_array", width=64, height=48)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (48, 64, 3)
    assert frame.std() > 0
    clone = pickle.loads(pickle.dumps(env))
    np.testing.assert_array_equal(clone.render(), frame)
    env.close()
    clone.close()
    envs = LocomotionVectorEnv(2, task="hopper_jump", render_mode="rgb_array", width=32,
                               height=32)
    envs.reset(seed=0)
    frames = envs.render()
    assert len(frames) == 2
    assert frames[0].shape == (32, 32, 3)
    envs.close()
