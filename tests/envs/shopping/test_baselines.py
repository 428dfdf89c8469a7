"""Baseline policies on the discrete view: oracle R = 1, rule clearly below, random lower."""

from __future__ import annotations

import doctest

import gymnasium as gym
import numpy as np
import pytest

from rewardgym.envs.shopping import baselines
from rewardgym.envs.shopping.baselines import (
    evaluate_policy,
    first_result_policy,
    oracle_policy,
    random_policy,
    rule_policy,
)
from rewardgym.envs.shopping.discrete import WebShopDiscrete, WebShopDiscreteEnv
from tests.envs.shopping import tiny_world

KEYS = {"score", "success", "exact", "mean_reward", "mean_length", "invalid_rate", "episodes",
        "split"}


@pytest.fixture(scope="module")
def env() -> gym.Env:
    """The default shop (2,000 products) seen through slots, with the registry's time limit."""
    return gym.wrappers.TimeLimit(WebShopDiscreteEnv(), max_episode_steps=15)


@pytest.fixture(scope="module")
def results(env) -> dict[str, dict]:
    policies = {"oracle": oracle_policy, "rule": rule_policy, "first": first_result_policy,
                "random": random_policy}
    return {name: evaluate_policy(env, policy, "test") for name, policy in policies.items()}


def test_doctests():
    assert doctest.testmod(baselines, raise_on_error=False).failed == 0


def test_results_have_webshop_metrics(results, env):
    n_test = len(env.unwrapped.text_env.goals("test"))
    for result in results.values():
        assert set(result) == KEYS
        assert result["episodes"] == n_test
        assert result["split"] == "test"
        assert result["score"] == pytest.approx(100 * result["mean_reward"])
        assert 0 <= result["success"] <= 1
        assert result["invalid_rate"] == 0.0  # every policy picks valid slots


def test_oracle_reaches_one_on_every_test_goal(results):
    assert results["oracle"]["score"] == 100.0
    assert results["oracle"]["success"] == 1.0
    assert results["oracle"]["mean_length"] <= 10


def test_rule_is_clearly_below_the_oracle_and_random_lower_still(results):
    oracle, rule, first, rand = (results[k] for k in ("oracle", "rule", "first", "random"))
    assert rule["success"] <= oracle["success"] - 0.1
    assert rule["score"] < oracle["score"] - 2
    # WebShop's published rule (first result, no options) is far weaker, as upstream (9.6%).
    assert first["success"] < 0.3
    assert first["score"] < rule["score"] - 10
    assert rand["score"] < first["score"] - 10
    assert rand["success"] < first["success"]


def test_evaluation_is_deterministic_and_takes_a_prefix(env):
    a = evaluate_policy(env, random_policy, "eval", episodes=20, seed=3)
    b = evaluate_policy(env, random_policy, "eval", episodes=20, seed=3)
    c = evaluate_policy(env, random_policy, "eval", episodes=20, seed=4)
    assert a == b
    assert a["episodes"] == 20
    assert a["split"] == "eval"
    assert a != c


def test_policies_work_on_the_wrapper_view_of_a_text_env():
    view = WebShopDiscrete(tiny_world.env())
    result = evaluate_policy(view, oracle_policy, "train")
    assert result["success"] == 1.0
    rule = evaluate_policy(view, rule_policy, "train")
    assert rule["episodes"] == len(tiny_world.goals())
    first = evaluate_policy(view, first_result_policy, "train")
    assert first["score"] < rule["score"]


def test_max_steps_caps_episodes(env):
    def dawdle(env, obs, info, rng):
        view = baselines.discrete_view(env)
        mask = view.action_masks()
        return view.nav_start + 3 if mask[view.nav_start + 3] else oracle_policy(
            env, obs, info, rng)  # "description" forever once on an item page

    result = evaluate_policy(env, dawdle, "test", episodes=3, max_steps=4)
    assert result["score"] == 0.0
    assert result["mean_length"] == 4


def test_empty_split_is_refused(env):
    with pytest.raises(ValueError, match="no goals"):
        evaluate_policy(env, random_policy, "test", episodes=0)


def test_random_policy_picks_only_valid_slots():
    env = WebShopDiscreteEnv(n_products=500)
    obs, info = env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(50):
        slot = random_policy(env, obs, info, rng)
        assert env.action_masks()[slot]
        obs, _, terminated, _, info = env.step(slot)
        if terminated:
            obs, info = env.reset()
