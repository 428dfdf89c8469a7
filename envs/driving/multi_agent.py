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

import numpy as np
from gymnasium import spaces

from rewardgym.envs.driving import kernels as k
from rewardgym.envs.driving import shell
from rewardgym.envs.driving.config import DriveConfig
from rewardgym.envs.driving.core import DriveAccess, DriveCore
from rewardgym.envs.driving.maps import MAX_ROUTES
from rewardgym.envs.native.checks import check_count
from rewardgym.envs.native.parallel import AgentActions, NativeParallelEnv

MIN_AGENTS = 2


class DriveAgentsCore(DriveCore, AgentActions):
    """One RouteDrive world of ``config.num_egos`` cars whose output rows are the agents."""

    def clear_agent_actions(self) -> None:
        """Cars that left drive no action (the kernel no longer moves them)."""
        self.actions[:] = 0.0

    def write_agent_action(self, name: str, row: int, action: Any) -> None:
        """Car ``row``'s ``(steer, accel)`` under the single env's action policy."""
        shell.check_actions(name, self.config, action, None, self.actions[row:row + 1])

    @property
    def agent_actions(self) -> np.ndarray:
        """Every car's action row."""
        return self.actions

    def render_agent(self, row: int) -> np.ndarray:
        """A top-down image of the world around car ``row``."""
        return self.render(0, row)


class RouteDriveParallelEnv(DriveAccess, NativeParallelEnv):
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

    The kit's parallel shell (:class:`~rewardgym.envs.native.parallel.NativeParallelEnv`) over a
    :class:`DriveAgentsCore`: one world whose output rows are the cars.

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
        self.max_cycles = max_cycles
        super().__init__(DriveAgentsCore(cfg, 1, max_cycles),
                         [f"car_{e}" for e in range(cfg.num_egos)], render_mode)
        length = k.obs_length(cfg.value_features)
        self.state_space = spaces.Box(-shell.OBS_BOUND, shell.OBS_BOUND,
                                      (cfg.num_egos * length,), np.float32)

    def state(self) -> np.ndarray:
        """All cars' vector observations concatenated (zeros for cars no longer live)."""
        live = np.zeros((len(self.possible_agents), 1), np.float32)
        live[[self._index[a] for a in self.agents]] = 1.0
        return (self._core.out.obs * live).reshape(-1)
