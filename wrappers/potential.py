"""Potential-based reward shaping for any Gymnasium env, single or vector.

``r' = r + scale * (gamma * Φ(s') - Φ(s))`` (Ng, Harada & Russell, "Policy invariance under reward
transformations", ICML 1999), with the rules that keep it policy-invariant in episodic Gymnasium
envs (research notes ``shaping_theory.md`` §0; Grześ, AAMAS 2017):

* ``Φ(s') := 0`` iff the step ``terminated`` (also when it is truncated at the same step); on
  truncation alone ``gamma * Φ(s')`` is kept, since the learner bootstraps from ``s'``;
* ``Φ(s)`` is the value cached from the previous step, never recomputed, so potentials that change
  over time stay exact (Devlin & Kudenko, AAMAS 2012) and the discounted shaping telescopes:
  ``Σ_t γ^t F_t = γ^T Φ(s_T) [not terminated] - Φ(s_0)``;
* vector envs: under ``NEXT_STEP`` autoreset the reset step carries no shaping (its reward is 0
  and ``Φ`` of the reset observation is stored); under ``SAME_STEP`` ``Φ(s')`` is read from
  ``final_obs``/``final_info`` and ``Φ`` of the reset observation is stored.

The potential is a picklable callable ``potential(obs, info)`` returning a float for a single env
and an array ``(n,)`` for a vector env (given batched observations and infos), or the name of a
built-in potential (:data:`BUILTIN_POTENTIALS`). ``info["base_reward"]`` keeps the env's reward
and ``info["reward_terms"]["shaping"]`` the shaping term, so the terms still sum to the reward
(an env without ``reward_terms`` gets its whole reward as the term ``"base"``).
Put ``RecordEpisodeStatistics`` inside the wrapper to log base returns, outside to log shaped ones.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium.utils import RecordConstructorArgs
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper
from numba import njit
from pettingzoo.utils.wrappers import BaseParallelWrapper

from rewardgym.envs.native.masks import reset_mask
from rewardgym.wrappers.vector_infos import stepping_autoreset_mode, with_final_rows

# Built-in potentials exported by env families, as "module:function" so specs stay JSON-able.
BUILTIN_POTENTIALS: dict[str, str] = {
    "grid_subgoal_distance": "rewardgym.envs.grid.potential:subgoal_potential",
    "route_progress": "rewardgym.wrappers.driving:route_progress_potential",
    "webshop_view_score": "rewardgym.envs.shopping.potential:view_score_potential",
    "ant_goal_distance": "rewardgym.envs.locomotion.potential:goal_potential",
}

Potential = Callable[[Any, dict[str, Any]], Any]


@njit(cache=True)
def shape_rewards(rewards, phi, phi_next, terminated, active, gamma, scale, shaped, shaping):
    """Write shaped rewards and shaping terms for a batch (one numba pass, no allocation).

    Rows with ``active`` False (NEXT_STEP reset steps) get no shaping.
    """
    for i in range(rewards.shape[0]):
        if active[i]:
            next_value = 0.0 if terminated[i] else phi_next[i]
            shaping[i] = scale * (gamma * next_value - phi[i])
        else:
            shaping[i] = 0.0
        shaped[i] = rewards[i] + shaping[i]


def resolve_potential(potential: Potential | str) -> Potential:
    """A callable potential from a callable or a built-in name (see :data:`BUILTIN_POTENTIALS`)."""
    if callable(potential):
        return potential
    if potential not in BUILTIN_POTENTIALS:
        raise ValueError(f"potential {potential!r} is not callable and not a built-in name; "
                         f"built-ins: {sorted(BUILTIN_POTENTIALS)}")
    module, name = BUILTIN_POTENTIALS[potential].split(":")
    return getattr(importlib.import_module(module), name)


def _check(gamma: float, scale: float) -> None:
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"PotentialShaping: gamma must be in [0, 1], got {gamma!r}")
    if not np.isfinite(scale):
        raise ValueError(f"PotentialShaping: scale must be finite, got {scale!r}")


def _with_terms(info: dict[str, Any], base: Any, shaping: Any) -> dict[str, Any]:
    info = dict(info)
    info["base_reward"] = base
    # An env that does not decompose its reward gets it as one "base" term, so the terms still
    # sum to the reward (else shaping would look like all of the return).
    terms = dict(info["reward_terms"]) if "reward_terms" in info else {"base": base}
    terms["shaping"] = shaping
    info["reward_terms"] = terms
    return info


def _values(potential: Potential, obs: Any, info: dict[str, Any], n: int) -> np.ndarray:
    values = np.asarray(potential(obs, info), dtype=np.float64).reshape(-1)
    if values.shape != (n,) or not np.all(np.isfinite(values)):
        raise ValueError(f"PotentialShaping: the potential must return {n} finite value(s), "
                         f"got {values!r}")
    return values


class PotentialShaping(gym.Wrapper, RecordConstructorArgs):
    """Add ``scale * (gamma * Φ(s') - Φ(s))`` to the reward of a single env.

    Args:
        env: any Gymnasium env.
        potential: ``potential(obs, info) -> float`` (picklable), or a built-in name.
        gamma: the discount of the learner (required: shaping with another gamma is not
            policy-invariant; ``rewardgym train`` refuses a mismatch).
        scale: multiplies the shaping term.

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> env = gym.make("rewardgym/DoorKey-5x5-v0", subgoal_distance_in_info=True)
        >>> env = PotentialShaping(env, "grid_subgoal_distance", gamma=0.99)
        >>> obs, info = env.reset(seed=0)
        >>> obs, reward, terminated, truncated, info = env.step(2)
        >>> reward == info["base_reward"] + info["reward_terms"]["shaping"]
        True
    """

    def __init__(self, env: gym.Env, potential: Potential | str, *, gamma: float,
                 scale: float = 1.0) -> None:
        RecordConstructorArgs.__init__(self, potential=potential, gamma=gamma, scale=scale)
        gym.Wrapper.__init__(self, env)
        _check(gamma, scale)
        self.potential = resolve_potential(potential)
        self.shaping_gamma = float(gamma)
        self.scale = float(scale)
        self._phi = np.zeros(1)
        self._out = np.zeros((2, 1))

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Reset and cache ``Φ(s_0)``."""
        obs, info = self.env.reset(**kwargs)
        self._phi = _values(self.potential, obs, info, 1)
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step and shape; ``Φ(s')`` is zeroed on termination and cached for the next step."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        phi_next = _values(self.potential, obs, info, 1)
        shape_rewards(np.array([float(reward)]), self._phi, phi_next, np.array([terminated]),
                      np.ones(1, dtype=np.bool_), self.shaping_gamma, self.scale,
                      self._out[0], self._out[1])
        self._phi = phi_next
        shaped, shaping = float(self._out[0, 0]), float(self._out[1, 0])
        return obs, shaped, terminated, truncated, _with_terms(info, reward, shaping)


def _replace_rows(batch: Any, rows: np.ndarray, singles: np.ndarray) -> Any:
    """A copy of a batched observation with the given rows replaced by single observations."""
    if isinstance(batch, dict):
        return {key: _replace_rows(value, rows, np.array([s[key] for s in singles], dtype=object))
                for key, value in batch.items()}
    out = np.array(batch, copy=True)
    for row, single in zip(rows, singles, strict=True):
        out[row] = single
    return out


class PotentialShapingVector(VectorWrapper, RecordConstructorArgs):
    """:class:`PotentialShaping` for vector envs (``NEXT_STEP`` and ``SAME_STEP`` autoreset).

    ``potential(obs, infos)`` receives the batched observations and infos and returns ``(n,)``.

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> envs = gym.make_vec("rewardgym/DoorKey-5x5-v0", 4,
        ...                     vectorization_mode="vector_entry_point",
        ...                     subgoal_distance_in_info=True)
        >>> envs = PotentialShapingVector(envs, "grid_subgoal_distance", gamma=0.99)
        >>> obs, infos = envs.reset(seed=0)
        >>> obs, rewards, term, trunc, infos = envs.step(envs.action_space.sample())
        >>> bool(np.all(rewards == infos["base_reward"] + infos["reward_terms"]["shaping"]))
        True
    """

    def __init__(self, env: VectorEnv, potential: Potential | str, *, gamma: float,
                 scale: float = 1.0) -> None:
        RecordConstructorArgs.__init__(self, potential=potential, gamma=gamma, scale=scale)
        VectorWrapper.__init__(self, env)
        _check(gamma, scale)
        # With DISABLED autoreset, wrap each sub-env in PotentialShaping instead.
        self.autoreset_mode = stepping_autoreset_mode(env, "PotentialShapingVector")
        self.potential = resolve_potential(potential)
        self.shaping_gamma = float(gamma)
        self.scale = float(scale)
        n = self.num_envs
        self._phi = np.zeros(n)
        self._pending_reset = np.zeros(n, dtype=np.bool_)

    def reset(self, *, seed: int | list[int] | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset and cache ``Φ(s_0)`` of every env (or of the envs in ``reset_mask``)."""
        obs, infos = self.env.reset(seed=seed, options=options)
        values = _values(self.potential, obs, infos, self.num_envs)
        mask = reset_mask(options, self.num_envs, type(self).__name__)
        self._phi = np.where(mask, values, self._phi)
        self._pending_reset[mask] = False
        return obs, infos

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Step all envs and shape the rewards of the envs that did not just reset."""
        obs, rewards, terminated, truncated, infos = self.env.step(actions)
        n = self.num_envs
        phi_obs = _values(self.potential, obs, infos, n)
        active = ~self._pending_reset
        done = terminated | truncated
        phi_next = phi_obs
        if self.autoreset_mode == AutoresetMode.SAME_STEP and done.any():
            rows = np.flatnonzero(done)
            final_obs = _replace_rows(obs, rows, infos["final_obs"][rows])
            final_infos = with_final_rows(infos, infos.get("final_info", {}), done)
            phi_next = np.where(done, _values(self.potential, final_obs, final_infos, n), phi_obs)
        shaped = np.empty(n)
        shaping = np.empty(n)
        shape_rewards(np.asarray(rewards, dtype=np.float64), self._phi, phi_next,
                      np.asarray(terminated, dtype=np.bool_), active, self.shaping_gamma,
                      self.scale, shaped, shaping)
        # The cache holds Φ of what the agent sees now: the reset observation for SAME_STEP.
        self._phi = phi_obs
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            self._pending_reset = done
        infos = _with_terms(infos, rewards, shaping)
        if self.autoreset_mode == AutoresetMode.SAME_STEP and done.any():
            # The finished step's info lives in final_info under SAME_STEP: decompose it there.
            final = dict(infos.get("final_info", {}))
            final["base_reward"] = np.where(done, rewards, 0.0)
            final["_base_reward"] = done.copy()
            base_terms = final.get("reward_terms", {
                "base": np.where(done, rewards, 0.0), "_base": done.copy()})
            final["reward_terms"] = {**base_terms,
                                     "shaping": np.where(done, shaping, 0.0),
                                     "_shaping": done.copy()}
            final["_reward_terms"] = done.copy()
            infos["final_info"] = final
        return obs, shaped, terminated, truncated, infos


class PotentialShapingParallel(BaseParallelWrapper):
    """:class:`PotentialShaping` for PettingZoo parallel envs, one potential value per agent.

    ``potential(agent, obs, info) -> float`` gives agent ``agent``'s potential; each agent's
    shaping follows the single-env rules (zero terminal potential, cached ``Φ(s)``).

    Example:
        >>> from pettingzoo.test import parallel_api_test  # doctest: +SKIP
        >>> env = PotentialShapingParallel(my_parallel_env, lambda agent, obs, info: 0.0,
        ...                                gamma=0.99)  # doctest: +SKIP
    """

    def __init__(self, env: Any, potential: Callable[[Any, Any, dict[str, Any]], float], *,
                 gamma: float, scale: float = 1.0) -> None:
        super().__init__(env)
        _check(gamma, scale)
        if not callable(potential):
            raise ValueError("PotentialShapingParallel: potential must be callable "
                             "(agent, obs, info) -> float")
        self.potential = potential
        self.shaping_gamma = float(gamma)
        self.scale = float(scale)
        self._phi: dict[Any, float] = {}

    def _value(self, agent: Any, obs: Any, info: dict[str, Any]) -> float:
        return float(_values(lambda o, i: self.potential(agent, o, i), obs, info, 1)[0])

    def reset(self, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        """Reset and cache every agent's ``Φ(s_0)``."""
        obs, infos = self.env.reset(seed=seed, options=options)
        self._phi = {a: self._value(a, obs[a], infos.get(a, {})) for a in obs}
        return obs, infos

    def step(self, actions: dict) -> tuple[dict, dict, dict, dict, dict]:
        """Step and shape each acting agent's reward."""
        obs, rewards, terminations, truncations, infos = self.env.step(actions)
        agents = list(rewards)
        phi = np.array([self._phi.get(a, 0.0) for a in agents])
        phi_next = np.array([self._value(a, obs[a], infos.get(a, {})) if a in obs else 0.0
                             for a in agents])
        terminated = np.array([bool(terminations.get(a, False)) for a in agents])
        shaped, shaping = np.empty(len(agents)), np.empty(len(agents))
        shape_rewards(np.array([float(rewards[a]) for a in agents]), phi, phi_next, terminated,
                      np.ones(len(agents), dtype=np.bool_), self.shaping_gamma, self.scale,
                      shaped, shaping)
        self._phi = {a: float(v) for a, v in zip(agents, phi_next, strict=True)}
        new_infos = dict(infos)
        for k, a in enumerate(agents):
            new_infos[a] = _with_terms(infos.get(a, {}), rewards[a], float(shaping[k]))
        return obs, {a: float(shaped[k]) for k, a in enumerate(agents)}, terminations, \
            truncations, new_infos


def shaped_reward_tensor(rewards: np.ndarray, potential: np.ndarray, terminal: np.ndarray,
                         gamma: float, scale: float = 1.0, *,
                         zero_terminal: bool = True) -> np.ndarray:
    """``R[s, a, s']`` after this module's shaping, computed by the wrappers' own kernel.

    ``terminal[s']`` marks absorbing terminal states: transitions into them count as
    ``terminated``, so their ``Φ(s')`` is zeroed unless ``zero_terminal=False`` (a deliberately
    broken variant, for tests and distance demos); the absorbing states' own self-loops keep the
    base reward, since the wrapper never steps after the episode ends.
    """
    n_s, n_a, n_next = rewards.shape
    src = np.repeat(np.arange(n_s), n_a * n_next)
    dst = np.tile(np.arange(n_next), n_s * n_a)
    shaped = np.empty(rewards.size)
    shaping = np.empty(rewards.size)
    terminated = terminal[dst] if zero_terminal else np.zeros(rewards.size, dtype=np.bool_)
    shape_rewards(rewards.reshape(-1).astype(np.float64), potential[src].astype(np.float64),
                  potential[dst].astype(np.float64), terminated,
                  np.ones(rewards.size, dtype=np.bool_), gamma, scale, shaped, shaping)
    shaped = shaped.reshape(rewards.shape)
    # An absorbing state's self-loop stands for "the episode is over": the wrapper never pays it.
    for t in np.flatnonzero(terminal):
        shaped[t, :, t] = rewards[t, :, t]
    return shaped
