"""The shopping env's shaping potential: WebShop's score of the product in view.

:func:`view_score_potential` is ``Phi(s)`` = WebShop's score of the product in view with the
options chosen so far, 0 off item pages (search, results, done), like upstream's
``WebEnv.score()`` (research ``webshop.md`` §8.8). The env computes it when built with
``view_score_in_info=True`` and puts it in ``info["view_score"]``; the potential only reads it,
so it is a picklable module-level function usable by any potential-based shaping wrapper
(``F = gamma * Phi(s') - Phi(s)``, Ng et al., 1999; ``rewardgym.wrappers.PotentialShaping``
knows it as ``"webshop_view_score"``), which keeps the optimal policy. ``Phi`` is 0 on the done
page, as potential-based shaping needs at episode end.

Shop-R1's hierarchical action reward, the other way to densify the purchase reward, is a reward
wrapper: :class:`rewardgym.wrappers.shop_r1.ShopR1Reward`.

Contract enforced by ``tests/envs/shopping/test_potential.py``: the potential equals
``compute_reward`` of the viewed product and options, and 0 off item pages.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def view_score_potential(obs: Any, info: dict[str, Any]) -> float | np.ndarray:
    """``Phi(s)``: WebShop's score of the product and options in view (``info["view_score"]``).

    Args:
        obs: unused (the potential lives in ``info``).
        info: a step's or reset's info; needs the env built with ``view_score_in_info=True``.
            A vector env's info (a dict of arrays) gives an array.

    Raises:
        KeyError: ``info`` has no ``"view_score"`` (the message says how to turn it on).

    Example:
        >>> view_score_potential(None, {"view_score": 0.75})
        0.75
    """
    try:
        value = info["view_score"]
    except KeyError:
        raise KeyError("view_score_potential: info has no 'view_score'; build the shopping env "
                       "with view_score_in_info=True (e.g. gym.make(id, "
                       "view_score_in_info=True))") from None
    if isinstance(value, np.ndarray):
        return value.astype(np.float64)
    return float(value)


__all__ = ["view_score_potential"]
