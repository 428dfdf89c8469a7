"""Enumerate a grid layout as a tabular MDP (for reward distances and policy-invariance checks).

Starting from an env's current state, every state reachable under the seven actions is found
by breadth-first search over the env's own numba transition, with the step counter held at zero
so nothing truncates. A state is the whole grid, the agent's pose and what it carries. The base
reward is Markov: 1 for a successful transition (MiniGrid's own reward also depends on the step
count), and every terminating transition leads to one absorbing state with reward 0
(research notes ``shaping_theory.md`` §3.3-3.4).
"""

from __future__ import annotations

import dataclasses
from collections import deque

import numpy as np

from rewardgym.envs.grid import constants as c
from rewardgym.envs.grid import kernels as k
from rewardgym.envs.grid.potential import subgoal_distance


@dataclasses.dataclass(frozen=True)
class TabularMDP:
    """A finite MDP with one absorbing terminal state (the last index).

    Attributes:
        transitions: ``P[s, a, s']`` (rows sum to 1).
        rewards: base reward ``R[s, a, s']``.
        terminal: ``(S,)`` bool, True only for the absorbing state.
        subgoal_distance: ``(S,)`` BFS distance to the sub-goal (0 for the absorbing state).
    """

    transitions: np.ndarray
    rewards: np.ndarray
    terminal: np.ndarray
    subgoal_distance: np.ndarray

    @property
    def n_states(self) -> int:
        """Number of states, the absorbing one included."""
        return self.transitions.shape[0]

    @property
    def n_actions(self) -> int:
        """Number of actions."""
        return self.transitions.shape[1]


def to_tabular(env, max_states: int = 50_000) -> TabularMDP:
    """The tabular MDP of a reset :class:`~rewardgym.envs.grid.GridEnv` (or wrapper of one).

    Raises:
        ValueError: if more than ``max_states`` states are reachable.

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> env = gym.make("rewardgym/Empty-5x5-v0")
        >>> _ = env.reset(seed=0)
        >>> mdp = to_tabular(env)
        >>> mdp.n_states, mdp.n_actions  # 8 free cells x 4 directions + the absorbing state
        (33, 7)
    """
    grid = env.unwrapped
    cfg = grid.config
    params = cfg.kernel_params()._replace(max_steps=2**62, time_limit=0)
    s = k.new_state(1, cfg.width, cfg.height, cfg.agent_view_size)
    origin = grid._state
    start = (origin.cells[0].copy(), origin.agent[0].copy(), origin.carrying[0].copy())
    s.target[0] = origin.target[0]
    index: dict[bytes, int] = {}
    states: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    edges: list[tuple[int, int, int, float, bool]] = []

    def key(cells, agent, carrying):
        return cells.tobytes() + agent.tobytes() + carrying.tobytes()

    def visit(state):
        kb = key(*state)
        if kb not in index:
            if len(states) >= max_states:
                raise ValueError(f"to_tabular: more than max_states={max_states} states")
            index[kb] = len(states)
            states.append(state)
            queue.append(index[kb])
        return index[kb]

    queue: deque[int] = deque()
    visit(start)
    while queue:
        src = queue.popleft()
        for action in range(c.NUM_ACTIONS):
            cells, agent, carrying = states[src]
            s.cells[0], s.agent[0], s.carrying[0] = cells, agent, carrying
            s.step_count[0] = 0
            _, terminated, _, success = k.transition(s, 0, params, action)
            dst = -1 if terminated else visit(
                (s.cells[0].copy(), s.agent[0].copy(), s.carrying[0].copy()))
            edges.append((src, action, dst, 1.0 if success else 0.0, terminated))
    n = len(states) + 1  # the absorbing terminal state is last
    transitions = np.zeros((n, c.NUM_ACTIONS, n))
    rewards = np.zeros((n, c.NUM_ACTIONS, n))
    for src, action, dst, reward, _ in edges:
        dst = n - 1 if dst < 0 else dst
        transitions[src, action, dst] = 1.0
        rewards[src, action, dst] = reward
    transitions[n - 1, :, n - 1] = 1.0
    terminal = np.zeros(n, dtype=bool)
    terminal[-1] = True
    target = origin.target[0]
    distance = np.zeros(n)
    for i, (cells, agent, carrying) in enumerate(states):
        distance[i] = subgoal_distance(cells, agent[0], agent[1], carrying, target[0], target[1])
    return TabularMDP(transitions, rewards, terminal, distance)
