"""Parameter-shared training on PettingZoo parallel envs: every agent slot is one SB3 env.

:class:`ParallelEnvToSB3` presents ``W`` copies ("worlds") of a PettingZoo ``ParallelEnv`` with
``K`` possible agents as one SB3 ``VecEnv`` of ``W * K`` envs: slot ``w * K + i`` is agent ``i`` of
world ``w``. One policy acts for every slot (parameter sharing, as in Terry et al.'s
"Revisiting Parameter Sharing in Multi-Agent Deep RL" and the PettingZoo → SuperSuit → SB3 recipe),
without SuperSuit and without its failure modes (see :mod:`rewardgym.wrappers.black_death`).

Episode semantics per slot (what SB3 needs, as :class:`~rewardgym.agents.VectorEnvToSB3` does
for vector envs):

* an agent's own episode ends at the step where the env reports it terminated or truncated:
  ``done`` is True, ``info["terminal_observation"]`` is its last observation, and
  ``info["TimeLimit.truncated"]`` is True exactly when it was truncated and not terminated (so SB3
  bootstraps from the terminal observation only then); ``info["episode"]`` carries its return,
  length and reward-term totals (``terms``, for ``RewardTermsCallback``), and its last info
  (``is_success``, ``route_completion``, ...) is passed on;
* until every agent of its world is done, a finished agent's slot is *padding* (black death):
  a zero observation, reward 0, its action ignored, and ``done`` True at every step with
  ``info["black_death"] = True`` and no ``episode`` entry. Each padding step is thus a one-step
  terminated episode of reward 0: its value target is exactly 0 and it never bootstraps into, nor
  adds to, a real episode;
* when the world has no live agent left it is reset (its stream continues; ``seed()`` seeds the
  next :meth:`reset`, world ``w`` with ``seed + w * K``) and every slot starts a new episode.

:func:`make_parallel_sb3_vec_env` builds it for an id of :data:`rewardgym.envs.PARALLEL_ENVS`;
``rewardgym train rewardgym/RouteDriveIntersection-v1`` trains on it (``n_envs`` counts agent
slots and must be a multiple of the number of agents).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn

from rewardgym.envs import PARALLEL_ENVS, make_parallel
from rewardgym.wrappers.terms import step_terms

__all__ = ["ParallelEnvToSB3", "check_parallel_run", "is_parallel_env_id",
           "make_parallel_sb3_vec_env"]


def is_parallel_env_id(env_id: str) -> bool:
    """Whether ``env_id`` names a multi-agent env of :data:`rewardgym.envs.PARALLEL_ENVS`."""
    return env_id in PARALLEL_ENVS


class ParallelEnvToSB3(VecEnv):
    """SB3 ``VecEnv`` over the agent slots of several PettingZoo parallel envs (see module).

    Args:
        env_fns: one callable per world, each returning a ``ParallelEnv``; every world has the
            same ``possible_agents`` and every agent the same observation and action space.

    Example:
        >>> import rewardgym
        >>> from rewardgym.agents.multi_agent import ParallelEnvToSB3
        >>> make = lambda: rewardgym.make_parallel("rewardgym/RouteDriveIntersection-v1",
        ...                                        num_egos=2, num_npcs=0)
        >>> venv = ParallelEnvToSB3([make, make])
        >>> venv.num_envs, venv.reset().shape
        (4, (4, 80))
    """

    def __init__(self, env_fns: Sequence[Callable[[], Any]]) -> None:
        if not env_fns:
            raise ValueError("ParallelEnvToSB3: env_fns is empty")
        self.worlds = [fn() for fn in env_fns]
        first = self.worlds[0]
        self.agent_names = list(first.possible_agents)
        obs_space = first.observation_space(self.agent_names[0])
        act_space = first.action_space(self.agent_names[0])
        for world in self.worlds:
            if list(world.possible_agents) != self.agent_names:
                raise ValueError(f"ParallelEnvToSB3: every world needs possible_agents "
                                 f"{self.agent_names}, got {world.possible_agents}")
            for agent in self.agent_names:
                if world.observation_space(agent) != obs_space or \
                        world.action_space(agent) != act_space:
                    raise ValueError(f"ParallelEnvToSB3: agent {agent!r} has other spaces than "
                                     f"{self.agent_names[0]!r}; parameter sharing needs one "
                                     "observation and one action space for all agents")
        if not isinstance(obs_space, gym.spaces.Box):
            raise ValueError(f"ParallelEnvToSB3: observations must be a Box (padding is zeros), "
                             f"got {obs_space}")
        self.k = len(self.agent_names)
        self._slot = {agent: i for i, agent in enumerate(self.agent_names)}
        super().__init__(len(self.worlds) * self.k, obs_space, act_space)
        n = self.num_envs
        self._zeros = np.zeros(obs_space.shape, obs_space.dtype)
        self._obs = np.zeros((n, *obs_space.shape), obs_space.dtype)
        self._live = np.zeros(n, dtype=np.bool_)
        self._returns = np.zeros(n)
        self._lengths = np.zeros(n, dtype=np.int64)
        self._terms: list[dict[str, float]] = [{} for _ in range(n)]
        self._start = time.perf_counter()
        self._actions: np.ndarray | None = None

    # ---- episodes ----

    def _reset_world(self, w: int, seed: int | None) -> list[dict[str, Any]]:
        obs, infos = self.worlds[w].reset(seed=seed)
        base = w * self.k
        for agent, i in self._slot.items():
            s = base + i
            self._obs[s] = obs.get(agent, self._zeros)
            self._live[s] = agent in obs
            self._returns[s] = 0.0
            self._lengths[s] = 0
            self._terms[s] = {}
        return [infos.get(agent, {}) for agent in self.agent_names]

    def reset(self) -> VecEnvObs:
        """Reset every world (with the seeds and options set beforehand, then forgotten)."""
        self.reset_infos = []
        for w in range(len(self.worlds)):
            self.reset_infos.extend(self._reset_world(w, self._seeds[w * self.k]))
        self._reset_seeds()
        self._reset_options()
        return self._obs.copy()

    def step_async(self, actions: np.ndarray) -> None:
        """Store the actions of every slot (padding slots' actions are ignored)."""
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        """Step every world once; see the module docstring for the per-slot semantics."""
        if self._actions is None:
            raise RuntimeError("ParallelEnvToSB3: step_wait() without step_async()")
        actions, self._actions = self._actions, None
        n = self.num_envs
        rewards = np.zeros(n, dtype=np.float32)
        dones = np.zeros(n, dtype=np.bool_)
        infos: list[dict[str, Any]] = [{} for _ in range(n)]
        for w, world in enumerate(self.worlds):
            base = w * self.k
            acting = list(world.agents)
            for s in range(base, base + self.k):  # padding: finished agents of a live world
                if not self._live[s]:
                    dones[s] = True
                    infos[s] = {"black_death": True, "terminal_observation": self._zeros.copy(),
                                "TimeLimit.truncated": False}
            obs, rew, term, trunc, step_infos = world.step(
                {agent: actions[base + self._slot[agent]] for agent in acting})
            for agent in acting:
                s = base + self._slot[agent]
                reward = float(rew[agent])
                info = step_infos.get(agent, {})
                rewards[s] = reward
                self._returns[s] += reward
                self._lengths[s] += 1
                for name, value in step_terms(info, reward).items():
                    self._terms[s][name] = self._terms[s].get(name, 0.0) + value
                if term[agent] or trunc[agent]:
                    dones[s] = True
                    infos[s] = {**info, "terminal_observation": obs[agent],
                                "TimeLimit.truncated": bool(trunc[agent] and not term[agent]),
                                "episode": {"r": self._returns[s], "l": int(self._lengths[s]),
                                            "t": round(time.perf_counter() - self._start, 6),
                                            "terms": dict(self._terms[s])}}
                    self._live[s] = False
                    self._obs[s] = self._zeros
                else:
                    self._obs[s] = obs[agent]
            if not world.agents:
                self._reset_world(w, None)
        return self._obs.copy(), rewards, dones, infos

    def close(self) -> None:
        """Close every world."""
        for world in self.worlds:
            world.close()

    # ---- per-env access (SB3's VecEnv interface; a world serves all its slots) ----

    def _worlds_of(self, indices: VecEnvIndices) -> list[Any]:
        return [self.worlds[i // self.k] for i in self._get_indices(indices)]

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The attribute of each slot's world."""
        return [getattr(world, attr_name) for world in self._worlds_of(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set the attribute on each slot's world."""
        for world in self._worlds_of(indices):
            setattr(world, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:
        """Call a method of each slot's world."""
        return [getattr(world, method_name)(*method_args, **method_kwargs)
                for world in self._worlds_of(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper],
                       indices: VecEnvIndices = None) -> list[bool]:
        """PettingZoo envs are not Gymnasium-wrapped: False for every slot."""
        return [False] * len(self._get_indices(indices))


def make_parallel_sb3_vec_env(env_id: str, n_envs: int, *, seed: int | None = None,
                              env_kwargs: dict[str, Any] | None = None) -> ParallelEnvToSB3:
    """``ceil(n_envs / K)`` worlds of the multi-agent env ``env_id`` as one SB3 ``VecEnv``.

    Args:
        env_id: an id of :data:`rewardgym.envs.PARALLEL_ENVS`.
        n_envs: agent slots wanted; rounded up to whole worlds of ``K`` agents.
        seed: seed of the first reset (world ``w`` gets ``seed + w * K``).
        env_kwargs: keyword arguments of the env factory (e.g. ``{"num_egos": 2}``).

    Raises:
        ValueError: an unknown id (listing the known ones) or ``n_envs`` < 1.
    """
    if isinstance(n_envs, bool) or not isinstance(n_envs, int) or n_envs < 1:
        raise ValueError(f"make_parallel_sb3_vec_env: n_envs must be an int >= 1, got {n_envs!r}")
    kwargs = dict(env_kwargs) if env_kwargs is not None else {}
    probe = make_parallel(env_id, **kwargs)
    k = len(probe.possible_agents)
    worlds = -(-n_envs // k)

    def factory() -> Any:
        return make_parallel(env_id, **kwargs)

    venv = ParallelEnvToSB3([factory] * worlds)
    if seed is not None:
        venv.seed(seed)
    return venv


def check_parallel_run(env_id: str, algo: str, config: Any) -> str:
    """Refuse, in one line, what parameter-shared training on ``env_id`` cannot do.

    Returns:
        ``env_id``.

    Raises:
        ConfigError: another algorithm than PPO, shaping or sub-env wrappers (not supported for
            multi-agent envs), ``env_kwargs`` the env rejects, or ``n_envs`` that is not a
            multiple of the number of agents.
    """
    from rewardgym.agents.config import ConfigError

    if algo != "ppo":
        raise ConfigError(f"{env_id} is a multi-agent env: train it with --algo ppo "
                          f"(parameter-shared PPO), not {algo!r}")
    for name in ("shaping_potential", "vectorization_mode"):
        if getattr(config, name) is not None:
            raise ConfigError(f"{name} is not supported for the multi-agent env {env_id}")
    if config.env_wrappers:
        raise ConfigError(f"env_wrappers are not supported for the multi-agent env {env_id}")
    try:
        env = make_parallel(env_id, **config.env_kwargs)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{env_id} rejected env_kwargs {config.env_kwargs}: {exc}") from None
    k = len(env.possible_agents)
    if config.n_envs % k:
        raise ConfigError(f"n_envs counts agent slots of {env_id} and must be a multiple of its "
                          f"{k} agents, got {config.n_envs}")
    return env_id
