"""The shopping reward view: names and indices, agreement with WebShop's reward, steps, batches."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from gymnasium.wrappers import TimeLimit

from rewardgym.envs.shopping import view as shop_view
from rewardgym.envs.shopping.baselines import oracle_policy, random_policy
from rewardgym.envs.shopping.discrete import WebShopDiscreteEnv
from rewardgym.envs.shopping.oracle import oracle_action
from rewardgym.envs.shopping.reward import compute_reward
from rewardgym.envs.shopping.view import INDEX, LAYOUT, SIZE, features, features_batch
from tests.envs.shopping import tiny_world

# A detour through a wrong product, a sub-page and an option before the oracle's route.
DETOUR = ["search[ceramic coffee mug]", "click[b0mug00000]", "click[white]", "click[features]",
          "click[< prev]", "click[< prev]", "click[back to search]"]


def tiny_discrete(**kwargs) -> WebShopDiscreteEnv:
    cat = tiny_world.catalogue()
    return WebShopDiscreteEnv(catalogue=cat, goals=tiny_world.goals(),
                              search=tiny_world.OverlapSearch(cat), **kwargs)


def test_layout_is_fixed_named_and_described():
    # Reward programs and numba code index the row: the order is part of the contract.
    assert LAYOUT.names[:6] == ("page_kind", "on_search", "on_results", "on_item",
                                "on_sub_page", "on_done")
    assert LAYOUT.names[-3:] == ("step_count", "max_steps", "steps_left")
    assert SIZE == len(shop_view.FEATURES) == 36
    assert all(INDEX[name] == i for i, name in enumerate(LAYOUT.names))
    table = shop_view.describe()
    for f in LAYOUT.features:
        assert f"| {f.name} | {f.start} | {f.unit} | " in table
        assert f.doc
        assert f.unit


def _check_against_reward(env, view) -> None:
    """Every match feature equals the reward's own term for the product in view."""
    state, goal = env.page_state, env.goal
    if state.product < 0:
        for name in ("product_in_view", "type_match", "attr_matches", "option_matches", "price",
                     "price_ok", "view_score", "price_ratio"):
            assert getattr(view, name) == 0.0, name
        return
    product = env.catalogue.products[state.product]
    info = compute_reward(product, goal, dict(state.options))
    assert view.product_in_view == 1.0
    assert view.type_match == info.r_type
    assert view.title_score == info.title_score
    assert view.attr_matches == round((info.r_att or 0.0) * len(goal.attributes))
    assert view.option_matches == round((info.r_option or 0.0) * len(goal.goal_options))
    assert view.price_ok == float(info.r_price)
    assert view.price == product.price
    assert view.is_goal_product == float(product.asin == goal.asin)
    # WebShop's formula rebuilt from the view's own pieces.
    rebuilt = view.type_match * (view.attr_matches + view.option_matches + view.price_ok) / (
        view.goal_attrs + view.goal_options + 1)
    assert rebuilt == pytest.approx(info.total, abs=1e-12)
    if state.kind in ("item", "item_sub"):
        assert view.view_score == info.total
    else:
        assert view.view_score == 0.0  # the potential vanishes once bought


@pytest.mark.parametrize("goal_idx", range(4))
def test_matches_follow_the_reward_along_a_detour_and_the_oracle(goal_idx):
    env = TimeLimit(tiny_world.env(), 30)
    env.reset(seed=0, options={"goal_idx": goal_idx})
    shop = env.unwrapped
    actions, seen = list(DETOUR), set()
    terminated = False
    while not terminated:
        action = actions.pop(0) if actions else oracle_action(shop, query=tiny_world.query_for)
        _, reward, terminated, _, _ = env.step(action)
        view = features(env)
        seen.add(shop.page_state.kind)
        _check_against_reward(shop, view)
        kind = shop.page_state.kind
        assert view.page_kind == shop_view.PAGE_KINDS.index(kind)
        assert sum(getattr(view, n) for n in ("on_search", "on_results", "on_item",
                                              "on_sub_page", "on_done")) == 1.0
        assert view.products_visited == len(shop.visited)
        if kind == "search":
            assert view.n_results == view.query_instruction_overlap == view.goal_rank == 0.0
        else:
            results = shop.page_state.results
            assert view.n_results == len(results)
            target = shop.catalogue.index_of(shop.goal.asin)
            assert view.goal_in_results == float(target in results)
            assert view.goal_rank == (results.index(target) + 1 if target in results else 0)
            assert 0.0 <= view.query_instruction_overlap <= 1.0
            assert 0.0 <= view.query_goal_overlap <= 1.0
    assert seen == {"search", "results", "item", "item_sub", "done"}
    assert view.purchase_score == reward == 1.0
    assert view.on_done == view.is_goal_product == 1.0


def test_budget_and_query_overlap_on_known_goals():
    env = tiny_world.env()
    env.reset(seed=0, options={"goal_idx": 0})  # a mug under 20 dollars
    view = features(env)
    assert (view.budget, view.has_budget, view.goal_attrs, view.goal_options) == (20.0, 1.0,
                                                                                  1.0, 2.0)
    assert (view.attr_match, view.option_match) == (0.0, 0.0)
    env.step("search[mugs]")
    view = features(env)
    assert view.query_goal_overlap == 1.0  # the target's query word
    assert 0.0 < view.query_instruction_overlap < 1.0
    env.step("search[ceramic coffee mug]")
    env.step("click[next >]")
    assert features(env).results_page == 2.0
    env.step("click[b0mug00019]")  # 24 dollars: over budget
    view = features(env)
    assert (view.price, view.price_ok) == (24.0, 0.0)
    assert view.price_ratio == pytest.approx(24.0 / 20.0)
    env.reset(seed=0, options={"goal_idx": 2})  # no price limit
    view = features(env)
    assert (view.budget, view.has_budget, view.price_ratio) == (0.0, 0.0, 0.0)


def test_step_budget_counts_masked_slots_and_follows_the_time_limit():
    env = TimeLimit(tiny_discrete(bow_dim=16), 7)
    env.reset(seed=0, options={"goal_idx": 0})
    view = features(env)
    assert (view.step_count, view.max_steps, view.steps_left) == (0.0, 7.0, 7.0)
    masked = int(np.flatnonzero(~env.unwrapped.action_masks())[0])
    env.step(masked)  # a no-op the text env never sees
    view = features(env)
    assert (view.step_count, view.steps_left) == (1.0, 6.0)
    assert env.unwrapped.text_env.steps == 0
    # Without a time limit the slot view's horizon stands in; the text env alone has none.
    bare = tiny_discrete(bow_dim=16, horizon=9)
    bare.reset(seed=0)
    assert features(bare).max_steps == 9.0
    text = tiny_world.env()
    text.reset(seed=0)
    text.step("search[mug]")
    view = features(text)
    assert (view.step_count, view.max_steps, view.steps_left) == (1.0, 0.0, 0.0)
    made = gym.make("rewardgym/WebShopText-v1", n_products=200)
    made.reset(seed=0)
    assert features(made).max_steps == 15.0


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_batch_rows_equal_single_rows(mode):
    kwargs = {"n_products": 200, "bow_dim": 16}
    envs = gym.make_vec("rewardgym/WebShopDiscrete-v1", 3, autoreset_mode=mode, **kwargs)
    singles = [gym.make("rewardgym/WebShopDiscrete-v1", **kwargs) for _ in range(3)]
    obs, _ = envs.reset(seed=5)
    single_obs = [s.reset(seed=5 + i)[0] for i, s in enumerate(singles)]
    rng = np.random.default_rng(0)
    pending = np.zeros(3, dtype=bool)
    for _ in range(40):
        rows = np.asarray(features_batch(envs))
        assert rows.shape == (3, SIZE)
        for i, single in enumerate(singles):
            np.testing.assert_array_equal(rows[i], np.asarray(features(single)))
        actions = np.array([random_policy(s, None, None, rng) for s in singles])
        obs, _, terminated, truncated, _ = envs.step(actions)
        done = terminated | truncated
        for i, single in enumerate(singles):
            if pending[i]:  # NEXT_STEP: this step was the reset
                single_obs[i] = single.reset()[0]
                continue
            single_obs[i], _, term, trunc, _ = single.step(int(actions[i]))
            if (term or trunc) and mode == AutoresetMode.SAME_STEP:
                single_obs[i] = single.reset()[0]
        pending = done if mode == AutoresetMode.NEXT_STEP else pending
        np.testing.assert_array_equal(obs, np.stack(single_obs))
    assert features_batch(singles[0]).values.shape == (1, SIZE)


def test_oracle_in_the_slot_view_reaches_the_goal_in_the_view():
    env = TimeLimit(tiny_discrete(bow_dim=16), 15)
    obs, info = env.reset(seed=0, options={"goal_idx": 1})
    rng = np.random.default_rng(0)
    scores = []
    for _ in range(15):
        obs, reward, terminated, _, info = env.step(oracle_policy(env, obs, info, rng))
        scores.append(features(env).view_score)
        if terminated:
            break
    assert reward == features(env).purchase_score == 1.0
    assert max(scores) == 1.0


def test_errors_name_the_problem():
    assert not np.asarray(features(tiny_world.env())).any()  # before the first reset: zeros
    envs = gym.make_vec("rewardgym/WebShopDiscrete-v1", 2, n_products=200, bow_dim=16)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match="features_batch"):
        features(envs)
    with pytest.raises(TypeError, match="WebShopTextEnv or WebShopDiscreteEnv"):
        features(gym.make("CartPole-v1"))
