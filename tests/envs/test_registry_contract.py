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
    """Random actions with a short limit: mostly truncations (goals, purchases and falls are rare).

    Successes and terminations in every env, in both autoreset modes, are forced and asserted by
    ``test_native_grid_matches_sync_through_successes_and_both_endings`` and
    ``test_native_vector_matches_sync_through_episode_ends`` below.
    """
    if gym.spec(env_id).vector_entry_point is None:
        pytest.skip("no native vector env")
    kwargs = {"max_episode_steps": 23}  # forces many truncations and autoresets
    native = gym.make_vec(env_id, num_envs, vectorization_mode="vector_entry_point", **kwargs)
    sync = gym.make_vec(env_id, num_envs, vectorization_mode="sync", **kwargs)
    a = vector_rollout(native, seed=5, steps=1000)
    b = vector_rollout(sync, seed=5, steps=1000)
    assert_same(a, b)
    assert a["resets"] >= 40 * num_envs  # autoreset steps (truncations at least) really happened


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


# Success thresholds lowered (the analogue of a start next to the goal) so that every task's
# success predicate, and every success-gated reward term, fires within the test's episodes; a
# fall height where the task has none, so that locomotion episodes also terminate.
LOCOMOTION_EASY = {
    "HalfCheetahBackward": {"backward_speed": 0.2, "speed_window": 5, "fall_height": 0.5},
    "HopperBackFlip": {"flip_angle": 0.3, "land_hold_steps": 1, "fall_height": 1.1},
    "HopperFrontFlip": {"flip_angle": 0.05, "land_hold_steps": 1, "upright_cos": 0.0,
                        "fall_height": 1.1},
    "HopperJump": {"jump_height": 1.3, "fall_height": 1.1},
    "AntLieDown": {"hold_steps": 1, "lie_height": 0.6, "fall_height": 0.5},
    "AntWaveLeg": {"wave_height": 0.02, "wave_count": 1, "fall_height": 0.5},
    "HumanoidKneel": {"knee_height": 1.0, "kneel_up_z": 0.0, "kneel_min_height": 0.0,
                      "hold_steps": 1, "fall_height": 0.45},
    "AntGoal": {"goal_min_distance": 0.81, "goal_max_distance": 0.84, "goal_radius": 0.8},
}


def _family_kwargs(env_id):
    if "RouteDrive" in env_id:
        return {"route_done_pct": 5.0}  # the route follower finishes 5 % of a route in ~40 steps
    return LOCOMOTION_EASY.get(env_id.split("/")[1].rsplit("-v", 1)[0], {})


def _driving_policies(space):
    from rewardgym.envs.driving.baselines import RouteFollower
    from rewardgym.envs.driving.shell import DISCRETE_ACTIONS

    follower = RouteFollower()

    def as_action(steer_accel):
        if isinstance(space, gym.spaces.Discrete):  # the nearest of the 15 (steer, accel) pairs
            return int(np.argmin(((DISCRETE_ACTIONS - steer_accel) ** 2).sum(axis=1)))
        return np.asarray(steer_accel, np.float32)

    return [lambda obs, i, rng, env: as_action(follower({k: v[i] for k, v in obs.items()}
                                                        if isinstance(obs, dict) else obs[i])),
            lambda obs, i, rng, env: as_action([1.0, 1.0]),  # swerve off the road
            lambda obs, i, rng, env: as_action([0.0, -1.0])]  # stand still


def _shopping_policies(env_id):
    from rewardgym.envs.shopping import discrete
    from rewardgym.envs.shopping.oracle import oracle_action

    if "Text" in env_id:
        return [lambda obs, i, rng, env: oracle_action(env),  # buys the goal: R = 1
                lambda obs, i, rng, env: oracle_action(env, query=lambda goal: "socks"),
                lambda obs, i, rng, env: "click[nothing]"]  # invalid: only the limit ends it

    def oracle_slot(obs, i, rng, env):
        text = oracle_action(env.text_env)
        if text.startswith("search["):  # the slots search the instruction, not the oracle query
            text = f"search[{discrete.without_price(env.text_env.goal.instruction_text)}]"
        slot = env.slot_of(text)
        return rng.choice(np.flatnonzero(env.action_masks())) if slot is None else slot

    def idle_slot(obs, i, rng, env):  # a masked slot is an invalid no-op
        masked = np.flatnonzero(~env.action_masks())
        return masked[0] if masked.size else 0

    return [oracle_slot,
            lambda obs, i, rng, env: rng.choice(np.flatnonzero(env.action_masks())),
            idle_slot]


def _episode_policies(env_id, space):
    """Per-episode action makers ``(obs, i, rng, sub_env)`` that provoke each ending of the family.

    Cycled per episode; ``sub_env`` is the sync vector env's i-th env, unwrapped (the oracles read
    its state; the native env is compared with it step by step, so it is the same state).
    """
    if "RouteDrive" in env_id:
        return _driving_policies(space)
    if "WebShop" in env_id:
        return _shopping_policies(env_id)
    return [lambda obs, i, rng, env: rng.uniform(space.low, space.high).astype(space.dtype),
            lambda obs, i, rng, env: space.high.copy(),  # full actuation: falls and flips
            lambda obs, i, rng, env: np.zeros(space.shape, space.dtype)]


def _flag(infos, key, done):
    """``infos[key]`` where reported, and on SAME_STEP finishing rows the final step's value."""
    n = done.shape[0]
    value = np.asarray(infos.get(key, np.zeros(n, bool)), bool) & infos.get(f"_{key}", True)
    final = infos.get("final_info", {})
    if key in final:
        value = value | (done & np.asarray(final[key], bool) & final.get(f"_{key}", True))
    return value


@pytest.mark.slow
@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
@pytest.mark.parametrize("env_id", NATIVE_NON_GRID)
def test_native_vector_matches_sync_through_episode_ends(env_id, mode):
    """native == sync for the other families, in both autoreset modes, through every ending.

    Episodes cycle through policies that provoke each ending: RouteDrive's scripted route
    follower finishes a route shortened to 5 % (success, positive reward), full steer and
    throttle leaves the road (termination), braking stands still until the time limit;
    WebShop's oracle buys the goal (R = 1), a wrong query or random valid clicks buy something
    else, invalid clicks wait for the limit; locomotion runs random, full and zero actuation
    with the success thresholds lowered (``LOCOMOTION_EASY``) and a fall height. The test
    asserts that every env saw successes, terminations, truncations and positive rewards.
    """
    n, steps, limit = 2, 240, 60
    kwargs = {"max_episode_steps": limit, **_family_kwargs(env_id)}
    native = gym.make_vec(env_id, n, vectorization_mode="vector_entry_point",
                          autoreset_mode=mode, **kwargs)
    sync = gym.make_vec(env_id, n, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": mode}, **kwargs)
    obs, info = sync.reset(seed=3)
    assert_same((obs, info), native.reset(seed=3))
    policies = _episode_policies(env_id, sync.single_action_space)
    rng = np.random.default_rng(0)
    episode = np.zeros(n, dtype=int)
    pending = np.zeros(n, dtype=bool)  # NEXT_STEP: the next step only resets
    positive, successes, terminations, truncations = (np.zeros(n, dtype=int) for _ in range(4))
    for _ in range(steps):
        actions = [policies[episode[i] % 3](obs, i, rng, sync.envs[i].unwrapped)
                   if not pending[i] else policies[2](obs, i, rng, sync.envs[i].unwrapped)
                   for i in range(n)]  # the reset step ignores its action
        actions = (tuple(actions) if isinstance(sync.single_action_space, gym.spaces.Text)
                   else np.stack([np.asarray(a) for a in actions]).astype(
                       sync.action_space.dtype))
        result = sync.step(actions)
        assert_same(result, native.step(actions))
        obs, rewards, terminated, truncated, infos = result
        done = terminated | truncated
        positive += rewards > 0
        successes += _flag(infos, "is_success", done)
        terminations += terminated
        truncations += truncated & ~terminated
        episode += done
        pending = done if mode == AutoresetMode.NEXT_STEP else pending
    counts = {"positive": positive, "successes": successes, "terminations": terminations,
              "truncations": truncations}
    assert all((c >= 1).all() for c in counts.values()), counts
