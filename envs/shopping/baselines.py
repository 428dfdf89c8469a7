"""Reference policies on the discrete shopping view, and their evaluation over a goal split.

A policy is ``policy(env, obs, info, rng) -> slot``: ``env`` is the (possibly wrapped)
:class:`~rewardgym.envs.shopping.discrete.WebShopDiscreteEnv` or
:class:`~rewardgym.envs.shopping.discrete.WebShopDiscrete`, ``rng`` a numpy ``Generator``.

* :func:`random_policy`: uniform over the valid slots (the lower reference).
* :func:`rule_policy`: WebShop's rule heuristic made a little smarter, as in the WebShop notes
  (research ``webshop.md`` §8.7): search the whole instruction, open the first product whose
  shown price is within the instruction's budget (paging on if a page has none), click every
  option value that appears in the instruction, buy. It reads only what the page shows.
* :func:`first_result_policy`: WebShop's published rule baseline (Yao et al., 2022: 9.6%
  success there): search the instruction, open the first result, buy without choosing options.
* :func:`oracle_policy`: :func:`~rewardgym.envs.shopping.oracle.oracle_action` (privileged: it
  reads the goal) translated into a slot; R = 1 on every goal.
* :func:`evaluate_policy`: one episode per goal of a split (``reset`` with the options
  ``split`` and ``goal_idx``), and WebShop's metrics: score = mean R x 100, success =
  fraction with R = 1.

Contract enforced by ``tests/envs/shopping/test_baselines.py``: the oracle scores 100 with
success 1 on the test split; the rule policy is clearly below it, the random policy lower still.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from rewardgym.envs.shopping import pages
from rewardgym.envs.shopping.discrete import (
    N_SEARCH,
    N_SLOT_FEATURES,
    NAV_LABELS,
    discrete_view,
    text_env_of,
)
from rewardgym.envs.shopping.oracle import oracle_action

Policy = Callable[[gym.Env, np.ndarray, dict[str, Any], np.random.Generator], int]

_BUY = NAV_LABELS.index(pages.BUY_NOW.lower())
_NEXT = NAV_LABELS.index(pages.NEXT_PAGE.lower())
_BACK = NAV_LABELS.index(pages.BACK_TO_SEARCH.lower())
_PREV = NAV_LABELS.index(pages.PREV_PAGE.lower())


def random_policy(env: gym.Env, obs: np.ndarray, info: dict[str, Any],
                  rng: np.random.Generator) -> int:
    """A uniformly random valid slot (slot 0 when none is valid)."""
    valid = np.flatnonzero(discrete_view(env).action_masks())
    return int(rng.choice(valid)) if len(valid) else 0


def _slot_features(env: gym.Env, obs: np.ndarray) -> np.ndarray:
    view = discrete_view(env)
    return obs[-view.n_slots * N_SLOT_FEATURES:].reshape(view.n_slots, N_SLOT_FEATURES)


def rule_policy(env: gym.Env, obs: np.ndarray, info: dict[str, Any],
                rng: np.random.Generator) -> int:
    """Search the instruction, first product within budget, matching options, buy.

    Reads the slot features of ``obs`` (valid, price within budget, option value is a phrase of
    the instruction, group chosen) and the mask; ``rng`` is unused (the rule is deterministic).
    """
    view = discrete_view(env)
    mask = view.action_masks()
    feats = _slot_features(env, obs)
    page = info["page"]
    if page == "search":
        return 0 if mask[0] else int(np.flatnonzero(mask[:N_SEARCH])[0])
    if page == "results":
        products = range(view.product_start, view.option_start)
        for slot in products:
            if mask[slot] and feats[slot, 3] > 0:
                return slot
        state = text_env_of(env).page_state
        if mask[view.nav_start + _NEXT] and state.page * pages.RESULTS_PER_PAGE < len(
                state.results):
            return view.nav_start + _NEXT
        firsts = [slot for slot in products if mask[slot]]
        return firsts[0] if firsts else view.nav_start + _BACK
    if page == "item":
        for slot in range(view.option_start, view.n_slots):
            # A value named in the instruction, in a group not chosen yet.
            if mask[slot] and feats[slot, 7] > 0 and feats[slot, 6] == 0:
                return slot
        return view.nav_start + _BUY
    return view.nav_start + _PREV


def first_result_policy(env: gym.Env, obs: np.ndarray, info: dict[str, Any],
                        rng: np.random.Generator) -> int:
    """WebShop's rule baseline: search the whole instruction, open the first result, buy."""
    view = discrete_view(env)
    page = info["page"]
    if page == "search":
        return 0
    if page == "results":
        return view.product_start if view.action_masks()[view.product_start] else (
            view.nav_start + _BACK)
    if page == "item":
        return view.nav_start + _BUY
    return view.nav_start + _PREV


def oracle_policy(env: gym.Env, obs: np.ndarray, info: dict[str, Any],
                  rng: np.random.Generator) -> int:
    """The privileged oracle's next action as a slot (see ``oracle.oracle_action``)."""
    view = discrete_view(env)
    action = oracle_action(text_env_of(env))
    slot = view.slot_of(action)
    if slot is None and action.startswith("search["):
        # The oracle's query is the instruction without its price clause: candidate 1, or
        # an identical earlier candidate (duplicates are masked).
        target = " ".join(action[len("search["):-1].lower().split())
        slot = next((s for s in range(N_SEARCH) if view.action_masks()[s] and " ".join(
            view.action_text(s)[len("search["):-1].lower().split()) == target), None)
    if slot is None:
        raise RuntimeError(f"oracle_policy: no slot takes the oracle's action {action!r}")
    return slot


def evaluate_policy(env: gym.Env, policy: Policy, split: str = "test",
                    episodes: int | None = None, *, seed: int = 0,
                    max_steps: int = 15) -> dict[str, Any]:
    """Run ``policy`` once on each goal of ``split`` (the first ``episodes`` of them).

    Args:
        env: the discrete view (registry env, or a wrapper chain containing the view). A time
            limit inside ``env`` ends episodes; ``max_steps`` caps them as well.
        policy: ``(env, obs, info, rng) -> slot``.
        split: ``"train"``, ``"eval"`` or ``"test"``.
        episodes: how many goals (in split order); None: all of them.
        seed: seeds the resets (``seed + i``) and the policy's generator.
        max_steps: steps after which an episode counts as failed (R = 0).

    Returns:
        ``score`` (mean R x 100), ``success`` (fraction R = 1), ``exact`` (fraction that bought
        the goal's own product), ``mean_reward``, ``mean_length``, ``invalid_rate``,
        ``episodes``, ``split``.
    """
    goals = text_env_of(env).goals(split)
    n = len(goals) if episodes is None else min(episodes, len(goals))
    if n < 1:
        raise ValueError(f"evaluate_policy: split {split!r} has no goals to evaluate")
    rng = np.random.default_rng(seed)
    rewards, lengths, exact, invalid = [], [], 0, 0
    for i in range(n):
        obs, info = env.reset(seed=seed + i, options={"split": split, "goal_idx": i})
        purchase, steps = 0.0, 0
        for steps in range(1, max_steps + 1):  # noqa: B007  (steps is read after the loop)
            obs, _, terminated, truncated, info = env.step(policy(env, obs, info, rng))
            invalid += bool(info["invalid"])
            if terminated:
                purchase = float(info["reward_terms"]["purchase"])
                exact += bool(info.get("exact", False))
            if terminated or truncated:
                break
        rewards.append(purchase)
        lengths.append(steps)
    r = np.asarray(rewards)
    return {"score": float(100 * r.mean()), "success": float(np.mean(r == 1.0)),
            "exact": exact / n, "mean_reward": float(r.mean()),
            "mean_length": float(np.mean(lengths)), "invalid_rate": invalid / sum(lengths),
            "episodes": n, "split": split}


__all__ = ["Policy", "evaluate_policy", "first_result_policy", "oracle_policy", "random_policy",
           "rule_policy"]
