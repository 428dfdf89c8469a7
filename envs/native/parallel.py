"""The PettingZoo parallel shell every native multi-agent family uses.

PettingZoo's parallel API (Terry et al., "PettingZoo: Gym for Multi-Agent Reinforcement
Learning", NeurIPS 2021; ``pettingzoo/utils/env.py``): every live agent acts at once, ``step``
returns one dict per quantity keyed by the agents that acted, and agents leave ``agents`` when
they terminate or truncate (the step that ends an agent carries its final observation and info;
the agent is not in the next step's dicts).

:class:`NativeParallelEnv` is that API over a :class:`~rewardgym.envs.native.core.NativeCore`
whose output rows are the agents (row ``i`` is agent ``possible_agents[i]``) and which also
implements :class:`AgentActions` (one agent's action checked and written at a time). The shell
does the rest once: agent lists, per-agent spaces (one object per agent, built once, as
PettingZoo requires), the action dict checks (missing, unknown and invalid actions raise a
``ValueError`` naming the env and the agent before anything steps), dict packing, seeding
(``reset(seed=s)`` restarts the world's streams, row ``i`` of the core seeded ``s + i``; no
seed continues them), ``ResetNeeded``, rendering and pickling. A family supplies the core and
its names (``metadata["name"]``, agent names).
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from rewardgym.envs.action_policy import action_policy
from rewardgym.envs.native.checks import check_render_mode
from rewardgym.envs.native.core import NativeCore
from rewardgym.envs.native.modes import NO_AUTORESET
from rewardgym.envs.native.seeding import seed_list


class AgentActions(ABC):
    """What a core adds for the parallel shell: actions written one agent row at a time."""

    @abstractmethod
    def clear_agent_actions(self) -> None:
        """Reset every row's action to the no-op agents that left take (they are not read)."""

    @abstractmethod
    def write_agent_action(self, name: str, row: int, action: Any) -> None:
        """Check ``action`` (the space's policy) and write it as row ``row``'s action.

        Raises:
            ValueError: naming ``name`` (the env and the agent) for an invalid action.
        """

    @property
    @abstractmethod
    def agent_actions(self) -> Any:
        """The actions of every row, as :meth:`NativeCore.step` takes them."""

    def render_agent(self, row: int) -> Any:
        """A frame for agent row ``row`` (default: the first world's frame)."""
        return self.render(0)  # type: ignore[attr-defined]


class NativeParallelEnv(ParallelEnv):
    """A PettingZoo ``ParallelEnv`` over a core whose rows are its agents.

    Args:
        core: a :class:`~rewardgym.envs.native.core.NativeCore` that is also an
            :class:`AgentActions`; its rows (``rewards``, ``obs_row(i)``, ``info(i)``, ...) are
            the agents, in ``possible_agents`` order.
        possible_agents: the agent names.
        render_mode: ``None`` or one of ``metadata["render_modes"]``.

    Example:
        >>> from rewardgym.envs.driving import RouteDriveParallelEnv
        >>> env = RouteDriveParallelEnv(num_egos=2, num_npcs=0)
        >>> isinstance(env, NativeParallelEnv), env.metadata["action_policy"]
        (True, 'clip')
    """

    metadata: dict[str, Any] = {"name": "native_parallel", "render_modes": ["rgb_array"],
                                "is_parallelizable": True}

    def __init__(self, core: NativeCore, possible_agents: list[str],
                 render_mode: str | None = None) -> None:
        if not isinstance(core, AgentActions):
            raise TypeError(f"{type(self).__name__}: the core must implement AgentActions, got "
                            f"{type(core).__name__}")
        check_render_mode(type(self).__name__, render_mode, self.metadata["render_modes"])
        self._core = core
        self.render_mode = render_mode
        self.possible_agents = list(possible_agents)
        self.agents: list[str] = []
        self._index = {agent: row for row, agent in enumerate(self.possible_agents)}
        # One space object per agent, built once: PettingZoo requires observation_space(agent)
        # to return the same object every call, and separate objects seed separately.
        self.observation_spaces = {agent: copy.deepcopy(core.single_observation_space)
                                   for agent in self.possible_agents}
        self.action_spaces = {agent: copy.deepcopy(core.single_action_space)
                              for agent in self.possible_agents}
        self.metadata = {**type(self).metadata,
                         "action_policy": action_policy(core.single_action_space)}
        self._worlds = np.ones(core.num_envs, dtype=np.bool_)
        self._seeded = False

    @property
    def _name(self) -> str:
        return self.metadata["name"]

    def observation_space(self, agent: str) -> spaces.Space:
        """The (cached) observation space of ``agent``."""
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        """The (cached) action space of ``agent``."""
        return self.action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """Start an episode with every agent; ``seed`` restarts the world's random streams."""
        core = self._core
        core.seed_rows(self._worlds, seed_list(seed, core.num_envs, self._name))
        self._seeded = True
        if options:
            core.reset_options(options)
        core.reset_rows(self._worlds)
        self.agents = self.possible_agents[:]
        obs = {agent: core.obs_row(row) for row, agent in enumerate(self.possible_agents)}
        infos = {agent: core.info(row) for row, agent in enumerate(self.possible_agents)}
        return obs, infos

    def _write_actions(self, actions: dict[str, Any]) -> None:
        """Check every action before anything steps, then fill the core's action rows."""
        if not isinstance(actions, dict):
            raise ValueError(f"{self._name}: actions must be a dict keyed by agent, got "
                             f"{type(actions).__name__}")
        live = set(self.agents)
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"{self._name}: no action for live agent(s) {missing} (every agent "
                             f"in env.agents must act; live: {self.agents})")
        extra = [a for a in actions if a not in live]
        if extra:
            raise ValueError(f"{self._name}: action(s) for agent(s) {extra} that are not live "
                             f"(live: {self.agents}; possible: {self.possible_agents})")
        core = self._core
        core.clear_agent_actions()
        for agent in self.agents:
            core.write_agent_action(f"{self._name} agent {agent!r}", self._index[agent],
                                    actions[agent])

    def step(self, actions: dict[str, Any]) -> tuple[dict[str, Any], dict[str, float],
                                                     dict[str, bool], dict[str, bool],
                                                     dict[str, dict[str, Any]]]:
        """Step every live agent; the dicts are keyed by the agents that acted."""
        if not self._seeded:
            raise gym.error.ResetNeeded(f"{self._name}: call reset() before step()")
        if not self.agents:
            raise gym.error.ResetNeeded(f"{self._name}: every agent is done; call reset()")
        self._write_actions(actions)
        core = self._core
        core.step(core.agent_actions, NO_AUTORESET)
        rewards_out, terminated_out, truncated_out = (core.rewards, core.terminations,
                                                      core.truncations)
        acting = self.agents
        obs, rewards, terminations, truncations, infos = {}, {}, {}, {}, {}
        for agent in acting:
            row = self._index[agent]
            obs[agent] = core.obs_row(row)
            rewards[agent] = float(rewards_out[row])
            terminations[agent] = bool(terminated_out[row])
            truncations[agent] = bool(truncated_out[row])
            infos[agent] = core.info(row)
        self.agents = [a for a in acting if not (terminations[a] or truncations[a])]
        return obs, rewards, terminations, truncations, infos

    def render(self) -> Any:
        """A frame around the first live agent (the first agent once all are done)."""
        if self.render_mode is None:
            gym.logger.warn(f"{self._name}: render() called without a render_mode; pass "
                            f"render_mode={self.metadata['render_modes'][0]!r}")
            return None
        row = self._index[self.agents[0]] if self.agents else 0
        return self._core.render_agent(row)

    def close(self) -> None:
        """Release what rendering holds."""
        self._core.close()


__all__ = ["AgentActions", "NativeParallelEnv"]
