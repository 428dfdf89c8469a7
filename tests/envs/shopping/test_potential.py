"""The view-score potential of the shopping env."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from rewardgym.envs.shopping import potential
from rewardgym.envs.shopping.baselines import oracle_policy
from rewardgym.envs.shopping.discrete import WebShopDiscreteEnv
from rewardgym.envs.shopping.oracle import oracle_action
from rewardgym.envs.shopping.potential import view_score_potential
from rewardgym.envs.shopping.reward import compute_reward
from tests.envs.shopping import tiny_world

# A detour through a wrong product, a sub-page and an option before the oracle's route.
DETOUR = ["search[ceramic coffee mug]", "click[b0mug00000]", "click[white]", "click[features]",
          "click[< prev]", "click[< prev]", "click[back to search]"]


def tiny_discrete(**kwargs) -> WebShopDiscreteEnv:
    cat = tiny_world.catalogue()
    return WebShopDiscreteEnv(catalogue=cat, goals=tiny_world.goals(),
                              search=tiny_world.OverlapSearch(cat), **kwargs)


def test_doctests():
    assert doctest.testmod(potential, raise_on_error=False).failed == 0


def test_view_score_is_off_by_default():
    env = tiny_world.env()
    _, info = env.reset(seed=0)
    assert "view_score" not in info
    with pytest.raises(KeyError, match="view_score_in_info=True"):
        view_score_potential(None, info)


@pytest.mark.parametrize("goal_idx", range(4))
def test_view_score_equals_the_reward_of_the_viewed_item(goal_idx):
    env = tiny_world.env(view_score_in_info=True)
    obs, info = env.reset(seed=0, options={"goal_idx": goal_idx})
    assert view_score_potential(obs, info) == 0.0
    seen_item, actions = [], list(DETOUR)
    while env.page_state.kind != "done":
        action = actions.pop(0) if actions else oracle_action(env, query=tiny_world.query_for)
        obs, reward, terminated, _, info = env.step(action)
        state = env.page_state
        phi = view_score_potential(obs, info)
        assert isinstance(phi, float)
        if state.kind in ("item", "item_sub"):
            product = env.catalogue.products[state.product]
            expected = compute_reward(product, env.goal, dict(state.options)).total
            assert phi == expected
            seen_item.append(phi)
        else:
            assert phi == 0.0
    assert terminated
    assert reward == 1.0
    # The item bought scored 1 in view just before the purchase; the detour scored less.
    assert seen_item[-1] == 1.0
    assert min(seen_item) < 1.0


def test_view_score_passes_through_the_discrete_view_and_arrays():
    env = tiny_discrete(view_score_in_info=True)
    obs, info = env.reset(seed=0, options={"goal_idx": 0})
    rng = np.random.default_rng(0)
    scores = []
    for _ in range(10):
        obs, _, terminated, _, info = env.step(oracle_policy(env, obs, info, rng))
        scores.append(view_score_potential(obs, info))
        if terminated:
            break
    assert scores[-1] == 0.0  # done page
    assert max(scores) == 1.0
    batch = view_score_potential(None, {"view_score": np.array([0.5, 0.0], np.float32)})
    assert batch.dtype == np.float64
    np.testing.assert_array_equal(batch, [0.5, 0.0])
