"""Shopping goals: instructions written from a product, with WebShop's budget rule and splits.

WebShop (Yao et al., "WebShop: Towards Scalable Real-World Web Interaction with Grounded Language
Agents", NeurIPS 2022) writes each goal from one product: a subset of its annotated attributes,
a choice of its option values and a budget. Synthetic goals follow the template "Find me {PROP}
{query} with {ITEM} for {USE} with color: x, and size: y, and price lower than N.00 dollars" and
are weighted by the mean inverse frequency of their attributes; crowd-written ("human") goals are
free text with weight 1. The budget picks ``max`` of two random values among the first four
multiples of 10 above the price (``PRICE_RANGE = 10, 20, ..., 990``), or no budget (``1e6``, no
price text) when fewer than two exist. WebShop draws that from the unseeded global ``random``;
here one seeded generator drives everything, so goals are reproducible.

This module builds such goals over a generated catalogue (1-3 per product, 1-4 attributes each;
synthetic style: one value for every option group; human style: about 20 lower-case paraphrase
templates naming 0-2 option groups) and splits them after a seeded shuffle: test = first 10%,
eval = next 10%, train = the rest.

Every goal is achievable and findable: its product has all goal attributes (the reward's
substring rule included), offers every goal option and costs at most the budget, and it is among
the top 50 BM25 hits of :func:`oracle_query` (the instruction without its price clause). A draw
that fails the search check is redrawn up to ``max_tries`` times, then dropped
(:attr:`GoalSet.n_dropped` counts them).

Contract enforced by ``tests/envs/shopping/test_goals.py``: every goal passes both checks;
splits are disjoint, sized 10/10/80 and deterministic; the budget rule; both instruction styles;
weights; and that "buy the first result of the oracle query" misses the exact target often
(hard negatives).
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import random
import re
from collections.abc import Iterable, Sequence

import numpy as np

from rewardgym.envs.shopping.catalogue import ITEM, PROP, USE, attribute_kind, product_type
from rewardgym.envs.shopping.schema import Catalogue, Goal, Product
from rewardgym.envs.shopping.search import BM25Index, index_for

PRICE_RANGE: tuple[int, ...] = tuple(range(10, 1000, 10))
NO_BUDGET = 1e6
STYLES = ("synthetic", "human", "mixed")
SPLITS = ("train", "eval", "test")
SEARCH_DEPTH = 50  # WebShop's SEARCH_RETURN_N: results beyond it cannot be reached
# WebShop's own split of real goals (see GoalSet.webshop_split).
WEBSHOP_SHUFFLE_SEED = 233
WEBSHOP_N_TEST = 500
WEBSHOP_N_EVAL = 1000

_PRICE_CLAUSE = re.compile(r",? and price lower than \d+(?:\.\d+)? dollars\s*$")

# Human-style framings (lower case, as in WebShop's crowd-sourced instructions).
_HUMAN_TEMPLATES = (
    "i'm looking for {np}{rest}{opts}",
    "i need {np}{rest}{opts}",
    "i want to buy {np}{rest}{opts}",
    "find me {np}{rest}{opts}",
    "can you find me {np}{rest}{opts}",
    "i am searching for {np}{rest}{opts}",
    "please get me {np}{rest}{opts}",
    "i would like {np}{rest}{opts}",
    "help me find {np}{rest}{opts}",
    "i'm shopping for {np}{rest}{opts}",
    "looking for {np}{rest}{opts}",
    "get me {np}{rest}{opts}",
    "i want {np}{rest}{opts}",
    "i need to order {np}{rest}{opts}",
    "buy me {np}{rest}{opts}",
    "my {who} needs {np}{rest}{opts}",
    "i'd love {np}{rest}{opts}",
    "searching for {np}{rest}{opts}",
    "i'm in the market for {np}{rest}{opts}",
    "i am hoping to find {np}{rest}{opts}",
    "show me {np}{rest}{opts}",
)
_WHO = ("wife", "husband", "mom", "dad", "sister", "brother", "friend", "roommate")
_OPTION_PHRASES = {
    "color": ("in {v}", "in {v} color", "color {v}"),
    "size": ("in size {v}", "size {v}", "in {v} size"),
    "count": ("{v}", "in a {v}"),
    "flavor": ("{v} flavor", "in {v} flavor", "flavor {v}"),
    "scent": ("{v} scent", "in {v} scent"),
    "style": ("in {v} style", "style {v}", "{v} style"),
}
_OPTION_CONNECTORS = (" ", ", ", ", preferably ")


def price_upper_for(price: float, rng: random.Random) -> tuple[float, str]:
    """WebShop's budget rule: the larger of two of the first four tens above ``price``.

    Args:
        price: the product's effective price in dollars.
        rng: the seeded generator to draw with.

    Returns:
        ``(price_upper, price_text)``; ``(1e6, "")`` when fewer than two tens lie above the
        price (at 980 dollars and more).

    Example:
        >>> upper, text = price_upper_for(23.5, random.Random(0))
        >>> upper in (40.0, 50.0, 60.0), text == f", and price lower than {upper:.2f} dollars"
        (True, True)
    """
    candidates = [p for p in PRICE_RANGE if p > price][:4]
    if len(candidates) < 2:
        return NO_BUDGET, ""
    upper = float(max(rng.sample(candidates, 2)))
    return upper, f", and price lower than {upper:.2f} dollars"


def oracle_query(goal: Goal) -> str:
    """The instruction without its price clause: what an oracle types into the search box."""
    return _PRICE_CLAUSE.sub("", goal.instruction_text).strip()


def _product_text(product: Product) -> str:
    return " ".join((product.title, " ".join(product.bullet_points),
                     product.description)).lower()


def product_satisfies(product: Product, goal: Goal) -> bool:
    """Whether buying ``product`` with the goal's options can meet ``goal`` exactly.

    Exact (not fuzzy) versions of the reward's three tests: every goal attribute is one of the
    product's attributes or a substring of its title, bullets or description; every goal
    option value is offered in that group (in any group when the group is ``""``, as for
    imported human goals); the price is within budget. The product type is not checked.
    """
    text = _product_text(product)
    if not all(a in product.attributes or a in text for a in goal.attributes):
        return False
    for group, value in goal.goal_options:
        offered = (product.options.get(group, ()) if group
                   else [v for vs in product.options.values() for v in vs])
        if value not in offered:
            return False
    return product.price <= goal.price_upper


@dataclasses.dataclass(frozen=True)
class GoalSet:
    """Goals in a fixed order: test first, then eval, then train.

    Attributes:
        all: every goal, test split first.
        n_test: size of the test split.
        n_eval: size of the eval split.
        n_dropped: draws given up because the target was not in the oracle query's top 50.

    Example:
        >>> from rewardgym.envs.shopping.catalogue import generate_catalogue
        >>> goals = generate_goals(generate_catalogue(500, seed=0), seed=0)
        >>> sum(len(goals.split(name)) for name in SPLITS) == len(goals)
        True
        >>> goals.split("test")[0].instruction_text == goals.all[0].instruction_text
        True
    """

    all: tuple[Goal, ...]
    n_test: int
    n_eval: int
    n_dropped: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.n_test + self.n_eval <= len(self.all) or min(self.n_test,
                                                                     self.n_eval) < 0:
            raise ValueError(f"GoalSet: n_test={self.n_test} and n_eval={self.n_eval} do not "
                             f"fit {len(self.all)} goals")

    @classmethod
    def from_goals(cls, goals: Iterable[Goal], seed: int, n_dropped: int = 0) -> GoalSet:
        """Shuffle ``goals`` with ``seed``, fill in weights and cut 10% test, 10% eval."""
        shuffled = list(_with_weights(list(goals)))
        random.Random(f"rewardgym.shopping.splits:{seed}").shuffle(shuffled)
        n = len(shuffled)
        n_held = n // 10 if n >= 30 else min(1, n // 3)  # tiny sets keep one test, one eval
        return cls(all=tuple(shuffled), n_test=n_held, n_eval=n_held, n_dropped=n_dropped)

    @classmethod
    def webshop_split(cls, goals: Iterable[Goal], n_dropped: int = 0) -> GoalSet:
        """WebShop's split of its real goals: test = first 500, eval = next 1,000, train = rest.

        The goals, in the order WebShop builds them, are shuffled exactly as its ``SimServer``
        does (``random.seed(233); random.shuffle(self.goals)``,
        ``web_agent_site/envs/web_agent_text_env.py`` lines 306-307 at princeton-nlp/WebShop
        ``64fa2a5``): a Mersenne Twister seeded with 233 and one ``shuffle``, so the same goal
        lands at the same index, and the cut is the baselines' (``baseline_models/env.py`` lines
        28-33: ``range(500)``, ``range(500, 1500)``, ``range(1500, len(goals))``). With 1,500
        goals or fewer, train is empty and eval may be (the baselines then use every goal for
        every split, which this layout cannot express and held-out numbers should not do).

        Example:
            >>> from rewardgym.envs.shopping.catalogue import generate_catalogue
            >>> goals = generate_goals(generate_catalogue(500, seed=0), seed=0)
            >>> split = GoalSet.webshop_split(goals.all)
            >>> len(split.split("test")), len(split.split("eval")), len(split.split("train"))
            (500, 499, 0)
        """
        ordered = list(_with_weights(list(goals)))
        random.Random(WEBSHOP_SHUFFLE_SEED).shuffle(ordered)
        n_test = min(WEBSHOP_N_TEST, len(ordered))
        n_eval = min(WEBSHOP_N_EVAL, len(ordered) - n_test)
        return cls(all=tuple(ordered), n_test=n_test, n_eval=n_eval, n_dropped=n_dropped)

    def __len__(self) -> int:
        return len(self.all)

    @functools.cached_property
    def _splits(self) -> dict[str, tuple[Goal, ...]]:
        cut = self.n_test + self.n_eval
        return {"test": self.all[:self.n_test], "eval": self.all[self.n_test:cut],
                "train": self.all[cut:]}

    def split(self, name: str) -> tuple[Goal, ...]:
        """The goals of split ``name`` (``"train"``, ``"eval"`` or ``"test"``)."""
        try:
            return self._splits[name]
        except KeyError:
            raise ValueError(f"GoalSet.split: name must be one of {SPLITS}, "
                             f"got {name!r}") from None

    def weights(self, name: str) -> np.ndarray:
        """Sampling weights of split ``name``, in split order (WebShop draws goals by them)."""
        return np.array([g.weight for g in self.split(name)], dtype=np.float64)


def _with_weights(goals: Sequence[Goal]) -> Iterable[Goal]:
    """Synthetic goals get the mean inverse frequency of their attributes, as in WebShop."""
    counts = collections.Counter(a for g in goals for a in g.attributes)
    for g in goals:
        if g.style == "synthetic" and g.attributes:
            w = sum(1.0 / counts[a] for a in g.attributes) / len(g.attributes)
            yield dataclasses.replace(g, weight=w)
        else:
            yield dataclasses.replace(g, weight=1.0)


def _by_kind(product: Product, attributes: Sequence[str]) -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {ITEM: [], PROP: [], USE: []}
    for a in attributes:
        kinds[attribute_kind(product, a)].append(a)
    return kinds


def synthetic_instruction(product: Product, attributes: Sequence[str],
                          options: Sequence[tuple[str, str]]) -> str:
    """WebShop's template, without the price clause.

    Example:
        >>> p = Product(asin="B000000001", title="Kaloa Sofa", description="", bullet_points=(),
        ...             attributes=("easy assembly", "solid wood frame", "living room"),
        ...             options={"color": ("beige", "navy blue")}, price=420.0,
        ...             price_text="$420.00", category="garden", query="sofas and couches",
        ...             product_category="", title_nouns=("sofa",))
        >>> synthetic_instruction(p, p.attributes, [])
        'Find me easy assembly sofas and couches with solid wood frame for living room'
        >>> synthetic_instruction(p, p.attributes[:1], [("color", "navy blue")])
        'Find me easy assembly sofas and couches with color: navy blue'
    """
    kinds = _by_kind(product, attributes)
    text = "Find me"
    if kinds[PROP]:
        text += " " + ", ".join(kinds[PROP])
    text += " " + product.query
    if kinds[ITEM]:
        text += " with " + ", ".join(kinds[ITEM])
    if kinds[USE]:
        text += " for " + ", ".join(kinds[USE])
    if options:
        text += " with " + ", and ".join(f"{g}: {v}" for g, v in options)
    return text


def _noun_phrase(product: Product) -> str:
    ptype = product_type(product.query)
    return ptype.nouns[0] if ptype is not None else " ".join(product.title_nouns)


def human_instruction(product: Product, attributes: Sequence[str],
                      options: Sequence[tuple[str, str]], rng: random.Random) -> str:
    """A lower-case paraphrase naming every goal attribute and option value, no price clause."""
    kinds = _by_kind(product, attributes)
    noun = _noun_phrase(product)
    adjectives = " and ".join(kinds[PROP])
    head = f"{adjectives} {noun}".strip()
    article = "" if noun.endswith("s") else ("an " if head[0] in "aeiou" else "a ")
    parts = []
    if kinds[ITEM]:
        parts.append(" with " + " and ".join(kinds[ITEM]))
    if kinds[USE]:
        parts.append(" for " + " and ".join(kinds[USE]))
    rng.shuffle(parts)
    opts = ""
    if options:
        phrases = [rng.choice(_OPTION_PHRASES.get(g, ("{g} {v}",))).format(g=g, v=v)
                   for g, v in options]
        opts = rng.choice(_OPTION_CONNECTORS) + rng.choice((" and ", ", ")).join(phrases)
    text = rng.choice(_HUMAN_TEMPLATES).format(np=article + head, rest="".join(parts),
                                               opts=opts, who=rng.choice(_WHO))
    return " ".join(text.lower().split())


def _draw_goal(product: Product, style: str, rng: random.Random) -> Goal:
    if style == "mixed":
        style = rng.choice(("synthetic", "human"))
    attrs = product.attributes
    keep = set(rng.sample(range(len(attrs)), rng.randint(1, min(4, len(attrs)))))
    attributes = tuple(a for i, a in enumerate(attrs) if i in keep)
    groups = list(product.options)
    if style == "human":
        chosen = set(rng.sample(groups, rng.randint(0, min(2, len(groups)))))
        groups = [g for g in groups if g in chosen]
    options = tuple((g, rng.choice(product.options[g])) for g in groups)
    price_upper, price_text = price_upper_for(product.price, rng)
    text = (synthetic_instruction(product, attributes, options) if style == "synthetic"
            else human_instruction(product, attributes, options, rng))
    return Goal(asin=product.asin, instruction_text=text + price_text, attributes=attributes,
                goal_options=options, price_upper=price_upper, query=product.query,
                category=product.category, product_category=product.product_category,
                name=product.title, title_nouns=product.title_nouns, style=style)


def is_findable(index: BM25Index, product_index: int, goal: Goal,
                depth: int = SEARCH_DEPTH) -> bool:
    """Whether the goal's product is in the top ``depth`` hits of its :func:`oracle_query`."""
    return product_index in index.search(oracle_query(goal), depth)


def generate_goals(catalogue: Catalogue, seed: int = 0, style: str = "mixed", *,
                   max_goals: int | None = None, max_tries: int = 4) -> GoalSet:
    """Write 1-3 goals per product with attributes and split them 10/10/80.

    Args:
        catalogue: the products (its BM25 index is built or reused via ``index_for``).
        seed: drives every choice (attributes, options, budget, template, split shuffle).
        style: ``"synthetic"``, ``"human"`` or ``"mixed"`` (each goal picks one at random).
        max_goals: stop after this many goals, taking products in a seeded random order
            (useful for 100k catalogues, where checking every goal's search takes minutes).
        max_tries: draws per goal before it is dropped for not being findable.

    Returns:
        The goals; every one is satisfiable by and findable for its product.
    """
    if style not in STYLES:
        raise ValueError(f"generate_goals: style must be one of {STYLES}, got {style!r}")
    if max_goals is not None and max_goals < 1:
        raise ValueError(f"generate_goals: max_goals must be >= 1 or None, got {max_goals!r}")
    if max_tries < 1:
        raise ValueError(f"generate_goals: max_tries must be >= 1, got {max_tries!r}")
    rng = random.Random(seed)
    index = index_for(catalogue)
    order: Sequence[int] = range(len(catalogue))
    if max_goals is not None:
        order = rng.sample(range(len(catalogue)), len(catalogue))
    goals: list[Goal] = []
    seen: set[tuple[str, str]] = set()
    dropped = 0
    for i in order:
        product = catalogue.products[i]
        if not product.attributes:
            continue
        for _ in range(rng.randint(1, 3)):
            for _ in range(max_tries):
                goal = _draw_goal(product, style, rng)
                if product_satisfies(product, goal) and is_findable(index, i, goal):
                    break
            else:
                dropped += 1
                continue
            if (goal.asin, goal.instruction_text) not in seen:
                seen.add((goal.asin, goal.instruction_text))
                goals.append(goal)
        if max_goals is not None and len(goals) >= max_goals:
            goals = goals[:max_goals]
            break
    return GoalSet.from_goals(goals, seed, n_dropped=dropped)
