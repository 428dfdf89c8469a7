"""The grid step's reward and episode-end rules, on a hand-made 5x5 room.

Calls ``kernels.transition`` (one env, no batch step, no observation): compiling it takes a
few seconds, not the whole family's kernels, so this is the test ``make mutation`` runs against
every mutant of the step's reward and flag lines (``test_minigrid_lockstep.py`` checks the same
rules against MiniGrid itself, through the env).
"""

from __future__ import annotations

import pytest

from rewardgym.envs.grid import constants as c
from rewardgym.envs.grid.config import GridConfig
from rewardgym.envs.grid.kernels import new_state, transition

MAX_STEPS = 20
P = GridConfig(layout="empty", size=5, max_steps=MAX_STEPS).kernel_params()


def _room(goal=(3, 1), lava=(1, 3), ball=None, target=None):
    """Walls around a 3x3 floor; the agent at (1, 1) facing +x (towards the goal)."""
    s = new_state(1, 5, 5, P.view_size)
    s.cells[0, :, :, 0] = c.WALL
    s.cells[0, :, :, 1] = c.GREY
    s.cells[0, 1:4, 1:4] = (c.EMPTY, 0, 0)
    s.cells[0, goal[0], goal[1]] = (c.GOAL, c.GREEN, 0)
    s.cells[0, lava[0], lava[1]] = (c.LAVA, c.RED, 0)
    if ball is not None:
        s.cells[0, ball[0], ball[1]] = (c.BALL, ball[2], 0)
    if target is not None:
        s.target[0] = target
    s.agent[0] = (1, 1, 0)
    return s


def _step(s, action, p=P):
    reward, terminated, truncated, success = transition(s, 0, p, action)
    return reward, bool(terminated), bool(truncated), bool(success)


def test_reaching_the_goal_pays_minigrids_time_discounted_reward():
    s = _room()
    assert _step(s, c.FORWARD) == (0.0, False, False, False)  # (2, 1): not yet
    assert _step(s, c.FORWARD) == (pytest.approx(1.0 - 0.9 * 2 / MAX_STEPS, abs=1e-15), True,
                                   False, True)
    assert tuple(s.agent[0, :2]) == (3, 1)  # the agent stands on the goal
    assert s.step_count[0] == 2


def test_every_action_counts_as_a_step():
    s = _room()
    for action in (c.LEFT, c.RIGHT, c.PICKUP, c.DROP, c.TOGGLE, c.DONE):
        assert _step(s, action) == (0.0, False, False, False)
    assert s.step_count[0] == 6
    _step(s, c.FORWARD)
    assert _step(s, c.FORWARD)[0] == pytest.approx(1.0 - 0.9 * 8 / MAX_STEPS, abs=1e-15)


def test_lava_ends_the_episode_without_reward():
    s = _room()
    s.agent[0] = (1, 2, 1)  # facing +y, the lava at (1, 3) ahead
    assert _step(s, c.FORWARD) == (0.0, True, False, False)


def test_walls_and_floor_end_nothing():
    s = _room()
    s.agent[0] = (1, 1, 2)  # facing the wall at (0, 1)
    assert _step(s, c.FORWARD) == (0.0, False, False, False)
    assert tuple(s.agent[0, :2]) == (1, 1)
    s.agent[0] = (1, 1, 1)  # facing the floor at (1, 2)
    assert _step(s, c.FORWARD) == (0.0, False, False, False)
    assert tuple(s.agent[0, :2]) == (1, 2)


def test_the_step_limit_truncates_even_on_the_goal():
    s = _room()
    s.step_count[0] = MAX_STEPS - 2
    assert _step(s, c.LEFT) == (0.0, False, False, False)
    s.agent[0, 2] = 0
    s.agent[0, :2] = (2, 1)
    # The last step reaches the goal: terminated, truncated, success and 1 - 0.9 = 0.1.
    assert _step(s, c.FORWARD) == (pytest.approx(0.1, abs=1e-15), True, True, True)
    assert _step(s, c.LEFT) == (0.0, False, True, False)  # past the limit: still truncated


@pytest.mark.parametrize(("limit", "truncates_at"),
                         [(3, 3), (1, 1), (0, None), (MAX_STEPS + 5, None)])
def test_an_outside_time_limit_truncates(limit, truncates_at):
    s = _room()
    p = P._replace(time_limit=limit)
    flags = [_step(s, c.LEFT, p)[2] for _ in range(5)]
    assert flags == [step == truncates_at or (truncates_at is not None and step > truncates_at)
                     for step in range(1, 6)]


def test_picking_up_the_target_succeeds():
    # KeyCorridor: holding the target object (type and colour) after a pickup ends the episode.
    s = _room(ball=(2, 1, c.BLUE), target=(c.BALL, c.BLUE))
    assert _step(s, c.PICKUP) == (pytest.approx(1.0 - 0.9 / MAX_STEPS, abs=1e-15), True, False,
                                  True)
    wrong_colour = _room(ball=(2, 1, c.RED), target=(c.BALL, c.BLUE))
    assert _step(wrong_colour, c.PICKUP) == (0.0, False, False, False)
    assert wrong_colour.carrying[0, 0] == c.BALL  # picked up, but not the target
    no_target = _room(ball=(2, 1, c.BLUE))
    assert _step(no_target, c.PICKUP) == (0.0, False, False, False)
