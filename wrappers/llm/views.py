"""Reward views of the env families, as reward programs see them.

A reward program reads features BY NAME from an env family's reward view (the locomotion view of
``rewardgym.envs.locomotion.view``, the grid view of ``rewardgym.envs.grid.view``, the shopping
view of ``rewardgym.envs.shopping.view`` on the slot env, whose actions are slot indices, the
driving view of ``rewardgym.envs.driving.view``); this module gives the program checker and the
wrappers one interface over them: the layout (names, fixed
indices, units, ``describe()``), the rows of a single or vector env, and the kind of action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import gymnasium as gym
import numpy as np


@dataclass(frozen=True)
class ViewFeature:
    """One feature as programs see it: a scalar (``obs.name`` is a float) or a fixed vector."""

    name: str
    start: int
    size: int
    unit: str
    doc: str
    scalar: bool
    labels: tuple[str, ...] = ()


class RewardView:
    """The named feature row of one env family, plus how to read it from live envs.

    Args:
        family: ``"locomotion"``, ``"grid"`` or ``"driving"``.
        layout: the family's layout (``features``, ``size``, ``describe()``).
        discrete_actions: True when actions are integers (programs see them as a float).
        action_size: length of the action vector (1 for discrete actions).

    Example:
        >>> from rewardgym.envs.grid import GridEnv
        >>> view = view_of(GridEnv(layout="door_key", size=5))
        >>> view.family, view["dist_key"].start, view["dist_key"].scalar
        ('grid', 17, True)
    """

    def __init__(self, family: str, layout: Any, *, discrete_actions: bool,
                 action_size: int) -> None:
        self.family = family
        self.layout = layout
        self.discrete_actions = discrete_actions
        self.action_size = action_size
        self.features = tuple(
            ViewFeature(f.name, f.start, f.size, f.unit, f.doc,
                        f.size == 1 and not f.labels, tuple(f.labels))
            for f in layout.features)
        self.size = int(layout.size)
        self._by_name = {f.name: f for f in self.features}

    def __getitem__(self, name: str) -> ViewFeature:
        """The feature called ``name`` (KeyError listing the names otherwise)."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no feature {name!r}; features: {list(self._by_name)}") from None

    def __contains__(self, name: object) -> bool:
        """Whether the view has a feature called ``name``."""
        return name in self._by_name

    @property
    def names(self) -> tuple[str, ...]:
        """Feature names in row order."""
        return tuple(self._by_name)

    @property
    def key(self) -> str:
        """A short identity of the layout (family, size, names), for hashes and artefacts."""
        return f"{self.family}:{self.size}:{','.join(self.names)}"

    def describe(self) -> str:
        """The family's markdown feature table."""
        return self.layout.describe()

    def rows(self, env: Any) -> np.ndarray:
        """Feature rows ``(n, size)`` of a single env (n = 1) or a native vector env."""
        # The families' public batch views (a single env is a batch of one).
        if self.family == "locomotion":
            from rewardgym.envs.locomotion import features_batch
        elif self.family == "shopping":
            from rewardgym.envs.shopping.view import features_batch
        elif self.family == "driving":
            from rewardgym.envs.driving.view import features_batch
        else:
            from rewardgym.envs.grid.view import features_batch
        return np.asarray(features_batch(env).values, dtype=np.float64)

    def reader(self, env: Any, names: Any = None) -> ViewReader:
        """A :class:`ViewReader` of ``env`` that computes only the features in ``names``."""
        if self.family == "grid":
            from rewardgym.envs.grid.view import GridViewReader

            return GridViewReader(env, names)
        if self.family == "driving":
            return _DriveReader(self, env, names)
        return _CopyReader(self, env)

    def single_env(self, env: Any) -> Any:
        """A fresh single env with ``env``'s configuration (for sampling validation states)."""
        base = env.unwrapped
        if self.family == "locomotion":
            from rewardgym.envs.locomotion import LocomotionEnv

            return LocomotionEnv(config=base.config)
        if self.family == "shopping":
            return _shop_copy(env)
        if self.family == "driving":
            from rewardgym.envs.driving import RouteDriveEnv

            return RouteDriveEnv(config=base.config)
        from rewardgym.envs.grid import GridEnv

        return GridEnv(config=base.config)

    def actions(self, actions: Any, n: int) -> np.ndarray:
        """Actions as the float64 array programs receive: ``(n,)`` discrete, ``(n, k)`` boxes."""
        arr = np.asarray(actions, dtype=np.float64)
        if self.discrete_actions:
            return arr.reshape(n)
        return arr.reshape(n, self.action_size)


class ViewReader(Protocol):
    """Reads the feature rows of one env after each reset and step (wrappers own one each).

    ``read(out)`` writes the ``(n, size)`` rows of the env's current state into ``out`` (or a
    new buffer) and returns it; a reader may keep state between calls (the grid reader caches
    distance fields) and may leave columns a program does not read as NaN.
    """

    def new_rows(self) -> np.ndarray:
        """A buffer for :meth:`read`."""
        ...

    def read(self, out: np.ndarray | None = None) -> np.ndarray:
        """The rows of the env's current state."""
        ...

    def before_step(self) -> None:
        """Called before each step of a ``SAME_STEP`` env (what :meth:`final_rows` needs)."""
        ...

    def after_step(self) -> None:
        """Called right after each step of a ``SAME_STEP`` env (even when it raised)."""
        ...

    def final_rows(self, infos: dict[str, Any], actions: np.ndarray, done: np.ndarray,
                   out: np.ndarray) -> np.ndarray:
        """Write into ``out[done]`` the rows of the states the finished episodes ended in."""
        ...


class ReadStep(NamedTuple):
    """One vector step seen through a :class:`ViewReader` (what :func:`step_and_read` returns).

    ``after`` holds the rows of the envs' current states (for the next step's ``before``);
    ``paid`` the rows each step ended in: ``after`` itself, or under ``SAME_STEP`` a copy whose
    finished rows are the states the episodes ended in. ``done`` is ``terminated | truncated``.
    """

    obs: Any
    rewards: Any
    terminated: np.ndarray
    truncated: np.ndarray
    infos: dict[str, Any]
    after: np.ndarray
    paid: np.ndarray
    done: np.ndarray


def step_and_read(env: Any, reader: ViewReader, actions: Any, program_actions: np.ndarray,
                  out: np.ndarray, *, same_step: bool) -> ReadStep:
    """Step a vector ``env`` and read its rows: the one step path of the vector LLM wrappers.

    Under ``SAME_STEP`` the reader's :meth:`~ViewReader.before_step` and
    :meth:`~ViewReader.after_step` hooks bracket the step (``after_step`` even when the step
    raised) and the finished envs' rows come from :meth:`~ViewReader.final_rows`.

    Args:
        env: the wrapped vector env.
        reader: its reader (``RewardView.reader``).
        actions: the actions, as the env takes them.
        program_actions: the same actions as programs see them (``RewardView.actions``).
        out: the buffer the rows after the step are read into.
        same_step: whether the env autoresets ``SAME_STEP``.
    """
    if same_step:
        reader.before_step()
        try:
            obs, rewards, terminated, truncated, infos = env.step(actions)
        finally:
            reader.after_step()
    else:
        obs, rewards, terminated, truncated, infos = env.step(actions)
    after = reader.read(out)
    done = np.asarray(terminated | truncated, dtype=np.bool_)
    paid = after
    if same_step and done.any():
        paid = reader.final_rows(infos, program_actions, done, after.copy())
    return ReadStep(obs, rewards, terminated, truncated, infos, after, paid, done)


class _CopyReader:
    """A reader for families whose env computes the rows itself (locomotion, shopping): a copy.

    ``SAME_STEP``: the locomotion vector env keeps the finished envs' rows
    (``final_features``). A vector env whose core autoresets in Python
    (:class:`~rewardgym.envs.native.core.RowAutoreset`: shopping) is read at the one moment
    the finished envs are still in their last state: the core's ``ended_infos`` call, which
    :meth:`before_step` wraps on the core instance for the length of the step only
    (:meth:`after_step` removes it, so pickling and other users never see it).
    """

    def __init__(self, view: RewardView, env: Any) -> None:
        self.view = view
        self.env = env
        self._n = view.rows(env).shape[0]
        self._hooked: Any = None
        self._final: np.ndarray | None = None

    def new_rows(self) -> np.ndarray:
        return np.zeros((self._n, self.view.size))

    def read(self, out: np.ndarray | None = None) -> np.ndarray:
        rows = self.view.rows(self.env)
        if out is None:
            return rows
        np.copyto(out, rows)
        return out

    def before_step(self) -> None:
        base = self.env.unwrapped
        core = getattr(base, "_core", None)
        self._final = None
        if getattr(base, "final_features", None) is not None or core is None \
                or not hasattr(type(core), "ended_infos"):
            return
        original = type(core).ended_infos

        def ended_infos(done: np.ndarray) -> dict[str, Any]:
            self._final = self.view.rows(self.env)  # before the finished envs reset
            return original(core, done)

        core.ended_infos = ended_infos
        self._hooked = core

    def after_step(self) -> None:
        if self._hooked is not None:
            vars(self._hooked).pop("ended_infos", None)
            self._hooked = None

    def final_rows(self, infos: dict[str, Any], actions: np.ndarray, done: np.ndarray,
                   out: np.ndarray) -> np.ndarray:
        if self._final is not None:
            out[done] = self._final[done]
            return out
        rows = getattr(self.env.unwrapped, "final_features", None)
        if rows is None:
            raise ValueError(f"{type(self.env.unwrapped).__name__}: the state a finished episode "
                             "ended in is gone under SAME_STEP (the env resets inside its "
                             "kernel), so its last step cannot be paid; use NEXT_STEP autoreset")
        out[done] = np.asarray(rows, dtype=np.float64)[done]
        return out


class _DriveReader(_CopyReader):
    """RouteDrive's reader: only the asked features; ``SAME_STEP`` replays the last tick.

    :meth:`read` computes the columns of ``names`` (default: all) straight into a
    column-major buffer (:func:`~rewardgym.envs.driving.view.compute_needed`: the scan over
    the other cars and the other searches run only when an asked feature needs them; the
    other columns stay NaN). The RouteDrive kernel resets a finished world inside the step,
    so :meth:`before_step` keeps a copy of the world state and :meth:`final_rows` steps the
    finished worlds again from it, without autoreset, with the actions the kernel took (its
    action buffer); each world's random stream is part of its state, so the replay ends
    where the env did, and the full view is computed on the replayed worlds.
    """

    def __init__(self, view: RewardView, env: Any, names: Any = None) -> None:
        super().__init__(view, env)
        self._world: tuple[np.ndarray, ...] | None = None
        self.need = view.layout.mask(names)

    def new_rows(self) -> np.ndarray:
        return np.full((self.view.size, self._n), np.nan).T

    def read(self, out: np.ndarray | None = None) -> np.ndarray:
        from rewardgym.envs.driving.view import compute_needed

        out = self.new_rows() if out is None else out
        base = self.env.unwrapped
        step = base._out
        compute_needed(base._bank, base._world, base._params, step.signals, step.scalars,
                       self.need, out)
        return out

    def before_step(self) -> None:
        world = self.env.unwrapped._core.world
        first = self._world is None
        if first:
            self._world = tuple(np.empty_like(a) for a in world)
        for dst, src in zip(self._world, world, strict=True):
            np.copyto(dst, src)
        if first:
            # Load (or compile) the replay's kernels now, on no world: not at the first episode
            # end, in the middle of a timed rollout.
            self._replay(np.zeros(0, dtype=np.int64))

    def after_step(self) -> None:
        pass

    def final_rows(self, infos: dict[str, Any], actions: np.ndarray, done: np.ndarray,
                   out: np.ndarray) -> np.ndarray:
        if self._world is None:
            raise RuntimeError("driving reader: call before_step() before the step")
        rows, final = self._replay(np.flatnonzero(self.env.unwrapped._core.done))
        out[rows] = final
        return out

    def _replay(self, worlds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows of ``worlds``' egos and their full feature rows after the replayed tick."""
        from rewardgym.envs.driving import kernels
        from rewardgym.envs.driving.state import new_step_out
        from rewardgym.envs.driving.view import compute_features
        from rewardgym.envs.native.modes import NO_AUTORESET

        core = self.env.unwrapped._core
        egos = core.world.ef.shape[1]
        rows = (worlds[:, None] * egos + np.arange(egos)[None, :]).reshape(-1)
        scratch = type(core.world)(*(a[worlds] for a in self._world))
        step_out = new_step_out(len(worlds), egos, core.out.obs.shape[1],
                                core.out.bev.shape[2])
        kernels.step_batch(core.bank, scratch, core.params,
                           np.ascontiguousarray(core.actions[rows]), NO_AUTORESET, step_out)
        final = np.empty((len(rows), self.view.size))
        compute_features(core.bank, scratch, core.params, step_out.signals, step_out.scalars,
                         final)
        return rows, final


def view_of(env: Any) -> RewardView:
    """The :class:`RewardView` of a (possibly wrapped) single or native vector env.

    Raises:
        ValueError: for an env whose family has no reward view yet.
    """
    base = env.unwrapped
    from rewardgym.envs.grid import GridEnv, GridVectorEnv

    if isinstance(base, GridEnv | GridVectorEnv):
        from rewardgym.envs.grid.view import LAYOUT

        return RewardView("grid", LAYOUT, discrete_actions=True, action_size=1)
    from rewardgym.envs.locomotion import LocomotionEnv, LocomotionVectorEnv

    if isinstance(base, LocomotionEnv | LocomotionVectorEnv):
        space = base.single_action_space if hasattr(base, "single_action_space") \
            else base.action_space
        from rewardgym.envs.locomotion import features_batch

        return RewardView("locomotion", features_batch(env).layout, discrete_actions=False,
                          action_size=int(np.prod(space.shape)))
    shop = _shop_view(env)
    if shop is not None:
        return shop
    from rewardgym.envs.driving import RouteDriveEnv, RouteDriveVectorEnv

    if isinstance(base, RouteDriveEnv | RouteDriveVectorEnv):
        from rewardgym.envs.driving.view import LAYOUT as DRIVING

        discrete = base.config.action_mode == "discrete"
        return RewardView("driving", DRIVING, discrete_actions=discrete,
                          action_size=1 if discrete else 2)
    raise ValueError(f"no reward view for {type(base).__name__}: LLM reward programs support "
                     "the grid, locomotion, shopping and driving families (rewardgym.envs.grid, "
                     "rewardgym.envs.locomotion, rewardgym.envs.shopping, "
                     "rewardgym.envs.driving)")


def _shop_view(env: Any) -> RewardView | None:
    """The shopping view of a slot env (single or vector), None for other families.

    Raises:
        ValueError: for the text shop, whose string actions a program cannot take.
    """
    from rewardgym.envs.shopping import WebShopDiscreteEnv, WebShopTextEnv
    from rewardgym.envs.shopping.vector_env import WebShopDiscreteVectorEnv, WebShopTextVectorEnv

    base = env.unwrapped
    if isinstance(base, WebShopTextEnv | WebShopTextVectorEnv):
        from rewardgym.envs.shopping.discrete import discrete_view

        try:
            discrete_view(env)  # a WebShopDiscrete wrapper over a text shop takes slots
        except TypeError:
            raise ValueError(f"no reward view for {type(base).__name__}: its actions are text, "
                             "which a reward program cannot take; use the slot env "
                             "rewardgym/WebShopDiscrete-v1 (actions are slot indices)") from None
    elif not isinstance(base, WebShopDiscreteEnv | WebShopDiscreteVectorEnv):
        return None
    from rewardgym.envs.shopping.view import LAYOUT

    return RewardView("shopping", LAYOUT, discrete_actions=True, action_size=1)


def _shop_copy(env: Any) -> Any:
    """A fresh copy of a (possibly wrapped) shop, or of a vector env's first shop, by pickling.

    Pickling ships a generated shop's seeds, not its catalogue (``WebShopTextEnv.__getstate__``),
    and keeps the wrappers, so the copy has the same time limit.
    """
    import pickle

    base = env.unwrapped
    one = base.envs[0] if isinstance(base, gym.vector.VectorEnv) else env
    return pickle.loads(pickle.dumps(one))
