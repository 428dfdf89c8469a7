"""Procedural catalogue: determinism, shape, attribute visibility, options, prices, siblings."""

import collections
import doctest
import importlib
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rewardgym.envs.shopping import catalogue as catalogue_module
from rewardgym.envs.shopping.catalogue import (
    CATEGORIES,
    MAX_PRODUCTS,
    TAXONOMY,
    attribute_kind,
    fingerprint,
    generate_catalogue,
    product_type,
)
from rewardgym.envs.shopping.schema import BREADCRUMB_SEP

REPO = Path(__file__).resolve().parents[3]
OPTION_GROUPS = {"color", "size", "count", "flavor", "style", "scent"}


@pytest.fixture(scope="module")
def cat():
    return generate_catalogue(2000, seed=0)


def _text(p):
    return " ".join((p.title, " ".join(p.bullet_points), p.description)).lower()


def test_same_seed_same_catalogue_other_seed_differs(cat):
    assert fingerprint(generate_catalogue(2000, seed=0)) == fingerprint(cat)
    assert fingerprint(generate_catalogue(2000, seed=1)) != fingerprint(cat)
    assert fingerprint(generate_catalogue(1999, seed=0)) != fingerprint(cat)


def test_catalogue_does_not_depend_on_hash_seed(cat):
    # Set iteration order varies with PYTHONHASHSEED; the catalogue must not.
    code = ("from rewardgym.envs.shopping.catalogue import generate_catalogue, fingerprint;"
            "print(fingerprint(generate_catalogue(2000, seed=0)))")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == fingerprint(cat)


@pytest.mark.parametrize("n", [1, 7, 500])
def test_size(n):
    assert len(generate_catalogue(n, seed=2)) == n


@pytest.mark.parametrize("n", [0, -5, MAX_PRODUCTS + 1])
def test_bad_size_is_named(n):
    with pytest.raises(ValueError, match="n_products"):
        generate_catalogue(n)


def test_asins_are_unique_and_webshop_shaped(cat):
    asins = [p.asin for p in cat.products]
    assert len(set(asins)) == len(asins)
    assert all(re.fullmatch(r"B0[0-9A-Z]{8}", a) for a in asins)


def test_taxonomy_shape():
    per_category = collections.Counter(t.category for t in TAXONOMY)
    assert set(per_category) == set(CATEGORIES)
    assert min(per_category.values()) >= 7
    assert len({t.query for t in TAXONOMY}) == len(TAXONOMY)
    for t in TAXONOMY:
        assert 10 <= len(t.attributes) <= 25, t.query
        assert len(set(t.attributes)) == len(t.attributes), t.query
        assert 3 <= len(t.breadcrumb) <= 4, t.query
        assert 1 <= len(t.options) <= 3, t.query
        assert {o.name for o in t.options} <= OPTION_GROUPS
        assert t.price_low <= t.price_median <= t.price_high
    # Attributes are mostly multi-word phrases ("machine washable"), as WebShop's are.
    words = [len(a.split()) for t in TAXONOMY for a in t.attributes]
    assert sum(w > 1 for w in words) / len(words) > 0.75
    compounds = [v for t in TAXONOMY for o in t.options if o.name == "color" for v in o.values]
    assert "navy blue stripe" in compounds


def test_no_attribute_hides_inside_other_text():
    # Otherwise a product would "have" an attribute (by the reward's substring rule) that its
    # siblings were built to lack.
    for t in TAXONOMY:
        fixed = " ".join((t.query, *t.nouns, *catalogue_module._FILLERS[t.category])).lower()
        for a in t.attributes:
            assert a not in fixed, (t.query, a)
            assert not [b for b in t.attributes if b != a and a in b], (t.query, a)


def test_products_match_their_type(cat):
    seen_categories = set()
    for p in cat.products:
        t = product_type(p.query)
        assert t is not None
        assert p.category == t.category
        assert p.product_category == BREADCRUMB_SEP.join(t.breadcrumb)
        seen_categories.add(p.category)
    assert seen_categories == set(CATEGORIES)


def test_every_attribute_is_visible_and_no_other_one(cat):
    for p in cat.products:
        t = product_type(p.query)
        assert 1 <= len(p.attributes) <= 6
        assert set(p.attributes) <= set(t.attributes)
        text = _text(p)
        assert {a for a in t.attributes if a in text} == set(p.attributes), p.asin
        for a in p.attributes:
            assert attribute_kind(p, a) == t.kind_of(a)


def test_options(cat):
    n_groups = collections.Counter()
    for p in cat.products:
        t = product_type(p.query)
        pools = {o.name: o.values for o in t.options}
        assert len(p.options) <= 3
        n_groups[len(p.options)] += 1
        for name, values in p.options.items():
            assert 2 <= len(values) <= 8
            assert len(set(values)) == len(values)
            assert set(values) <= set(pools[name])
            assert all(v == v.lower() for v in values)
    assert n_groups[0] > 0
    assert n_groups[2] > 0


def test_prices_and_price_text(cat):
    n_ranges = 0
    for p in cat.products:
        amounts = [float(x) for x in re.findall(r"\$(\d+\.\d\d)", p.price_text)]
        if " to " in p.price_text:
            n_ranges += 1
            assert re.fullmatch(r"\$\d+\.\d\d to \$\d+\.\d\d", p.price_text)
            assert amounts[0] < amounts[1]
            assert amounts[0] <= p.price <= amounts[1]
        else:
            assert re.fullmatch(r"\$\d+\.\d\d", p.price_text)
            assert p.price == amounts[0]
        assert p.price > 0
    assert 0.1 < n_ranges / len(cat) < 0.35


def test_titles_nouns_and_reviews(cat):
    for p in cat.products:
        t = product_type(p.query)
        assert set(t.nouns[0].split()) <= set(p.title_nouns)
        assert all(n in p.title.lower() for n in p.title_nouns)
        assert 3 <= len(p.bullet_points) <= 6
        assert len(p.reviews) <= 5
        if p.reviews:
            assert all(1 <= r.score <= 5 for r in p.reviews)
            mean = sum(r.score for r in p.reviews) / len(p.reviews)
            assert p.rating == f"{mean:.1f}"
        else:
            assert p.rating == "N.A."


def test_siblings_differ_in_exactly_one_thing():
    rng = random.Random(7)
    kinds = collections.Counter()
    for _ in range(300):
        base = catalogue_module._base_variant(rng.choice(TAXONOMY), rng)
        for sib in list(catalogue_module._siblings(base, 4, rng))[1:]:
            assert sib.text_seed == base.text_seed  # same wording and layout
            changed = [sib.attributes != base.attributes, sib.options != base.options,
                       sib.price_low != base.price_low]
            assert sum(changed) == 1
            if changed[0]:
                diff = [(a, b) for a, b in zip(base.attributes, sib.attributes, strict=True)
                        if a != b]
                assert len(diff) == 1
                assert base.ptype.kind_of(diff[0][0]) == base.ptype.kind_of(diff[0][1])
                kinds["attribute"] += 1
            elif changed[1]:
                assert sum(base.options[g] != sib.options[g] for g in base.options) == 1
                kinds["option"] += 1
            else:
                # Above the largest budget any goal on the base can state (price + 40).
                top = base.price_high or base.price_low
                assert sib.price_low > top + 40
                kinds["price"] += 1
    assert min(kinds.values()) > 50, kinds


def test_catalogue_contains_price_twins(cat):
    # Same listing text, different price: the hardest negatives for "buy the first result".
    by_text = collections.defaultdict(list)
    for p in cat.products:
        by_text[(p.title, p.description, p.bullet_points, tuple(p.options.items()))].append(p)
    twins = [ps for ps in by_text.values() if len({p.price for p in ps}) > 1]
    assert sum(len(ps) for ps in twins) > 0.1 * len(cat)


@pytest.mark.parametrize("name", ["catalogue", "search", "goals", "loader"])
def test_docstring_examples_run(name, monkeypatch):
    monkeypatch.chdir(REPO)
    module = importlib.import_module(f"rewardgym.envs.shopping.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
