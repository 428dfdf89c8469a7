"""The grid reward view agrees with the env's own state and with the sub-goal potential."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from rewardgym.envs.grid import GridVectorEnv
from rewardgym.envs.grid.view import LAYOUT, SIZE, GridViewReader, features, features_batch


def test_view_matches_env_state_along_a_rollout():
    env = gym.make("rewardgym/DoorKey-6x6-v0", subgoal_distance_in_info=True)
    env.reset(seed=1)
    rng = np.random.default_rng(0)
    seen_key = False
    for _ in range(400):
        _, _, term, trunc, info = env.step(int(rng.integers(0, 7)))
        v = features(env)
        x, y, d = env.unwrapped.agent_state
        assert (v.agent_x, v.agent_y, v.agent_dir) == (x, y, d)
        assert v.subgoal_distance == info["subgoal_distance"]
        assert (v.key_x == -1) == (v.carrying_key == 1)
        assert v.carrying_key == 0 or v.dist_key == 0
        assert v.door_open + v.door_locked <= 1
        assert v.max_steps == env.unwrapped.config.max_steps_resolved
        grid = env.unwrapped.grid_encoding
        assert v.front_object == grid[int(v.front_x), int(v.front_y), 0]
        # Every place column names the cell holding that object (the agent's own state aside).
        assert v.carrying_object == env.unwrapped._state.carrying[0, 0]
        door = np.argwhere(grid[:, :, 0] == 4)[0]
        assert (v.door_x, v.door_y) == tuple(door)
        assert v.door_open == (grid[door[0], door[1], 2] == 0)
        assert v.door_locked == (grid[door[0], door[1], 2] == 2)
        goal = np.argwhere(grid[:, :, 0] == 8)[0]
        assert (v.goal_x, v.goal_y) == tuple(goal)
        assert v.at_goal == ((x, y) == tuple(goal))
        keys = np.argwhere(grid[:, :, 0] == 5)
        assert (v.key_x, v.key_y) == (tuple(keys[0]) if len(keys) else (-1, -1))
        assert v.step_count == env.unwrapped._state.step_count[0]
        seen_key |= v.carrying_key == 1
        if term or trunc:
            env.reset()
    assert "dist_goal" in LAYOUT.describe()


def test_batch_rows_equal_single_rows():
    envs = GridVectorEnv(3, layout="door_key", size=8)
    envs.reset(seed=4)
    singles = [gym.make("rewardgym/DoorKey-8x8-v0") for _ in range(3)]
    for i, e in enumerate(singles):
        e.reset(seed=4 + i)
    batch = features_batch(envs)
    assert batch.values.shape == (3, SIZE)
    for i, e in enumerate(singles):
        np.testing.assert_array_equal(batch.values[i], features(e).values)


# Action weights that pick up, drop and toggle often, so grids change under the reader.
_BUSY = np.array([0.15, 0.15, 0.3, 0.15, 0.1, 0.15, 0.0])


@pytest.mark.parametrize(("env_id", "autoreset", "tracked"), [
    ("DoorKey-6x6", AutoresetMode.NEXT_STEP, False),
    ("DoorKey-6x6", AutoresetMode.SAME_STEP, True),
    ("KeyCorridorS3R2", AutoresetMode.NEXT_STEP, True),
    ("MultiRoom-N2-S4", AutoresetMode.SAME_STEP, False),
    ("LavaGapS5", AutoresetMode.NEXT_STEP, False),
])
def test_reader_equals_full_search_every_step(env_id, autoreset, tracked):
    # The cached fields give exactly the rows of the full BFS, through pickups, drops, toggles,
    # resets of both autoreset modes, and sub-goal distances tracked by the env or not.
    envs = gym.make_vec(f"rewardgym/{env_id}-v0", 8, vectorization_mode="vector_entry_point",
                        autoreset_mode=autoreset, subgoal_distance_in_info=tracked,
                        max_steps=60)
    envs.reset(seed=1)
    reader = GridViewReader(envs)
    rng = np.random.default_rng(0)
    rebuilt_grids = 0
    for _ in range(300):
        _, _, term, trunc, _ = envs.step(rng.choice(7, 8, p=_BUSY))
        np.testing.assert_array_equal(reader.read(), features_batch(envs).values)
        rebuilt_grids += int((term | trunc).sum())
    assert rebuilt_grids > 8  # episodes ended (the reset path ran)


@pytest.mark.parametrize("autoreset", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_the_grid_version_counts_every_change_of_the_cells(autoreset):
    """The reader trusts ``GridState.version``: a step bumps it exactly when it changes an env's
    cells (a pickup, a drop, a toggle) or starts a new episode, and never otherwise."""
    envs = gym.make_vec("rewardgym/DoorKey-6x6-v0", 16, vectorization_mode="vector_entry_point",
                        autoreset_mode=autoreset, max_steps=150)
    envs.reset(seed=3)
    state = envs.unwrapped._state
    rng = np.random.default_rng(2)
    seen = {"object": 0, "door": 0, "episode": 0}
    for _ in range(600):
        cells, version, steps = state.cells.copy(), state.version.copy(), state.step_count.copy()
        envs.step(rng.choice(7, 16, p=_BUSY))
        new_episode = state.step_count != steps + 1
        changed = (state.cells != cells).reshape(16, -1).any(axis=1) | new_episode
        bumps = state.version - version  # 2: a change, then the SAME_STEP reset of its episode
        np.testing.assert_array_equal(bumps > 0, changed)
        assert bumps.max() <= 2
        moved = (state.cells != cells).any(axis=(1, 2)) & ~new_episode[:, None]
        seen["object"] += int(moved[:, 0].sum())  # an object picked up or dropped
        seen["door"] += int((moved[:, 2] & ~moved[:, 0]).sum())  # a door toggled
        seen["episode"] += int(new_episode.sum())
    assert min(seen.values()) > 5, seen


def test_reader_skipped_steps_and_partial_resets_rebuild():
    envs = GridVectorEnv(4, layout="door_key", size=6, autoreset_mode=AutoresetMode.DISABLED)
    envs.reset(seed=2)
    reader = GridViewReader(envs, ("dist_key", "dist_door", "dist_goal", "door_open"))
    rng = np.random.default_rng(1)
    cols = [LAYOUT[n].start for n in ("dist_key", "dist_door", "dist_goal", "door_open")]
    for t in range(200):
        envs.step(rng.choice(7, 4, p=_BUSY))
        if t % 3 == 0:  # steps the reader does not see
            continue
        if t % 7 == 0:
            envs.reset(options={"reset_mask": np.array([True, False, t % 2 == 0, False])})
        np.testing.assert_array_equal(reader.read()[:, cols], features_batch(envs).values[:, cols])


def test_reader_computes_only_what_is_asked():
    envs = GridVectorEnv(2, layout="door_key", size=5)
    envs.reset(seed=0)
    rows = GridViewReader(envs, ("dist_goal",)).read()
    assert np.isnan(np.delete(rows, LAYOUT["dist_goal"].start, axis=1)).all()
    np.testing.assert_array_equal(rows[:, LAYOUT["dist_goal"].start],
                                  features_batch(envs).dist_goal)
