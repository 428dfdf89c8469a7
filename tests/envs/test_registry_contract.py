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
from tests.conftest import ALL_IDS, GRID_IDS, invalid_actions, sample_actions
from tests.envs.grid.oracle import oracle_action
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


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
@pytest.mark.parametrize("env_id", GRID_IDS)
def test_native_grid_matches_sync_through_successes_and_both_endings(env_id, mode):
    """native == sync on episodes that reach the goal, not only on random walks that time out.

    Each env cycles through episodes played by the planning oracle (tests/envs/grid/oracle.py,
    read from the sync env's true state), random episodes (lava, drops, doors) and idle ones
    (turning on the spot); the step limit is above the oracle's longest solution (61 steps,
    MultiRoom-N6), so every env terminates with a positive reward and is truncated, in both
    autoreset modes, and the test asserts that it did.
    """
    n, steps, limit = 3, 260, 70
    kwargs = {"max_episode_steps": limit}
    native = gym.make_vec(env_id, n, vectorization_mode="vector_entry_point",
                          autoreset_mode=mode, **kwargs)
    sync = gym.make_vec(env_id, n, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": mode}, **kwargs)
    obs, info = sync.reset(seed=7)
    assert_same((obs, info), native.reset(seed=7))
    rng = np.random.default_rng(0)
    episode = np.zeros(n, dtype=int)
    pending = np.zeros(n, dtype=bool)  # NEXT_STEP: the next step only resets
    successes, terminations, truncations = (np.zeros(n, dtype=int) for _ in range(3))
    for _ in range(steps):
        actions = rng.integers(0, 7, n)
        for i in range(n):
            if episode[i] % 3 == 0 and not pending[i]:
                single = {key: value[i] for key, value in obs.items()}
                actions[i] = oracle_action(sync.envs[i].unwrapped, single)
            elif episode[i] % 3 == 2:
                actions[i] = 0  # turn left: this episode can only be truncated
        result = sync.step(actions)
        assert_same(result, native.step(actions))
        obs, rewards, terminated, truncated, _ = result
        done = terminated | truncated
        successes += rewards > 0
        terminations += terminated
        truncations += truncated & ~terminated
        episode += done
        pending = done if mode == AutoresetMode.NEXT_STEP else pending
    assert (successes >= 1).all(), successes
    assert (terminations >= successes).all()
    assert (truncations >= 1).all(), truncations


NATIVE_NON_GRID = [i for i in ALL_IDS
                   if gym.spec(i).vector_entry_point is not None and i not in GRID_IDS]


def _episode_policies(env_id, space):
    """Per-episode action makers that provoke each ending of the family (cycled per episode)."""
    if "RouteDrive" in env_id:
        from rewardgym.envs.driving.baselines import RouteFollower

        follower = RouteFollower()
        if isinstance(space, gym.spaces.Discrete):
            return [lambda obs, i, rng: rng.integers(space.n)] * 3
        return [lambda obs, i, rng: follower({k: v[i] for k, v in obs.items()}
                                             if isinstance(obs, dict) else obs[i]),
                lambda obs, i, rng: np.array([1.0, 1.0], np.float32),  # swerve off the road
                lambda obs, i, rng: np.array([0.0, -1.0], np.float32)]  # stand still
    if isinstance(space, gym.spaces.Discrete):
        return [lambda obs, i, rng: rng.integers(space.n)] * 3
    return [lambda obs, i, rng: rng.uniform(space.low, space.high).astype(space.dtype),
            lambda obs, i, rng: space.high.copy(),  # full actuation: falls and flips
            lambda obs, i, rng: np.zeros(space.shape, space.dtype)]


@pytest.mark.slow
@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
@pytest.mark.parametrize("env_id", NATIVE_NON_GRID)
def test_native_vector_matches_sync_through_episode_ends(env_id, mode):
    """native == sync for the other families, in both autoreset modes, across episode ends.

    Episodes cycle through policies that provoke each ending (RouteDrive: the scripted route
    follower earns progress, full steer and throttle leaves the road, braking stands still until
    the time limit); the test asserts the endings it relies on happened in every env.
    """
    if isinstance(gym.spec(env_id).make().action_space, gym.spaces.Text):
        pytest.skip("text actions have no batched sampler here; WebShopDiscrete covers the core")
    n, steps, limit = 2, 240, 60
    native = gym.make_vec(env_id, n, vectorization_mode="vector_entry_point",
                          autoreset_mode=mode, max_episode_steps=limit)
    sync = gym.make_vec(env_id, n, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": mode}, max_episode_steps=limit)
    obs, info = sync.reset(seed=3)
    assert_same((obs, info), native.reset(seed=3))
    policies = _episode_policies(env_id, sync.single_action_space)
    rng = np.random.default_rng(0)
    episode = np.zeros(n, dtype=int)
    positive, terminations, truncations = (np.zeros(n, dtype=int) for _ in range(3))
    for _ in range(steps):
        actions = np.stack([np.asarray(policies[episode[i] % 3](obs, i, rng))
                            for i in range(n)]).astype(sync.action_space.dtype)
        result = sync.step(actions)
        assert_same(result, native.step(actions))
        obs, rewards, terminated, truncated, _ = result
        positive += rewards > 0
        terminations += terminated
        truncations += truncated & ~terminated
        episode += terminated | truncated
    if "WebShop" in env_id:  # random clicks: purchases (terminations) and time-outs, no reward
        assert (terminations + truncations >= 1).all(), (terminations, truncations)
        return
    assert (positive >= 1).all(), positive
    assert (truncations >= 1).all(), truncations
    if "RouteDrive" in env_id and "Discrete" not in env_id:
        assert (terminations >= 1).all(), terminations  # off the road
    if "HumanoidKneel" in env_id:
        assert terminations.sum() >= 1, terminations  # a fall under full actuation
