"""WebShop's purchase reward, re-implemented offline (no spaCy, no thefuzz).

The formula is WebShop's (Yao et al., "WebShop: Towards Scalable Real-World Web Interaction with
Grounded Language Agents", NeurIPS 2022; ``web_agent_site/engine/goal.py::get_reward``)::

    R = r_type * (n_att + n_opt + [price <= price_upper]) / (|goal attributes| + |goal options| + 1)

* ``r_type`` (:func:`type_reward`): ``query_match`` (same scrape query), ``category_match`` (the
  two breadcrumbs, split on ``›`` and stripped, share at least two levels as sets) and
  ``title_score`` (shared title nouns over the number of goal nouns, 0.2 when the goal has none).
  Then, in this order: 1.0; 0.5 if none of the three matches (``title_score > 0.2`` counts);
  0.1 if ``title_score < 0.1``; 0.0 if ``title_score == 0``. So zero noun overlap zeroes the
  reward even when the category matches.
* attributes (:func:`attribute_reward`): a goal attribute matches if some product attribute has
  :func:`token_set_ratio` > 85, else if it is a substring of the lower-cased title, the joined
  bullet points or the description.
* options (:func:`option_reward`): :func:`normalize_color` on both sides, then a goal option
  matches if some bought option value has :func:`token_set_ratio` > 85.
* price: the bought product's effective price ``<= price_upper``.

Fuzzy matching reproduces ``thefuzz`` 0.22 (which wraps rapidfuzz): both strings go through
``full_process`` (``str()``, drop code points 128-255, lower-case, non-alphanumerics to spaces,
strip), then ``int(round(rapidfuzz.fuzz.token_set_ratio(a, b)))``. The rounding is part of the
contract: 85.5 rounds to 86 and matches, 85.4 rounds to 85 and does not. Upstream pinned
thefuzz 0.19 (pre-rapidfuzz), so scores right at the boundary may differ from old logs.

Title nouns come from the data (``Product.title_nouns``/``Goal.title_nouns``) instead of a spaCy
parse, so ``title_score`` is exact for the generated catalogue and approximate for imported data.

Option matching on values (the one deliberate choice). Upstream synthetic goals keep options as
a dict and pass ``goal_options.items()``, so each goal option is a ``(name, value)`` tuple that
thefuzz ``str()``-s into ``"('size', 'large')"``: the group name becomes an extra token (and
``normalize_color`` tests tuple *membership*, i.e. equality with the name or the value). Human
goals upstream pass plain value strings. We match on the value string for every goal
(``option_match="value"``, the default): bare values are what a human goal states and what the
agent clicks. The difference shows on subset matches: with values, ``"large"`` matches
``"x-large"`` (token subset, score 100); with the tuple, ``"size large"`` vs ``"x large"`` scores
83 and does not. ``option_match="tuple"`` reproduces the synthetic-goal quirk for comparisons.

Contract enforced by ``tests/envs/shopping/test_reward.py``: the behaviours above, both worked
examples from logged WebShop sessions (R = 0.5 and R = 1/3), plural/subset fuzzy matches,
breadcrumb order and duplicates, and the rounding at the 85 boundary.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from rewardgym.envs.shopping.schema import Goal, Product

FUZZY_THRESHOLD = 85
"""A fuzzy match needs a (rounded) token-set ratio strictly above this."""

NO_NOUN_TITLE_SCORE = 0.2
"""``title_score`` when the goal title has no nouns (WebShop's value)."""

# WebShop's colour list (princeton-nlp/WebShop ``web_agent_site/engine/normalize.py`` lines 4-19,
# ``COLOR_SET``; MIT), the same words in the same order, so option matching on real WebShop data
# scores as upstream does. Order matters: normalize_color returns the FIRST listed word that occurs
# as a substring, so "navy blue" -> "blue", "dark grey" -> "dark", "light grey" -> "grey", and
# every "... wash" denim shade -> "ash" (upstream's quirks, kept; see docs/fidelity.md).
COLOR_WORDS: tuple[str, ...] = (
    "alabaster", "apricot", "aqua", "ash", "asphalt", "azure", "banana", "beige", "black",
    "blue", "blush", "bordeaux", "bronze", "brown", "burgundy", "camel", "camo", "caramel",
    "champagne", "charcoal", "cheetah", "chestnut", "chocolate", "christmas", "coffee", "cognac",
    "copper", "coral", "cranberry", "cream", "crystal", "dark", "denim", "eggplant", "elephant",
    "espresso", "fuchsia", "gold", "granite", "grape", "graphite", "grass", "gray", "green",
    "grey", "heather", "indigo", "ivory", "ivy", "khaki", "lavender", "lemon", "leopard", "light",
    "lilac", "lime", "magenta", "maroon", "mauve", "merlot", "midnight", "mint", "mocha",
    "multicolor", "mushroom", "mustard", "natural", "navy", "nude", "olive", "orange", "peach",
    "pewter", "pink", "plum", "purple", "rainbow", "red", "rose", "royal", "rust", "sand",
    "sapphire", "seashell", "silver", "skull", "slate", "steel", "stone", "stonewash",
    "sunflower", "tan", "taupe", "teal", "tiger", "turquoise", "violet", "walnut", "wheat",
    "white", "wine", "yellow",
)

_HIGH_LATIN1 = {i: None for i in range(128, 256)}
"""thefuzz's ``force_ascii``: deletes code points 128-255 (and only those)."""

OptionMatch = Literal["value", "tuple"]


@dataclasses.dataclass(frozen=True)
class RewardInfo:
    """Every term of one purchase's WebShop reward.

    Attributes:
        r_type: product-type factor in {0, 0.1, 0.5, 1}.
        r_att: fraction of goal attributes matched (``None`` if the goal has none; upstream
            would divide by zero there).
        w_att: weight of the attribute term, ``|A| / (|A| + |O| + 1)``.
        r_option: fraction of goal options matched (``None`` if the goal has none).
        w_option: weight of the option term, ``|O| / (|A| + |O| + 1)``.
        r_price: whether the price is within the budget.
        w_price: weight of the price term, ``1 / (|A| + |O| + 1)``.
        query_match: same scrape query as the goal.
        category_match: breadcrumbs share at least two levels.
        title_score: shared title nouns over the goal's noun count.
        total: the reward ``R`` in [0, 1].

    Example:
        >>> info = RewardInfo(r_type=1.0, r_att=0.5, w_att=0.5, r_option=0.0, w_option=0.25,
        ...                   r_price=True, w_price=0.25, query_match=False,
        ...                   category_match=True, title_score=0.125, total=0.5)
        >>> info.total, info.r_type * (info.r_att * info.w_att + info.w_price)
        (0.5, 0.5)
    """

    r_type: float
    r_att: float | None
    w_att: float
    r_option: float | None
    w_option: float
    r_price: bool
    w_price: float
    query_match: bool
    category_match: bool
    title_score: float
    total: float

    def as_dict(self) -> dict[str, float | bool | None]:
        """The terms as a plain dict (what the env puts in ``info["reward_info"]``)."""
        return dataclasses.asdict(self)


def full_process(s: object) -> str:
    """Process like thefuzz's ``full_process(s, force_ascii=True)``.

    ``str()``, delete code points 128-255, lower-case, non-alphanumerics to spaces, strip.
    """
    return default_process(str(s).translate(_HIGH_LATIN1))


def token_set_ratio(a: object, b: object) -> int:
    """``thefuzz.fuzz.token_set_ratio`` (0.22): processed strings, rounded to an int.

    Example:
        >>> token_set_ratio("essential oil", "Essential Oils!"), token_set_ratio("a", "b")
        (96, 0)
    """
    # round() is Python's (half to even), exactly as thefuzz applies it.
    return round(fuzz.token_set_ratio(full_process(a), full_process(b)))


def fuzzy_match(a: object, b: object) -> bool:
    """Whether WebShop counts ``a`` and ``b`` as the same attribute or option (ratio > 85)."""
    return token_set_ratio(a, b) > FUZZY_THRESHOLD


def normalize_color(text: str) -> str:
    """The first word of :data:`COLOR_WORDS` contained in ``text`` as a substring, else ``text``.

    Substring, not word, matching is WebShop's: ``"navy blue"`` and ``"light blue"`` both become
    ``"blue"``, and so does anything containing ``"blue"``.

    Example:
        >>> normalize_color("navy blue stripe"), normalize_color("x-large")
        ('blue', 'x-large')
    """
    for color in COLOR_WORDS:
        if color in text:
            return color
    return text


def option_values_match(goal_value: str, bought_value: str) -> bool:
    """Whether buying ``bought_value`` satisfies a goal option ``goal_value`` (value matching).

    Catalogue builders can use this to make sure sibling products' option values are really
    told apart by the reward (``"large"`` vs ``"x-large"`` are not).
    """
    return fuzzy_match(normalize_color(bought_value), normalize_color(goal_value))


def _breadcrumb_levels(product_category: str) -> set[str]:
    return {level.strip() for level in product_category.split("›")}


def type_reward(product: Product, goal: Goal) -> tuple[float, bool, bool, float]:
    """``(r_type, query_match, category_match, title_score)`` of buying ``product`` for ``goal``."""
    query_match = product.query == goal.query
    shared = _breadcrumb_levels(product.product_category) & _breadcrumb_levels(
        goal.product_category)
    category_match = len(shared) >= 2
    if goal.title_nouns:
        # Divide by the goal's noun LIST length (duplicates count), intersect as sets: upstream.
        common = set(product.title_nouns) & set(goal.title_nouns)
        title_score = len(common) / len(goal.title_nouns)
    else:
        title_score = NO_NOUN_TITLE_SCORE
    r_type = 1.0
    if not (query_match or category_match or title_score > 0.2):
        r_type = 0.5
    # The next two overwrite the previous value: the cascade order is the spec.
    if title_score < 0.1:
        r_type = 0.1
    if title_score == 0.0:
        r_type = 0.0
    return r_type, query_match, category_match, title_score


def attribute_reward(product: Product, goal: Goal) -> tuple[float | None, int]:
    """``(r_att, n_matched)``: fuzzy match against attributes, else substring of the texts."""
    title = product.title.lower()
    bullets = " ".join(product.bullet_points).lower()
    description = product.description.lower()
    matched = 0
    for wanted in goal.attributes:
        if any(fuzzy_match(have, wanted) for have in product.attributes) or (
                # Upstream does not lower-case the goal attribute here (they are lower case).
                wanted in title or wanted in bullets or wanted in description):
            matched += 1
    r_att = matched / len(goal.attributes) if goal.attributes else None
    return r_att, matched


def _normalize_goal_option(group: str, value: str, option_match: OptionMatch) -> str:
    if option_match == "value":
        return normalize_color(value)
    # Upstream's synthetic goals: `color in (group, value)` is tuple membership (equality), and
    # an unmatched tuple reaches thefuzz, which str()-s it.
    for color in COLOR_WORDS:
        if color in (group, value):
            return color
    return str((group, value))


def option_reward(bought_values: Iterable[str], goal_options: Sequence[tuple[str, str]], *,
                  option_match: OptionMatch = "value") -> tuple[float | None, int]:
    """``(r_option, n_matched)`` for the chosen option values against ``(group, value)`` goals.

    Args:
        bought_values: the values of the options selected at purchase (group names unused,
            as upstream passes ``list(options.values())``).
        goal_options: the goal's ``(group, value)`` pairs.
        option_match: ``"value"`` matches on the goal value (default, see the module
            docstring); ``"tuple"`` reproduces upstream synthetic goals' ``(name, value)``.

    Example:
        >>> option_reward(["x-large", "navy blue"], [("size", "large"), ("color", "blue")])
        (1.0, 2)
        >>> option_reward(["x-large"], [("size", "large")], option_match="tuple")
        (0.0, 0)
    """
    if option_match not in ("value", "tuple"):
        raise ValueError(f"option_match must be 'value' or 'tuple', got {option_match!r}")
    bought = [normalize_color(v) for v in bought_values]
    matched = 0
    for group, value in goal_options:
        wanted = _normalize_goal_option(group, value, option_match)
        if any(fuzzy_match(have, wanted) for have in bought):
            matched += 1
    r_option = matched / len(goal_options) if goal_options else None
    return r_option, matched


def compute_reward(product: Product, goal: Goal, options: Mapping[str, str], *,
                   option_match: OptionMatch = "value") -> RewardInfo:
    """WebShop's reward for buying ``product`` with ``options`` (group -> value) for ``goal``.

    Example:
        >>> from rewardgym.envs.shopping.schema import Goal, Product
        >>> mug = Product(asin="B000000001", title="Red Ceramic Mug", description="A mug.",
        ...               bullet_points=("dishwasher safe",), attributes=("dishwasher safe",),
        ...               options={"size": ("small", "large")}, price=9.0, price_text="$9.0",
        ...               category="garden", query="mugs",
        ...               product_category="Home › Kitchen › Mugs", title_nouns=("mug",))
        >>> goal = Goal(asin="B000000001", instruction_text="i want a dishwasher safe mug",
        ...             attributes=("dishwasher safe",), goal_options=(("size", "large"),),
        ...             price_upper=20.0, query="mugs", category="garden",
        ...             product_category="Home › Kitchen › Mugs", name="Red Ceramic Mug",
        ...             title_nouns=("mug",))
        >>> compute_reward(mug, goal, {"size": "large"}).total
        1.0
        >>> round(compute_reward(mug, goal, {"size": "small"}).total, 4)
        0.6667
    """
    r_type, query_match, category_match, title_score = type_reward(product, goal)
    r_att, n_att = attribute_reward(product, goal)
    r_option, n_opt = option_reward(options.values(), goal.goal_options,
                                    option_match=option_match)
    r_price = product.price <= goal.price_upper
    n_terms = len(goal.attributes) + len(goal.goal_options) + 1
    total = r_type * (n_att + n_opt + int(r_price)) / n_terms
    return RewardInfo(
        r_type=r_type, r_att=r_att, w_att=len(goal.attributes) / n_terms, r_option=r_option,
        w_option=len(goal.goal_options) / n_terms, r_price=r_price, w_price=1 / n_terms,
        query_match=query_match, category_match=category_match, title_score=title_score,
        total=total,
    )
