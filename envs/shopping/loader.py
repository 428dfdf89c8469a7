"""Load WebShop's own product and instruction files, when a user has them, into our data model.

WebShop (Yao et al., "WebShop: Towards Scalable Real-World Web Interaction with Grounded Language
Agents", NeurIPS 2022) distributes its scraped products as ``items_shuffle[_1000].json``, the
annotated attributes and synthetic instructions as ``items_ins_v2[_1000].json`` and the
crowd-sourced instructions as ``items_human_ins.json``. This module reads those formats as
WebShop's loader does, without downloading anything:

* products: ASINs that are ``'nan'``, longer than 10 characters or repeated are skipped;
  ``pricing`` is split on ``'$'`` with everything but digits and dots stripped, at most two values
  kept (none gives WebShop's ``$100.0``), shown as ``"$x"`` or ``"$lo to $hi"``; a range's
  effective price is drawn **once** from the seeded generator (WebShop redraws it on every load);
  option names and values are lower-cased and stripped, ``'/'`` becomes ``' | '``; attributes
  come from ``items_ins_v2`` (``['DUMMY_ATTR']`` when absent); reviews are empty and the rating
  ``'N.A.'`` (WebShop's released loader does the same); the breadcrumb is split on ``'›'`` and
  re-joined with :data:`BREADCRUMB_SEP`; title nouns come from a heuristic noun filter instead of
  spaCy (alphabetic words minus stop-words, colours, sizes and common adjectives), so the
  reward's title score can differ slightly from WebShop's;
* goals: human goals (weight 1, options as listed, the instruction's trailing period removed)
  when ``items_human_ins`` is given, otherwise synthetic goals, one per combination of option
  values (groups in sorted order, one budget per product, as ``get_synthetic_goals`` in
  ``web_agent_site/engine/goal.py`` lines 68-127), from the ``items_ins_v2`` instructions; both in
  WebShop's order (products in file order, then each product's instructions or combinations);
  budgets follow WebShop's rule with the seeded generator (WebShop's is unseeded);
* splits are WebShop's (:meth:`~rewardgym.envs.shopping.goals.GoalSet.webshop_split`): the goals
  shuffled by a Mersenne Twister seeded 233, test = first 500, eval = next 1,000, train = the
  rest, so the same goals land in the same split as in published WebShop numbers (this needs
  the same files and the same filters, hence the same goal order; the seed argument does not
  move the split).

Paths may be omitted when the environment variable ``WEBSHOP_DATA_DIR`` names a folder holding
the upstream file names. Whole files are read with ``json.load``; for the 1.18M-product file
pass ``num_products`` (applied before filtering, as upstream) if memory is tight.

Contract enforced by ``tests/envs/shopping/test_loader.py`` on a tiny file in the exact upstream
format: the ASIN filters, price parsing and the seeded range price, option normalisation,
attribute fallback, both goal kinds with their budgets, WebShop's split (against a
re-implementation of its shuffle), ``WEBSHOP_DATA_DIR``, clear errors.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rewardgym.envs.shopping.catalogue import TAXONOMY
from rewardgym.envs.shopping.goals import GoalSet, price_upper_for
from rewardgym.envs.shopping.schema import BREADCRUMB_SEP, Catalogue, Goal, Product
from rewardgym.envs.shopping.search import STOP_WORDS

ENV_VAR = "WEBSHOP_DATA_DIR"
ITEMS_FILES = ("items_shuffle.json", "items_shuffle_1000.json")
ATTRS_FILES = ("items_ins_v2.json", "items_ins_v2_1000.json")
HUMAN_FILE = "items_human_ins.json"
DUMMY_ATTR = "DUMMY_ATTR"
MISSING_PRICE = 100.0  # WebShop's price for a product without one

PathLike = str | os.PathLike[str]

_COLOUR_WORDS = frozenset(
    w for pool in (p for t in TAXONOMY for p in t.options if p.name == "color")
    for v in pool.values for w in v.split()
) | frozenset((
    "grey", "gray", "white", "black", "red", "blue", "green", "pink", "purple", "yellow",
    "orange", "brown", "gold", "silver", "beige", "navy", "clear", "transparent", "multi",
    "multicolor",
))
_SIZE_WORDS = frozenset((
    "x", "xs", "s", "m", "l", "xl", "xxl", "xxxl", "small", "medium", "large", "mini", "big",
    "tall", "short", "long", "inch", "inches", "in", "ft", "feet", "foot", "cm", "mm",
    "oz", "fl", "ounce", "ounces", "lb", "lbs", "pound", "pounds", "g", "kg", "ml", "l", "pack",
    "packs", "count", "ct", "pcs", "pc", "piece", "pieces", "size", "sizes",
))
_ADJECTIVES = frozenset((
    "new", "best", "premium", "professional", "quality", "high", "low", "great", "perfect",
    "original", "natural", "organic", "classic", "modern", "portable", "compatible", "upgraded",
    "soft", "heavy", "light", "lightweight", "durable", "adjustable", "extra", "super", "ultra",
    "slim", "unisex", "womens", "mens", "women", "men", "girls", "boys", "kids", "adult",
))
_NOT_NOUNS = STOP_WORDS | _COLOUR_WORDS | _SIZE_WORDS | _ADJECTIVES


def title_nouns(title: str) -> tuple[str, ...]:
    """Heuristic stand-in for spaCy's nouns of a title (lower case, first occurrence order).

    Example:
        >>> title_nouns("Navy Blue Men's Slim Fit T-Shirt, Pack of 3")
        ('fit', 'shirt')
    """
    words = re.findall(r"[a-z]+", title.lower().replace("'s", ""))
    return tuple(dict.fromkeys(w for w in words if len(w) > 1 and w not in _NOT_NOUNS))


def parse_pricing(pricing: Any) -> tuple[float, ...]:
    """WebShop's price parse: split on ``'$'``, strip non-digits (dots kept), keep two.

    Example:
        >>> parse_pricing("$12.69 - $18.59"), parse_pricing("$1,299.00"), parse_pricing(None)
        ((12.69, 18.59), (1299.0,), (100.0,))
    """
    if not pricing:
        return (MISSING_PRICE,)
    parts = (re.sub(r"[^\d.]", "", part) for part in str(pricing).split("$")[1:])
    values = tuple(float(p) for p in parts if re.fullmatch(r"\d+(\.\d+)?|\.\d+", p))
    return values[:2] or (MISSING_PRICE,)


def _price_text(values: Sequence[float]) -> str:
    # Python's float repr, as WebShop's pages show it ("$100.0", "$12.99").
    return f"${values[0]}" if len(values) == 1 else f"${values[0]} to ${values[1]}"


def _options(raw: Mapping[str, Any] | None) -> dict[str, tuple[str, ...]]:
    options: dict[str, tuple[str, ...]] = {}
    for name, contents in (raw or {}).items():
        if contents is None:
            continue
        options[name.lower()] = tuple(c["value"].strip().replace("/", " | ").lower()
                                      for c in contents)
    return options


def _bullets(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    return (raw,) if isinstance(raw, str) else tuple(raw)


def _product(raw: Mapping[str, Any], attrs: Mapping[str, Any], rng: random.Random) -> Product:
    prices = parse_pricing(raw.get("pricing"))
    price = prices[0] if len(prices) == 1 else rng.uniform(prices[0], prices[1])
    annotated = attrs.get(raw["asin"], {})
    title = raw.get("name") or ""
    breadcrumb = (raw.get("product_category") or "").split("›")
    return Product(
        asin=raw["asin"], title=title, description=raw.get("full_description") or "",
        bullet_points=_bullets(raw.get("small_description")),
        attributes=tuple(annotated.get("attributes") or (DUMMY_ATTR,)),
        options=_options(raw.get("customization_options")), price=price,
        price_text=_price_text(prices), category=raw.get("category") or "",
        query=(raw.get("query") or "").lower().strip(),
        product_category=BREADCRUMB_SEP.join(s.strip() for s in breadcrumb if s.strip()),
        title_nouns=title_nouns(title))


def _resolve(items_json: PathLike | None, attrs_json: PathLike | None,
             human_ins_json: PathLike | None, num_products: int | None,
             ) -> tuple[Path, Path | None, Path | None]:
    if items_json is not None:
        return (Path(items_json), None if attrs_json is None else Path(attrs_json),
                None if human_ins_json is None else Path(human_ins_json))
    folder = os.environ.get(ENV_VAR)
    if not folder:
        raise ValueError(f"load_webshop_catalogue: items_json is None and ${ENV_VAR} is not "
                         "set; pass the path of items_shuffle[_1000].json")
    root = Path(folder)
    # The 1k-product files are enough (and much faster to read) for small requests.
    prefer_small = num_products is not None and num_products <= 1000

    def first(names: tuple[str, ...]) -> Path | None:
        found = [root / n for n in (names[::-1] if prefer_small else names)
                 if (root / n).is_file()]
        return found[0] if found else None

    items = first(ITEMS_FILES)
    if items is None:
        raise FileNotFoundError(f"load_webshop_catalogue: none of {ITEMS_FILES} in "
                                f"${ENV_VAR}={folder!r}")
    human = root / HUMAN_FILE
    return (items, Path(attrs_json) if attrs_json is not None else first(ATTRS_FILES),
            Path(human_ins_json) if human_ins_json is not None
            else (human if human.is_file() else None))


def _read_json(path: Path | None, default: Any) -> Any:
    if path is None:
        return default
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _goal(product: Product, text: str, attributes: Sequence[str],
          options: Sequence[tuple[str, str]], style: str, budget: tuple[float, str]) -> Goal:
    price_upper, price_text = budget
    return Goal(asin=product.asin, instruction_text=text + price_text,
                attributes=tuple(attributes), goal_options=tuple(options),
                price_upper=price_upper, query=product.query, category=product.category,
                product_category=product.product_category, name=product.title,
                title_nouns=product.title_nouns, style=style)


def _option_group(product: Product, value: str) -> str:
    """The group offering ``value`` (human goals list bare values); ``""`` if none does."""
    return next((g for g, vs in product.options.items() if value in vs), "")


def _human_goals(products: Sequence[Product], human: Mapping[str, Any],
                 rng: random.Random) -> list[Goal]:
    goals = []
    for product in products:
        for entry in human.get(product.asin, ()):
            if not entry.get("instruction_attributes"):
                continue  # WebShop skips human goals without attributes
            options = [(_option_group(product, v.lower()), v.lower())
                       for v in entry.get("instruction_options") or ()]
            goals.append(_goal(product, entry["instruction"].strip("."),
                               entry["instruction_attributes"], options, "human",
                               price_upper_for(product.price, rng)))
    return goals


def _synthetic_goals(products: Sequence[Product], attrs: Mapping[str, Any],
                     rng: random.Random) -> list[Goal]:
    goals = []
    for product in products:
        annotated = attrs.get(product.asin) or {}
        instruction = annotated.get("instruction")
        if not instruction:
            continue
        # WebShop draws one budget per product, shared by its combinations, and orders the
        # option groups by name (web_agent_site/engine/goal.py, get_synthetic_goals).
        price_upper, price_text = price_upper_for(product.price, rng)
        groups = sorted(product.options)
        for combination in itertools.product(*(product.options[g] for g in groups)):
            options = list(zip(groups, combination, strict=True))
            text = instruction
            if options:
                text += " with " + ", and ".join(f"{g}: {v}" for g, v in options)
            goals.append(_goal(product, text, annotated.get("instruction_attributes") or (),
                               options, "synthetic", (price_upper, price_text)))
    return goals


def load_webshop_catalogue(items_json: PathLike | None, attrs_json: PathLike | None = None,
                           human_ins_json: PathLike | None = None,
                           num_products: int | None = None,
                           seed: int = 0) -> tuple[Catalogue, GoalSet]:
    """Read WebShop's JSON files into a catalogue and its goals.

    Args:
        items_json: ``items_shuffle[_1000].json`` (a list of product dicts). ``None`` reads every
            file from ``$WEBSHOP_DATA_DIR`` by its upstream name (``items_human_ins.json`` is
            then used when present, as WebShop's baselines default to human goals).
        attrs_json: ``items_ins_v2[_1000].json`` (``{asin: {"attributes", "instruction",
            "instruction_attributes"}}``); without it every product has ``['DUMMY_ATTR']`` and
            there are no synthetic goals.
        human_ins_json: ``items_human_ins.json`` (``{asin: [{"instruction",
            "instruction_attributes", "instruction_options"}, ...]}``); given, goals are human.
        num_products: read only the first this many raw entries (before filtering, as upstream).
        seed: drives range prices and budgets (the split is WebShop's, whatever the seed).

    Returns:
        ``(catalogue, goals)``.

    Example:
        >>> import pathlib
        >>> data = pathlib.Path("tests/envs/shopping/data")
        >>> cat, goals = load_webshop_catalogue(data / "items_shuffle_tiny.json",
        ...                                     data / "items_ins_v2_tiny.json")
        >>> len(cat), cat.products[0].price_text
        (3, '$12.99')
    """
    if num_products is not None and num_products < 1:
        raise ValueError(f"load_webshop_catalogue: num_products must be >= 1 or None, "
                         f"got {num_products!r}")
    items_path, attrs_path, human_path = _resolve(items_json, attrs_json, human_ins_json,
                                                  num_products)
    raw_items = _read_json(items_path, [])
    if not isinstance(raw_items, list):
        raise ValueError(f"load_webshop_catalogue: {items_path} must hold a JSON list of "
                         f"products, got {type(raw_items).__name__}")
    attrs = _read_json(attrs_path, {})
    rng = random.Random(seed)
    products: list[Product] = []
    seen: set[str] = set()
    for raw in raw_items[:num_products]:
        asin = raw.get("asin")
        if not isinstance(asin, str) or asin == "nan" or len(asin) > 10 or asin in seen:
            continue
        seen.add(asin)
        products.append(_product(raw, attrs, rng))
    catalogue = Catalogue(products)
    if human_path is not None:
        goals = _human_goals(products, _read_json(human_path, {}), rng)
    else:
        goals = _synthetic_goals(products, attrs, rng)
    return catalogue, GoalSet.webshop_split(goals)
