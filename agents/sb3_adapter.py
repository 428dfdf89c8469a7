"""Present any Gymnasium ``VectorEnv`` to Stable-Baselines3 as an SB3 ``VecEnv``.

SB3 does not accept a Gymnasium ``VectorEnv`` (it treats it as a single env and fails), and its own
``DummyVecEnv`` steps one Python env at a time. :class:`VectorEnvToSB3` wraps a vector env (a
native batched one such as ``rewardgym.envs.grid.GridVectorEnv``, or ``SyncVectorEnv`` /
``AsyncVectorEnv``) and translates between the two APIs:

==========================  =================================  ===================================
                            Gymnasium ``VectorEnv``             SB3 ``VecEnv``
==========================  =================================  ===================================
reset                       ``reset(seed, options)``            ``reset()``; ``seed()`` and
                            ``-> (obs, infos)``                 ``set_options()`` beforehand,
                                                                infos in ``reset_infos``
step                        ``(obs, rew, term, trunc, infos)``  ``(obs, rew, dones, infos)``
infos                       dict of arrays + ``_key`` masks     list of per-env dicts
episode end                 ``autoreset_mode`` metadata         same-step autoreset with
                                                                ``terminal_observation`` and
                                                                ``TimeLimit.truncated``
==========================  =================================  ===================================

Supported autoreset modes (``env.metadata["autoreset_mode"]``):

* ``SAME_STEP``: the env resets inside the finishing step; the terminal observation comes from
  ``infos["final_obs"]`` and the terminal step's info from ``infos["final_info"]``.
* ``DISABLED``: the adapter resets the finished envs itself with
  ``env.reset(options={"reset_mask": dones})``.
* ``NEXT_STEP`` is refused: it returns a fake transition after every episode end that SB3 would
  store as real data.

Per-env methods (``env_method``) go to each sub-env of a sync/async env. A native env has one
object for all its envs, so its method result is replicated per env, except for the *batched
methods* (default: ``action_masks``, what sb3-contrib's ``MaskablePPO`` calls through
``get_action_masks``): a vector env or vector wrapper that defines one returns a batch with one
row per env, which ``env_method`` splits into per-env rows. That vector-level method wins over the
sub-envs' methods (one batched call instead of a Python loop over envs).

The hot path is vectorised: the per-env info dicts start empty and only the envs that finished
this step are visited (to set ``terminal_observation``, ``TimeLimit.truncated`` and copy their
terminal-step info, e.g. ``is_success`` and ``episode``). A non-finished env's step info is not
copied; SB3 reads infos only at episode ends.

Contract enforced by ``tests/agents/test_sb3_adapter.py``: over a ``SyncVectorEnv`` the adapter is
step-for-step identical to ``DummyVecEnv`` built from the same envs with the same seeds
(observations, rewards, dones, ``terminal_observation``, ``TimeLimit.truncated``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from copy import deepcopy
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv, VectorEnv, VectorWrapper
from gymnasium.wrappers.vector import RecordEpisodeStatistics
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn

from rewardgym.agents.env_ids import resolve_env_id
from rewardgym.wrappers.terms import RecordRewardTermsVector

__all__ = ["VectorEnvToSB3", "make_sb3_vec_env"]

# Keys that a SAME_STEP vector env adds at the top level of ``infos`` for a finished env and that
# are not part of the reset info: the terminal obs/info themselves.
_FINAL_KEYS = frozenset({"final_obs", "_final_obs", "final_info", "_final_info"})

_NEXT_STEP_HELP = (
    "VectorEnvToSB3 needs a vector env with autoreset_mode SAME_STEP or DISABLED, got {mode}. "
    "NEXT_STEP returns a fake reset transition after each episode end that SB3 would train on. "
    "Build the env with SAME_STEP instead: for a native vector env "
    "`gym.make_vec(env_id, n, vectorization_mode='vector_entry_point', "
    "autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP)`; for sync/async "
    "`gym.make_vec(env_id, n, vectorization_mode='sync', "
    "vector_kwargs={{'autoreset_mode': gymnasium.vector.AutoresetMode.SAME_STEP}})`; "
    "or simply `rewardgym.agents.make_sb3_vec_env(env_id, n)`."
)


def _autoreset_mode(env: VectorEnv) -> AutoresetMode:
    """Read ``env.metadata["autoreset_mode"]``; refuse NEXT_STEP (also Gymnasium's default)."""
    raw = env.metadata.get("autoreset_mode")
    if raw is None:
        raise ValueError(
            _NEXT_STEP_HELP.format(
                mode="no `autoreset_mode` in env.metadata (Gymnasium then assumes NEXT_STEP)"
            )
        )
    mode = AutoresetMode(raw)
    if mode is AutoresetMode.NEXT_STEP:
        raise ValueError(_NEXT_STEP_HELP.format(mode="AutoresetMode.NEXT_STEP"))
    return mode


def _wrapper_chain(env: VectorEnv) -> Iterator[VectorEnv]:
    """Yield ``env`` and every vector env it wraps, outermost first."""
    while True:
        yield env
        if not isinstance(env, VectorWrapper):
            return
        env = env.env


def _info_at(infos: dict[str, Any], i: int, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Extract env ``i``'s info from Gymnasium's batched info dict (arrays + ``_key`` masks).

    A key whose mask is False for ``i`` is left out; a key without a mask is taken as present for
    every env (native vector envs may omit masks for keys every env always has).
    """
    out: dict[str, Any] = {}
    for key, value in infos.items():
        if key in skip or (key.startswith("_") and key[1:] in infos):
            continue
        mask = infos.get(f"_{key}")
        if mask is not None and not mask[i]:
            continue
        if isinstance(value, dict):
            out[key] = _info_at(value, i)
        elif isinstance(value, np.ndarray | list | tuple):
            out[key] = value[i]
        else:  # a scalar a native env reports once for all its envs
            out[key] = value
    return out


def _final_obs_at(final_obs: Any, i: int) -> Any:
    """Env ``i``'s terminal observation from ``infos["final_obs"]``.

    Gymnasium's sync/async envs store an object array of per-env observations; a native env may
    store the batched structure instead (an array, or a dict of arrays for ``Dict`` spaces).
    """
    if isinstance(final_obs, dict):
        return {key: _final_obs_at(value, i) for key, value in final_obs.items()}
    if isinstance(final_obs, tuple):
        return tuple(_final_obs_at(value, i) for value in final_obs)
    return final_obs[i]


class VectorEnvToSB3(VecEnv):
    """A Gymnasium ``VectorEnv`` (SAME_STEP or DISABLED autoreset) as an SB3 ``VecEnv``.

    Args:
        env: The vector env. Its ``metadata["autoreset_mode"]`` must be ``SAME_STEP`` or
            ``DISABLED``; ``NEXT_STEP`` raises a ``ValueError`` that says how to build the env.
        episode_info_keys: Top-level info keys that vector wrappers add at the finishing step and
            that belong to the finished episode rather than to the new one (under SAME_STEP the
            other top-level keys of a finished env hold its reset info). The default covers
            Gymnasium's vector ``RecordEpisodeStatistics``.
        batched_methods: Methods that a vector env (or vector wrapper) may define once for all of
            its envs, returning a batch whose first axis is the env index, e.g.
            ``action_masks() -> bool array (num_envs, n_actions)`` for ``MaskablePPO``.
            :meth:`env_method` calls the outermost vector-level definition and returns its rows;
            without one it asks each sub-env (sync/async envs).

    Attributes:
        vector_env: The wrapped Gymnasium vector env.
        autoreset_mode: Its autoreset mode.

    Example:
        >>> import gymnasium as gym
        >>> from gymnasium.vector import AutoresetMode
        >>> from rewardgym.agents import VectorEnvToSB3
        >>> venv = gym.make_vec("CartPole-v1", 4, vectorization_mode="sync",
        ...                     vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP})
        >>> env = VectorEnvToSB3(venv)
        >>> _ = env.seed(0)
        >>> env.reset().shape
        (4, 4)
        >>> obs, rewards, dones, infos = env.step(np.zeros(4, dtype=np.int64))
        >>> rewards.dtype, dones.dtype, len(infos)
        (dtype('float32'), dtype('bool'), 4)
        >>> env.close()
    """

    def __init__(
        self,
        env: VectorEnv,
        *,
        episode_info_keys: Sequence[str] = ("episode",),
        batched_methods: Sequence[str] = ("action_masks",),
    ) -> None:
        if not isinstance(env, VectorEnv):
            raise TypeError(
                f"VectorEnvToSB3 expects a gymnasium.vector.VectorEnv, got {type(env).__name__}; "
                "wrap single envs with gym.make_vec or SB3's DummyVecEnv instead"
            )
        self.autoreset_mode = _autoreset_mode(env)
        self.vector_env = env
        self._episode_info_keys = frozenset(episode_info_keys)
        self._reset_info_skip = (
            _FINAL_KEYS | self._episode_info_keys | {f"_{key}" for key in self._episode_info_keys}
        )
        self._batched_methods = frozenset(batched_methods)
        self._actions: np.ndarray | None = None
        # VecEnv.__init__ calls get_attr("render_mode"), which needs vector_env set first.
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)

    # ------------------------------------------------------------------ observations

    def _single_obs(self, obs: Any) -> Any:
        """One env's observation in SB3's format: arrays of the space's dtype (dict for Dict)."""
        space = self.observation_space
        if isinstance(space, spaces.Dict):
            return {key: np.array(obs[key], dtype=sub.dtype) for key, sub in space.spaces.items()}
        if isinstance(space, spaces.Tuple):
            return tuple(
                np.array(o, dtype=sub.dtype) for o, sub in zip(obs, space.spaces, strict=True)
            )
        return np.array(obs, dtype=space.dtype)

    def _batch_obs(self, obs: Any) -> VecEnvObs:
        """The batched observation in SB3's format.

        Always a copy: a native vector env may return its internal buffer, and SB3 keeps
        ``_last_obs`` across the next ``step`` before storing it in the rollout buffer.
        """
        return self._single_obs(obs)

    # ------------------------------------------------------------------ VecEnv API

    def reset(self) -> VecEnvObs:
        """Reset all envs with the seeds/options set via ``seed()``/``set_options()``."""
        obs, infos = self.vector_env.reset(seed=self._seed_arg(), options=self._options_arg())
        self.reset_infos = [_info_at(infos, i) for i in range(self.num_envs)]
        # Seeds and options apply to one reset only (SB3's contract).
        self._reset_seeds()
        self._reset_options()
        return self._batch_obs(obs)

    def step_async(self, actions: np.ndarray) -> None:
        """Store the actions for :meth:`step_wait`."""
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        """Step all envs; finished envs are reset in the same step (SB3 semantics)."""
        if self._actions is None:
            raise RuntimeError("step_wait() called without a preceding step_async(actions)")
        obs, rewards, terminated, truncated, infos = self.vector_env.step(self._actions)
        self._actions = None
        batch_obs = self._batch_obs(obs)
        dones = np.logical_or(terminated, truncated)
        sb3_infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        done_idx = np.flatnonzero(dones)
        if done_idx.size:
            if self.autoreset_mode is AutoresetMode.SAME_STEP:
                self._finish_same_step(done_idx, terminated, truncated, infos, sb3_infos)
            else:
                self._finish_disabled(
                    dones, done_idx, terminated, truncated, infos, batch_obs, sb3_infos
                )
        return batch_obs, np.array(rewards, dtype=np.float32), dones, sb3_infos

    def _finish_same_step(
        self,
        done_idx: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        infos: dict[str, Any],
        sb3_infos: list[dict[str, Any]],
    ) -> None:
        if "final_obs" not in infos:
            raise RuntimeError(
                f"{self.vector_env} declares AutoresetMode.SAME_STEP but an env finished without "
                "infos['final_obs']; SAME_STEP vector envs must report the terminal observation"
            )
        final_obs = infos["final_obs"]
        final_info = infos.get("final_info", {})
        for i in done_idx:
            info = _info_at(final_info, i)
            for key in self._episode_info_keys.intersection(infos):
                mask = infos.get(f"_{key}")
                if mask is None or mask[i]:
                    info.update(_info_at({key: infos[key]}, i))
            info["terminal_observation"] = self._single_obs(_final_obs_at(final_obs, i))
            info["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
            sb3_infos[i] = info
            self.reset_infos[i] = _info_at(infos, i, self._reset_info_skip)

    def _finish_disabled(
        self,
        dones: np.ndarray,
        done_idx: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        infos: dict[str, Any],
        batch_obs: VecEnvObs,
        sb3_infos: list[dict[str, Any]],
    ) -> None:
        for i in done_idx:
            info = _info_at(infos, i)
            info["terminal_observation"] = self._single_obs(_index_obs(batch_obs, i))
            info["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
            sb3_infos[i] = info
        reset_obs, reset_infos = self.vector_env.reset(options={"reset_mask": dones.copy()})
        reset_obs = self._batch_obs(reset_obs)
        # Only the finished rows come from the reset: the others keep this step's observation.
        _assign_rows(batch_obs, reset_obs, done_idx)
        for i in done_idx:
            self.reset_infos[i] = _info_at(reset_infos, i)

    def close(self) -> None:
        """Close the vector env."""
        self.vector_env.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        """One frame per env when the vector env renders per env (sync/async: always)."""
        frames = self.vector_env.render()
        if frames is None:
            return [None] * self.num_envs
        if isinstance(frames, np.ndarray) and frames.ndim == 3:
            return [frames]  # a native env that renders one tiled image
        return list(frames)

    # ------------------------------------------------------------------ seeds and options

    def _seed_arg(self) -> int | list[int | None] | None:
        """The ``seed`` argument for ``VectorEnv.reset`` that realises ``self._seeds``.

        ``VecEnv.seed(s)`` sets ``[s, s+1, ...]``, which is exactly what an int seed means to
        Gymnasium's sync/async envs and to rewardgym's native envs, and native envs need not
        accept a list; so an int is passed whenever it expresses the seeds.
        """
        seeds = self._seeds
        if all(s is None for s in seeds):
            return None
        first = seeds[0]
        if first is not None and all(s == first + i for i, s in enumerate(seeds)):
            return int(first)
        return list(seeds)

    def _options_arg(self) -> dict[str, Any] | None:
        first = self._options[0]
        if any(o != first for o in self._options[1:]):
            raise ValueError(
                "VectorEnvToSB3.set_options: a Gymnasium VectorEnv takes one options dict for all "
                f"envs, got different options per env: {self._options}"
            )
        return deepcopy(first) if first else None

    # ------------------------------------------------------------------ attributes

    def _sub_envs(self) -> list[gym.Env] | None:
        """The per-env ``gym.Env`` objects of a SyncVectorEnv (None for async/native envs)."""
        base = self.vector_env.unwrapped
        return list(base.envs) if isinstance(base, SyncVectorEnv) else None

    def _find_attr_owner(self, name: str) -> Any:
        """The outermost vector env in the wrapper chain that has attribute ``name``."""
        owner = self._vector_owner(name)
        if owner is None:
            raise AttributeError(f"{self.vector_env} has no attribute {name!r}")
        return owner

    def _vector_owner(self, name: str) -> VectorEnv | None:
        """The outermost vector env in the wrapper chain with attribute ``name``, or None."""
        for env in _wrapper_chain(self.vector_env):
            if hasattr(env, name):
                return env
        return None

    def _batched_call(
        self, method_name: str, idx: list[int], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> list[Any] | None:
        """Rows ``idx`` of a vector-level batched method's result; None if no vector env has it."""
        if method_name not in self._batched_methods:
            return None
        owner = self._vector_owner(method_name)
        if owner is None:
            return None
        batch = np.asarray(getattr(owner, method_name)(*args, **kwargs))
        if batch.ndim == 0 or batch.shape[0] != self.num_envs:
            raise ValueError(
                f"{type(owner).__name__}.{method_name}() is a batched method and must return one "
                f"row per env, shape ({self.num_envs}, ...), got shape {batch.shape}"
            )
        # Fancy indexing copies: a native env may hand out its internal buffer.
        return list(batch[idx])

    def has_attr(self, attr_name: str) -> bool:
        """Whether every env has ``attr_name``; a vector-level batched method counts for all."""
        if attr_name in self._batched_methods and self._vector_owner(attr_name) is not None:
            return True
        return super().has_attr(attr_name)

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """Return an attribute per env.

        Sync envs: each sub-env's attribute (``get_wrapper_attr``, like ``DummyVecEnv``). Async
        envs: Gymnasium's ``get_attr``. Native envs: the vector env's attribute, replicated
        per index, since a native env has one object for all its envs.
        """
        idx = list(self._get_indices(indices))
        if attr_name == "render_mode":
            return [self.vector_env.render_mode] * len(idx)
        sub_envs = self._sub_envs()
        if sub_envs is not None:
            return [sub_envs[i].get_wrapper_attr(attr_name) for i in idx]
        base = self.vector_env.unwrapped
        if isinstance(base, AsyncVectorEnv):
            values = base.get_attr(attr_name)
            return [values[i] for i in idx]
        value = getattr(self._find_attr_owner(attr_name), attr_name)
        return [value] * len(idx)

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set an attribute per env.

        Sync envs set it on each selected sub-env. Async envs (Gymnasium has no per-index
        ``set_attr``) and native envs (one object for all envs) only accept all indices.
        """
        idx = list(self._get_indices(indices))
        sub_envs = self._sub_envs()
        if sub_envs is not None:
            for i in idx:
                sub_envs[i].set_wrapper_attr(attr_name, value)
            return
        if sorted(idx) != list(range(self.num_envs)):
            raise ValueError(
                f"set_attr({attr_name!r}): {type(self.vector_env.unwrapped).__name__} can only set "
                f"an attribute for all of its {self.num_envs} envs at once, got indices {idx}"
            )
        base = self.vector_env.unwrapped
        if isinstance(base, AsyncVectorEnv):
            base.set_attr(attr_name, value)
            return
        try:
            owner = self._find_attr_owner(attr_name)
        except AttributeError:
            owner = self.vector_env
        setattr(owner, attr_name, value)

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        """Call a method per env.

        A batched method (see ``batched_methods``) defined by a vector env in the chain is called
        once and its result split into per-env rows. Otherwise sync envs call the method on each
        selected sub-env (through its Gymnasium wrappers, like ``DummyVecEnv``); async envs call
        it on all sub-envs (Gymnasium has no per-index call) and return the selected results;
        native envs call the vector env's method once and replicate the result per index.
        """
        idx = list(self._get_indices(indices))
        rows = self._batched_call(method_name, idx, method_args, method_kwargs)
        if rows is not None:
            return rows
        sub_envs = self._sub_envs()
        if sub_envs is not None:
            return [
                sub_envs[i].get_wrapper_attr(method_name)(*method_args, **method_kwargs)
                for i in idx
            ]
        base = self.vector_env.unwrapped
        if isinstance(base, AsyncVectorEnv):
            results = base.call(method_name, *method_args, **method_kwargs)
            return [results[i] for i in idx]
        result = getattr(self._find_attr_owner(method_name), method_name)(
            *method_args, **method_kwargs
        )
        return [result] * len(idx)

    def env_is_wrapped(
        self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None
    ) -> list[bool]:
        """Whether each env is wrapped with ``wrapper_class``.

        A vector wrapper class is looked up in the vector wrapper chain (all envs alike); a
        ``gym.Wrapper`` class in each sub-env of a sync env. Async and native envs have no
        inspectable per-env wrappers and report False.
        """
        idx = list(self._get_indices(indices))
        if isinstance(wrapper_class, type) and issubclass(wrapper_class, VectorWrapper):
            found = any(isinstance(env, wrapper_class) for env in _wrapper_chain(self.vector_env))
            return [found] * len(idx)
        sub_envs = self._sub_envs()
        if sub_envs is None:
            return [False] * len(idx)
        from stable_baselines3.common.env_util import is_wrapped

        return [is_wrapped(sub_envs[i], wrapper_class) for i in idx]

    def __repr__(self) -> str:
        return f"VectorEnvToSB3({self.vector_env}, autoreset_mode={self.autoreset_mode.name})"


def _index_obs(batch_obs: VecEnvObs, i: int) -> Any:
    if isinstance(batch_obs, dict):
        return {key: value[i] for key, value in batch_obs.items()}
    if isinstance(batch_obs, tuple):
        return tuple(value[i] for value in batch_obs)
    return batch_obs[i]


def _assign_rows(target: VecEnvObs, source: VecEnvObs, rows: np.ndarray) -> None:
    if isinstance(target, dict):
        for key in target:
            target[key][rows] = source[key][rows]
    elif isinstance(target, tuple):
        for t, s in zip(target, source, strict=True):
            t[rows] = s[rows]
    else:
        target[rows] = source[rows]


def _accepts_autoreset_mode(spec: gym.envs.registration.EnvSpec) -> bool:
    """Whether the spec's vector entry point takes an ``autoreset_mode`` keyword."""
    creator = spec.vector_entry_point
    if isinstance(creator, str):
        creator = gym.envs.registration.load_env_creator(creator)
    try:
        params = inspect.signature(creator).parameters
    except (TypeError, ValueError):  # builtins/C callables: cannot tell, let make_vec try
        return True
    return "autoreset_mode" in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
    )


def make_sb3_vec_env(
    env_id: str,
    n_envs: int,
    *,
    seed: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
    vectorization_mode: str | None = None,
    vector_wrappers: Sequence[Callable[[VectorEnv], VectorEnv]] = (),
    env_wrappers: Sequence[Callable[[gym.Env], gym.Env]] = (),
) -> VectorEnvToSB3:
    """Build ``n_envs`` copies of ``env_id`` as an SB3 ``VecEnv`` with same-step autoreset.

    The env is built with ``gym.make_vec``: through the spec's ``vector_entry_point`` (with
    ``autoreset_mode=SAME_STEP``) when it has one that accepts ``autoreset_mode``, otherwise as a
    ``SyncVectorEnv`` (``vector_kwargs={"autoreset_mode": SAME_STEP}``). An explicit
    ``vectorization_mode`` ("vector_entry_point", "sync", "async") overrides that choice.

    Episode statistics come from Gymnasium's vector ``RecordEpisodeStatistics`` (added unless the
    chain has one), whose ``info["episode"] = {"r", "l", "t"}`` is what SB3's ``ep_info_buffer``
    reads. It is preferred over SB3's ``VecMonitor`` because it is vectorised (``VecMonitor`` loops
    over every env in Python each step) and because it lives inside the Gymnasium chain, so a
    researcher can put it under a shaping wrapper to log the task return instead of the shaped one.

    Args:
        env_id: A registered Gymnasium id (``import rewardgym`` registers ``rewardgym/...``).
        n_envs: Number of parallel envs.
        seed: Seed for the first reset (env ``i`` gets ``seed + i``); None for random seeds.
        env_kwargs: Keyword arguments for the env constructor (e.g. ``{"obs_mode": "flat"}``).
        vectorization_mode: Force "vector_entry_point", "sync" or "async".
        vector_wrappers: Callables applied to the Gymnasium vector env, in order, before the
            episode statistics (e.g. ``PotentialShapingVector``: the logged return is shaped).
        env_wrappers: Callables applied to every sub-env (``gym.make_vec``'s ``wrappers``);
            they need a sync or async vector env, which is then the default mode, unless
            every one has a ``vector_twin`` attribute (a callable wrapping a vector env, e.g.
            :func:`rewardgym.wrappers.llm.oni.oni_from_environment`'s) and the env has a
            native vector env: then that env is used, wrapped by the twins.

    Returns:
        The adapter around the vector env; ``reset()`` uses ``seed`` once.

    Raises:
        ValueError: ``n_envs`` < 1, an unknown env id (``module:`` prefixes are imported first,
            see :func:`rewardgym.agents.env_ids.resolve_env_id`), or "vector_entry_point" forced
            on a spec whose vector entry point does not take ``autoreset_mode`` or with
            ``env_wrappers``.

    Example:
        >>> from rewardgym.agents import make_sb3_vec_env
        >>> env = make_sb3_vec_env("CartPole-v1", 2, seed=0)
        >>> env.reset().shape
        (2, 4)
        >>> env.close()
    """
    if not isinstance(n_envs, int) or isinstance(n_envs, bool) or n_envs < 1:
        raise ValueError(f"make_sb3_vec_env: n_envs must be an int >= 1, got {n_envs!r}")
    kwargs = dict(env_kwargs) if env_kwargs is not None else {}
    env_id = resolve_env_id(env_id)
    spec = gym.spec(env_id)
    native_ok = spec.vector_entry_point is not None and _accepts_autoreset_mode(spec)
    mode = vectorization_mode
    twins = [getattr(wrap, "vector_twin", None) for wrap in env_wrappers]
    if env_wrappers and native_ok and mode in (None, "vector_entry_point") and all(twins):
        # Every sub-env wrapper has a vector twin (e.g. ONI's): the native vector env, wrapped
        # by the twins (innermost, where the sub-env wrappers would have been).
        vector_wrappers = [*twins, *vector_wrappers]
        env_wrappers = ()
    if mode is None:
        mode = "vector_entry_point" if native_ok and not env_wrappers else "sync"
    if mode == "vector_entry_point":
        if env_wrappers:
            raise ValueError(
                f"make_sb3_vec_env: env_wrappers wrap single envs, so they need "
                f"vectorization_mode='sync' or 'async', not 'vector_entry_point' ({env_id!r})"
            )
        if not native_ok:
            raise ValueError(
                f"make_sb3_vec_env: vectorization_mode='vector_entry_point' needs a vector entry "
                f"point that accepts autoreset_mode, but {env_id!r} has "
                f"{spec.vector_entry_point!r}; use vectorization_mode='sync' or 'async'"
            )
        venv = gym.make_vec(
            env_id,
            n_envs,
            vectorization_mode=mode,
            autoreset_mode=AutoresetMode.SAME_STEP,
            **kwargs,
        )
    else:
        venv = gym.make_vec(
            env_id,
            n_envs,
            vectorization_mode=mode,
            vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
            wrappers=list(env_wrappers),
            **kwargs,
        )
    for wrap in vector_wrappers:  # e.g. reward shaping: under the statistics, so they log it
        venv = wrap(venv)
    if not any(isinstance(env, RecordEpisodeStatistics) for env in _wrapper_chain(venv)):
        venv = RecordEpisodeStatistics(venv)
    # Outside the statistics wrapper, which replaces infos["episode"]: the per-term episode
    # totals ride along with r/l/t into SB3's ep_info_buffer (RewardTermsCallback logs them).
    venv = RecordRewardTermsVector(venv)
    adapter = VectorEnvToSB3(venv)
    if seed is not None:
        adapter.seed(seed)
    return adapter
