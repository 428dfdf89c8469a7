"""A seeded procedural product catalogue shaped like WebShop's scraped Amazon data.

WebShop (Yao et al., "WebShop: Towards Scalable Real-World Web Interaction with Grounded Language
Agents", NeurIPS 2022) ships 1.18M scraped products in five categories (beauty, electronics,
fashion, garden, grocery), each with a scrape ``query``, a breadcrumb, a title, bullet points, a
description, option groups, a price or price range and hand-annotated attributes (tagged ITEM,
PROP or USE) from which its instructions are written. We cannot ship that data, so this module
grows a catalogue with the same shape from a seed:

* a taxonomy of product types (:data:`TAXONOMY`), each with its query, a 4-level breadcrumb,
  type nouns, ITEM/PROP/USE attribute pools of multi-word phrases, option pools (colours with
  compounds such as "navy blue stripe", sizes, counts, flavours, styles) and a log-normal price
  model with bounds;
* products drawn in *sibling groups*: a base product plus variants that differ in exactly one
  attribute, one option group or the price (raised above any budget a goal on the base can
  state), rendered from the same text seed so their pages are near-identical. These are the
  hard negatives that make "buy the first search result" score well below 1;
* every hidden attribute appears verbatim (case aside) in the title, a bullet point or the
  description, and no other attribute of the product's type appears there, so the reward's
  substring rule sees exactly the attributes the product has;
* prices are drawn once from the seed (a range price gets its effective price drawn once too),
  ASINs are ``"B0"`` + 8 base-36 characters.

Contract enforced by ``tests/envs/shopping/test_catalogue.py``: same ``(n_products, seed)`` gives
a byte-identical catalogue (hash), different seeds differ; sizes, ASIN format and uniqueness;
attribute visibility (exactly the product's own pool attributes occur in its texts); option
counts 2-8 and 0-3 groups; price text matches price; sibling groups exist with one difference.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import random
from collections.abc import Iterator, Mapping

from rewardgym.envs.shopping.schema import Catalogue, Product, Review
from rewardgym.envs.shopping.taxonomy import (  # noqa: F401  (re-exported)
    CATEGORIES,
    ITEM,
    PROP,
    TAXONOMY,
    USE,
    OptionPool,
    ProductType,
    attribute_kind,
    product_type,
)

MAX_PRODUCTS = 200_000
_ASIN_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"



# --- text templates ---------------------------------------------------------------------------
# Neutral filler: it must not contain any attribute phrase (tests check), since the reward
# counts an attribute as present when it is a substring of the title, bullets or description.

_FILLERS: Mapping[str, tuple[str, ...]] = {
    "beauty": (
        "gentle enough for your morning and evening routine",
        "formulated and tested by experienced chemists",
        "leaves a fresh and clean feeling",
        "a small amount goes a long way",
        "packaged in a recyclable container",
        "loved by beauty editors and customers alike",
        "suitable for men and women",
        "a simple upgrade to your self care ritual",
    ),
    "electronics": (
        "backed by an 18 month warranty and friendly support",
        "works out of the box with no setup headaches",
        "tested to meet strict quality standards",
        "a compact footprint that fits anywhere",
        "firmware updates keep it current",
        "ships with a quick start guide",
        "pairs in seconds with most devices",
        "premium build quality at a fair price",
    ),
    "fashion": (
        "true to size with a flattering cut",
        "stitched to hold its shape wash after wash",
        "pairs easily with the rest of your wardrobe",
        "soft against the skin all day long",
        "a timeless look that never goes out of style",
        "great as a present for friends and family",
        "designed in house by our studio",
        "comfortable from morning to night",
    ),
    "garden": (
        "built to last for years of regular use",
        "arrives in protective packaging",
        "simple to clean and maintain",
        "a stylish touch for any home",
        "backed by a two year warranty",
        "our customer team is happy to help with any question",
        "blends with both classic and contemporary decor",
        "thoughtfully designed for everyday living",
    ),
    "grocery": (
        "sourced from trusted farms and suppliers",
        "packed fresh for great taste",
        "a pantry favorite for the whole family",
        "enjoy it on its own or in your favorite recipes",
        "no compromise on flavor",
        "store in a cool and dry place",
        "made in a certified facility",
        "a delicious treat any time of day",
    ),
}
_TITLE_SUFFIXES = ("", "", "", " - Upgraded Version", " (2024 Model)", " - Premium Edition")
_REVIEW_TEXTS: Mapping[int, tuple[str, ...]] = {
    5: ("Love this {noun}, exactly as described.", "Excellent quality, would buy again.",
        "Best {noun} I have owned so far."),
    4: ("Very good {noun}, minor issues only.", "Good value for the money.",
        "Works well, arrived quickly."),
    3: ("It is okay, nothing special.", "Average {noun}, does the job.",
        "Decent but the packaging was damaged."),
    2: ("Not what I expected from the photos.", "Quality could be better."),
    1: ("Disappointed, returned it after a week.", "Stopped working almost immediately."),
}
_REVIEW_SCORES = (1, 2, 3, 4, 5)
_REVIEW_WEIGHTS = (0.05, 0.07, 0.13, 0.3, 0.45)

_SYLLABLES = ("ka", "lo", "vi", "ra", "ne", "to", "mi", "zu", "pe", "sa", "qui", "dor", "fen",
              "lux", "mo", "ti", "bel", "nor", "ga", "ry", "xo", "den", "vo", "kin", "la", "ze")
# Single-word attributes a random brand must not spell out (the substring rule would see them).
_ONE_WORD_ATTRIBUTES = tuple(sorted({a for t in TAXONOMY for a in t.attributes if " " not in a}))


def _cap(phrase: str) -> str:
    """Amazon-style title case that keeps the rest of each word (``"men's"``, ``"5.3"``)."""
    return " ".join(w[:1].upper() + w[1:] for w in phrase.split(" "))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _brand(rng: random.Random) -> str:
    while True:
        name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
        if not any(a in name for a in _ONE_WORD_ATTRIBUTES):
            return name.capitalize()


def _asin(rng: random.Random, taken: set[str]) -> str:
    while True:
        n = rng.randrange(36**8)
        digits = []
        for _ in range(8):
            n, r = divmod(n, 36)
            digits.append(_ASIN_DIGITS[r])
        asin = "B0" + "".join(reversed(digits))
        if asin not in taken:
            taken.add(asin)
            return asin


def _price_text(low: float, high: float | None) -> str:
    return f"${low:.2f}" if high is None else f"${low:.2f} to ${high:.2f}"


def _to_cents_99(x: float) -> float:
    """Shop-style price ending in .99 (``23.4 -> 22.99``, at least 0.99)."""
    return max(round(x), 1) - 0.01


# --- products ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Variant:
    """What a product is before its text is rendered; siblings are copies with one change."""

    ptype: ProductType
    brand: str
    attributes: tuple[str, ...]
    options: dict[str, tuple[str, ...]]
    price_low: float
    price_high: float | None
    text_seed: int


def _draw_attributes(ptype: ProductType, rng: random.Random) -> tuple[str, ...]:
    # WebShop instructions read "{PROP} {query} with {ITEM} for {USE}"; keep that order.
    props = rng.sample(ptype.prop, rng.randint(0, min(2, len(ptype.prop))))
    items = rng.sample(ptype.item, rng.randint(1, min(2, len(ptype.item))))
    uses = rng.sample(ptype.use, rng.randint(0, min(1, len(ptype.use))))
    return tuple(props + items + uses)


def _draw_option_values(pool: OptionPool, rng: random.Random) -> tuple[str, ...]:
    n = rng.randint(2, min(8, len(pool.values)))
    if pool.ordered:
        start = rng.randint(0, len(pool.values) - n)
        return pool.values[start:start + n]
    picked = set(rng.sample(range(len(pool.values)), n))
    return tuple(v for i, v in enumerate(pool.values) if i in picked)


def _draw_options(ptype: ProductType, rng: random.Random) -> dict[str, tuple[str, ...]]:
    # Some listings have fewer option groups than their type allows (0-3 per product).
    return {pool.name: _draw_option_values(pool, rng)
            for pool in ptype.options if rng.random() < 0.85}


def _draw_price(ptype: ProductType, rng: random.Random) -> tuple[float, float | None]:
    x = ptype.price_median * math.exp(0.5 * rng.gauss(0.0, 1.0))
    low = _to_cents_99(min(max(x, ptype.price_low), ptype.price_high))
    if rng.random() < 0.2:  # a price range, as for multi-option listings on Amazon
        return low, _to_cents_99(low * rng.uniform(1.15, 1.8) + 1)
    return low, None


def _base_variant(ptype: ProductType, rng: random.Random) -> _Variant:
    low, high = _draw_price(ptype, rng)
    return _Variant(ptype=ptype, brand=_brand(rng), attributes=_draw_attributes(ptype, rng),
                    options=_draw_options(ptype, rng), price_low=low, price_high=high,
                    text_seed=rng.randrange(2**31))


def _swap_attribute(v: _Variant, rng: random.Random) -> _Variant | None:
    """The same product with one attribute replaced by another of the same kind.

    Replacements sharing a word with the original are preferred ("memory foam ear cushions"
    for "memory foam insole") so the two stay close under BM25.
    """
    pos = rng.randrange(len(v.attributes))
    old = v.attributes[pos]
    pool = {ITEM: v.ptype.item, PROP: v.ptype.prop, USE: v.ptype.use}[v.ptype.kind_of(old)]
    choices = [a for a in pool if a not in v.attributes]
    if not choices:
        return None
    old_words = set(old.split())
    close = [a for a in choices if old_words & set(a.split())]
    new = rng.choice(close or choices)
    attrs = (*v.attributes[:pos], new, *v.attributes[pos + 1:])
    return dataclasses.replace(v, attributes=attrs)


def _change_option(v: _Variant, rng: random.Random) -> _Variant | None:
    """The same product whose offer in one option group differs (values dropped and added)."""
    if not v.options:
        return None
    name = rng.choice(sorted(v.options))
    pool = next(p for p in v.ptype.options if p.name == name)
    values = v.options[name]
    keep = set(rng.sample(values, max(1, len(values) - rng.randint(1, 2))))
    extra = [x for x in pool.values if x not in values]
    if extra:
        keep.add(rng.choice(extra))
    if len(keep) < 2 or keep == set(values):
        return None
    options = dict(v.options)
    options[name] = tuple(x for x in pool.values if x in keep)
    return dataclasses.replace(v, options=options)


def _raise_price(v: _Variant, rng: random.Random) -> _Variant:
    """The same product priced so high that no budget a goal on ``v`` states admits it.

    A goal's budget is at most the 4th multiple of 10 above the price, i.e. under price + 40.
    """
    top = v.price_high if v.price_high is not None else v.price_low
    low = _to_cents_99(max(top * rng.uniform(1.5, 2.5), top + 50))
    high = None if v.price_high is None else _to_cents_99(low * v.price_high / v.price_low + 1)
    return dataclasses.replace(v, price_low=low, price_high=high)


def _siblings(base: _Variant, n: int, rng: random.Random) -> Iterator[_Variant]:
    """``base`` and ``n - 1`` variants of it, each one change away."""
    yield base
    for _ in range(n - 1):
        roll = rng.random()
        sibling = None
        if roll < 0.4:
            sibling = _swap_attribute(base, rng)
        elif roll < 0.7:
            sibling = _change_option(base, rng)
        sibling = sibling or _raise_price(base, rng)
        if rng.random() < 0.3:  # another seller's listing of the same thing
            sibling = dataclasses.replace(sibling, brand=_brand(rng))
        yield sibling


def _render_title(v: _Variant, rng: random.Random) -> tuple[str, tuple[str, ...], set[int]]:
    """Title, the title's type nouns and which attribute positions it shows."""
    attrs, ptype = v.attributes, v.ptype
    shown = set(rng.sample(range(len(attrs)), rng.randint(1, min(3, len(attrs)))))
    before = [_cap(attrs[i]) for i in sorted(shown) if ptype.kind_of(attrs[i]) != USE]
    uses = [_cap(attrs[i]) for i in sorted(shown) if ptype.kind_of(attrs[i]) == USE]
    nouns = [ptype.nouns[0]]
    if len(ptype.nouns) > 1 and rng.random() < 0.4:
        nouns.append(rng.choice(ptype.nouns[1:]))
    noun = _cap(" ".join(nouns))
    brand = v.brand.upper() if rng.random() < 0.2 else v.brand
    for_use = f" for {' and '.join(uses)}" if uses else ""
    pattern = rng.randrange(3)
    if pattern == 1 and before:
        title = f"{brand} {noun}, {', '.join(before)}{for_use}"
    elif pattern == 2 and before:
        title = f"{' '.join(before)} {noun} by {brand}{for_use}"
    else:
        title = f"{brand} {' '.join(before)} {noun}{for_use}"
    title = " ".join(title.split()) + rng.choice(_TITLE_SUFFIXES)
    title_nouns = tuple(dict.fromkeys(w for n in nouns for w in n.split()))
    return title, title_nouns, shown


def _attribute_bullet(attr: str, kind: str, filler: str, rng: random.Random) -> str:
    form = rng.randrange(3)
    if kind == USE:
        return f"Perfect for {attr}: {filler}."
    if form == 0:
        return f"{attr.upper()}: {filler}."
    if form == 1:
        return f"{_cap(attr)} - {filler}."
    return f"Features {attr}, {filler}."


def _render_text(v: _Variant, rng: random.Random, shown: set[int]) -> tuple[tuple[str, ...], str]:
    """Bullet points (every attribute not in the title, and some that are) and description."""
    attrs, ptype = v.attributes, v.ptype
    # Each filler sentence once per product, in a product-specific order.
    pool = rng.sample(_FILLERS[ptype.category], len(_FILLERS[ptype.category]))
    fillers = (pool[i % len(pool)] for i in range(100))
    bullets = [_attribute_bullet(a, ptype.kind_of(a), next(fillers), rng)
               for i, a in enumerate(attrs) if i not in shown or rng.random() < 0.3]
    while len(bullets) < 3 or (len(bullets) < 6 and rng.random() < 0.3):
        bullets.append(_sentence(next(fillers)))
    rng.shuffle(bullets)
    mentioned = rng.sample(attrs, min(len(attrs), rng.randint(1, 2)))
    sentences = [f"Meet the {v.brand} {ptype.nouns[0]}, {next(fillers)}.",
                 f"It offers {' and '.join(mentioned)}."]
    if rng.random() < 0.5:
        sentences.append(f"One of the most popular {ptype.query} in our store.")
    if rng.random() < 0.5:
        sentences.append(_sentence(next(fillers)))
    return tuple(bullets), " ".join(sentences)


def _reviews(noun: str, rng: random.Random) -> tuple[tuple[Review, ...], str]:
    scores = rng.choices(_REVIEW_SCORES, _REVIEW_WEIGHTS, k=rng.randint(0, 5))
    reviews = tuple(Review(s, rng.choice(_REVIEW_TEXTS[s]).format(noun=noun)) for s in scores)
    rating = f"{sum(scores) / len(scores):.1f}" if scores else "N.A."
    return reviews, rating


def _render(v: _Variant, asin: str, rng: random.Random) -> Product:
    text_rng = random.Random(v.text_seed)  # siblings share it: same wording, same layout
    title, title_nouns, shown = _render_title(v, text_rng)
    bullets, description = _render_text(v, text_rng, shown)
    price = v.price_low if v.price_high is None else round(
        rng.uniform(v.price_low, v.price_high), 2)
    reviews, rating = _reviews(v.ptype.nouns[0], rng)
    return Product(asin=asin, title=title, description=description, bullet_points=bullets,
                   attributes=v.attributes, options=dict(v.options), price=price,
                   price_text=_price_text(v.price_low, v.price_high),
                   category=v.ptype.category, query=v.ptype.query,
                   product_category=v.ptype.product_category, title_nouns=title_nouns,
                   reviews=reviews, rating=rating)


_GROUP_SIZES = (1, 2, 3, 4)
_GROUP_WEIGHTS = (0.2, 0.35, 0.3, 0.15)


def generate_catalogue(n_products: int = 2000, seed: int = 0) -> Catalogue:
    """Grow a catalogue of ``n_products`` products from ``seed``.

    Products come in sibling groups of 1-4 (a base product and variants one attribute, one
    option group or a price above any stated budget away), then the whole list is shuffled so
    siblings do not sit next to each other (search ties are broken by position).

    Args:
        n_products: catalogue size (1 to 200,000; 500 to 100k is the intended range).
        seed: the only source of randomness; same ``(n_products, seed)``, same catalogue.

    Returns:
        The catalogue.

    Example:
        >>> cat = generate_catalogue(500, seed=3)
        >>> len(cat), cat.products[0].asin[:2]
        (500, 'B0')
        >>> cat.products[0] == generate_catalogue(500, seed=3).products[0]
        True
    """
    if not 1 <= n_products <= MAX_PRODUCTS:
        raise ValueError(f"generate_catalogue: n_products must be in [1, {MAX_PRODUCTS}], "
                         f"got {n_products!r}")
    rng = random.Random(seed)
    variants: list[_Variant] = []
    while len(variants) < n_products:
        size = min(rng.choices(_GROUP_SIZES, _GROUP_WEIGHTS)[0], n_products - len(variants))
        variants.extend(_siblings(_base_variant(rng.choice(TAXONOMY), rng), size, rng))
    rng.shuffle(variants)
    taken: set[str] = set()
    return Catalogue([_render(v, _asin(rng, taken), rng) for v in variants])


def fingerprint(catalogue: Catalogue) -> str:
    """A SHA-256 hex digest of every product field (for determinism checks and caches)."""
    digest = hashlib.sha256()
    for p in catalogue.products:
        digest.update(repr(p).encode())
    return digest.hexdigest()
