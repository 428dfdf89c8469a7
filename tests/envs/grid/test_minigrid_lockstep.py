"""Our grid kernels against real MiniGrid, stepped in lockstep from identical states."""

import gymnasium as gym
import minigrid  # noqa: F401  (registers MiniGrid ids)
import numpy as np
import pytest

from rewardgym.envs.grid import from_minigrid

# One MiniGrid id per family and variant we implement.
MINIGRID_IDS = [
    "MiniGrid-Empty-5x5-v0",
    "MiniGrid-Empty-Random-6x6-v0",
    "MiniGrid-FourRooms-v0",
    "MiniGrid-DoorKey-5x5-v0",
    "MiniGrid-DoorKey-8x8-v0",
    "MiniGrid-KeyCorridorS3R1-v0",
    "MiniGrid-KeyCorridorS3R3-v0",
    "MiniGrid-KeyCorridorS4R3-v0",
    "MiniGrid-MultiRoom-N2-S4-v0",
    "MiniGrid-MultiRoom-N4-S5-v1",
    "MiniGrid-LavaGapS5-v0",
    "MiniGrid-LavaCrossingS9N2-v0",
    "MiniGrid-SimpleCrossingS9N1-v0",
]


def _policy_action(rng: np.random.Generator) -> int:
    # Mostly moves and turns, with enough pickups/toggles/drops to exercise keys and doors.
    return int(rng.choice(7, p=[0.2, 0.2, 0.35, 0.08, 0.05, 0.1, 0.02]))


@pytest.mark.parametrize("minigrid_id", MINIGRID_IDS)
def test_lockstep_with_minigrid(minigrid_id):
    mg = gym.make(minigrid_id).unwrapped  # no TimeLimit/checker: MiniGrid counts max_steps
    rng = np.random.default_rng(0)
    steps, episodes, rewards_seen, events = 0, 0, 0, 0
    while steps < 2500:
        mg_obs, _ = mg.reset(seed=episodes)
        ours = from_minigrid(mg)
        obs = ours.observe()
        np.testing.assert_array_equal(obs["image"], mg_obs["image"])
        assert obs["direction"] == mg_obs["direction"]
        episodes += 1
        done = False
        while not done and steps < 2500:
            action = _policy_action(rng)
            before = mg.grid.encode()
            mg_obs, mg_r, mg_term, mg_trunc, _ = mg.step(action)
            obs, r, term, trunc, info = ours.step(action)
            steps += 1
            events += int(not np.array_equal(before, mg.grid.encode()))
            context = f"{minigrid_id} episode {episodes} step {steps} action {action}"
            np.testing.assert_array_equal(obs["image"], mg_obs["image"], err_msg=context)
            assert obs["direction"] == mg_obs["direction"], context
            assert r == pytest.approx(float(mg_r), abs=0, rel=1e-12), context
            assert (term, trunc) == (bool(mg_term), bool(mg_trunc)), context
            assert info["is_success"] == (r > 0), context
            np.testing.assert_array_equal(ours.grid_encoding, mg.grid.encode(), err_msg=context)
            assert ours.agent_state == (*map(int, mg.agent_pos), int(mg.agent_dir)), context
            rewards_seen += int(r > 0)
            done = term or trunc
    assert episodes >= 2
    if "Empty" in minigrid_id or "DoorKey-5x5" in minigrid_id:
        assert rewards_seen > 0, "the random walk should reach the goal at least once"
    if "DoorKey" in minigrid_id or "KeyCorridor" in minigrid_id or "MultiRoom" in minigrid_id:
        assert events > 0, "keys or doors should have changed the grid"
