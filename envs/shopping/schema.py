"""The data model of the shopping env: products, goals and the catalogue that holds them.

Field names follow WebShop's product and goal dicts (Yao et al., "WebShop: Towards Scalable
Real-World Web Interaction with Grounded Language Agents", NeurIPS 2022;
``web_agent_site/engine/engine.py`` and ``goal.py``) so the reward and the pages read like the
original: ``Title``/``name``, ``BulletPoints``, ``Description``, ``Attributes``, ``options``,
``query``, ``product_category`` (breadcrumb joined by `` › ``), ``price_upper``, ``goal_options``.
Everything is immutable once built, so a catalogue can be shared by many envs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

BREADCRUMB_SEP = " › "


@dataclasses.dataclass(frozen=True)
class Review:
    """One product review: a 1-5 score and its text."""

    score: int
    text: str


@dataclasses.dataclass(frozen=True)
class Product:
    """One product page's data.

    Attributes:
        asin: 10-character id, e.g. ``"B0A1B2C3D4"``; shown on result pages and clicked to open.
        title: the product name (WebShop's ``Title``/``name``).
        description: the Description sub-page text.
        bullet_points: the Features sub-page lines (WebShop's ``BulletPoints``).
        attributes: hidden annotated attributes (e.g. ``"machine washable"``); each appears
            verbatim in the title, a bullet point or the description.
        options: option group name (lower case, e.g. ``"color"``) to its values (lower case).
        price: the effective price in dollars (drawn once, from the catalogue seed).
        price_text: what the pages show: ``"$12.99"`` or ``"$10.49 to $15.99"`` for a range.
        category: top-level category (``beauty``, ``electronics``, ``fashion``, ``garden``,
            ``grocery``).
        query: the product-type query it was "scraped" with, e.g. ``"sofas and couches"``.
        product_category: breadcrumb, levels joined by :data:`BREADCRUMB_SEP`.
        title_nouns: lower-case nouns of the title (stands in for WebShop's spaCy noun parse in
            the title score of the reward).
        reviews: the Reviews sub-page entries.
        rating: mean review score as shown (``"4.5"``) or ``"N.A."``.
    """

    asin: str
    title: str
    description: str
    bullet_points: tuple[str, ...]
    attributes: tuple[str, ...]
    options: Mapping[str, tuple[str, ...]]
    price: float
    price_text: str
    category: str
    query: str
    product_category: str
    title_nouns: tuple[str, ...]
    reviews: tuple[Review, ...] = ()
    rating: str = "N.A."

    def search_text(self) -> str:
        """The document BM25 indexes, as WebShop builds it (lower-cased).

        Title, description, first bullet point and option text (``"color: a, b, and size: s"``).
        """
        option_text = ", and ".join(f"{name}: {', '.join(values)}"
                                    for name, values in self.options.items())
        first_bullet = self.bullet_points[0] if self.bullet_points else ""
        return " ".join((self.title, self.description, first_bullet, option_text)).lower()


@dataclasses.dataclass(frozen=True)
class Goal:
    """What the shopper is asked to buy.

    Attributes:
        asin: the product the instruction was written from (any product matching it scores 1).
        instruction_text: what the agent reads, price clause included when there is one.
        attributes: the goal attributes (WebShop's ``instruction_attributes``).
        goal_options: ``(group, value)`` pairs the bought options must match (may be empty).
        price_upper: the budget in dollars; ``1e6`` when the instruction states none.
        query: the target's product-type query.
        category: the target's top-level category.
        product_category: the target's breadcrumb.
        name: the target's title.
        title_nouns: nouns of the target's title (the reward's title score uses them).
        weight: sampling weight of the goal (WebShop: mean inverse attribute frequency for
            synthetic goals, 1 for human-style ones).
        style: ``"synthetic"`` or ``"human"``.
    """

    asin: str
    instruction_text: str
    attributes: tuple[str, ...]
    goal_options: tuple[tuple[str, str], ...]
    price_upper: float
    query: str
    category: str
    product_category: str
    name: str
    title_nouns: tuple[str, ...]
    weight: float = 1.0
    style: str = "synthetic"


class Catalogue:
    """An immutable list of products with lookup by ASIN.

    Example:
        >>> p = Product(asin="B000000001", title="Red Mug", description="A mug.",
        ...             bullet_points=("holds tea",), attributes=("red",), options={},
        ...             price=5.0, price_text="$5.0", category="garden", query="mugs",
        ...             product_category="Home › Kitchen › Mugs", title_nouns=("mug",))
        >>> cat = Catalogue([p])
        >>> cat.by_asin("b000000001").title
        'Red Mug'
    """

    def __init__(self, products: Sequence[Product]) -> None:
        self.products: tuple[Product, ...] = tuple(products)
        self._index = {p.asin.lower(): i for i, p in enumerate(self.products)}
        if len(self._index) != len(self.products):
            raise ValueError("Catalogue: duplicate ASINs")

    def __len__(self) -> int:
        return len(self.products)

    def index_of(self, asin: str) -> int:
        """Position of ``asin`` (case-insensitive); ``KeyError`` naming it if absent."""
        try:
            return self._index[asin.lower()]
        except KeyError:
            raise KeyError(f"no product with ASIN {asin!r}") from None

    def by_asin(self, asin: str) -> Product:
        """The product with ``asin`` (case-insensitive)."""
        return self.products[self.index_of(asin)]
