"""Layout generators follow MiniGrid's rules; every layout is solvable; the potential is sane."""

import gymnasium as gym
import numpy as np
import pytest

from rewardgym.envs.grid import GridEnv, subgoal_potential
from rewardgym.envs.grid import constants as c
from tests.conftest import GRID_IDS
from tests.envs.grid.oracle import is_monotone_progress, solve

SOLVE_IDS = [i for i in GRID_IDS if "16x16" not in i]


@pytest.mark.parametrize("env_id", SOLVE_IDS)
def test_oracle_solves_every_layout(env_id):
    env = gym.make(env_id, subgoal_distance_in_info=True).unwrapped
    for seed in range(25):
        reward, steps, distances = solve(env, seed)
        assert reward > 0, f"seed {seed}: not solved in {steps} steps"
        assert reward == pytest.approx(1 - 0.9 * steps / env.config.max_steps_resolved)
        assert distances[0] < env.config.width * env.config.height
        assert is_monotone_progress(distances), distances


def _counts(cells):
    return {obj: int((cells[:, :, 0] == obj).sum()) for obj in range(11)}


def test_door_key_layout_rules():
    env = GridEnv(layout="door_key", size=8)
    splits = set()
    for seed in range(200):
        env.reset(seed=seed)
        cells = env.grid_encoding
        counts = _counts(cells)
        assert counts[c.DOOR] == counts[c.KEY] == counts[c.GOAL] == 1
        door = np.argwhere(cells[:, :, 0] == c.DOOR)[0]
        key = np.argwhere(cells[:, :, 0] == c.KEY)[0]
        x, y, _ = env.agent_state
        split = door[0]
        splits.add(int(split))
        assert 2 <= split <= 5
        assert 1 <= door[1] <= 5
        assert (cells[split, :, 0] != c.EMPTY).all()  # full wall with the door
        assert tuple(cells[tuple(door)]) == (c.DOOR, c.YELLOW, c.LOCKED)
        assert tuple(cells[tuple(key)]) == (c.KEY, c.YELLOW, 0)
        assert key[0] < split
        assert x < split
        assert (x, y) != tuple(key)
        assert tuple(cells[6, 6]) == (c.GOAL, c.GREEN, 0)
    assert splits == {2, 3, 4, 5}


def test_key_corridor_layout_rules():
    env = GridEnv(layout="key_corridor", room_size=4, num_rows=3)
    for seed in range(100):
        _obs, info = env.reset(seed=seed)
        cells = env.grid_encoding
        locked = np.argwhere((cells[:, :, 0] == c.DOOR) & (cells[:, :, 2] == c.LOCKED))
        assert len(locked) == 1
        door_color = cells[tuple(locked[0])][1]
        balls = np.argwhere(cells[:, :, 0] == c.BALL)
        keys = np.argwhere(cells[:, :, 0] == c.KEY)
        assert len(balls) == len(keys) == 1
        assert cells[tuple(keys[0])][1] == door_color
        assert keys[0][0] < 3
        assert balls[0][0] > 6
        assert locked[0][0] == 6
        ball_color = c.COLOR_NAMES[cells[tuple(balls[0])][1]]
        assert info["mission"] == f"pick up the {ball_color} ball"
        x, _, _ = env.agent_state
        assert 3 < x < 6  # the agent starts in the hallway


def test_crossing_has_requested_rivers_and_one_opening_each():
    env = GridEnv(layout="crossing", size=11, num_crossings=5)
    for seed in range(50):
        env.reset(seed=seed)
        lava = env.grid_encoding[1:-1, 1:-1, 0] == c.LAVA
        full_rows = [y for y in range(9) if lava[:, y].sum() >= 7]
        full_cols = [x for x in range(9) if lava[x, :].sum() >= 7]
        assert len(full_rows) + len(full_cols) == 5


def test_multi_room_builds_requested_number_of_rooms():
    env = GridEnv(layout="multi_room", num_rooms=6, max_room_size=10, size=25)
    for seed in range(30):
        env.reset(seed=seed)
        cells = env.grid_encoding
        doors = cells[:, :, 0] == c.DOOR
        assert doors.sum() == 5  # N rooms joined by N - 1 doors
        colors = cells[:, :, 1][doors]
        assert (cells[:, :, 2][doors] == c.CLOSED).all()
        assert len(set(colors.tolist())) >= 2


def test_subgoal_potential_reads_info_for_single_and_vector():
    env = gym.make("rewardgym/DoorKey-6x6-v0", subgoal_distance_in_info=True)
    obs, info = env.reset(seed=0)
    assert subgoal_potential(obs, info) == -info["subgoal_distance"] < 0
    envs = gym.make_vec("rewardgym/DoorKey-6x6-v0", 3, vectorization_mode="vector_entry_point",
                        subgoal_distance_in_info=True)
    obs, infos = envs.reset(seed=0)
    phi = subgoal_potential(obs, infos)
    assert phi.shape == (3,)
    assert phi[0] == -info["subgoal_distance"]
    with pytest.raises(KeyError, match="subgoal_distance_in_info"):
        subgoal_potential(obs, {})
