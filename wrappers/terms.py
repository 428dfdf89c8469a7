"""Per-episode totals of each named reward term, for reward analysis.

Every rewardgym env (and shaping wrapper) decomposes its reward into ``info["reward_terms"]``, a
dict of named terms that sums to the reward. These wrappers add the episode totals of each term
to ``info["episode"]["terms"]`` when an episode ends, next to the ``r``/``l``/``t`` that
``RecordEpisodeStatistics`` writes there, so a researcher can see which term an agent is farming
(Lucy-SKG's "reward analysis", and the per-term logging of Text2Reward/Eureka reward programs).
The SB3 side is :class:`rewardgym.agents.callbacks.RewardTermsCallback`; ``rewardgym
plot-terms RUN_DIR`` draws each term's share of the return over training.

The recorded terms always sum to the episode's return: an env whose info has no
``reward_terms`` has its whole reward recorded as the term ``"base"``, and a step whose terms do
not sum to its reward (a wrapper changed the reward without saying how) has the difference
recorded as ``"unattributed"``. So shaping never shows as 100% of a return it is a sliver of.

Place these wrappers OUTSIDE ``RecordEpisodeStatistics`` (which replaces ``info["episode"]``).
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium.utils import RecordConstructorArgs
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper

from rewardgym.envs.native.masks import reset_mask
from rewardgym.wrappers.vector_infos import stepping_autoreset_mode

#: The term that holds the reward of an env whose info has no ``reward_terms``.
BASE_TERM = "base"
#: The term that holds what a step's terms leave of its reward unexplained.
UNATTRIBUTED_TERM = "unattributed"
# Terms and reward agree up to float rounding; float32 rewards carry ~6e-8 relative error.
_REL_TOL = 1e-6


def step_terms(info: dict[str, Any], reward: float) -> dict[str, float]:
    """One step's named terms, completed so that they sum to ``reward`` (see the module note)."""
    if "reward_terms" not in info:
        return {BASE_TERM: float(reward)}
    terms = {name: float(value) for name, value in info["reward_terms"].items()}
    residual = float(reward) - sum(terms.values())
    scale = 1.0 + abs(float(reward)) + sum(abs(v) for v in terms.values())
    if abs(residual) > _REL_TOL * scale:
        terms[UNATTRIBUTED_TERM] = terms.get(UNATTRIBUTED_TERM, 0.0) + residual
    return terms


class RecordRewardTerms(gym.Wrapper, RecordConstructorArgs):
    """Sum ``info["reward_terms"]`` over each episode into ``info["episode"]["terms"]``.

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> env = RecordRewardTerms(gym.make("rewardgym/Empty-5x5-v0", max_episode_steps=3))
        >>> _ = env.reset(seed=0)
        >>> for _ in range(3):
        ...     obs, reward, terminated, truncated, info = env.step(0)
        >>> info["episode"]["terms"]
        {'success': 0.0}
    """

    def __init__(self, env: gym.Env) -> None:
        RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)
        self._totals: dict[str, float] = {}

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Reset and start new totals."""
        self._totals = {}
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step, add this step's terms, and report the totals when the episode ends."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        for name, value in step_terms(info, float(reward)).items():
            self._totals[name] = self._totals.get(name, 0.0) + value
        if terminated or truncated:
            info = dict(info)
            info["episode"] = {**info.get("episode", {}), "terms": dict(self._totals)}
        return obs, reward, terminated, truncated, info


class RecordRewardTermsVector(VectorWrapper):
    """:class:`RecordRewardTerms` for vector envs (``NEXT_STEP`` and ``SAME_STEP`` autoreset).

    At a finishing step, ``infos["episode"]["terms"][name]`` holds the episode totals in the
    finished rows (0 elsewhere) and ``infos["_episode"]`` marks those rows. Under ``SAME_STEP``
    the finishing step's terms are read from ``infos["final_info"]``.

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> envs = RecordRewardTermsVector(gym.make_vec(
        ...     "rewardgym/Empty-5x5-v0", 2, vectorization_mode="vector_entry_point",
        ...     max_episode_steps=2))
        >>> _ = envs.reset(seed=0)
        >>> for _ in range(2):
        ...     obs, rewards, term, trunc, infos = envs.step(np.zeros(2, dtype=np.int64))
        >>> infos["episode"]["terms"]["success"].tolist(), infos["_episode"].tolist()
        ([0.0, 0.0], [True, True])
    """

    def __init__(self, env: VectorEnv) -> None:
        super().__init__(env)
        self.autoreset_mode = stepping_autoreset_mode(env, "RecordRewardTermsVector")
        self._totals: dict[str, np.ndarray] = {}
        self._pending_reset = np.zeros(self.num_envs, dtype=np.bool_)

    def reset(self, *, seed: int | list[int] | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset and zero the totals of the reset envs."""
        obs, infos = self.env.reset(seed=seed, options=options)
        mask = reset_mask(options, self.num_envs, type(self).__name__)
        for totals in self._totals.values():
            totals[mask] = 0.0
        self._pending_reset[mask] = False
        return obs, infos

    def _total(self, name: str) -> np.ndarray:
        return self._totals.setdefault(name, np.zeros(self.num_envs))

    def _add(self, terms: dict[str, Any] | None, rewards: np.ndarray, rows: np.ndarray) -> None:
        """Add the terms of ``rows``, completed to sum to ``rewards`` as :func:`step_terms` does."""
        if not rows.any():
            return
        if terms is None:
            self._total(BASE_TERM)[rows] += rewards[rows]
            return
        explained = np.zeros(self.num_envs)
        scale = 1.0 + np.abs(rewards)
        for name, values in terms.items():
            if name.startswith("_"):
                continue
            present = rows & np.asarray(terms.get(f"_{name}", rows), dtype=np.bool_)
            values = np.asarray(values, dtype=np.float64)
            self._total(name)[present] += values[present]
            explained[present] += values[present]
            scale[present] += np.abs(values[present])
        residual = rewards - explained
        unexplained = rows & (np.abs(residual) > _REL_TOL * scale)
        if unexplained.any():
            self._total(UNATTRIBUTED_TERM)[unexplained] += residual[unexplained]

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Step, add this step's terms, and report totals in the rows that finished."""
        obs, rewards, terminated, truncated, infos = self.env.step(actions)
        done = np.asarray(terminated | truncated, dtype=np.bool_)
        live = ~self._pending_reset
        values = np.asarray(rewards, dtype=np.float64)
        if self.autoreset_mode == AutoresetMode.SAME_STEP:
            self._add(infos.get("reward_terms"), values, live & ~done)
            self._add(infos.get("final_info", {}).get("reward_terms"), values, done)
        else:
            self._add(infos.get("reward_terms"), values, live)
            self._pending_reset = done.copy()
        if done.any():
            infos = dict(infos)
            episode = dict(infos.get("episode", {}))
            episode["terms"] = {name: np.where(done, totals, 0.0)
                                for name, totals in self._totals.items()}
            infos["episode"] = episode
            infos["_episode"] = np.asarray(infos.get("_episode", done), dtype=np.bool_) | done
            for totals in self._totals.values():
                totals[done] = 0.0
        return obs, rewards, terminated, truncated, infos
