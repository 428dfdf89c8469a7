"""RouteDrive for several egos: a PettingZoo ``ParallelEnv`` at a signalised 4-way junction.

PettingZoo's parallel API (Terry et al., "PettingZoo: Gym for Multi-Agent Reinforcement
Learning", NeurIPS 2021): every live agent acts at once, ``step`` returns one dict per quantity
keyed by the agents that acted, and agents leave ``agents`` when they terminate or truncate.
Each car drives its own route through the ``crossing`` scenario (route ``i`` starts on arm
``i`` of the junction, with a random exit) among IDM traffic, and earns its own CaRL reward
(Jaeger et al., "CaRL: Learning Scalable Planning Policies with Simple Rewards", CoRL 2025) or
any other ``reward_mode``.  The cars share one world of the same numba kernels as
:class:`~rewardgym.envs.driving.RouteDriveEnv` (``num_egos`` rows of one ``step_batch`` call),
so an ego-ego collision ends both cars, and a car that ends leaves the world for the others.

Contract enforced by ``tests/envs/driving/test_multi_agent.py``: PettingZoo's
``parallel_api_test`` and (through ``parallel_to_aec``) ``api_test``; same seed + same actions
=> identical trajectories over hundreds of steps; a scripted ego-ego collision ends both cars
and no other; ``progress`` + ``InfractionPenaltyParallel(infraction_table(config))`` == ``carl``
per agent; ``render()``; pickling.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from rewardgym.envs.action_policy import action_policy
from rewardgym.envs.driving import kernels as k
from rewardgym.envs.driving import shell
from rewardgym.envs.driving.config import DriveConfig
from rewardgym.envs.driving.core import DriveAccess, DriveCore
from rewardgym.envs.driving.maps import MAX_ROUTES
from rewardgym.envs.native.checks import check_count, check_render_mode
from rewardgym.envs.native.shell import NO_AUTORESET

MIN_AGENTS = 2


class RouteDriveParallelEnv(DriveAccess, ParallelEnv):
    """Several ego cars crossing a signalised intersection with traffic, each on its own route.

    ## Agents
    ``possible_agents = ["car_0", ..., "car_{n-1}"]`` with ``n = num_egos`` in 2 to 4 (default 4).
    ``car_i`` starts on arm ``i`` of the junction (so cars never spawn on top of each other) and
    leaves through an exit drawn per template; the lights of perpendicular arms alternate.

    ## Observation, action, reward
    Per agent exactly as in :class:`~rewardgym.envs.driving.RouteDriveEnv`: the 80-d vector
    (plus the BEV raster with ``obs_mode="bev"``) in which the other egos appear among the
    nearest cars; ``Box([-1, 1]^2)`` or ``Discrete(15)``; the reward of ``reward_mode`` for that
    car, decomposed in ``infos[agent]["reward_terms"]``.  Actions follow the single env's
    ``metadata["action_policy"]`` (finite continuous ones are clipped).  Invalid actions, actions
    missing for a live agent or given to an agent that is not live raise ``ValueError`` naming
    the env and the agent.

    ## Episode end
    A car terminates on its own infractions (an ego-ego collision terminates both cars, with
    ``infos[agent]["collision"]`` set for both) or on finishing its route, and truncates at the
    world's time limit (the longest of the routes' limits, or ``max_cycles``).  Finished cars
    leave ``agents`` and the world; the episode ends when ``agents`` is empty.

    ``state()`` is the concatenated vector observations of all possible agents, zeros for cars
    that have left (a global view for centralised critics).

    Args:
        config: base configuration; defaults to ``DriveConfig(scenario="crossing",
            num_egos=4)``.  ``scenario`` must be ``"crossing"``.
        render_mode: ``None`` or ``"rgb_array"``.
        max_cycles: an extra truncation limit in steps (PettingZoo's usual argument); ``None``
            keeps only the routes' own time limit.
        **overrides: :class:`DriveConfig` fields replacing the base's (e.g. ``num_egos=2``,
            ``reward_mode="progress"``, ``num_npcs=0``).

    Example:
        >>> env = RouteDriveParallelEnv(num_egos=2, num_npcs=2)
        >>> obs, infos = env.reset(seed=0)
        >>> env.agents, obs["car_0"].shape
        (['car_0', 'car_1'], (80,))
        >>> actions = {agent: np.array([0.0, 0.5], np.float32) for agent in env.agents}
        >>> obs, rewards, terminations, truncations, infos = env.step(actions)
        >>> sorted(rewards), sorted(infos["car_1"]["reward_terms"])
        (['car_0', 'car_1'], ['progress', 'terminal'])
    """

    metadata = {"name": "routedrive_intersection_v1", "render_modes": ["rgb_array"],
                "render_fps": 10, "is_parallelizable": True}

    def __init__(self, config: DriveConfig | None = None, render_mode: str | None = None,
                 max_cycles: int | None = None, **overrides: Any) -> None:
        name = type(self).__name__
        base = DriveConfig(scenario="crossing", num_egos=4) if config is None else config
        self.config = cfg = dataclasses.replace(base, **overrides)
        if cfg.scenario != "crossing":
            raise ValueError(f"{name}: scenario must be 'crossing' (one route per junction arm, "
                             f"so cars never spawn on top of each other), got {cfg.scenario!r}")
        if not MIN_AGENTS <= cfg.num_egos <= MAX_ROUTES:
            raise ValueError(f"{name}: num_egos must be in [{MIN_AGENTS}, {MAX_ROUTES}] (one car "
                             f"per junction arm), got {cfg.num_egos}")
        check_count(name, "max_cycles", max_cycles, allow_none=True)
        check_render_mode(name, render_mode, self.metadata["render_modes"])
        self.render_mode = render_mode
        self.max_cycles = max_cycles
        self.possible_agents = [f"car_{e}" for e in range(cfg.num_egos)]
        self.agents: list[str] = []
        self._index = {agent: e for e, agent in enumerate(self.possible_agents)}
        # One space object per agent, built once: PettingZoo requires observation_space(agent)
        # to return the same object every call, and separate objects seed separately.
        self.observation_spaces = {a: shell.observation_space(cfg) for a in self.possible_agents}
        self.action_spaces = {a: shell.action_space(cfg) for a in self.possible_agents}
        self.metadata = {**type(self).metadata,
                         "action_policy": action_policy(self.action_spaces["car_0"])}
        length = k.obs_length(cfg.value_features)
        self.state_space = spaces.Box(-shell.OBS_BOUND, shell.OBS_BOUND,
                                      (cfg.num_egos * length,), np.float32)
        self._core = DriveCore(cfg, 1, max_cycles)
        self._mask = np.ones(1, dtype=np.bool_)
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
        """Start an episode with every car; ``seed`` restarts the world's random stream."""
        # Without a seed the stream continues, as in the Gymnasium shells.
        core = self._core
        core.seed_rows(self._mask, [seed])
        self._seeded = True
        core.reset_rows(self._mask)
        self.agents = self.possible_agents[:]
        obs = {a: core.obs_row(e) for e, a in enumerate(self.possible_agents)}
        infos = {a: core.info(e) for e, a in enumerate(self.possible_agents)}
        return obs, infos

    def _write_actions(self, actions: dict[str, Any]) -> None:
        """Check every action before any state changes, then fill the kernel's action rows."""
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
        buffer = self._core.actions
        buffer[:] = 0.0
        for agent in self.agents:
            e = self._index[agent]
            shell.check_actions(f"{self._name} agent {agent!r}", self.config, actions[agent],
                                None, buffer[e:e + 1])

    def step(self, actions: dict[str, Any]) -> tuple[dict[str, Any], dict[str, float],
                                                     dict[str, bool], dict[str, bool],
                                                     dict[str, dict[str, Any]]]:
        """Drive every live car one tick; the dicts are keyed by the agents that acted."""
        if not self._seeded:
            raise gym.error.ResetNeeded(f"{self._name}: call reset() before step()")
        if not self.agents:
            raise gym.error.ResetNeeded(f"{self._name}: every agent is done; call reset()")
        self._write_actions(actions)
        core = self._core
        core.step(core.actions, NO_AUTORESET)
        acting = self.agents
        obs, rewards, terminations, truncations, infos = {}, {}, {}, {}, {}
        for agent in acting:
            e = self._index[agent]
            obs[agent] = core.obs_row(e)
            rewards[agent] = float(core.rewards[e])
            terminations[agent] = bool(core.terminations[e])
            truncations[agent] = bool(core.truncations[e])
            infos[agent] = core.info(e)
        self.agents = [a for a in acting if not (terminations[a] or truncations[a])]
        return obs, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        """All cars' vector observations concatenated (zeros for cars no longer live)."""
        live = np.zeros((len(self.possible_agents), 1), np.float32)
        live[[self._index[a] for a in self.agents]] = 1.0
        return (self._core.out.obs * live).reshape(-1)

    def render(self) -> np.ndarray | None:
        """A top-down RGB image centred on the first live car (``car_0`` once all are done)."""
        if self.render_mode is None:
            gym.logger.warn(f"{self._name}: render() called without a render_mode; pass "
                            "render_mode='rgb_array'")
            return None
        ego = self._index[self.agents[0]] if self.agents else 0
        return self._core.render(0, ego)

    def close(self) -> None:
        """Nothing to release (no window, no subprocess)."""
