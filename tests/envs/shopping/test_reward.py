"""WebShop's purchase reward (research/webshop.md §2), re-expressed as behaviours."""

import dataclasses
import doctest

import pytest
from rapidfuzz import fuzz

from rewardgym.envs.shopping import reward as rw
from rewardgym.envs.shopping.reward import (
    attribute_reward,
    compute_reward,
    full_process,
    fuzzy_match,
    normalize_color,
    option_reward,
    option_values_match,
    token_set_ratio,
    type_reward,
)
from rewardgym.envs.shopping.schema import Goal, Product


def product(**fields) -> Product:
    base = dict(asin="B000000001", title="Plain Thing", description="", bullet_points=(),
                attributes=(), options={}, price=10.0, price_text="$10.00", category="beauty",
                query="things", product_category="A › B › C", title_nouns=("thing",))
    return Product(**{**base, **fields})


def goal(**fields) -> Goal:
    base = dict(asin="B000000001", instruction_text="i need a thing", attributes=("x",),
                goal_options=(), price_upper=20.0, query="things", category="beauty",
                product_category="A › B › C", name="Plain Thing", title_nouns=("thing",))
    return Goal(**{**base, **fields})


def test_doctests():
    assert doctest.testmod(rw, raise_on_error=False).failed == 0


# ---- fuzzy matching: thefuzz 0.22 semantics ----

def test_full_process_lowercases_strips_punctuation_and_drops_latin1():
    assert full_process("  Hello, World!  ") == "hello  world"
    assert full_process("café") == "caf"  # é (233) is in 128-255: deleted, not transliterated
    assert full_process("łza") == "łza"  # code points above 255 are kept
    assert full_process(("size", "large")) == "size    large"  # str() of a tuple


def test_plural_and_subset_matches():
    assert token_set_ratio("essential oil", "essential oils") == 96
    assert fuzzy_match("essential oil", "essential oils")
    assert token_set_ratio("powder snow", "cool powder snow") == 100
    assert fuzzy_match("Powder-Snow", "cool powder snow")
    assert not fuzzy_match("11 oz", "15 oz")


def test_rounding_decides_at_the_85_boundary():
    # Raw 85.11 (> 85) rounds to 85, which is NOT > 85: the rounding makes this a non-match.
    a = "abcdefghijklmnopqrstuvw"
    b = "abXdefghiYklmnopqrZtuvwQ"  # 3 substitutions + 1 insertion: indel distance 7 of 47
    raw = fuzz.token_set_ratio(a, b)
    assert 85 < raw < 85.5
    assert token_set_ratio(a, b) == 85
    assert not fuzzy_match(a, b)
    # Raw 85.71 rounds up to 86 and matches.
    assert 85.5 < fuzz.token_set_ratio("abc", "abcd") < 86
    assert token_set_ratio("abc", "abcd") == 86
    assert fuzzy_match("abc", "abcd")


def test_normalize_color_takes_first_listed_colour_substring():
    assert normalize_color("navy blue") == "blue"  # "blue" precedes "navy" in the list
    assert normalize_color("light blue stripe") == "blue"
    assert normalize_color("black") == "black"
    assert normalize_color("x-large") == "x-large"
    assert normalize_color("standard") == "tan"  # substring, not word: WebShop's quirk too
    assert list(rw.COLOR_WORDS) == sorted(rw.COLOR_WORDS)


def test_colour_list_is_webshops():
    # WebShop's COLOR_SET (web_agent_site/engine/normalize.py): 102 words, alphabetical.
    assert len(rw.COLOR_WORDS) == len(set(rw.COLOR_WORDS)) == 102
    assert rw.COLOR_WORDS[:4] == ("alabaster", "apricot", "aqua", "ash")
    assert rw.COLOR_WORDS[-3:] == ("white", "wine", "yellow")
    # Its substring-and-order quirks, kept on purpose: they are what published scores used.
    assert normalize_color("dark grey") == "dark"
    assert normalize_color("light grey") == "grey"
    assert normalize_color("dark wash") == normalize_color("stonewash") == "ash"
    assert option_values_match("dark wash", "light wash")
    assert not option_values_match("dark grey", "light grey")


# ---- type reward ----

@pytest.mark.parametrize(("p_fields", "g_fields", "expected"), [
    # query match, full noun overlap
    ({}, {}, (1.0, True, True, 1.0)),
    # nothing matches but title_score 0.5 > 0.2
    ({"query": "q1", "product_category": "X › Y", "title_nouns": ("a", "z")},
     {"title_nouns": ("a", "b")}, (1.0, False, False, 0.5)),
    # title_score exactly 0.2 is not > 0.2: 0.5
    ({"query": "q1", "product_category": "X › Y", "title_nouns": ("a",)},
     {"title_nouns": ("a", "b", "c", "d", "e")}, (0.5, False, False, 0.2)),
    # category matches but title_score 0.05 < 0.1: 0.1
    ({"query": "q1", "title_nouns": ("a",)},
     {"title_nouns": tuple("abcdefghijklmnopqrst")}, (0.1, False, True, 0.05)),
    # query AND category match, zero noun overlap: the cascade ends at 0
    ({"title_nouns": ("z",)}, {"title_nouns": ("a", "b")}, (0.0, True, True, 0.0)),
    # goal without nouns: title_score 0.2, r_type 1 with a category match ...
    ({"query": "q1"}, {"title_nouns": ()}, (1.0, False, True, 0.2)),
    # ... and 0.5 without one
    ({"query": "q1", "product_category": "X"}, {"title_nouns": ()}, (0.5, False, False, 0.2)),
])
def test_type_reward_cascade(p_fields, g_fields, expected):
    assert type_reward(product(**p_fields), goal(**g_fields)) == expected


def test_title_score_divides_by_goal_noun_list_with_duplicates():
    r = type_reward(product(title_nouns=("mug", "mug")), goal(title_nouns=("mug", "mug", "cup")))
    assert r[3] == pytest.approx(1 / 3)


@pytest.mark.parametrize(("mine", "theirs", "match"), [
    ("A › B › C", "C › B › X", True),  # order ignored
    ("A›B", " B ›  A ", True),  # whitespace around levels stripped
    ("A › A › B", "A › A › C", False),  # duplicates count once: one shared level
    ("A › B", "A › C", False),
])
def test_category_match_needs_two_shared_levels(mine, theirs, match):
    p = product(query="other", product_category=mine)
    assert type_reward(p, goal(product_category=theirs))[2] is match


# ---- attributes ----

def test_attribute_fuzzy_then_substring():
    p = product(title="Dishwasher SAFE Mug", bullet_points=("Holds Tea",),
                description="Made of BONE china.", attributes=("essential oils",))
    wanted = ("essential oil", "dishwasher safe", "holds tea", "bone china", "glass")
    assert attribute_reward(p, goal(attributes=wanted)) == (4 / 5, 4)
    assert attribute_reward(p, goal(attributes=())) == (None, 0)


# ---- options ----

def test_option_value_matching_and_its_upstream_tuple_variant():
    wanted = (("size", "large"),)
    assert option_reward(["x-large"], wanted) == (1.0, 1)  # token subset: 100
    assert option_reward(["x-large"], wanted, option_match="tuple") == (0.0, 0)  # 83
    assert option_reward(["large"], wanted, option_match="tuple") == (1.0, 1)
    # tuple mode: normalize_color sees the tuple, so only an exact colour word normalises
    assert option_reward(["black"], (("color", "black"),), option_match="tuple") == (1.0, 1)
    assert option_reward(["navy blue"], (("color", "navy blue"),),
                         option_match="tuple") == (1.0, 1)
    with pytest.raises(ValueError, match="option_match"):
        option_reward(["x"], wanted, option_match="name")


def test_option_colours_normalised_on_both_sides():
    assert option_reward(["light blue"], (("color", "navy blue"),)) == (1.0, 1)
    assert option_reward(["black", "15 oz"], (("color", "white"), ("size", "11 oz"))) == (0.0, 0)
    assert option_reward([], (("color", "white"),)) == (0.0, 0)
    assert option_reward(["white"], ()) == (None, 0)
    assert option_values_match("navy blue", "light blue")
    assert not option_values_match("11 oz", "15 oz")


# ---- total ----

def test_worked_example_half():
    # 2 attributes, 1 option; category match with title_score 1/8; one attribute, no option.
    p = product(query="other", title_nouns=("n1",), attributes=("vegan",),
                options={"color": ("red", "black")})
    g = goal(attributes=("vegan", "long lasting"), goal_options=(("color", "black"),),
             title_nouns=tuple(f"n{i}" for i in range(1, 9)))
    info = compute_reward(p, g, {"color": "red"})
    assert (info.r_type, info.category_match, info.query_match) == (1.0, True, False)
    assert info.title_score == 0.125
    assert (info.r_att, info.r_option, info.r_price) == (0.5, 0.0, True)
    assert (info.w_att, info.w_option, info.w_price) == (0.5, 0.25, 0.25)
    assert info.total == 0.5


def test_worked_example_third():
    g = goal(attributes=("vegan",), goal_options=(("color", "black"),))
    info = compute_reward(product(), g, {"color": "red"})
    assert (info.r_type, info.r_att, info.r_option, info.r_price) == (1.0, 0.0, 0.0, True)
    assert info.total == pytest.approx(1 / 3)


def test_perfect_purchase_is_exactly_one_and_price_bound_is_inclusive():
    p = product(attributes=("vegan", "organic"), options={"size": ("s", "m")}, price=20.0)
    g = goal(attributes=("vegan", "organic"), goal_options=(("size", "m"),), price_upper=20.0)
    assert compute_reward(p, g, {"size": "m"}).total == 1.0
    over = compute_reward(dataclasses.replace(p, price=20.01), g, {"size": "m"})
    assert over.r_price is False
    assert over.total == 0.75


def test_group_names_of_bought_options_are_ignored():
    p = product(attributes=("x",), options={"size": ("m",)})
    g = goal(goal_options=(("size", "m"),))
    assert compute_reward(p, g, {"anything": "m"}).total == 1.0


def test_zero_noun_overlap_zeroes_everything():
    p = product(title_nouns=("other",))
    info = compute_reward(p, goal(), {})
    assert (info.category_match, info.r_att, info.r_price) == (True, 0.0, True)
    assert info.r_type == 0.0
    assert info.total == 0.0
    assert set(info.as_dict()) == {f.name for f in dataclasses.fields(info)}


@pytest.mark.parametrize(
    ("n_goal_nouns", "matches", "expected"),
    [
        (10, True, 1.0),  # title_score == 0.1 exactly: not < 0.1, so the type factor stays 1
        (11, True, 0.1),  # 1/11 < 0.1
        (10, False, 0.5),  # 0.1, nothing matches: 0.5, not 0.1
        (11, False, 0.1),  # the < 0.1 rule comes after the 0.5 rule and overrides it
        (5, False, 0.5),  # title_score == 0.2 exactly does not count as a match (> 0.2)
        (4, False, 1.0),  # 0.25 > 0.2: a title match
    ],
)
def test_type_reward_at_the_title_score_boundaries(n_goal_nouns, matches, expected):
    nouns = tuple(f"n{i}" for i in range(n_goal_nouns))
    p = product(title_nouns=("n0", "other"),
                **({} if matches else {"query": "else", "product_category": "X › Y › Z"}))
    g = goal(title_nouns=nouns)
    r_type, query_match, category_match, title_score = type_reward(p, g)
    assert title_score == 1 / n_goal_nouns
    assert (query_match or category_match) is matches
    assert r_type == expected
    assert compute_reward(p, g, {}).r_type == expected


def test_query_match_is_string_equality():
    # Equal queries built separately (not the same object) match; an unequal query that sorts
    # after the goal's does not.
    no_category = {"product_category": "X › Y › Z", "title_nouns": ("n0",)}
    g = goal(query="".join(["thi", "ngs"]), title_nouns=tuple(f"n{i}" for i in range(5)))
    same = product(query="".join(["thin", "gs"]), **no_category)
    assert same.query is not g.query
    assert type_reward(same, g)[:2] == (1.0, True)
    later = product(query="zzz", **no_category)
    assert type_reward(later, g)[:2] == (0.5, False)


def test_option_and_compute_reward_take_their_settings_by_keyword_only():
    with pytest.raises(TypeError):
        option_reward(["white"], (("color", "white"),), "value")  # option_match is keyword-only
    assert option_reward(bought_values=["white"], goal_options=(("color", "white"),)) == (1.0, 1)
    p, g = product(), goal()
    assert compute_reward(product=p, goal=g, options={}).total == compute_reward(p, g, {}).total
