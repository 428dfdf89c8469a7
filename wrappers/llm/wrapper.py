"""Wrappers that pay a checked LLM-written reward program: single, vector and PettingZoo.

``reward = coef * total`` (``mode="replace"``) or ``base + coef * total`` (``mode="add"``),
where ``total, terms = compute_reward(obs, action, next_obs)`` is the program over the env
family's reward view before and after the step (research notes ``llm_rewards.md`` §8.5). The
program is checked (:func:`~rewardgym.wrappers.llm.checker.check_program`: static allowlist, dry
run in a limited child process on states sampled from a fresh copy of the env) when the wrapper
is built, and refused with every reason otherwise. ``info["base_reward"]`` keeps the env's
reward; ``info["reward_terms"]`` holds the program's terms times ``coef`` (``add`` mode: the
env's own terms plus ``llm_<name>``), plus ``other`` when the program's terms do not sum to its
total, so the terms always sum to the reward. A non-finite total (a state the dry run never saw)
pays 0, and ``info["llm_reward_nonfinite"]`` says so.

Pickling carries the source only; the worker re-derives the specific program, checks that its
hash is the one that passed, and compiles it there (numba's on-disk cache makes that cheap).
Put ``RecordEpisodeStatistics`` inside the wrapper to log base returns, outside for LLM ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium.utils import RecordConstructorArgs
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper
from pettingzoo.utils.wrappers import BaseParallelWrapper

from rewardgym.envs.native.masks import reset_mask
from rewardgym.wrappers.llm.checker import ValidationReport, check_program, sample_states
from rewardgym.wrappers.llm.program import (
    Limits,
    ProgramRejected,
    rewrite,
    source_hash,
    static_check,
)
from rewardgym.wrappers.llm.runtime import CompiledProgram, finish_rows, guard_rows
from rewardgym.wrappers.llm.sandbox import States
from rewardgym.wrappers.llm.views import RewardView, step_and_read, view_of

MODES = ("replace", "add")


def _check_args(name: str, mode: str, coef: float, n_states: int) -> None:
    if mode not in MODES:
        raise ValueError(f"{name}: mode must be one of {MODES}, got {mode!r}")
    if not np.isfinite(coef):
        raise ValueError(f"{name}: coef must be finite, got {coef!r}")
    if not isinstance(n_states, int) or n_states < 8:
        raise ValueError(f"{name}: n_states must be an int >= 8, got {n_states!r}")


class _Program:
    """A checked program bound to a view: what the three wrappers share (and pickle)."""

    def __init__(self, name: str, program: str, view: RewardView, states: States,
                 use_numba: bool, limits: Limits | None) -> None:
        self.name = name
        self.source = program
        self.view = view
        self.use_numba = use_numba
        result = check_program(program, view, states, limits=limits, use_numba=use_numba)
        if not result.report.ok:
            raise ProgramRejected(result.report.issues)
        self.report: ValidationReport = result.report
        self.compiled: CompiledProgram = result.program
        self.terms = result.report.terms
        self.other = not result.report.terms_sum_to_total

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "compiled"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        from rewardgym.wrappers.llm.program import extract_code

        static = static_check(extract_code(self.source), self.view)
        code = rewrite(static, self.view)
        if not static.ok or source_hash(code) != self.report.program_hash:
            raise ValueError(f"{self.name}: the unpickled program is not the one that was checked")
        self.compiled = CompiledProgram(code, static.terms, use_numba=self.use_numba
                                        and self.report.backend == "numba")

    def evaluate(self, before: np.ndarray, actions: np.ndarray, after: np.ndarray,
                 active: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        totals, terms = self.compiled(before, actions, after, active)
        return totals, terms, guard_rows(totals, terms)

    def pay(self, before: np.ndarray, actions: np.ndarray, after: np.ndarray,
            active: np.ndarray, base: np.ndarray, coef: float, add: bool
            ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, int]:
        """The vector wrappers' step: rewards, scaled term arrays, non-finite mask and count.

        Three compiled calls and two allocations per step: the program writes its terms into
        one fresh term-major block whose rows become the ``reward_terms`` arrays, and
        :func:`~rewardgym.wrappers.llm.runtime.finish_rows` guards, scales and pays in place.
        """
        n, k = before.shape[0], len(self.terms)
        block = np.zeros((k + self.other, n))
        totals, shaped = np.empty(n), np.empty(n)
        bad = np.empty(n, dtype=np.bool_)
        self.compiled.into(before, actions, after, active, totals, block.T)
        count = finish_rows(totals, block.T, k, coef, base, add, shaped, bad)
        names = self.terms + (("other",) if self.other else ())
        return shaped, dict(zip(names, block, strict=True)), bad, count

    def term_arrays(self, totals: np.ndarray, terms: np.ndarray, coef: float,
                    prefix: str) -> dict[str, np.ndarray]:
        out = {prefix + name: coef * terms[:, j] for j, name in enumerate(self.terms)}
        if self.other:
            out[prefix + "other"] = coef * (totals - terms.sum(axis=1))
        return out


def _program(name: str, program: str, env: Any, view: RewardView, n_states: int, seed: int,
             use_numba: bool, limits: Limits | None) -> _Program:
    single = view.single_env(env)
    try:
        states = sample_states(single, n_states, seed=seed)
    finally:
        single.close()
    return _Program(name, program, view, states, use_numba, limits)


class LLMReward(gym.Wrapper, RecordConstructorArgs):
    """Pay a checked reward program (``replace`` or ``add`` to the env's reward) on a single env.

    Args:
        env: a grid or locomotion env (anything with a reward view, see ``views.view_of``).
        program: the program source, or a model reply holding it in a ```python block.
        mode: ``"replace"`` the env's reward or ``"add"`` to it.
        coef: multiplies the program's total (and terms).
        n_states: validation transitions sampled (random policy, fresh env) for the dry run.
        seed: seed of those transitions.
        use_numba: compile with numba (else the Python fallback).

    Raises:
        ProgramRejected: listing every reason the program failed the checker.

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> program = '''
        ... def compute_reward(obs, action, next_obs):
        ...     key = 0.1 * (obs.dist_key - next_obs.dist_key)
        ...     return key, {"key": key}
        ... '''
        >>> env = LLMReward(gym.make("rewardgym/DoorKey-5x5-v0"), program, n_states=16)
        >>> _ = env.reset(seed=0)
        >>> obs, reward, terminated, truncated, info = env.step(2)
        >>> reward == info["reward_terms"]["key"], info["base_reward"]
        (True, 0.0)
    """

    def __init__(self, env: gym.Env, program: str, *, mode: str = "replace", coef: float = 1.0,
                 n_states: int = 128, seed: int = 0, use_numba: bool = True,
                 limits: Limits | None = None) -> None:
        RecordConstructorArgs.__init__(self, program=program, mode=mode, coef=coef,
                                       n_states=n_states, seed=seed, use_numba=use_numba)
        gym.Wrapper.__init__(self, env)
        _check_args("LLMReward", mode, coef, n_states)
        self.view = view_of(env)
        if self.view.rows(env).shape[0] != 1:
            raise ValueError("LLMReward wraps a single env; use LLMRewardVector for vector envs")
        self.program = _program("LLMReward", program, env, self.view, n_states, seed, use_numba,
                                limits)
        self.mode = mode
        self.coef = float(coef)
        self.nonfinite_count = 0
        # Only the features the program reads are computed (the others stay NaN).
        self._reader = self.view.reader(env, self.program.report.features)
        self._rows = self._reader.new_rows()
        self._next = self._reader.new_rows()
        self._active = np.ones(1, dtype=np.bool_)

    @property
    def report(self) -> ValidationReport:
        """The checker's report on the program."""
        return self.program.report

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Reset and remember the features of the first state."""
        obs, info = self.env.reset(**kwargs)
        self._reader.read(self._rows)
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step, then pay the program on (features before, action, features after)."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        after = self._reader.read(self._next)
        totals, terms, bad = self.program.evaluate(self._rows, self.view.actions(action, 1), after,
                                                   self._active)
        self._rows, self._next = after, self._rows
        self.nonfinite_count += int(bad.sum())
        llm = self.coef * float(totals[0])
        info = dict(info)
        info["base_reward"] = reward
        prefix = "llm_" if self.mode == "add" else ""
        new_terms = {k: float(v[0]) for k, v in
                     self.program.term_arrays(totals, terms, self.coef, prefix).items()}
        if self.mode == "add":
            info["reward_terms"] = {**info.get("reward_terms", {}), **new_terms}
            shaped = float(reward) + llm
        else:
            info["reward_terms"] = new_terms
            shaped = llm
        info["llm_reward_nonfinite"] = bool(bad[0])
        return obs, shaped, terminated, truncated, info


class LLMRewardVector(VectorWrapper, RecordConstructorArgs):
    """:class:`LLMReward` for native vector envs: one compiled call pays every sub-env.

    All three autoreset modes are supported. ``NEXT_STEP``: the reset step of a finished env
    pays nothing. ``SAME_STEP`` (what SB3 needs): the finishing step is paid on the state the
    episode ended in (the grid view replays the last transition from the state before the step,
    the locomotion vector env keeps the rows in ``final_features``, the shopping view is read
    before the finished shops reset; driving refuses SAME_STEP), and that step's
    ``base_reward``, ``reward_terms`` and ``llm_reward_nonfinite`` are also written into
    ``infos["final_info"]`` (masked to the finished rows), where SAME_STEP consumers read them.
    ``DISABLED``: resets come through ``reset(options={"reset_mask": ...})``. The reader
    computes only the features the program reads (``report.features``).

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> program = '''
        ... def compute_reward(obs, action, next_obs):
        ...     key = 0.1 * (obs.dist_key - next_obs.dist_key)
        ...     return key, {"key": key}
        ... '''
        >>> envs = gym.make_vec("rewardgym/DoorKey-5x5-v0", 4,
        ...                     vectorization_mode="vector_entry_point")
        >>> envs = LLMRewardVector(envs, program, n_states=16)
        >>> _ = envs.reset(seed=0)
        >>> obs, rewards, term, trunc, infos = envs.step(np.full(4, 2))
        >>> bool(np.all(rewards == infos["reward_terms"]["key"]))
        True
    """

    def __init__(self, env: VectorEnv, program: str, *, mode: str = "replace",
                 coef: float = 1.0, n_states: int = 128, seed: int = 0,
                 use_numba: bool = True, limits: Limits | None = None) -> None:
        RecordConstructorArgs.__init__(self, program=program, mode=mode, coef=coef,
                                       n_states=n_states, seed=seed, use_numba=use_numba)
        VectorWrapper.__init__(self, env)
        _check_args("LLMRewardVector", mode, coef, n_states)
        self.autoreset_mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        self.view = view_of(env)
        self.program = _program("LLMRewardVector", program, env, self.view, n_states, seed,
                                use_numba, limits)
        self.mode = mode
        self.coef = float(coef)
        self.nonfinite_count = 0
        n = self.num_envs
        self._reader = self.view.reader(env, self.program.report.features)
        self._rows = self._reader.new_rows()
        self._next = self._reader.new_rows()
        self._active = np.ones(n, dtype=np.bool_)  # False: the env's reset step (NEXT_STEP)

    @property
    def report(self) -> ValidationReport:
        """The checker's report on the program."""
        return self.program.report

    def reset(self, *, seed: int | list[int] | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset (all envs, or those in ``options["reset_mask"]``) and remember their features."""
        obs, infos = self.env.reset(seed=seed, options=options)
        rows = self._reader.read(self._next)
        mask = reset_mask(options, self.num_envs, type(self).__name__)
        self._rows[mask] = rows[mask]
        self._active[mask] = True
        return obs, infos

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Step every env and pay the program on the envs that did not just reset."""
        same_step = self.autoreset_mode == AutoresetMode.SAME_STEP
        acts = self.view.actions(actions, self.num_envs)
        obs, rewards, terminated, truncated, infos, after, paid, done = step_and_read(
            self.env, self._reader, actions, acts, self._next, same_step=same_step)
        base = np.asarray(rewards, dtype=np.float64)
        shaped, named, bad, count = self.program.pay(self._rows, acts, paid, self._active, base,
                                                     self.coef, self.mode == "add")
        self._rows, self._next = after, self._rows
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            np.logical_not(done, out=self._active)  # a finished env's reset step pays nothing
        self.nonfinite_count += count
        prefix = "llm_" if self.mode == "add" else ""
        if prefix:
            named = {prefix + name: values for name, values in named.items()}
        infos = _with_llm_terms(dict(infos), base, named, bad, self.mode, None)
        if same_step and done.any():
            # The finished step's info lives in final_info under SAME_STEP: pay it there too.
            final = dict(infos.get("final_info", {}))
            infos["final_info"] = _with_llm_terms(final, base, named, bad, self.mode, done)
        return obs, shaped, terminated, truncated, infos


def _with_llm_terms(infos: dict[str, Any], base: np.ndarray, named: dict[str, np.ndarray],
                    bad: np.ndarray, mode: str, rows: np.ndarray | None) -> dict[str, Any]:
    """``infos`` with ``base_reward``, the program's terms and ``llm_reward_nonfinite``.

    Masks are ``rows`` (None: every env, one shared all-True mask per call); values are 0
    outside them.
    """
    if rows is None:
        rows = np.ones(base.shape[0], dtype=np.bool_)
        every = True
    else:
        every = bool(rows.all())

    def masked(values: np.ndarray) -> np.ndarray:
        return values if every else np.where(rows, values, 0)

    new_terms: dict[str, np.ndarray] = {}
    for name, values in named.items():
        new_terms[name] = masked(values)
        new_terms[f"_{name}"] = rows
    infos["base_reward"] = masked(base)
    infos["_base_reward"] = rows
    if mode == "add":
        infos["reward_terms"] = {**infos.get("reward_terms", {}), **new_terms}
    else:
        infos["reward_terms"] = new_terms
    infos["_reward_terms"] = rows
    infos["llm_reward_nonfinite"] = masked(bad)
    infos["_llm_reward_nonfinite"] = rows
    return infos


class LLMRewardParallel(BaseParallelWrapper):
    """:class:`LLMReward` for PettingZoo parallel envs: one program, every agent, one call.

    Args:
        env: a PettingZoo ``ParallelEnv``.
        program: the program source (or a reply holding it).
        view: the per-agent reward view the program reads.
        features: ``features(env, agent) -> (view.size,)`` float row of an agent's state.
        states: validation transitions for the dry run.
        mode, coef, use_numba, limits: as for :class:`LLMReward`.

    Agents that leave the env are paid on their last step (their features are read before the
    env drops them only if ``features`` can still see them; otherwise they pay 0).

    Example:
        >>> from pettingzoo.test import parallel_api_test  # doctest: +SKIP
        >>> env = LLMRewardParallel(my_env, program, view=my_view,
        ...                         features=my_features, states=my_states)  # doctest: +SKIP
    """

    def __init__(self, env: Any, program: str, *, view: RewardView,
                 features: Callable[[Any, Any], np.ndarray], states: States,
                 mode: str = "replace", coef: float = 1.0, use_numba: bool = True,
                 limits: Limits | None = None) -> None:
        super().__init__(env)
        _check_args("LLMRewardParallel", mode, coef, max(len(states), 8))
        self.view = view
        self.features = features
        self.program = _Program("LLMRewardParallel", program, view, states, use_numba, limits)
        self.mode = mode
        self.coef = float(coef)
        self._rows: dict[Any, np.ndarray] = {}

    def _row(self, agent: Any) -> np.ndarray:
        return np.asarray(self.features(self.env, agent), dtype=np.float64).reshape(
            self.view.size)

    def reset(self, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        """Reset and remember every agent's features."""
        obs, infos = self.env.reset(seed=seed, options=options)
        self._rows = {a: self._row(a) for a in obs}
        return obs, infos

    def step(self, actions: dict) -> tuple[dict, dict, dict, dict, dict]:
        """Step and pay each acting agent the program's reward."""
        obs, rewards, terminations, truncations, infos = self.env.step(actions)
        agents = [a for a in rewards if a in self._rows and a in actions]
        if agents:
            before = np.stack([self._rows[a] for a in agents])
            after = np.stack([self._row(a) if a in obs else self._rows[a] for a in agents])
            acts = self.view.actions(np.stack([np.asarray(actions[a]) for a in agents]),
                                     len(agents))
            totals, terms, bad = self.program.evaluate(before, acts, after,
                                                       np.ones(len(agents), dtype=np.bool_))
            named = self.program.term_arrays(totals, terms, self.coef,
                                             "llm_" if self.mode == "add" else "")
        new_rewards = dict(rewards)
        new_infos = dict(infos)
        for k, a in enumerate(agents):
            info = dict(infos.get(a, {}))
            info["base_reward"] = rewards[a]
            mine = {name: float(v[k]) for name, v in named.items()}
            if self.mode == "add":
                info["reward_terms"] = {**info.get("reward_terms", {}), **mine}
                new_rewards[a] = float(rewards[a]) + self.coef * float(totals[k])
            else:
                info["reward_terms"] = mine
                new_rewards[a] = self.coef * float(totals[k])
            info["llm_reward_nonfinite"] = bool(bad[k])
            new_infos[a] = info
            if a in obs:
                self._rows[a] = after[k]
        return obs, new_rewards, terminations, truncations, new_infos
