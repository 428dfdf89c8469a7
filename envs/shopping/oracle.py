"""Reference policies for the shopping env: a privileged oracle and WebShop's rule baseline.

* :func:`oracle_action` reads the goal (``env.unwrapped.goal``) and the page
  (``env.unwrapped.page_state``): it searches the goal's oracle query
  (``goals.oracle_query``), pages to the target, opens it, clicks each goal option value and
  buys. If the target is not among the hits it opens the best-scoring hit instead. It gives the
  upper reference score and checks that every goal is achievable (WebShop's spec: R = 1).
* :func:`first_result_action` is the rule heuristic of WebShop (Yao et al., "WebShop: Towards
  Scalable Real-World Web Interaction with Grounded Language Agents", NeurIPS 2022, 9.6%
  success there): search the instruction, open the first result, buy. It reads only ``info``.
* :func:`play` runs one episode of either.

Contract enforced by ``tests/envs/shopping/test_oracle.py``: the oracle reaches R = 1 on every
goal of the test split (and a sample of train) of the default catalogue; the rule policy scores
clearly below 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym

from rewardgym.envs.shopping import pages
from rewardgym.envs.shopping.env import WebShopTextEnv
from rewardgym.envs.shopping.reward import compute_reward
from rewardgym.envs.shopping.schema import Goal

QueryFn = Callable[[Goal], str]


def _default_query(goal: Goal) -> str:
    from rewardgym.envs.shopping.goals import oracle_query

    return oracle_query(goal)


def _shop(env: gym.Env) -> WebShopTextEnv:
    shop = env.unwrapped
    if not isinstance(shop, WebShopTextEnv):
        raise TypeError(f"oracle_action needs a WebShopTextEnv, got {type(shop).__name__}")
    return shop


def _best_option_choice(shop: WebShopTextEnv, index: int) -> dict[str, str]:
    product = shop.catalogue.products[index]
    return {group: value for group, value in shop.goal.goal_options
            if value in product.options.get(group, ())}


def target_index(env: gym.Env) -> int | None:
    """The hit the oracle goes for: the goal's product, else the best-scoring hit, else None."""
    shop = _shop(env)
    results, goal = shop.page_state.results, shop.goal
    for index in results:
        if shop.catalogue.products[index].asin.lower() == goal.asin.lower():
            return index
    if not results:
        return None
    # First hit with the highest score (ties keep search order, so the choice is deterministic).
    return max(results, key=lambda i: compute_reward(
        shop.catalogue.products[i], goal, _best_option_choice(shop, i)).total)


def oracle_action(env: gym.Env, query: QueryFn | None = None) -> str:
    """The oracle's next action in ``env``'s current state.

    Args:
        env: a :class:`WebShopTextEnv`, possibly wrapped.
        query: goal -> search keywords; defaults to ``goals.oracle_query``.

    Raises:
        RuntimeError: on the done page (the episode is over).

    Example:
        >>> from rewardgym.envs.shopping.examples import one_mug_shop
        >>> env = WebShopTextEnv(**one_mug_shop())
        >>> _ = env.reset(seed=0)
        >>> actions = []
        >>> while env.page_state.kind != "done":
        ...     actions.append(oracle_action(env, query=lambda g: "red mug"))
        ...     reward = env.step(actions[-1])[1]
        >>> actions, reward
        (['search[red mug]', 'click[b000000001]', 'click[large]', 'click[buy now]'], 1.0)
    """
    shop = _shop(env)
    state, goal = shop.page_state, shop.goal
    if state.kind == "done":
        raise RuntimeError("oracle_action: the episode is over (done page); reset the env")
    if state.kind == "search":
        return f"search[{(_default_query if query is None else query)(goal)}]"
    if state.kind == "item_sub":
        return f"click[{pages.PREV_PAGE.lower()}]"
    target = target_index(env)
    if state.kind == "results":
        if target is None:
            return f"click[{pages.BACK_TO_SEARCH.lower()}]"
        target_page = state.results.index(target) // pages.RESULTS_PER_PAGE + 1
        if target_page == state.page:
            return f"click[{shop.catalogue.products[target].asin.lower()}]"
        turn = pages.NEXT_PAGE if target_page > state.page else pages.PREV_PAGE
        return f"click[{turn.lower()}]"
    if state.product != target:
        return f"click[{pages.PREV_PAGE.lower()}]"
    chosen = dict(state.options)
    clickables = pages.clickable_map(shop.page_nodes)
    for group, value in goal.goal_options:
        node = clickables.get(value.lower())
        # Skip values the page cannot set for this group (absent, or the label belongs to
        # another group): clicking them would loop forever.
        if chosen.get(group) != value and node is not None and node.group == group:
            return f"click[{value.lower()}]"
    return f"click[{pages.BUY_NOW.lower()}]"


def first_result_action(info: dict[str, Any]) -> str:
    """WebShop's rule baseline: search the instruction, open the first result, buy.

    Example:
        >>> first_result_action({"page": "search", "instruction": "a red mug",
        ...                      "available_actions": {"clickables": ["search"]}})
        'search[a red mug]'
    """
    page = info["page"]
    if page == "search":
        return f"search[{info['instruction']}]"
    if page == "results":
        navigation = {pages.BACK_TO_SEARCH.lower(), pages.NEXT_PAGE.lower(),
                      pages.PREV_PAGE.lower()}
        products = [c for c in info["available_actions"]["clickables"] if c not in navigation]
        return f"click[{products[0]}]" if products else f"click[{pages.BACK_TO_SEARCH.lower()}]"
    if page == "item":
        return f"click[{pages.BUY_NOW.lower()}]"
    return f"click[{pages.PREV_PAGE.lower()}]"


def play(env: gym.Env, policy: Callable[[dict[str, Any]], str], *, seed: int | None = None,
         options: dict[str, Any] | None = None, max_steps: int = 100) -> tuple[float, dict]:
    """Run one episode; returns the episode's reward and the last ``info``.

    Args:
        env: the env (reset here with ``seed`` and ``options``).
        policy: ``info -> action``; wrap :func:`oracle_action` as ``lambda info:
            oracle_action(env)``.
        seed: the reset seed.
        options: the reset options (``split``, ``goal_idx``).
        max_steps: give up (reward 0) after this many steps.
    """
    _, info = env.reset(seed=seed, options=options)
    total = 0.0
    for _ in range(max_steps):
        _, reward, terminated, truncated, info = env.step(policy(info))
        total += float(reward)
        if terminated or truncated:
            break
    return total, info
