"""Goals: achievable and findable, WebShop's budget rule, both styles, weights, splits."""

import collections
import hashlib
import os
import random
import subprocess
import sys

import pytest

from rewardgym.envs.shopping.catalogue import generate_catalogue
from rewardgym.envs.shopping.goals import (
    NO_BUDGET,
    PRICE_RANGE,
    SEARCH_DEPTH,
    SPLITS,
    GoalSet,
    generate_goals,
    oracle_query,
    price_upper_for,
    product_satisfies,
)
from rewardgym.envs.shopping.search import index_for


@pytest.fixture(scope="module")
def cat():
    return generate_catalogue(2000, seed=0)


@pytest.fixture(scope="module")
def goals(cat):
    return generate_goals(cat, seed=0)


def _key(g):
    return g.asin, g.instruction_text


def test_every_goal_is_achievable_and_findable(cat, goals):
    index = index_for(cat)
    assert len(goals) > len(cat)  # 1-3 goals per product
    for g in goals.all:
        target = cat.by_asin(g.asin)
        assert product_satisfies(target, g)
        assert cat.index_of(g.asin) in index.search(oracle_query(g), SEARCH_DEPTH)
    assert goals.n_dropped <= 0.01 * len(goals)


def test_goal_fields_follow_the_target(cat, goals):
    for g in goals.all:
        p = cat.by_asin(g.asin)
        assert (g.query, g.category, g.product_category, g.name, g.title_nouns) == (
            p.query, p.category, p.product_category, p.title, p.title_nouns)
        assert 1 <= len(g.attributes) <= 4
        assert set(g.attributes) <= set(p.attributes)
        groups = [group for group, _ in g.goal_options]
        if g.style == "synthetic":
            assert groups == list(p.options)
        else:
            assert len(groups) <= 2
        text = g.instruction_text
        assert all(a in text for a in g.attributes)
        assert all(v in text for _, v in g.goal_options)


def test_instruction_styles(cat, goals):
    styles = collections.Counter(g.style for g in goals.all)
    assert 0.4 < styles["human"] / len(goals) < 0.6
    for g in goals.all:
        if g.style == "synthetic":
            assert g.instruction_text.startswith("Find me ")
            assert g.query in g.instruction_text
            for group, value in g.goal_options:
                assert f"{group}: {value}" in g.instruction_text
        else:
            assert g.instruction_text == g.instruction_text.lower()
    openings = {" ".join(g.instruction_text.split()[:2]) for g in goals.all if g.style == "human"}
    assert len(openings) >= 15
    small = generate_catalogue(500, seed=1)
    assert {g.style for g in generate_goals(small, style="synthetic").all} == {"synthetic"}
    assert {g.style for g in generate_goals(small, style="human").all} == {"human"}
    with pytest.raises(ValueError, match="style"):
        generate_goals(small, style="poetic")


def test_budget_follows_webshop_rule(cat, goals):
    budgets = 0
    for g in goals.all:
        price = cat.by_asin(g.asin).price
        candidates = [p for p in PRICE_RANGE if p > price][:4]
        if len(candidates) >= 2:
            # max of two distinct draws: never the smallest candidate
            assert g.price_upper in candidates[1:]
            assert g.instruction_text.endswith(
                f", and price lower than {g.price_upper:.2f} dollars")
            budgets += 1
        else:
            assert g.price_upper == NO_BUDGET
            assert "price lower than" not in g.instruction_text
    assert 0 < budgets < len(goals)  # some sofas cost more than 980 dollars


def test_price_upper_for_distribution():
    rng = random.Random(0)
    draws = collections.Counter(price_upper_for(23.5, rng)[0] for _ in range(3000))
    # Candidates 30, 40, 50, 60; max of a 2-sample: P = 1/6, 2/6, 3/6 for 40, 50, 60.
    assert set(draws) == {40.0, 50.0, 60.0}
    assert draws[60.0] / 3000 == pytest.approx(0.5, abs=0.04)
    assert draws[40.0] / 3000 == pytest.approx(1 / 6, abs=0.03)
    assert price_upper_for(985.0, rng) == (NO_BUDGET, "")
    assert price_upper_for(975.0, rng) == (990.0, ", and price lower than 990.00 dollars")


def test_oracle_query_drops_only_the_price_clause(goals):
    for g in goals.all:
        q = oracle_query(g)
        assert "price lower than" not in q
        assert g.instruction_text.startswith(q)
    with_budget = next(g for g in goals.all if g.price_upper < NO_BUDGET)
    assert oracle_query(with_budget) == with_budget.instruction_text.split(
        ", and price lower than")[0]


def test_weights(goals):
    counts = collections.Counter(a for g in goals.all for a in g.attributes)
    for g in goals.all:
        if g.style == "human":
            assert g.weight == 1.0
        else:
            expected = sum(1 / counts[a] for a in g.attributes) / len(g.attributes)
            assert g.weight == pytest.approx(expected)
    assert goals.weights("test").shape == (len(goals.split("test")),)


def test_splits_are_disjoint_sized_and_deterministic(cat, goals):
    parts = {name: goals.split(name) for name in SPLITS}
    assert len(parts["test"]) == len(parts["eval"]) == len(goals) // 10
    keys = [set(map(_key, parts[name])) for name in SPLITS]
    assert sum(map(len, keys)) == len(goals)
    assert set.union(*keys) == set(map(_key, goals.all))
    assert parts["test"] == goals.all[:len(parts["test"])]
    again = generate_goals(cat, seed=0)
    assert [_key(g) for g in again.all] == [_key(g) for g in goals.all]
    assert [g.price_upper for g in again.all] == [g.price_upper for g in goals.all]
    other = generate_goals(cat, seed=1)
    assert [_key(g) for g in other.split("test")] != [_key(g) for g in parts["test"]]
    with pytest.raises(ValueError, match="train"):
        goals.split("validation")


def _digest(goal_set):
    return hashlib.sha256(repr(goal_set.all).encode()).hexdigest()


def test_goals_do_not_depend_on_hash_seed(goals):
    code = ("import hashlib; from rewardgym.envs.shopping.catalogue import generate_catalogue;"
            "from rewardgym.envs.shopping.goals import generate_goals;"
            "g = generate_goals(generate_catalogue(2000, seed=0), seed=0);"
            "print(hashlib.sha256(repr(g.all).encode()).hexdigest())")
    env = dict(os.environ, PYTHONHASHSEED="4321")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == _digest(goals)


def test_max_goals_and_argument_errors(cat):
    assert len(generate_goals(cat, seed=3, max_goals=123)) == 123
    with pytest.raises(ValueError, match="max_goals"):
        generate_goals(cat, max_goals=0)
    with pytest.raises(ValueError, match="max_tries"):
        generate_goals(cat, max_tries=0)
    with pytest.raises(ValueError, match="n_test"):
        GoalSet(all=(), n_test=1, n_eval=0)


def test_buying_the_first_result_misses_often(cat, goals):
    """Hard negatives: the top hit of the oracle query is often not the target."""
    index = index_for(cat)
    exact = satisfied = full_reward = 0
    for g in goals.all:
        top = cat.products[index.search(oracle_query(g), 1)[0]]
        exact += top.asin == g.asin
        ok = product_satisfies(top, g)
        satisfied += ok
        full_reward += ok and not g.goal_options  # no option clicks
    n = len(goals)
    print(f"\nfirst result is the target: {exact / n:.3f}; satisfies the goal: "
          f"{satisfied / n:.3f}; would score 1 without option clicks: {full_reward / n:.3f}")
    assert exact / n < 0.6
    assert satisfied / n < 0.9
    assert full_reward / n < 0.3
