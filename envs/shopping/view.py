"""The reward view of the shopping env: named, unit-annotated features at fixed indices.

The shopping counterpart of the grid and locomotion views (same form, on
:mod:`rewardgym.envs.native.view`'s base: a :class:`~rewardgym.envs.native.view.ViewLayout`
with ``describe()``, :class:`~rewardgym.envs.native.view.FeatureRows` for named access,
:func:`features` / :func:`features_batch`). Reward code (hand-written or LLM-written programs,
success predicates, potentials, ONI captions) reads ONLY this row, by name (``view.attr_match``)
or by fixed index (:data:`INDEX`, e.g. in numba).

The row describes where the shopper is and how the product in view compares with the goal, in
WebShop's own terms (Yao et al., NeurIPS 2022, ``web_agent_site/engine/goal.py``): the page
type, the active search's overlap with the instruction and with the target's product-type
query, whether the target is among the hits, the viewed product's type, attribute, option and
price matches (the pieces of WebShop's reward, :mod:`rewardgym.envs.shopping.reward`), the
score buying it now would earn, and the step budget. Like the grid view it is privileged: it is
built from the env's state and goal, not from what the page shows, so a reward may see what the
policy does not (Auto MC-Reward's "privileged reward inputs").

Shopping is Python over text, so rows are filled by a Python loop over the envs of a batch
(one per shop; the per product-and-goal matches are cached), not by an ``@njit`` kernel; the
rows are still one float64 array with the fixed indices below. Counts and prices are plain
numbers; "0 when none" applies wherever no product or no search is in view.

Contract enforced by ``tests/envs/shopping/test_view.py``: the matches equal the reward's own
terms (``compute_reward``) on every page of oracle and random episodes, the purchase score
equals the env's reward, the step budget follows the time limit, and a vector env's rows equal
its sub-envs' single rows.
"""

from __future__ import annotations

import functools
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import TimeLimit

from rewardgym.envs.native.view import FeatureRows, ViewLayout
from rewardgym.envs.shopping.discrete import WebShopDiscrete, WebShopDiscreteEnv
from rewardgym.envs.shopping.env import WebShopTextEnv
from rewardgym.envs.shopping.instruction import without_price
from rewardgym.envs.shopping.reward import attribute_reward, option_reward, type_reward
from rewardgym.envs.shopping.schema import Catalogue, Goal
from rewardgym.envs.shopping.slots import NO_BUDGET, PAGE_KINDS
from rewardgym.envs.shopping.tokens import content_words, words

# (name, unit, meaning); every feature is one float.
FEATURES: tuple[tuple[str, str, str], ...] = (
    ("page_kind", "code", "page shown: 0 search, 1 results, 2 item, 3 item sub-page, 4 done"),
    ("on_search", "0/1", "1 on the search page"),
    ("on_results", "0/1", "1 on a results page"),
    ("on_item", "0/1", "1 on a product's item page (options and Buy Now are here)"),
    ("on_sub_page", "0/1", "1 on a product's Description/Features/Reviews/Attributes page"),
    ("on_done", "0/1", "1 once a product is bought (the episode ends)"),
    ("results_page", "page", "results page of the active search (1-5), 0 with no search"),
    ("n_results", "items", "hits of the active search (0-50)"),
    ("query_instruction_overlap", "fraction",
     "share of the instruction's content words (price clause left out) in the search keywords"),
    ("query_goal_overlap", "fraction",
     "share of the target's product-type query words in the search keywords"),
    ("goal_in_results", "0/1", "1 when the target product is among the active search's hits"),
    ("goal_rank", "rank", "1-based rank of the target among the hits, 0 when absent"),
    ("products_visited", "items", "products opened this episode"),
    ("product_in_view", "0/1", "1 when a product is in view (item, sub-page or bought)"),
    ("is_goal_product", "0/1", "1 when the product in view is the target product itself"),
    ("title_score", "fraction",
     "WebShop's title score: share of the target title's nouns in the viewed title"),
    ("type_match", "0-1", "WebShop's r_type of the viewed product: 0, 0.1, 0.5 or 1"),
    ("attr_matches", "count", "goal attributes the viewed product has"),
    ("goal_attrs", "count", "attributes the goal asks for"),
    ("attr_match", "fraction", "attr_matches / goal_attrs (1 when the goal asks for none)"),
    ("option_matches", "count", "goal options matched by the options chosen so far"),
    ("goal_options", "count", "options the goal asks for"),
    ("option_match", "fraction",
     "option_matches / goal_options (1 when the goal asks for none)"),
    ("options_offered", "count", "goal options the viewed product offers among its values"),
    ("options_chosen", "count", "option groups chosen so far on the viewed product"),
    ("option_groups", "count", "option groups the viewed product has"),
    ("price", "USD", "price of the viewed product (0 with none in view)"),
    ("budget", "USD", "the instruction's price limit (0 when it states none)"),
    ("has_budget", "0/1", "1 when the instruction states a price limit"),
    ("price_ok", "0/1", "1 when the viewed product is within the budget (or there is none)"),
    ("price_ratio", "ratio", "price / budget of the viewed product (0 with no product or budget)"),
    ("view_score", "0-1",
     "WebShop's reward for buying the viewed product now with the chosen options (0 if none)"),
    ("purchase_score", "0-1", "the purchase's reward (WebShop's R) once bought, else 0"),
    ("step_count", "steps", "steps taken this episode"),
    ("max_steps", "steps", "the episode's step limit (0 when there is none)"),
    ("steps_left", "steps", "max_steps - step_count (0 when there is no limit)"),
)
LAYOUT = ViewLayout.scalars(FEATURES)
INDEX: dict[str, int] = LAYOUT.index()
SIZE = LAYOUT.size


class ShopFeatureView(FeatureRows):
    """Named access to shopping feature rows: ``view.attr_match`` is a float or an array.

    Example:
        >>> view = ShopFeatureView(np.arange(SIZE, dtype=np.float64))
        >>> view.page_kind, view.steps_left == SIZE - 1
        (0.0, True)
    """

    def __init__(self, values: np.ndarray, layout: ViewLayout = LAYOUT) -> None:
        super().__init__(values, layout)


def describe() -> str:
    """The markdown table of the shopping features (for documentation and prompts)."""
    return LAYOUT.describe()


@functools.lru_cache(maxsize=8192)
def _product_vs_goal(catalogue: Catalogue, index: int, goal: Goal,
                     option_match: str) -> tuple[float, float, int, int]:
    """``(r_type, title_score, attributes matched, goal options offered)``; pure, so cached."""
    product = catalogue.products[index]
    r_type, _, _, title_score = type_reward(product, goal)
    _, n_att = attribute_reward(product, goal)
    offered = [value for values in product.options.values() for value in values]
    _, n_offered = option_reward(offered, goal.goal_options, option_match=option_match)
    return r_type, title_score, n_att, n_offered


def _goal_index(catalogue: Catalogue, goal: Goal) -> int:
    try:
        return catalogue.index_of(goal.asin)
    except KeyError:
        return -1


def _clock(env: Any) -> tuple[int, int]:
    """``(steps taken, step limit)`` of a wrapper chain (its outermost time limit counts)."""
    limit = 0
    current = env
    while True:
        # gymnasium's TimeLimit keeps its limit in ``_max_episode_steps`` (0.26 to 1.x).
        if not limit and isinstance(current, TimeLimit):
            limit = int(current._max_episode_steps)
        if isinstance(current, WebShopDiscrete):
            return current.steps, limit or current.horizon
        if isinstance(current, WebShopDiscreteEnv):
            return current.view.steps, limit or current.view.horizon
        if isinstance(current, WebShopTextEnv):
            spec_limit = current.spec.max_episode_steps if current.spec is not None else None
            return current.steps, limit or spec_limit or 0
        nxt = getattr(current, "env", None)
        if nxt is None or nxt is current:
            raise TypeError(f"no shopping env in {env!r}")
        current = nxt


def _text_env(env: Any) -> WebShopTextEnv:
    base = env.unwrapped
    if isinstance(base, WebShopTextEnv):
        return base
    if isinstance(base, WebShopDiscreteEnv):
        return base.text_env
    raise TypeError(f"shopping view: expected a WebShopTextEnv or WebShopDiscreteEnv (possibly "
                    f"wrapped), got {type(base).__name__}")


def fill_row(env: Any, row: np.ndarray) -> None:
    """Write the features of one (possibly wrapped) shop into ``row`` (layout :data:`FEATURES`).

    Before the first reset there is no goal and no page: the row is all zeros.
    """
    shop = _text_env(env)
    row[:] = 0.0
    try:
        goal = shop.goal
    except gym.error.ResetNeeded:
        return
    state = shop.page_state
    catalogue = shop.catalogue
    kind = state.kind
    row[INDEX["page_kind"]] = PAGE_KINDS.index(kind)
    row[INDEX["on_search"]] = kind == "search"
    row[INDEX["on_results"]] = kind == "results"
    row[INDEX["on_item"]] = kind == "item"
    row[INDEX["on_sub_page"]] = kind == "item_sub"
    row[INDEX["on_done"]] = kind == "done"
    target = _goal_index(catalogue, goal)
    if kind != "search":
        row[INDEX["results_page"]] = state.page
        row[INDEX["n_results"]] = len(state.results)
        keywords = set(words(state.keywords))
        wanted = set(content_words(without_price(goal.instruction_text)))
        if wanted:
            row[INDEX["query_instruction_overlap"]] = len(wanted & keywords) / len(wanted)
        query = set(content_words(goal.query))
        if query:
            row[INDEX["query_goal_overlap"]] = len(query & keywords) / len(query)
        if target in state.results:
            row[INDEX["goal_in_results"]] = 1.0
            row[INDEX["goal_rank"]] = state.results.index(target) + 1
    row[INDEX["products_visited"]] = len(shop.visited)
    row[INDEX["goal_attrs"]] = len(goal.attributes)
    row[INDEX["goal_options"]] = len(goal.goal_options)
    has_budget = goal.price_upper < NO_BUDGET
    row[INDEX["has_budget"]] = has_budget
    row[INDEX["budget"]] = goal.price_upper if has_budget else 0.0
    option_match = shop.config.option_match
    if state.product >= 0:
        product = catalogue.products[state.product]
        r_type, title_score, n_att, n_offered = _product_vs_goal(catalogue, state.product, goal,
                                                                 option_match)
        _, n_opt = option_reward(dict(state.options).values(), goal.goal_options,
                                 option_match=option_match)
        row[INDEX["product_in_view"]] = 1.0
        row[INDEX["is_goal_product"]] = state.product == target
        row[INDEX["title_score"]] = title_score
        row[INDEX["type_match"]] = r_type
        row[INDEX["attr_matches"]] = n_att
        row[INDEX["option_matches"]] = n_opt
        row[INDEX["options_offered"]] = n_offered
        row[INDEX["options_chosen"]] = len(state.options)
        row[INDEX["option_groups"]] = len(product.options)
        row[INDEX["price"]] = product.price
        row[INDEX["price_ok"]] = product.price <= goal.price_upper
        if has_budget and goal.price_upper > 0:
            row[INDEX["price_ratio"]] = product.price / goal.price_upper
    row[INDEX["attr_match"]] = (row[INDEX["attr_matches"]] / len(goal.attributes)
                                if goal.attributes else 1.0)
    row[INDEX["option_match"]] = (row[INDEX["option_matches"]] / len(goal.goal_options)
                                  if goal.goal_options else 1.0)
    row[INDEX["view_score"]] = shop.view_score()
    if kind == "done":
        row[INDEX["purchase_score"]] = state.score
    steps, limit = _clock(env)
    row[INDEX["step_count"]] = steps
    row[INDEX["max_steps"]] = limit
    row[INDEX["steps_left"]] = max(0, limit - steps) if limit else 0.0


def _sub_envs(envs: Any) -> list[Any]:
    base = envs.unwrapped
    if isinstance(base, gym.vector.VectorEnv):
        subs = getattr(base, "envs", None)
        if subs is None:
            raise TypeError(f"shopping view: {type(base).__name__} does not expose its shops "
                            f"(.envs); use a WebShop vector env or SyncVectorEnv")
        return list(subs)
    return [envs]


def features(env: Any) -> ShopFeatureView:
    """The feature view of one (possibly wrapped) shopping env.

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> env = gym.make("rewardgym/WebShopDiscrete-v1", n_products=200, bow_dim=16)
        >>> _ = env.reset(seed=0)
        >>> view = features(env)
        >>> view.on_search, view.product_in_view, view.max_steps, view.steps_left
        (1.0, 0.0, 15.0, 15.0)
    """
    if isinstance(env.unwrapped, gym.vector.VectorEnv):
        raise ValueError(f"features: expected a single env, got {type(env.unwrapped).__name__}; "
                         f"use features_batch")
    row = np.zeros(SIZE, dtype=np.float64)
    fill_row(env, row)
    return ShopFeatureView(row)


def features_batch(envs: Any) -> ShopFeatureView:
    """The feature rows ``(n, SIZE)`` of a shopping vector env (or ``(1, SIZE)`` of one env).

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> envs = gym.make_vec("rewardgym/WebShopDiscrete-v1", 3, n_products=200, bow_dim=16)
        >>> _ = envs.reset(seed=0)
        >>> features_batch(envs).goal_attrs.shape
        (3,)
    """
    shops = _sub_envs(envs)
    rows = LAYOUT.new_rows(len(shops))
    for i, shop in enumerate(shops):
        fill_row(shop, rows[i])
    return ShopFeatureView(rows)


__all__ = ["FEATURES", "INDEX", "LAYOUT", "SIZE", "ShopFeatureView", "describe", "features",
           "features_batch", "fill_row"]
