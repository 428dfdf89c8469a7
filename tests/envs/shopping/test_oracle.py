"""The oracle reaches R = 1 everywhere; WebShop's first-result rule scores clearly below."""

import doctest
import functools

import numpy as np
import pytest

from rewardgym.envs.shopping import oracle as oracle_module
from rewardgym.envs.shopping.env import WebShopTextEnv
from rewardgym.envs.shopping.oracle import first_result_action, oracle_action, play
from tests.envs.shopping import tiny_world


def test_doctests():
    assert doctest.testmod(oracle_module, raise_on_error=False).failed == 0


def tiny_oracle(env):
    return lambda info: oracle_action(env, query=tiny_world.query_for)


def test_oracle_solves_every_tiny_goal_paging_as_needed():
    env = tiny_world.env()
    for i in range(len(tiny_world.goals())):
        actions = []

        def policy(info, env=env, actions=actions):
            actions.append(oracle_action(env, query=tiny_world.query_for))
            return actions[-1]

        reward, info = play(env, policy, options={"goal_idx": i})
        assert (reward, info["is_success"], info["exact"]) == (1.0, True, True)
        assert actions.count("click[next >]") == [0, 1, 2, 0][i]
        assert actions[-1] == "click[buy now]"


def test_oracle_recovers_from_a_detour():
    env = tiny_world.env()
    env.reset(seed=0, options={"goal_idx": 0})
    for action in ["search[ceramic coffee mug]", "click[next >]", "click[next >]",
                   "click[b0mug00021]", "click[white]", "click[reviews]"]:
        env.step(action)
    for _ in range(12):
        _, reward, terminated, _, info = env.step(oracle_action(env))
        if terminated:
            break
    assert (reward, info["exact"]) == (1.0, True)


def test_oracle_buys_the_best_hit_when_the_target_is_not_found():
    env = tiny_world.env()
    env.reset(seed=0, options={"goal_idx": 2})  # target mug 22
    env.step("search[velvet]")  # sofas only: the best is still a poor buy
    for _ in range(10):
        _, reward, terminated, _, info = env.step(oracle_action(env))
        if terminated:
            break
    assert terminated
    assert info["asin"].startswith("B0SOFA")
    assert reward < 1.0
    env.reset(seed=0, options={"goal_idx": 2})
    env.step("search[zzz]")
    assert oracle_action(env) == "click[back to search]"


def test_oracle_refuses_finished_episodes_and_other_envs():
    env = tiny_world.env()
    play(env, tiny_oracle(env), options={"goal_idx": 1})
    with pytest.raises(RuntimeError, match="done page"):
        oracle_action(env)
    with pytest.raises(TypeError, match="WebShopTextEnv"):
        oracle_action(object.__new__(type("Other", (), {"unwrapped": None})))


def test_first_result_rule_on_the_tiny_world():
    env = tiny_world.env()
    scores = [play(env, first_result_action, options={"goal_idx": i})[0] for i in range(4)]
    # The instruction's "20.00 dollars" puts mug 20 ("mug number 20") first: the right
    # attribute, but no options chosen and over budget.
    _, info = play(env, first_result_action, options={"goal_idx": 0})
    assert info["asin"] == "B0MUG00020"
    assert scores[0] == 0.25
    assert max(scores) < 1.0


# ---- the default generated world (catalogue, BM25 search, goals of the other modules) ----

@functools.cache
def default_env() -> WebShopTextEnv:
    return WebShopTextEnv()


def scores(env, policy, split, indices, max_steps):
    return np.array([play(env, policy, options={"split": split, "goal_idx": int(i)},
                          max_steps=max_steps)[0] for i in indices])


def test_oracle_scores_one_on_every_test_goal_and_a_train_sample():
    env = default_env()
    test = scores(env, lambda info: oracle_action(env), "test", range(len(env.goals("test"))),
                  max_steps=30)
    assert len(test) >= 100
    assert np.all(test == 1.0)
    sample = np.random.default_rng(0).choice(len(env.goals("train")), 200, replace=False)
    assert np.all(scores(env, lambda info: oracle_action(env), "train", sample, 30) == 1.0)


def test_first_result_rule_scores_clearly_below_one():
    env = default_env()
    rule = scores(env, first_result_action, "test", range(len(env.goals("test"))), 15)
    assert 0.2 < rule.mean() < 0.85
    assert (rule == 1.0).mean() < 0.5
