"""Vector envs of the shopping tasks: ``num_envs`` shops behind one ``gymnasium.vector`` API.

WebShop's pages, search and reward are Python over one shared, per-process catalogue and BM25
index (``envs/shopping/env.py`` caches them), so there is no batch kernel to share: a shopping
vector env steps its shops one after the other, exactly as ``SyncVectorEnv`` does. Both vector
envs are the kit's vector shell (:class:`~rewardgym.envs.native.vector.NativeVectorEnv`) over a
core of Python rows (:class:`~rewardgym.envs.native.rows.EnvRowsCore`:
:class:`~rewardgym.envs.shopping.discrete.ShopCore` for slots, :class:`TextShopCore` for text),
like every other family: ``NEXT_STEP`` (default), ``SAME_STEP`` (what SB3 needs) or
``DISABLED`` autoreset with ``reset_mask``, the registry's time limit,
``metadata["action_policy"]``, pickling, and for the slot view a batched ``action_masks()`` of
shape ``(num_envs, K)`` (what sb3-contrib's MaskablePPO reads through
``rewardgym.agents.make_sb3_vec_env``). The single text env is
:class:`~rewardgym.envs.shopping.env.WebShopTextEnv` itself (its string actions are its own).

Contract (the registry tests): ``make_vec(id, n, vectorization_mode="vector_entry_point")`` equals
``vectorization_mode="sync"`` for the same seed and actions, in both autoreset modes; pickled
copies continue identically.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.wrappers import TimeLimit

from rewardgym.envs.native.rows import EnvRowsCore
from rewardgym.envs.native.vector import NativeVectorEnv, check_vector_args
from rewardgym.envs.shopping.discrete import ShopCore, WebShopDiscreteEnv
from rewardgym.envs.shopping.env import WebShopTextEnv


def _limited(shops: list[gym.Env], max_episode_steps: int | None) -> list[gym.Env]:
    """The shops, each under the time limit where there is one (as ``SyncVectorEnv`` holds them)."""
    if max_episode_steps is None:
        return shops
    return [TimeLimit(shop, max_episode_steps) for shop in shops]


class TextShopCore(EnvRowsCore):
    """``n`` text shops (:class:`~rewardgym.envs.shopping.env.WebShopTextEnv` rows).

    Each row is under the time limit ``max_episode_steps`` where one is given.
    """

    def __init__(self, n: int, max_episode_steps: int | None = None, **kwargs: Any) -> None:
        super().__init__(_limited([WebShopTextEnv(**kwargs) for _ in range(n)],
                                  max_episode_steps))

    def check_actions(self, name: str, actions: Any, num_envs: int | None) -> Any:
        """A sequence of ``num_envs`` strings (any text: unknown commands are invalid no-ops).

        Raises:
            ValueError: naming the env for a batch of the wrong length or a non-``str`` action
                (before any shop steps).
        """
        if num_envs is None:
            return (actions,)
        batch = [actions] if isinstance(actions, str) else list(np.asarray(actions, object)
                                                                .reshape(-1))
        if np.shape(actions) != (num_envs,) or len(batch) != num_envs:
            raise ValueError(f"{name}: actions {actions!r:.80} have shape {np.shape(actions)}, "
                             f"expected ({num_envs},) text actions such as 'search[red mug]'")
        bad = [i for i, action in enumerate(batch) if not isinstance(action, str)]
        if bad:
            raise ValueError(f"{name}: actions at env indices {bad} are not str (expected text "
                             f"such as 'search[red mug]' or 'click[buy now]'), got {actions!r:.80}")
        return batch


class _ShopVectorEnv(NativeVectorEnv):
    """The kit's vector shell over ``num_envs`` shops (:meth:`_core_for` builds the core)."""

    metadata: dict[str, Any] = {"render_modes": ["ansi"], "render_fps": 4,
                                "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 1, *, max_episode_steps: int | None = None,
                 autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
                 render_mode: str | None = None, **kwargs: Any) -> None:
        n = check_vector_args(type(self).__name__, num_envs, max_episode_steps)
        core = self._core_for(n, max_episode_steps, dict(kwargs, render_mode=render_mode))
        super().__init__(core, render_mode, autoreset_mode)

    def _core_for(self, n: int, max_episode_steps: int | None,
                  kwargs: dict[str, Any]) -> EnvRowsCore:
        raise NotImplementedError

    @property
    def envs(self) -> list[gym.Env]:
        """Each shop as a single env under the time limit, as ``SyncVectorEnv`` holds them.

        The feature view (:func:`~rewardgym.envs.shopping.view.features_batch`) reads them;
        stepping one directly bypasses the vector env's bookkeeping, as with ``SyncVectorEnv``.
        """
        return self._core.rows

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        """``SyncVectorEnv.call``: each shop's attribute ``name``, called if it is callable."""
        values = []
        for env in self._core.rows:
            value = env.get_wrapper_attr(name)
            values.append(value(*args, **kwargs) if callable(value) else value)
        return tuple(values)


class WebShopTextVectorEnv(_ShopVectorEnv):
    """``num_envs`` :class:`~rewardgym.envs.shopping.WebShopTextEnv` shops (text actions).

    The kit's vector shell over a :class:`TextShopCore`. Keyword arguments other than
    ``max_episode_steps`` and ``autoreset_mode`` go to every shop.

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> envs = gym.make_vec("rewardgym/WebShopText-v1", 2, n_products=200)
        >>> type(envs).__name__, envs.metadata["action_policy"]
        ('WebShopTextVectorEnv', 'noop')
        >>> obs, infos = envs.reset(seed=0)
        >>> obs, rewards, terminated, truncated, infos = envs.step(("click[x]", "search[mug]"))
        >>> infos["invalid"].tolist(), infos["page"].tolist()
        ([True, False], ['search', 'results'])
    """

    def _core_for(self, n: int, max_episode_steps: int | None,
                  kwargs: dict[str, Any]) -> EnvRowsCore:
        return TextShopCore(n, max_episode_steps, **kwargs)


class WebShopDiscreteVectorEnv(_ShopVectorEnv):
    """``num_envs`` :class:`~rewardgym.envs.shopping.WebShopDiscreteEnv` shops (action slots).

    The kit's vector shell over a :class:`~rewardgym.envs.shopping.discrete.ShopCore` of
    ``num_envs`` shops (``NEXT_STEP``, ``SAME_STEP`` or ``DISABLED`` autoreset with
    ``reset(options={"reset_mask": ...})``); other reset options go to every reset shop.
    Keyword arguments other than ``max_episode_steps`` and ``autoreset_mode`` go to every shop.

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> envs = gym.make_vec("rewardgym/WebShopDiscrete-v1", 3, n_products=200, bow_dim=64)
        >>> obs, infos = envs.reset(seed=0)
        >>> envs.action_masks().shape, envs.metadata["action_policy"]
        ((3, 64), 'raise')
    """

    def _core_for(self, n: int, max_episode_steps: int | None,
                  kwargs: dict[str, Any]) -> EnvRowsCore:
        shops = [WebShopDiscreteEnv(**kwargs) for _ in range(n)]
        return ShopCore(_limited(shops, max_episode_steps), [shop.view for shop in shops])

    def action_masks(self) -> np.ndarray:
        """The valid slots of every shop, ``bool (num_envs, K)`` (for MaskablePPO)."""
        return np.stack([view.action_masks() for view in self._core.views])


__all__ = ["WebShopDiscreteVectorEnv", "WebShopTextVectorEnv"]
