"""Multiplicative infraction penalties: CaRL's reward made generic.

CaRL (Jaeger et al., "CaRL: Learning Scalable Planning Policies with Simple Rewards", CoRL 2025)
rewards route progress and lets infractions either end the episode (with a terminal reward ``T``)
or multiply the progress down: ``r = progress * Π_k p_k + T``. Here the env reports
``info[progress_key]`` and one ``info[name]`` per infraction (a bool, or a severity in [0, 1])
at every step, also when the infraction did not happen; an :class:`InfractionRule` per name
says what it does:

* ``terminate=True``: the episode ends, ``terminal_reward`` is added; an episode ends once,
  so when several terminating infractions fire on one step only one terminal reward is paid,
  the one of largest magnitude (CaRL subtracts its ``terminal_hint`` once, however many of
  collision / red light fired: ``simple_reward.py`` ≈ lines 254–265);
* ``factor=f``: the progress is multiplied by ``f`` while active;
* ``weight=w``: the progress is multiplied by ``1 - w * severity``;
* ``hold_steps=k``: a multiplier stays in force for ``k`` steps after the infraction (CaRL holds
  TTC penalties for 500 ticks).

:data:`CARL_TABLE` is CaRL's CARLA configuration (research notes ``carl_driving.md`` §1.1, §5.3).
A name in the table that the step's info lacks raises a ``KeyError`` on the first step, naming the
missing keys and the keys the info has (a misspelt or unreported infraction would otherwise
never penalise anything). The base reward stays in ``info["base_reward"]``;
``info["reward_terms"]`` holds ``progress`` (the multiplied progress) and ``terminal``, which
sum to the reward. A vector env owns its resets, so :class:`InfractionPenaltyVector` never ends
an episode itself: a terminating infraction the env did not end the episode on raises a
``ValueError`` (configure the env to end episodes on it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium.utils import RecordConstructorArgs
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper
from numba import njit
from pettingzoo.utils.wrappers import BaseParallelWrapper

from rewardgym.envs.native.masks import reset_mask
from rewardgym.wrappers.vector_infos import stepping_autoreset_mode, with_final_rows


@dataclasses.dataclass(frozen=True)
class InfractionRule:
    """What one infraction does (see the module docstring)."""

    name: str
    terminate: bool = False
    terminal_reward: float = 0.0
    factor: float | None = None
    weight: float | None = None
    hold_steps: int = 0

    def __post_init__(self) -> None:
        kinds = self.terminate + (self.factor is not None) + (self.weight is not None)
        if kinds != 1:
            raise ValueError(f"InfractionRule {self.name!r}: set exactly one of terminate, "
                             f"factor, weight (got {kinds})")
        if self.factor is not None and not 0.0 <= self.factor <= 1.0:
            raise ValueError(f"InfractionRule {self.name!r}: factor must be in [0, 1], "
                             f"got {self.factor!r}")
        if self.weight is not None and not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"InfractionRule {self.name!r}: weight must be in [0, 1], "
                             f"got {self.weight!r}")
        if self.hold_steps < 0:
            raise ValueError(f"InfractionRule {self.name!r}: hold_steps must be >= 0, "
                             f"got {self.hold_steps!r}")


# CaRL's CARLA settings: T = -1 for collisions and red lights, 0 for other hard infractions;
# speeding severity = overspeed / 2.23 m/s; TTC x0.5 held for 500 ticks; comfort 1 - 0.5 * s with
# s the share of the 6 comfort metrics inside their own 500-tick holds (CaRL keeps one countdown
# per metric, so the env reports s with the holds applied and the rule holds nothing);
# lane-centre factor 1 - clip(d / (w/2)); outside route lanes x0.
CARL_TABLE: tuple[InfractionRule, ...] = (
    InfractionRule("collision", terminate=True, terminal_reward=-1.0),
    InfractionRule("red_light", terminate=True, terminal_reward=-1.0),
    InfractionRule("stop_sign", terminate=True),
    InfractionRule("off_road", terminate=True),
    InfractionRule("off_route", terminate=True),
    InfractionRule("wrong_way", terminate=True),
    InfractionRule("blocked", terminate=True),
    InfractionRule("speeding", weight=1.0),
    InfractionRule("ttc", factor=0.5, hold_steps=500),
    InfractionRule("comfort", weight=0.5),
    InfractionRule("lane_center", weight=1.0),
    InfractionRule("outside_route_lanes", factor=0.0),
)


@njit(cache=True)
def penalize(progress, severity, kind, value, hold, held_factor, countdown, reward, terminal,
             ends):
    """One step of the scheme for a batch: ``severity`` ``(n, K)``, per-rule params ``(K,)``.

    ``kind``: 0 terminate (``value`` = terminal reward), 1 constant factor, 2 weight.
    ``countdown``/``held_factor`` ``(n, K)`` carry held multipliers between steps. Of several
    terminating rules firing on one step, the terminal reward of largest magnitude is paid
    (the first in table order on a tie).
    """
    n, k_rules = severity.shape
    for i in range(n):
        mult = 1.0
        term_sum = 0.0
        end = False
        for k in range(k_rules):
            s = severity[i, k]
            if kind[k] == 0:
                if s > 0.0:
                    if not end or abs(value[k]) > abs(term_sum):
                        term_sum = value[k]
                    end = True
                continue
            factor = 1.0
            if s > 0.0:
                factor = value[k] if kind[k] == 1 else 1.0 - value[k] * min(s, 1.0)
                if hold[k] > 0:
                    countdown[i, k] = hold[k]
                    held_factor[i, k] = factor
            if countdown[i, k] > 0:
                factor = min(factor, held_factor[i, k])
                countdown[i, k] -= 1
            mult *= factor
        reward[i] = progress[i] * mult + term_sum
        terminal[i] = term_sum
        ends[i] = end


def _check(table: Sequence[InfractionRule], progress_key: str) -> tuple[np.ndarray, ...]:
    if not table:
        raise ValueError("InfractionPenalty: the table is empty")
    names = [rule.name for rule in table]
    if len(set(names)) != len(names) or progress_key in names:
        raise ValueError(f"InfractionPenalty: duplicate names in {names} (progress_key "
                         f"{progress_key!r})")
    kind = np.array([0 if r.terminate else (1 if r.factor is not None else 2) for r in table])
    value = np.array([r.terminal_reward if r.terminate else
                      (r.factor if r.factor is not None else r.weight) for r in table],
                     dtype=np.float64)
    hold = np.array([r.hold_steps for r in table], dtype=np.int64)
    return kind, value, hold


def _severity(info: dict[str, Any], table: Sequence[InfractionRule], n: int) -> np.ndarray:
    # A name the env never reports would silently never penalise: refuse it on the first step.
    missing = [rule.name for rule in table if rule.name not in info]
    if missing:
        raise KeyError(f"InfractionPenalty: info has no infraction key(s) {missing}; the table "
                       f"names infractions the env does not report (info keys: "
                       f"{sorted(map(str, info))}); drop those rules or make the env report them")
    out = np.zeros((n, len(table)))
    for k, rule in enumerate(table):
        out[:, k] = np.asarray(info[rule.name], dtype=np.float64).reshape(n)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"InfractionPenalty: non-finite infraction signal in {out!r}")
    return out


def _progress(info: dict[str, Any], key: str, n: int) -> np.ndarray:
    if key not in info:
        raise KeyError(f"InfractionPenalty: info has no progress key {key!r}; the env must "
                       f"report it (keys: {sorted(info)})")
    return np.asarray(info[key], dtype=np.float64).reshape(n)


class InfractionPenalty(gym.Wrapper, RecordConstructorArgs):
    """Replace the reward by ``progress * Π factors + terminal reward`` (CaRL's scheme).

    Args:
        env: an env whose ``info`` carries ``progress_key`` and the infraction names.
        table: the rules (default: :data:`CARL_TABLE`).
        progress_key: the ``info`` key of this step's progress (RouteDrive: route completion
            gained this step, in percentage points).

    Example:
        >>> rules = (InfractionRule("crash", terminate=True, terminal_reward=-1.0),
        ...          InfractionRule("slow", factor=0.5))
        >>> rules[1].factor
        0.5
    """

    def __init__(self, env: gym.Env, table: Sequence[InfractionRule] = CARL_TABLE, *,
                 progress_key: str = "progress") -> None:
        RecordConstructorArgs.__init__(self, table=tuple(table), progress_key=progress_key)
        gym.Wrapper.__init__(self, env)
        self.table = tuple(table)
        self.progress_key = progress_key
        self._kind, self._value, self._hold = _check(self.table, progress_key)
        self._countdown = np.zeros((1, len(self.table)), dtype=np.int64)
        self._held = np.ones((1, len(self.table)))

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Reset and clear held penalties."""
        self._countdown[:] = 0
        self._held[:] = 1.0
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step and apply the table; a terminating infraction ends the episode."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        out = np.zeros(1), np.zeros(1), np.zeros(1, dtype=np.bool_)
        penalize(_progress(info, self.progress_key, 1), _severity(info, self.table, 1),
                 self._kind, self._value, self._hold, self._held, self._countdown, *out)
        shaped, terminal, ends = float(out[0][0]), float(out[1][0]), bool(out[2][0])
        info = dict(info)
        info["base_reward"] = reward
        info["reward_terms"] = {"progress": shaped - terminal, "terminal": terminal}
        return obs, shaped, terminated or ends, truncated, info


class InfractionPenaltyVector(VectorWrapper):
    """:class:`InfractionPenalty` for vector envs (any autoreset mode; see the module note).

    Under ``SAME_STEP`` the finishing step's signals are read from ``infos["final_info"]``; held
    penalties are cleared for envs whose episode ended.
    """

    def __init__(self, env: VectorEnv, table: Sequence[InfractionRule] = CARL_TABLE, *,
                 progress_key: str = "progress") -> None:
        super().__init__(env)
        self.table = tuple(table)
        self.progress_key = progress_key
        self._kind, self._value, self._hold = _check(self.table, progress_key)
        self._countdown = np.zeros((self.num_envs, len(self.table)), dtype=np.int64)
        self._held = np.ones((self.num_envs, len(self.table)))
        self.autoreset_mode = stepping_autoreset_mode(env, "InfractionPenaltyVector")
        self._pending_reset = np.zeros(self.num_envs, dtype=np.bool_)

    def reset(self, *, seed: int | list[int] | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset and clear held penalties of the reset envs."""
        obs, infos = self.env.reset(seed=seed, options=options)
        mask = reset_mask(options, self.num_envs, type(self).__name__)
        self._countdown[mask] = 0
        self._held[mask] = 1.0
        self._pending_reset[mask] = False
        return obs, infos

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Step all envs and apply the table to each."""
        obs, rewards, terminated, truncated, infos = self.env.step(actions)
        n = self.num_envs
        done = np.asarray(terminated | truncated, dtype=np.bool_)
        # NEXT_STEP reset rows carry no transition: no signals are read for them, reward 0.
        pending = self._pending_reset
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            self._pending_reset = done.copy()
        shaped, terminal = np.zeros(n), np.zeros(n)
        ends = np.zeros(n, dtype=np.bool_)
        if not pending.all():
            source = infos
            if "final_info" in infos and done.any():
                source = with_final_rows(infos, infos["final_info"], done)
            penalize(_progress(source, self.progress_key, n), _severity(source, self.table, n),
                     self._kind, self._value, self._hold, self._held, self._countdown, shaped,
                     terminal, ends)
            shaped[pending] = 0.0
            terminal[pending] = 0.0
            ends[pending] = False
            self._countdown[pending] = 0
            self._held[pending] = 1.0
        if np.any(ends & ~np.asarray(terminated, dtype=np.bool_)):
            rows = np.flatnonzero(ends & ~terminated).tolist()
            raise ValueError(f"InfractionPenaltyVector: envs {rows} had a terminating infraction "
                             "but did not terminate; a vector env owns its resets, so configure "
                             "the env to end episodes on these infractions")
        self._countdown[done] = 0
        self._held[done] = 1.0
        infos = dict(infos)
        infos["base_reward"] = rewards
        infos["reward_terms"] = {"progress": shaped - terminal, "terminal": terminal}
        return obs, shaped, terminated, truncated, infos



class InfractionPenaltyParallel(BaseParallelWrapper):
    """:class:`InfractionPenalty` for PettingZoo parallel envs.

    Each agent has its own held penalties; like the vector twin, it never removes an agent
    itself (the env must terminate agents on terminating infractions).
    """

    def __init__(self, env: Any, table: Sequence[InfractionRule] = CARL_TABLE, *,
                 progress_key: str = "progress") -> None:
        super().__init__(env)
        self.table = tuple(table)
        self.progress_key = progress_key
        self._kind, self._value, self._hold = _check(self.table, progress_key)
        self._countdown: dict[Any, np.ndarray] = {}
        self._held: dict[Any, np.ndarray] = {}

    def reset(self, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        """Reset and clear every agent's held penalties."""
        obs, infos = self.env.reset(seed=seed, options=options)
        self._countdown = {a: np.zeros((1, len(self.table)), dtype=np.int64) for a in obs}
        self._held = {a: np.ones((1, len(self.table))) for a in obs}
        return obs, infos

    def step(self, actions: dict) -> tuple[dict, dict, dict, dict, dict]:
        """Step and apply the table to each acting agent."""
        obs, rewards, terminations, truncations, infos = self.env.step(actions)
        new_rewards, new_infos = {}, dict(infos)
        for agent, reward in rewards.items():
            info = infos.get(agent, {})
            out = np.zeros(1), np.zeros(1), np.zeros(1, dtype=np.bool_)
            countdown = self._countdown.setdefault(agent, np.zeros((1, len(self.table)),
                                                                   dtype=np.int64))
            held = self._held.setdefault(agent, np.ones((1, len(self.table))))
            penalize(_progress(info, self.progress_key, 1), _severity(info, self.table, 1),
                     self._kind, self._value, self._hold, held, countdown, *out)
            if out[2][0] and not terminations.get(agent, False):
                raise ValueError(f"InfractionPenaltyParallel: agent {agent!r} had a terminating "
                                 "infraction but was not terminated by the env")
            new_rewards[agent] = float(out[0][0])
            new_infos[agent] = {**info, "base_reward": reward, "reward_terms": {
                "progress": float(out[0][0] - out[1][0]), "terminal": float(out[1][0])}}
        return obs, new_rewards, terminations, truncations, new_infos
