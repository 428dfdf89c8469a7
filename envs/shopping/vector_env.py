"""Vector envs of the shopping tasks: ``num_envs`` shops behind one ``gymnasium.vector`` API.

WebShop's pages, search and reward are Python over one shared, per-process catalogue and BM25
index (``envs/shopping/env.py`` caches them), so there is no batch kernel to share: a shopping
vector env steps its shops one after the other, exactly as ``SyncVectorEnv`` does, and is one
(a subclass, so autoreset, info batching and seeding are Gymnasium's own code). What it adds is
the registry's ``vector_entry_point``: ``gym.make_vec(id, n)`` builds it directly, with
``autoreset_mode`` ``NEXT_STEP`` (default) or ``SAME_STEP`` (what SB3 needs), the registry's time
limit, ``metadata["action_policy"]``, pickling (its sub-env factories are module-level partials,
not lambdas), and for the slot view a batched ``action_masks()`` of shape ``(num_envs, K)``
(what sb3-contrib's MaskablePPO reads through ``rewardgym.agents.make_sb3_vec_env``).

Contract (the registry tests): ``make_vec(id, n, vectorization_mode="vector_entry_point")`` equals
``vectorization_mode="sync"`` for the same seed and actions, in both autoreset modes; pickled
copies continue identically.
"""

from __future__ import annotations

import functools
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from gymnasium.wrappers import TimeLimit

from rewardgym.envs.action_policy import action_policy
from rewardgym.envs.native.shell import parse_autoreset_mode
from rewardgym.envs.native.vector import check_vector_args
from rewardgym.envs.shopping.discrete import WebShopDiscreteEnv
from rewardgym.envs.shopping.env import WebShopTextEnv


def _make_shop(env_class: type[gym.Env], max_episode_steps: int | None,
               kwargs: dict[str, Any]) -> gym.Env:
    """One sub-env: ``env_class(**kwargs)`` under the time limit (module-level: it pickles)."""
    env = env_class(**kwargs)
    return env if max_episode_steps is None else TimeLimit(env, max_episode_steps)


class _ShopVectorEnv(SyncVectorEnv):
    """``num_envs`` shops of ``single_env_class`` (see the module docstring)."""

    single_env_class: type[gym.Env]

    def __init__(self, num_envs: int = 1, *, max_episode_steps: int | None = None,
                 autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
                 **kwargs: Any) -> None:
        n = check_vector_args(type(self).__name__, num_envs, max_episode_steps)
        mode = parse_autoreset_mode(autoreset_mode)
        factory = functools.partial(_make_shop, self.single_env_class, max_episode_steps,
                                    dict(kwargs))
        super().__init__([factory] * n, autoreset_mode=mode)
        self.metadata = {**self.metadata, "autoreset_mode": mode,
                         "action_policy": action_policy(self.single_action_space)}


class WebShopTextVectorEnv(_ShopVectorEnv):
    """``num_envs`` :class:`~rewardgym.envs.shopping.WebShopTextEnv` shops (text actions).

    Keyword arguments other than ``max_episode_steps`` and ``autoreset_mode`` go to every shop.

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

    single_env_class = WebShopTextEnv


class WebShopDiscreteVectorEnv(_ShopVectorEnv):
    """``num_envs`` :class:`~rewardgym.envs.shopping.WebShopDiscreteEnv` shops (action slots).

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> envs = gym.make_vec("rewardgym/WebShopDiscrete-v1", 3, n_products=200, bow_dim=64)
        >>> obs, infos = envs.reset(seed=0)
        >>> envs.action_masks().shape, envs.metadata["action_policy"]
        ((3, 64), 'raise')
    """

    single_env_class = WebShopDiscreteEnv

    def action_masks(self) -> np.ndarray:
        """The valid slots of every shop, ``bool (num_envs, K)`` (for MaskablePPO)."""
        return np.stack([env.unwrapped.action_masks() for env in self.envs])


__all__ = ["WebShopDiscreteVectorEnv", "WebShopTextVectorEnv"]
