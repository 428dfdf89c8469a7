"""Grid env specifics: config validation, observation modes, kernels, vector options."""


import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from rewardgym.envs.grid import GridConfig, GridEnv, GridVectorEnv
from rewardgym.envs.grid import constants as c
from tests.helpers import assert_same, digests_by_thread_count, vector_rollout


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"layout": "maze"}, "layout"),
        ({"obs_mode": "pixels"}, "obs_mode"),
        ({"layout": "crossing", "size": 10}, "size"),
        ({"layout": "crossing", "size": 9, "num_crossings": 7}, "num_crossings"),
        ({"layout": "door_key", "size": 3}, "size"),
        ({"layout": "key_corridor", "size": 7}, "size"),
        ({"layout": "key_corridor", "room_size": 2}, "room_size"),
        ({"layout": "multi_room", "max_room_size": 3}, "max_room_size"),
        ({"max_steps": 0}, "max_steps"),
        ({"agent_view_size": 4}, "agent_view_size"),
        ({"obstacle": "water"}, "obstacle"),
    ],
)
def test_bad_config_field_is_named(kwargs, field):
    with pytest.raises(ValueError, match=rf"GridConfig\.{field}: expected"):
        GridConfig(**kwargs)


def test_typo_in_override_raises():
    with pytest.raises(TypeError, match="siez"):
        gym.make("rewardgym/DoorKey-5x5-v0", siez=6)


def test_minigrid_defaults_for_max_steps_and_walls():
    assert GridConfig(layout="door_key", size=8).max_steps_resolved == 640
    assert GridConfig(layout="key_corridor", room_size=3, num_rows=3).max_steps_resolved == 270
    assert GridConfig(layout="multi_room", num_rooms=6).max_steps_resolved == 120
    assert GridConfig(layout="four_rooms").max_steps_resolved == 100
    assert GridConfig(layout="empty").see_through_walls_resolved
    assert not GridConfig(layout="door_key").see_through_walls_resolved


def test_truncates_at_max_steps_with_override():
    env = gym.make("rewardgym/DoorKey-8x8-v0", max_steps=10)
    env.reset(seed=0)
    flags = [env.step(c.LEFT)[2:4] for _ in range(10)]
    assert flags[:9] == [(False, False)] * 9
    assert flags[9] == (False, True)


def test_flat_obs_is_view_then_one_hot_direction():
    partial = GridEnv(layout="four_rooms")
    flat = GridEnv(layout="four_rooms", obs_mode="flat")
    p_obs, _ = partial.reset(seed=7)
    f_obs, _ = flat.reset(seed=7)
    for action in [0, 2, 2, 1, 2]:
        p_obs, *_ = partial.step(action)
        f_obs, *_ = flat.step(action)
        assert flat.observation_space.contains(f_obs)
        np.testing.assert_array_equal(f_obs[:147], p_obs["image"].ravel())
        np.testing.assert_array_equal(f_obs[147:], np.eye(4, dtype=np.uint8)[p_obs["direction"]])


def test_full_obs_marks_agent_like_fully_obs_wrapper():
    env = GridEnv(layout="door_key", size=6, obs_mode="full")
    obs, _ = env.reset(seed=1)
    x, y, d = env.agent_state
    assert obs["image"].shape == (6, 6, 3)
    assert tuple(obs["image"][x, y]) == (c.AGENT, c.RED, d)
    grid = env.grid_encoding
    grid[x, y] = (c.AGENT, c.RED, d)
    np.testing.assert_array_equal(obs["image"], grid)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"layout": "multi_room", "num_rooms": 4, "max_room_size": 5},
        {"layout": "key_corridor", "room_size": 3, "num_rows": 3, "obs_mode": "flat"},
        {"layout": "door_key", "size": 6, "obs_mode": "full", "subgoal_distance_in_info": True},
        {"layout": "crossing", "size": 9, "num_crossings": 2, "autoreset_mode": "same_step"},
    ],
)
def test_parallel_kernel_equals_serial_kernel(kwargs):
    serial = GridVectorEnv(64, parallel_threshold=10_000, max_episode_steps=40, **kwargs)
    parallel = GridVectorEnv(64, parallel_threshold=1, max_episode_steps=40, **kwargs)
    assert_same(vector_rollout(serial, seed=9, steps=300),
                vector_rollout(parallel, seed=9, steps=300))


_THREADS_SCRIPT = """
import hashlib, gymnasium as gym, numpy as np, rewardgym, numba
envs = gym.make_vec("rewardgym/KeyCorridorS3R3-v0", 300, vectorization_mode="vector_entry_point",
                    num_threads=numba.config.NUMBA_NUM_THREADS)
rng = np.random.default_rng(0)
obs, _ = envs.reset(seed=1)
h = hashlib.sha256()
for _ in range(200):
    obs, r, te, tr, _ = envs.step(rng.integers(0, 7, 300))
    for a in (obs["image"], obs["direction"], r, te, tr):
        h.update(np.ascontiguousarray(a).tobytes())
print(numba.get_num_threads(), h.hexdigest())
"""


def test_trajectories_do_not_depend_on_numba_threads():
    digests = digests_by_thread_count(_THREADS_SCRIPT)
    assert digests["1"] == digests["2"]


def test_num_threads_is_validated():
    with pytest.raises(ValueError, match="num_threads"):
        GridVectorEnv(4, layout="empty", num_threads=0)


def test_vector_seed_list_and_reset_mask():
    envs = GridVectorEnv(3, layout="door_key", size=8, autoreset_mode=AutoresetMode.DISABLED)
    obs, _ = envs.reset(seed=[5, 6, 7])
    single = GridEnv(layout="door_key", size=8)
    for i, seed in enumerate([5, 6, 7]):
        s_obs, _ = single.reset(seed=seed)
        np.testing.assert_array_equal(obs["image"][i], s_obs["image"])
    before = obs["image"].copy()
    envs.step(np.array([1, 1, 1]))
    obs, infos = envs.reset(seed=[None, 50, None], options={"reset_mask": np.array([0, 1, 0],
                                                                                     dtype=bool)})
    assert infos["_mission"].tolist() == [False, True, False]
    s_obs, _ = single.reset(seed=50)
    np.testing.assert_array_equal(obs["image"][1], s_obs["image"])
    assert not np.array_equal(obs["image"][0], before[0])  # turned right, not reset
    with pytest.raises(ValueError, match="reset_mask"):
        envs.reset(options={"reset_mask": np.zeros(3, dtype=bool)})


def test_disabled_autoreset_keeps_stepping_finished_env():
    """DISABLED: a finished env is not reset by stepping; it goes on until a masked reset.

    Env 0 reaches the goal (terminated) at step 5; env 1 only turns and is truncated at the
    limit of 5 steps. Stepping on, both keep their episode (no reset, step count growing, the
    action applied) and stay finished, exactly like the scalar env stepped past its end.
    """
    envs = GridVectorEnv(2, layout="empty", size=5, autoreset_mode="disabled", max_episode_steps=5)
    single = GridEnv(layout="empty", size=5)  # no time limit: compared on obs and reward
    obs, _ = envs.reset(seed=0)
    single.reset(seed=0)
    path = [2, 2, 1, 2, 2]  # forward, forward, turn right, forward, forward: onto the goal
    for action in path:
        obs, reward, terminated, truncated, _ = envs.step(np.array([action, 0]))
        s_obs, s_reward, *_ = single.step(action)
    assert terminated.tolist() == [True, False]
    assert truncated.tolist() == [True, True]
    assert reward[0] > 0.9
    assert envs.metadata["autoreset_mode"] == AutoresetMode.DISABLED
    for action in (0, 0, 1):  # after the end: turn left, left, right
        before = obs["direction"].copy()
        obs, reward, terminated, truncated, _ = envs.step(np.array([action, action]))
        s_obs, s_reward, *_ = single.step(action)
        assert truncated.all()  # the step count went on past the limit: not reset
        np.testing.assert_array_equal(obs["direction"], (before + (1 if action else 3)) % 4)
        np.testing.assert_array_equal(obs["image"][0], s_obs["image"])
        assert reward[0] == s_reward
    assert envs._state.step_count.tolist() == [8, 8]
    obs, _ = envs.reset(seed=[None, 3], options={"reset_mask": np.array([False, True])})
    assert envs._state.step_count.tolist() == [8, 0]
    _, _, _, truncated, _ = envs.step(np.array([0, 0]))
    assert truncated.tolist() == [True, False]


def test_pickup_and_toggle_semantics_on_door_key():
    env = GridEnv(layout="door_key", size=5)
    # Hand-built state: agent at (1, 1) facing right at the key, door at (2, 2).
    cells = np.zeros((5, 5, 3), dtype=np.uint8)
    cells[:, :, 0] = c.EMPTY
    cells[0, :] = cells[4, :] = cells[:, 0] = cells[:, 4] = (c.WALL, c.GREY, 0)
    cells[2, :] = (c.WALL, c.GREY, 0)
    cells[2, 2] = (c.DOOR, c.YELLOW, c.LOCKED)
    cells[2, 1] = (c.KEY, c.YELLOW, 0)
    cells[3, 3] = (c.GOAL, c.GREEN, 0)
    env.reset(seed=0)
    env.load_state(cells=cells, agent=(1, 1, 0), carrying=np.zeros(3, np.uint8), target=(0, 0),
                   step_count=0, mission=c.MISSION_DOOR_KEY)
    obs, *_ = env.step(c.PICKUP)
    assert tuple(obs["image"][3, 6]) == (c.KEY, c.YELLOW, 0)  # carried key shown in own cell
    env.step(c.DROP)  # the cell the key came from is empty again, so it lands there
    assert tuple(env.grid_encoding[2, 1]) == (c.KEY, c.YELLOW, 0)
    env.step(c.PICKUP)
    env.step(c.RIGHT)  # face down, towards (1, 2)
    env.step(c.FORWARD)  # now at (1, 2)
    env.step(c.LEFT)  # face right, the door
    env.step(c.TOGGLE)
    assert env.grid_encoding[2, 2, 2] == c.OPEN
    env.step(c.TOGGLE)
    assert env.grid_encoding[2, 2, 2] == c.CLOSED  # unlocked doors toggle open/closed
    env.step(c.TOGGLE)
    for action in (c.FORWARD, c.FORWARD, c.RIGHT):
        env.step(action)
    obs, reward, terminated, truncated, info = env.step(c.FORWARD)
    assert terminated
    assert not truncated
    assert info["is_success"]
    assert reward == pytest.approx(1 - 0.9 * 13 / 250)  # the 13th step reaches the goal


def test_step_before_reset_is_refused():
    with pytest.raises(gym.error.ResetNeeded, match="reset"):
        GridEnv(layout="empty").step(0)
    with pytest.raises(gym.error.ResetNeeded, match="reset"):
        GridVectorEnv(2, layout="empty").step(np.zeros(2, dtype=np.int64))
