"""ShopR1Reward: Shop-R1's hierarchical action reward on the shopping env."""

from __future__ import annotations

import doctest
import pickle

import numpy as np
import pytest

from rewardgym.envs.shopping.baselines import oracle_policy, random_policy
from rewardgym.envs.shopping.discrete import WebShopDiscreteEnv
from rewardgym.envs.shopping.oracle import oracle_action
from rewardgym.wrappers import WRAPPERS, shop_r1
from rewardgym.wrappers.shop_r1 import TERMS, ShopR1Reward, rouge_l
from tests.envs.shopping import tiny_world

# A detour through a wrong product, a sub-page and an option before the oracle's route.
DETOUR = ["search[ceramic coffee mug]", "click[b0mug00000]", "click[white]", "click[features]",
          "click[< prev]", "click[< prev]", "click[back to search]"]


def tiny_discrete(**kwargs) -> WebShopDiscreteEnv:
    cat = tiny_world.catalogue()
    return WebShopDiscreteEnv(catalogue=cat, goals=tiny_world.goals(),
                              search=tiny_world.OverlapSearch(cat), **kwargs)


def test_doctests():
    assert doctest.testmod(shop_r1, raise_on_error=False).failed == 0


def test_listed_among_the_wrappers():
    assert any(name.startswith("ShopR1Reward") for name in WRAPPERS)


def test_rouge_l():
    assert rouge_l("a b c", "a b c") == 1.0
    assert rouge_l("a b c", "x y") == 0.0
    assert rouge_l(["a", "b", "c", "d"], ["a", "c"]) == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert rouge_l("", "a") == 0.0


def _run(env, actions, goal_idx=0):
    out = [env.reset(seed=0, options={"goal_idx": goal_idx})]
    out += [env.step(a) for a in actions]
    return out


def test_shop_r1_terms_sum_to_reward_and_keep_the_base_reward():
    actions = [*DETOUR, "search[ceramic coffee mug]", "click[b0mug00004]", "click[navy blue]",
               "click[15 oz]", "click[buy now]"]
    shaped = _run(ShopR1Reward(tiny_world.env()), actions)
    plain = _run(tiny_world.env(), actions)
    assert set(TERMS) <= set(shaped[0][1]["reward_terms"])
    assert shaped[0][1]["base_reward"] == 0.0
    total_shaping = 0.0
    for (obs, reward, term, trunc, info), (p_obs, p_reward, p_term, p_trunc, _) in zip(
            shaped[1:], plain[1:], strict=True):
        assert obs == p_obs
        assert (term, trunc) == (p_term, p_trunc)
        assert info["base_reward"] == p_reward
        assert info["reward_terms"]["purchase"] == p_reward
        assert sum(info["reward_terms"].values()) == pytest.approx(reward, abs=1e-12)
        total_shaping += reward - p_reward
    assert shaped[-1][1] > 1.0  # the purchase (1.0) plus the buy's type match
    assert total_shaping > 0


def test_shop_r1_rewards_matching_the_oracle_more_than_not():
    env = ShopR1Reward(tiny_world.env(), format_bonus=0.0)
    env.reset(seed=0, options={"goal_idx": 0})
    expert = oracle_action(env.unwrapped)  # search[... the instruction without price ...]
    reward_match = env.step(expert)[1]
    env.reset(seed=0, options={"goal_idx": 0})
    reward_other = env.step("search[velvet sofa]")[1]
    env.reset(seed=0, options={"goal_idx": 0})
    reward_bad = env.step("click[search]")[1]  # wrong type
    assert reward_match > reward_other > reward_bad == 0.0


def test_shop_r1_on_the_discrete_view():
    env = ShopR1Reward(tiny_discrete())
    obs, info = env.reset(seed=0, options={"goal_idx": 1})
    rng = np.random.default_rng(0)
    for _ in range(15):
        obs, reward, terminated, _, info = env.step(oracle_policy(env, obs, info, rng))
        assert info["reward_terms"]["shop_r1_format"] == 0.0  # slots are always well-formed
        assert info["reward_terms"]["shop_r1_type"] == pytest.approx(0.05 * 0.3)
        assert sum(info["reward_terms"].values()) == pytest.approx(reward, abs=1e-12)
        if terminated:
            break
    assert info["base_reward"] == 1.0
    # Random valid slots: shaped but still decomposed.
    obs, info = env.reset(seed=1)
    for _ in range(20):
        obs, reward, terminated, _truncated, info = env.step(random_policy(env, obs, info, rng))
        assert sum(info["reward_terms"].values()) == pytest.approx(reward, abs=1e-12)
        if terminated:
            obs, info = env.reset()


def test_each_shop_r1_argument_changes_the_terms():
    def first_reward(**kwargs) -> float:
        env = ShopR1Reward(tiny_world.env(), **kwargs)
        env.reset(seed=0, options={"goal_idx": 0})
        return env.step("search[dishwasher safe mugs with color navy]")[1]

    base = first_reward()
    assert first_reward(lam=0.1) == pytest.approx(2 * base)
    assert first_reward(dars=0.0) < base
    assert first_reward(format_bonus=0.0) == pytest.approx(base - 0.05 * 0.5)
    # tau: a near-miss click label counts only above the threshold.
    env = ShopR1Reward(tiny_world.env())
    near = env.action_terms("click[navy blue mug]", "click[navy blue]", ["navy blue mug"], False,
                            text_input=False)
    strict = ShopR1Reward(tiny_world.env(), tau=0.9).action_terms(
        "click[navy blue mug]", "click[navy blue]", ["navy blue mug"], False, text_input=False)
    assert near["shop_r1_label"] == pytest.approx(0.8)
    assert strict["shop_r1_label"] == 0.0
    assert near["shop_r1_exists"] == strict["shop_r1_exists"] == 0.2
    # anneal_steps: lam decays linearly to 0.
    env = ShopR1Reward(tiny_world.env(), anneal_steps=2)
    env.reset(seed=0)
    rewards = [env.step("search[mug]")[1] for _ in range(3)]
    assert rewards[0] > rewards[1] > rewards[2] == 0.0
    assert env.current_lam == 0.0


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"lam": -1.0}, "lam"), ({"dars": float("nan")}, "dars"), ({"tau": 2.0}, "tau"),
    ({"anneal_steps": 0}, "anneal_steps"), ({"format_bonus": True}, "format_bonus"),
])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ShopR1Reward(tiny_world.env(), **kwargs)


def test_shop_r1_is_documented_as_not_policy_invariant_and_pickles():
    doc = ShopR1Reward.__doc__
    assert "NOT potential-based" in doc
    assert "terminate spam" in doc
    env = ShopR1Reward(tiny_discrete(), lam=0.2)
    env.reset(seed=0)
    clone = pickle.loads(pickle.dumps(env))
    a, b = env.step(1), clone.step(1)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1]
