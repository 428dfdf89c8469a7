"""The contract every registered rewardgym env meets (DESIGN.md §2), parametrized over the registry.

New envs get these tests by registering.
"""

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.utils.env_match import check_environments_match  # noqa: F401  (import check)
from gymnasium.vector import AutoresetMode

from rewardgym.envs import ENV_TABLE, PARALLEL_ENVS, make_parallel
from rewardgym.envs.action_policy import action_policy
from tests.conftest import ALL_IDS, invalid_actions, sample_actions
from tests.helpers import assert_same, rollout, vector_rollout


def test_registry_is_namespaced_and_versioned():
    assert len(ALL_IDS) == len(set(ALL_IDS)) >= 31
    for row in ENV_TABLE:
        spec = gym.spec(row.env_id)
        assert spec.namespace == "rewardgym"
        assert spec.version == row.version
        assert isinstance(spec.entry_point, str)
        assert spec.vector_entry_point is None or isinstance(spec.vector_entry_point, str)
        gym.envs.registration.EnvSpec.from_json(spec.to_json())  # JSON round trip


def test_module_prefix_form_makes_env():
    env = gym.make("rewardgym:rewardgym/DoorKey-5x5-v0")
    assert env.spec.id == "rewardgym/DoorKey-5x5-v0"


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_env_checker_passes_with_warnings_as_errors(env_id):
    env = gym.make(env_id).unwrapped
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_same_seed_same_trajectory(env_id):
    first = rollout(gym.make(env_id), seed=11, steps=300)
    second = rollout(gym.make(env_id), seed=11, steps=300)
    assert_same(first, second)
    other = rollout(gym.make(env_id), seed=12, steps=300, action_seed=1)
    with pytest.raises(AssertionError):
        assert_same(first, other)


@pytest.mark.parametrize("env_id", ALL_IDS)
@pytest.mark.parametrize("num_envs", [1, 5])
def test_native_vector_matches_sync(env_id, num_envs):
    if gym.spec(env_id).vector_entry_point is None:
        pytest.skip("no native vector env")
    kwargs = {"max_episode_steps": 23}  # forces many truncations and autoresets
    native = gym.make_vec(env_id, num_envs, vectorization_mode="vector_entry_point", **kwargs)
    sync = gym.make_vec(env_id, num_envs, vectorization_mode="sync", **kwargs)
    a = vector_rollout(native, seed=5, steps=1000)
    b = vector_rollout(sync, seed=5, steps=1000)
    assert_same(a, b)
    assert a["resets"] >= 40 * num_envs  # autoreset steps really happened


@pytest.mark.parametrize("env_id", ALL_IDS[::4])
def test_native_vector_matches_sync_same_step_autoreset(env_id):
    if gym.spec(env_id).vector_entry_point is None:
        pytest.skip("no native vector env")
    mode = AutoresetMode.SAME_STEP
    native = gym.make_vec(env_id, 5, vectorization_mode="vector_entry_point",
                          autoreset_mode=mode, max_episode_steps=17)
    sync = gym.make_vec(env_id, 5, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": mode}, max_episode_steps=17)
    assert native.metadata["autoreset_mode"] == mode
    assert_same(vector_rollout(native, seed=3, steps=400), vector_rollout(sync, seed=3, steps=400))


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_pickled_env_continues_identically(env_id):
    env = gym.make(env_id)
    env.reset(seed=4)
    actions = sample_actions(env.action_space, 11)
    for action in actions[:5]:
        env.step(action)
    clone = pickle.loads(pickle.dumps(env))
    for action in actions[5:]:
        assert_same(env.step(action), clone.step(action))


def test_every_env_has_a_native_vector_env():
    assert [row.env_id for row in ENV_TABLE if row.vector_entry_point is None] == []


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_pickled_vector_env_continues_identically(env_id):
    # The locomotion vector env once failed here (its MjvCamera does not pickle).
    envs = gym.make_vec(env_id, 2, vectorization_mode="vector_entry_point")
    envs.reset(seed=4)
    actions = sample_actions(envs.action_space, 9)
    for action in actions[:4]:
        envs.step(action)
    clone = pickle.loads(pickle.dumps(envs))
    assert type(clone) is type(envs)
    for action in actions[4:]:
        assert_same(envs.step(action), clone.step(action))


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_bad_action_raises_naming_env_and_leaves_state_intact(env_id):
    env, reference = gym.make(env_id), gym.make(env_id)
    env.reset(seed=2)
    reference.reset(seed=2)
    for bad in invalid_actions(env.action_space):
        with pytest.raises(ValueError, match=env_id.split("/")[1]):
            env.unwrapped.step(bad)
    for action in sample_actions(env.action_space, 5):
        assert_same(env.step(action), reference.step(action))


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_action_policy_is_stated_and_kept(env_id):
    # One documented policy per action-space kind (rewardgym.envs.action_policy); RouteDrive once
    # raised where locomotion clipped, and nothing said which env did what.
    env, reference = gym.make(env_id), gym.make(env_id)
    space = env.action_space
    policy = action_policy(space)
    assert env.unwrapped.metadata["action_policy"] == policy
    envs = gym.make_vec(env_id, 2, vectorization_mode="vector_entry_point")
    assert envs.metadata["action_policy"] == policy
    env.reset(seed=6)
    reference.reset(seed=6)
    if policy == "clip":
        half = space.shape[-1] // 2
        wild = np.concatenate([space.high[:half] + 1.0 + np.abs(space.high[:half]),
                               space.low[half:] - 1.0 - np.abs(space.low[half:])])
        wild = wild.astype(space.dtype)
        assert not space.contains(wild)
        assert_same(env.unwrapped.step(wild),
                    reference.unwrapped.step(np.clip(wild, space.low, space.high)))
    elif policy == "raise":
        for bad in (space.n, -1):
            with pytest.raises(ValueError, match=env_id.split("/")[1]):
                env.unwrapped.step(bad)
    else:
        _, reward, terminated, truncated, info = env.unwrapped.step("click[no such button]")
        assert info["invalid"] is True
        assert (reward, terminated, truncated) == (0.0, False, False)
    for action in sample_actions(space, 5):
        assert_same(env.step(action)[:4], reference.step(action)[:4])


@pytest.mark.parametrize("env_id", sorted(PARALLEL_ENVS))
def test_multi_agent_envs_state_their_action_policy(env_id):
    env = make_parallel(env_id)
    for agent in env.possible_agents:
        assert env.metadata["action_policy"] == action_policy(env.action_space(agent))


@pytest.mark.parametrize("env_id", ALL_IDS[::5])
def test_vector_bad_action_raises(env_id):
    if gym.spec(env_id).vector_entry_point is None:
        pytest.skip("no native vector env")
    envs = gym.make_vec(env_id, 3, vectorization_mode="vector_entry_point")
    envs.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        envs.step(np.zeros(2, dtype=np.int64))
    if isinstance(envs.single_action_space, gym.spaces.Box):
        bad = np.zeros((3, *envs.single_action_space.shape), dtype=np.float32)
        if envs.metadata["action_policy"] != "clip":  # else clipping is the documented policy
            bad[1] = envs.single_action_space.high + 1.0
            with pytest.raises(ValueError, match=r"env indices \[1\]"):
                envs.step(bad)
        bad[1] = np.nan
        with pytest.raises(ValueError, match="finite"):
            envs.step(bad)
        return
    with pytest.raises(ValueError, match=r"env indices \[1\]"):
        envs.step(np.array([0, 99, 0]))
    with pytest.raises(ValueError, match="dtype"):
        envs.step(np.array([0.0, 1.0, 2.0]))


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_spaces_stable_and_rewards_decomposed(env_id):
    env = gym.make(env_id)
    obs_space, act_space = env.observation_space, env.action_space
    snapshot = (repr(obs_space), repr(act_space))
    trajectory = rollout(env, seed=0, steps=200)
    assert env.observation_space is obs_space
    assert env.action_space is act_space
    assert (repr(env.observation_space), repr(env.action_space)) == snapshot
    for obs in trajectory["obs"]:
        assert obs_space.contains(obs)
    for reward, info in zip(trajectory["rewards"], trajectory["step_infos"], strict=True):
        terms = info["reward_terms"]
        assert sum(terms.values()) == reward
        assert isinstance(info.get("is_success", False), bool)


@pytest.mark.parametrize("env_id", ALL_IDS[::6])
def test_render(env_id):
    mode = gym.spec(env_id).make().metadata["render_modes"][0]
    env = gym.make(env_id, render_mode=mode)
    env.reset(seed=0)
    frame = env.render()
    if mode == "ansi":
        assert isinstance(frame, str)
        assert frame.strip()
        return
    assert frame.dtype == np.uint8
    assert frame.ndim == 3
    assert frame.shape[2] == 3
    assert frame.std() > 0
