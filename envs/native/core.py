"""The core protocol: what a native env family implements behind the kit's shells.

A core holds ``num_envs`` envs of one family in arrays and steps them all at once. The shells
(:class:`~rewardgym.envs.native.single.NativeEnv`, :class:`~rewardgym.envs.native.vector.
NativeVectorEnv`) do everything else once for every family: argument checks, seeding, reset
masks, autoreset modes, ``final_obs``/``final_info`` packaging, rendering, pickling.

A family either autoresets inside its numba kernel (grid, driving: :meth:`NativeCore.step`
gets the autoreset code and fills :attr:`NativeCore.done` and its final buffers), or subclasses
:class:`RowAutoreset`, which implements ``step`` once from the family's ``reset_state`` and
``step_state`` (locomotion's MuJoCo physics, the tiny test family).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
from gymnasium import spaces

from rewardgym.envs.native.modes import NEXT_STEP, NO_AUTORESET, SAME_STEP


class NativeCore(ABC):
    """``num_envs`` envs of one family, stepped together; the shells' only view of a family.

    Step outputs live in arrays of length ``num_envs``, allocated once and never rebound (the
    shells hold them), that every :meth:`step` overwrites: :attr:`rewards` (float64),
    :attr:`terminations`, :attr:`truncations` and :attr:`done` (bool; under ``SAME_STEP`` the
    envs whose episode ended in this step and that were reset already). The shells copy what
    they return.
    """

    num_envs: int
    single_observation_space: spaces.Space
    single_action_space: spaces.Space
    #: Appended to the shell's class name in messages when the env has no spec (``"(door_key)"``).
    label: str = ""

    @property
    @abstractmethod
    def rewards(self) -> np.ndarray:
        """This step's rewards, float64 ``(num_envs,)``."""

    @property
    @abstractmethod
    def terminations(self) -> np.ndarray:
        """This step's terminations, bool ``(num_envs,)``."""

    @property
    @abstractmethod
    def truncations(self) -> np.ndarray:
        """This step's truncations, bool ``(num_envs,)``."""

    @property
    @abstractmethod
    def done(self) -> np.ndarray:
        """``SAME_STEP``: envs whose episode ended this step (already reset); else all False."""

    @abstractmethod
    def seed_rows(self, mask: np.ndarray, seeds: list[int | None]) -> None:
        """Seed the random stream of every env in ``mask`` (``seeds[i]``; None keeps it)."""

    @abstractmethod
    def reset_rows(self, mask: np.ndarray) -> None:
        """Start a new episode in every env in ``mask``; their infos become reset infos."""

    @abstractmethod
    def check_actions(self, name: str, actions: Any, num_envs: int | None) -> Any:
        """Checked actions in the form :meth:`step` takes (``num_envs`` None: one action).

        Raises:
            ValueError: naming ``name`` for an action outside the space's policy.
        """

    @abstractmethod
    def step(self, actions: Any, autoreset: int) -> None:
        """Step every env; ``autoreset`` is ``NO_AUTORESET``, ``NEXT_STEP`` or ``SAME_STEP``."""

    @abstractmethod
    def batch_obs(self) -> Any:
        """Every env's observation, batched (fresh arrays)."""

    @abstractmethod
    def obs_row(self, i: int) -> Any:
        """Env ``i``'s observation (a fresh copy)."""

    @abstractmethod
    def final_obs(self, rows: np.ndarray) -> list[Any]:
        """``SAME_STEP``: the last observations of the episodes of ``rows`` (indices) that ended."""

    @abstractmethod
    def infos(self, mask: np.ndarray) -> dict[str, Any]:
        """Vector infos of the envs in ``mask`` as ``SyncVectorEnv`` lays them out.

        Envs outside ``mask`` hold the fill values, ``_key`` masks are ``mask``; envs reset in
        this step report their reset info.
        """

    @abstractmethod
    def final_infos(self, done: np.ndarray) -> dict[str, Any]:
        """``SAME_STEP``: vector infos of the last step of the episodes in ``done``."""

    @abstractmethod
    def info(self, i: int) -> dict[str, Any]:
        """Env ``i``'s info with Python scalars (what a single env returns)."""

    def single_path(self) -> tuple[Any, Any, Any, Any, np.ndarray, np.ndarray, np.ndarray]:
        """What the single shell's ``step`` calls and reads, bound at every reset of env 0.

        ``(check_actions, step, obs_row, info, rewards, terminations, truncations)``, called as
        the methods of those names are (``check_actions(name, action, None)``,
        ``step(actions, NO_AUTORESET)``, ``obs_row(0)``, ``info(0)``), the step's outputs in
        row 0 of the arrays. By default the methods and output arrays themselves; a family may
        return faster equivalents for its single env (a kernel entry point bound to its
        arguments, a maskless step), which must give the same results. After a step through
        them only these arrays are guaranteed current, not :attr:`rewards` and its siblings.
        """
        return (self.check_actions, self.step, self.obs_row, self.info, self.rewards,
                self.terminations, self.truncations)

    def reset_options(self, options: dict[str, Any]) -> None:  # noqa: B027  (an optional hook)
        """Reset ``options`` (``reset_mask`` removed) for the next :meth:`reset_rows` call.

        The shells call it before :meth:`reset_rows` when ``reset`` gets options; cores whose
        envs take none ignore them (Gymnasium's rule for options an env does not use).
        """

    def ready(self, name: str) -> None:  # noqa: B027  (an optional hook)
        """Raise ``gym.error.ResetNeeded`` if env 0 may not step (single shells call it)."""

    def render(self, i: int) -> Any:
        """Env ``i``'s frame."""
        raise NotImplementedError(f"{type(self).__name__} does not render")

    def close(self) -> None:  # noqa: B027  (an optional hook)
        """Release what rendering holds."""


class RowAutoreset(NativeCore):
    """A core whose envs reset and step in Python-visible rows: autoreset written once here.

    The family implements :meth:`reset_state` and :meth:`step_state` over row masks, keeping
    this step's per-env ``reward``, ``terminated`` and ``truncated`` arrays (cleared by a
    reset); this class adds the time limit (``max_episode_steps``, as Gymnasium's ``TimeLimit``
    counts it), ``NEXT_STEP`` (envs that ended last step are reset instead of stepped) and
    ``SAME_STEP`` (ended envs are reset after their final observation and info are kept).
    Call :meth:`init_rows` at the end of the family's ``__init__``.
    """

    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    max_episode_steps: int | None

    def init_rows(self, max_episode_steps: int | None = None) -> None:
        """Allocate the step outputs and the autoreset bookkeeping (once, not per step)."""
        n = self.num_envs
        self.max_episode_steps = max_episode_steps
        self._rewards = np.zeros(n)
        self._terminations = np.zeros(n, dtype=np.bool_)
        self._truncations = np.zeros(n, dtype=np.bool_)
        self._done = np.zeros(n, dtype=np.bool_)
        self._pending = np.zeros(n, dtype=np.bool_)  # NEXT_STEP: reset on the next step
        self._everyone = np.ones(n, dtype=np.bool_)
        self._elapsed = np.zeros(n, dtype=np.int64)
        self._final: tuple[list[Any], dict[str, Any]] = ([], {})

    @abstractmethod
    def reset_state(self, mask: np.ndarray) -> None:
        """Start new episodes in the envs of ``mask`` (clear their reward and flags)."""

    @abstractmethod
    def step_state(self, mask: np.ndarray, actions: Any) -> None:
        """Step the envs of ``mask``, writing ``reward``, ``terminated``, ``truncated``."""

    @property
    def rewards(self) -> np.ndarray:
        """This step's rewards."""
        return self._rewards

    @property
    def terminations(self) -> np.ndarray:
        """This step's terminations."""
        return self._terminations

    @property
    def truncations(self) -> np.ndarray:
        """This step's truncations (time limit included)."""
        return self._truncations

    @property
    def done(self) -> np.ndarray:
        """``SAME_STEP``: envs that ended this step and were reset."""
        return self._done

    def reset_rows(self, mask: np.ndarray) -> None:
        """Start new episodes in ``mask`` (their step count and pending reset cleared)."""
        self.reset_state(mask)
        self._elapsed[mask] = 0
        self._pending[mask] = False

    def step(self, actions: Any, autoreset: int) -> None:
        """Step every env once, with the time limit and ``autoreset`` applied."""
        if autoreset == NO_AUTORESET and self.max_episode_steps is None:
            # A single env (its time limit is gym.make's) or DISABLED without a limit: nothing
            # is pending (only NEXT_STEP sets it), every env steps, nothing is masked.
            self.step_state(self._everyone, actions)
            if self.num_envs == 1:
                self._rewards[0] = self.reward[0]
                self._terminations[0] = self.terminated[0]
                self._truncations[0] = self.truncated[0]
            else:
                np.copyto(self._rewards, self.reward)
                np.copyto(self._terminations, self.terminated)
                np.copyto(self._truncations, self.truncated)
            return
        pending = self._pending
        if pending.any():
            stepping = ~pending
            self.reset_rows(pending.copy())
        else:
            stepping = self._everyone
        self.step_state(stepping, actions)
        np.logical_and(self.terminated, stepping, out=self._terminations)
        np.logical_and(self.truncated, stepping, out=self._truncations)
        if self.max_episode_steps is not None:
            self._elapsed[stepping] += 1
            self._truncations |= stepping & (self._elapsed >= self.max_episode_steps)
        np.copyto(self._rewards, self.reward)
        if autoreset == NO_AUTORESET:  # a single env: the shell or the caller resets
            return
        done = self._terminations | self._truncations
        self._done[:] = False
        if autoreset == SAME_STEP and done.any():
            rows = np.flatnonzero(done)
            self._final = ([self.obs_row(int(i)) for i in rows], self.ended_infos(done))
            self.reset_rows(done)
            self._done[:] = done
        elif autoreset == NEXT_STEP:
            self._pending = done

    def single_path(self) -> tuple[Any, Any, Any, Any, np.ndarray, np.ndarray, np.ndarray]:
        """Without a time limit (a single env's is ``gym.make``'s), the family's maskless step.

        :meth:`step` under ``NO_AUTORESET`` with no limit steps every env and copies the
        family's outputs unchanged; the single shell calls the family's :meth:`step_state`
        directly and reads its ``reward``, ``terminated`` and ``truncated`` instead.
        """
        path = super().single_path()
        if self.max_episode_steps is not None:
            return path
        check, _, obs_row, info = path[:4]
        step_state, everyone = self.step_state, self._everyone

        def step(actions: Any, autoreset: int) -> None:  # the single shell's NO_AUTORESET
            step_state(everyone, actions)

        return check, step, obs_row, info, self.reward, self.terminated, self.truncated

    def ended_infos(self, done: np.ndarray) -> dict[str, Any]:
        """``final_info`` of the envs in ``done``, taken before they reset (default: infos)."""
        return self.infos(done)

    def final_obs(self, rows: np.ndarray) -> list[Any]:
        """The observations kept before this step's ``SAME_STEP`` resets."""
        return self._final[0]

    def final_infos(self, done: np.ndarray) -> dict[str, Any]:
        """The infos kept before this step's ``SAME_STEP`` resets."""
        return self._final[1]


class KernelOutputs:
    """The step-output properties of a kernel family, read from its kernel output record ``out``.

    ``out.reward``, ``out.terminated``, ``out.truncated`` and ``out.done`` (the kernel's
    ``SAME_STEP`` resets) are arrays of ``num_envs`` rows that every kernel call overwrites; a
    family whose record lays them out differently overrides the property (RouteDrive keeps its
    rewards in a column of ``out.scalars``). List it before :class:`NativeCore` in the bases.
    """

    out: Any

    @property
    def rewards(self) -> np.ndarray:
        """This step's rewards."""
        return self.out.reward

    @property
    def terminations(self) -> np.ndarray:
        """This step's terminations."""
        return self.out.terminated

    @property
    def truncations(self) -> np.ndarray:
        """This step's truncations."""
        return self.out.truncated

    @property
    def done(self) -> np.ndarray:
        """``SAME_STEP``: envs whose episode ended this step (the kernel reset them)."""
        return self.out.done


class KernelAccess:
    """Private names that tests and tools read on a kernel family's shells, from its core."""

    _core: Any

    @property
    def _params(self) -> Any:
        return self._core.params

    @property
    def _parallel(self) -> bool:
        return self._core.parallel

    @property
    def _step_kernel(self) -> Any:
        return self._core._step_kernel


__all__ = ["KernelAccess", "KernelOutputs", "NativeCore", "RowAutoreset"]
