"""WebShop file loader, on a tiny file in the exact upstream format (never downloads)."""

import itertools
import json
import os
import random
import shutil
from pathlib import Path

import pytest

from rewardgym.envs.shopping.goals import NO_BUDGET, PRICE_RANGE, GoalSet
from rewardgym.envs.shopping.loader import (
    DUMMY_ATTR,
    ENV_VAR,
    load_webshop_catalogue,
    parse_pricing,
    title_nouns,
)
from rewardgym.envs.shopping.schema import BREADCRUMB_SEP, Goal

DATA = Path(__file__).parent / "data"
ITEMS = DATA / "items_shuffle_tiny.json"
ATTRS = DATA / "items_ins_v2_tiny.json"
HUMAN = DATA / "items_human_ins_tiny.json"


@pytest.fixture(scope="module")
def synthetic():
    return load_webshop_catalogue(ITEMS, ATTRS)


@pytest.fixture(scope="module")
def human():
    return load_webshop_catalogue(ITEMS, ATTRS, HUMAN)


def test_asin_filters(synthetic):
    cat, _ = synthetic
    # 'nan', an 11+ character ASIN and a repeated ASIN are skipped; file order is kept.
    assert [p.asin for p in cat.products] == ["B09TSHIRT1", "B08SOFA002", "B07COFFEE3"]
    assert cat.by_asin("B09TSHIRT1").title.startswith("Cottonly")  # the first listing wins


def test_fields(synthetic):
    cat, _ = synthetic
    shirt, sofa, coffee = cat.products
    assert shirt.description == "A soft cotton tee for every day. Machine washable."
    assert shirt.bullet_points == ("100% cotton", "Machine washable", "Regular fit")
    assert sofa.bullet_points == ("Easy assembly in 15 minutes",)  # a bare string
    assert shirt.query == "men's t-shirts"  # lower-cased, stripped
    assert shirt.category == "fashion"
    assert shirt.product_category == BREADCRUMB_SEP.join(
        ["Clothing, Shoes & Jewelry", "Men", "Clothing", "Shirts", "T-Shirts"])
    assert shirt.reviews == ()
    assert shirt.rating == "N.A."
    assert shirt.attributes == ("machine washable", "cotton", "regular fit")
    assert coffee.attributes == (DUMMY_ATTR,)  # not in items_ins_v2


def test_options_are_normalised(synthetic):
    cat, _ = synthetic
    shirt, sofa, coffee = cat.products
    assert shirt.options == {"color": ("black | white", "navy blue"),
                             "size": ("small", "medium", "x-large")}
    assert sofa.options == {"color": ("green", "grey")}  # a null group is dropped
    assert coffee.options == {}


def test_prices(synthetic):
    cat, _ = synthetic
    shirt, sofa, coffee = cat.products
    assert (shirt.price, shirt.price_text) == (12.99, "$12.99")
    assert sofa.price_text == "$299.99 to $349.5"
    assert 299.99 <= sofa.price <= 349.5
    assert (coffee.price, coffee.price_text) == (100.0, "$100.0")  # no pricing
    # The range price is drawn once from the seed: same seed, same price; another seed moves it.
    assert load_webshop_catalogue(ITEMS, ATTRS)[0].products[1].price == sofa.price
    others = {load_webshop_catalogue(ITEMS, ATTRS, seed=s)[0].products[1].price
              for s in range(1, 6)}
    assert len(others | {sofa.price}) > 1


@pytest.mark.parametrize(("pricing", "parsed"), [
    ("$12.99", (12.99,)), ("$12.69 - $18.59", (12.69, 18.59)), ("$1,299.00", (1299.0,)),
    ("$1.00$2.00$3.00", (1.0, 2.0)), ("", (100.0,)), (None, (100.0,)), ("$", (100.0,)),
])
def test_parse_pricing(pricing, parsed):
    assert parse_pricing(pricing) == parsed


def test_title_nouns_heuristic():
    assert title_nouns("Lounge Velvet Sofa Couch for Living Room") == (
        "lounge", "velvet", "sofa", "couch", "living", "room")
    assert title_nouns("Navy Blue Large 2 Pack of Socks") == ("socks",)


def _check_budget(goal, price):
    candidates = [p for p in PRICE_RANGE if p > price][:4]
    assert goal.price_upper in candidates[1:]
    assert goal.instruction_text.endswith(f", and price lower than {goal.price_upper:.2f} dollars")


def test_synthetic_goals_one_per_option_combination(synthetic):
    cat, goals = synthetic
    by_asin = {}
    for g in goals.all:
        by_asin.setdefault(g.asin, []).append(g)
        assert g.style == "synthetic"
        _check_budget(g, cat.by_asin(g.asin).price)
    assert len(by_asin["B09TSHIRT1"]) == 2 * 3
    assert len(by_asin["B08SOFA002"]) == 2
    assert "B07COFFEE3" not in by_asin  # no instruction
    shirt_goal = by_asin["B09TSHIRT1"][0]
    assert shirt_goal.attributes == ("machine washable", "cotton")
    assert shirt_goal.instruction_text.startswith(
        "Find me machine washable men's t-shirts with cotton with color: ")
    combos = {g.goal_options for g in by_asin["B09TSHIRT1"]}
    assert (("color", "black | white"), ("size", "medium")) in combos
    # Weight: mean inverse attribute frequency over all goals.
    assert shirt_goal.weight == pytest.approx(1 / 6)
    # One budget per product, shared by its combinations (WebShop's get_synthetic_goals).
    assert len({g.price_upper for g in by_asin["B09TSHIRT1"]}) == 1
    # Fewer than 500 goals: WebShop's split puts them all in test.
    assert len(goals.split("test")) == len(goals) == 8
    assert goals.split("eval") == goals.split("train") == ()


def test_human_goals(human):
    cat, goals = human
    assert sorted(g.asin for g in goals.all) == ["B07COFFEE3", "B08SOFA002", "B09TSHIRT1"]
    by_asin = {g.asin: g for g in goals.all}
    shirt = by_asin["B09TSHIRT1"]
    assert shirt.style == "human"
    assert shirt.weight == 1.0
    assert shirt.instruction_text.startswith(
        "i need a machine washable men's t-shirt in black and white, size medium, and price")
    assert shirt.goal_options == (("color", "black | white"), ("size", "medium"))
    assert by_asin["B08SOFA002"].goal_options == (("", "emerald"),)  # not offered: no group
    for g in goals.all:
        _check_budget(g, cat.by_asin(g.asin).price)


def test_no_budget_above_980(tmp_path):
    items = json.loads(ITEMS.read_text())
    items[0]["pricing"] = "$985.00"
    path = tmp_path / "items.json"
    path.write_text(json.dumps(items))
    _, goals = load_webshop_catalogue(path, ATTRS)
    shirt_goals = [g for g in goals.all if g.asin == "B09TSHIRT1"]
    assert shirt_goals
    assert all(g.price_upper == NO_BUDGET for g in shirt_goals)
    assert all("price lower than" not in g.instruction_text for g in shirt_goals)


def test_num_products_applies_before_filtering():
    cat, _ = load_webshop_catalogue(ITEMS, ATTRS, num_products=3)
    assert [p.asin for p in cat.products] == ["B09TSHIRT1", "B08SOFA002"]
    with pytest.raises(ValueError, match="num_products"):
        load_webshop_catalogue(ITEMS, num_products=0)


def test_without_attribute_file_every_product_is_dummy():
    cat, goals = load_webshop_catalogue(ITEMS)
    assert all(p.attributes == (DUMMY_ATTR,) for p in cat.products)
    assert len(goals) == 0


def test_webshop_data_dir(tmp_path, monkeypatch, human):
    shutil.copy(ITEMS, tmp_path / "items_shuffle_1000.json")
    shutil.copy(ATTRS, tmp_path / "items_ins_v2_1000.json")
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    cat, goals = load_webshop_catalogue(None)
    assert len(cat) == 3
    assert {g.style for g in goals.all} == {"synthetic"}
    shutil.copy(HUMAN, tmp_path / "items_human_ins.json")  # present -> human goals
    cat, goals = load_webshop_catalogue(None)
    assert [g.instruction_text for g in goals.all] == [g.instruction_text for g in human[1].all]


def test_missing_paths_are_explained(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(ValueError, match=ENV_VAR):
        load_webshop_catalogue(None)
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="items_shuffle"):
        load_webshop_catalogue(None)
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(ValueError, match="JSON list"):
        load_webshop_catalogue(bad)


@pytest.mark.skipif(not os.environ.get(ENV_VAR), reason=f"${ENV_VAR} not set (real WebShop data)")
def test_real_webshop_files_load():
    cat, goals = load_webshop_catalogue(None, num_products=1000)
    assert len(cat) > 900
    assert len(goals) > 0


# ---- WebShop's split ---------------------------------------------------------------------------

def upstream_shuffle(goals: list) -> list:
    """What WebShop's SimServer does to its goal list, with the same calls on the same RNG.

    ``random.seed(233); random.shuffle(self.goals)`` on the global ``random`` module
    (princeton-nlp/WebShop ``web_agent_site/envs/web_agent_text_env.py`` lines 306-307).
    """
    state = random.getstate()
    try:
        goals = list(goals)
        random.seed(233)
        random.shuffle(goals)
        return goals
    finally:
        random.setstate(state)


def upstream_split(goals: list) -> dict[str, list]:
    """``baseline_models/env.py`` lines 28-33: test = range(500), eval = range(500, 1500)."""
    shuffled = upstream_shuffle(goals)
    return {"test": shuffled[:500], "eval": shuffled[500:1500], "train": shuffled[1500:]}


def _goal(i: int) -> Goal:
    return Goal(asin=f"A{i:09d}", instruction_text=f"goal {i}", attributes=("x",),
                goal_options=(), price_upper=NO_BUDGET, query="q", category="c",
                product_category="a › b", name="n", title_nouns=("n",), style="human")


@pytest.mark.parametrize("n", [0, 1, 7, 499, 500, 501, 1499, 1500, 1501, 4000, 12087])
def test_webshop_split_matches_upstreams_shuffle_and_cut(n):
    goals = [_goal(i) for i in range(n)]
    split = GoalSet.webshop_split(goals)
    expected = upstream_split([g.asin for g in goals])
    for name in ("test", "eval", "train"):
        assert [g.asin for g in split.split(name)] == expected[name]
    assert (len(split.split("test")), len(split.split("eval")), len(split.split("train"))) == (
        min(n, 500), min(max(n - 500, 0), 1000), max(n - 1500, 0))
    ids = [g.asin for name in ("test", "eval", "train") for g in split.split(name)]
    assert sorted(ids) == sorted(g.asin for g in goals)  # disjoint and complete
    # Deterministic, and independent of the global random state.
    random.seed(12345)
    assert GoalSet.webshop_split(goals).all == split.all


def _upstream_goal_order(items: list, attrs: dict, human: dict | None) -> list[tuple]:
    """(asin, options) of each goal in the order WebShop's get_goals builds them.

    Products in file order after the ASIN filters; human goals: each product's instructions
    with attributes; synthetic goals: the product of option values, groups sorted by name.
    """
    seen, order = set(), []
    for raw in items:
        asin = raw["asin"]
        if asin == "nan" or len(asin) > 10 or asin in seen:
            continue
        seen.add(asin)
        if human is not None:
            order += [(asin, tuple(o.lower() for o in entry["instruction_options"]))
                      for entry in human.get(asin, ()) if entry["instruction_attributes"]]
            continue
        if not (attrs.get(asin) or {}).get("instruction"):
            continue
        options = {name.lower(): [c["value"].strip().replace("/", " | ").lower()
                                  for c in values]
                   for name, values in (raw["customization_options"] or {}).items()
                   if values is not None}
        names = sorted(options)
        order += [(asin, combo) for combo in itertools.product(*(options[k] for k in names))]
    return order


def _ids(goals) -> list[tuple]:
    return [(g.asin, tuple(v for _, v in g.goal_options)) for g in goals]


@pytest.mark.parametrize("kind", ["synthetic", "human"])
def test_fixture_goals_land_where_webshop_puts_them(kind):
    human = json.loads(HUMAN.read_text()) if kind == "human" else None
    order = _upstream_goal_order(json.loads(ITEMS.read_text()), json.loads(ATTRS.read_text()),
                                 human)
    _, goals = load_webshop_catalogue(ITEMS, ATTRS, HUMAN if kind == "human" else None)
    assert _ids(goals.all) == upstream_shuffle(order)
    # Another seed moves budgets and range prices, never the split.
    _, other = load_webshop_catalogue(ITEMS, ATTRS, HUMAN if kind == "human" else None, seed=9)
    assert _ids(other.all) == _ids(goals.all)


def test_a_large_file_is_cut_500_1000_rest(tmp_path):
    items = json.loads(ITEMS.read_text())
    # 40 colours x 41 sizes = 1,640 synthetic goals for the shirt, 2 for the sofa.
    items[0]["customization_options"] = {
        "Color": [{"value": f"colour {i}", "image": None} for i in range(40)],
        "Size": [{"value": f"size {i}", "image": None} for i in range(41)]}
    path = tmp_path / "items.json"
    path.write_text(json.dumps(items))
    _, goals = load_webshop_catalogue(path, ATTRS)
    assert len(goals) == 1642
    sizes = [len(goals.split(name)) for name in ("test", "eval", "train")]
    assert sizes == [500, 1000, 142]
    order = _upstream_goal_order(items, json.loads(ATTRS.read_text()), None)
    expected = upstream_split(order)
    for name in ("test", "eval", "train"):
        assert _ids(goals.split(name)) == expected[name]
