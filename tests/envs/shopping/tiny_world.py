"""A hand-built shop small enough to reason about: 23 mugs (three result pages) and 3 sofas.

Mugs differ in brand, price, attributes and sizes, so one search returns siblings that score
below 1; the target of each goal sits on a known results page.
"""

from __future__ import annotations

import re

from rewardgym.envs.shopping.schema import Catalogue, Goal, Product, Review

MUG_CATEGORY = "Home & Kitchen › Kitchen & Dining › Mugs"
SOFA_CATEGORY = "Home & Kitchen › Furniture › Living Room Furniture › Sofas"


def mug(i: int) -> Product:
    safe = "dishwasher safe" if i % 2 == 0 else "hand wash only"
    sizes = ("11 oz", "15 oz") if i % 3 else ("11 oz",)
    return Product(
        asin=f"B0MUG{i:05d}", title=f"Brand{i} Ceramic Coffee Mug, {safe.title()}",
        description=f"A ceramic mug number {i}. Great for coffee and tea.",
        bullet_points=(f"{safe} ceramic", "holds hot drinks"),
        attributes=(safe, "ceramic"),
        options={"color": ("black", "navy blue", "white"), "size": sizes},
        price=5.0 + i, price_text=f"${5.0 + i:.2f}", category="garden", query="mugs",
        product_category=MUG_CATEGORY, title_nouns=(f"brand{i}", "mug", "coffee"),
        reviews=(Review(score=4, text="Nice mug."), Review(score=5, text="Love it.")),
        rating="4.5",
    )


def sofa(i: int) -> Product:
    return Product(
        asin=f"B0SOFA{i:04d}", title=f"Velvet Sofa Couch {i}",
        description="A velvet couch for the living room.",
        bullet_points=("velvet fabric", "easy assembly"), attributes=("velvet", "living room"),
        options={"color": ("gray", "green")}, price=300.0 + i, price_text=f"${300 + i}.00",
        category="garden", query="sofas and couches", product_category=SOFA_CATEGORY,
        title_nouns=("sofa", "couch"),
    )


def catalogue() -> Catalogue:
    return Catalogue([mug(i) for i in range(23)] + [sofa(i) for i in range(3)])


def goal_for(product: Product, attributes: tuple[str, ...],
             options: tuple[tuple[str, str], ...], price_upper: float, *,
             weight: float = 1.0) -> Goal:
    wanted = ", ".join(f"{group}: {value}" for group, value in options)
    text = f"i need a {' '.join(attributes)} {product.query} with {wanted}"
    if price_upper < 1e6:
        text += f", and price lower than {price_upper:.2f} dollars"
    return Goal(asin=product.asin, instruction_text=text, attributes=attributes,
                goal_options=options, price_upper=price_upper, query=product.query,
                category=product.category, product_category=product.product_category,
                name=product.title, title_nouns=product.title_nouns, weight=weight)


def goals() -> tuple[Goal, ...]:
    """Targets on results pages 1, 2 and 3 of a "mug" search, and a sofa."""
    return (
        goal_for(mug(4), ("dishwasher safe",), (("color", "navy blue"), ("size", "15 oz")), 20.0),
        goal_for(mug(14), ("dishwasher safe", "ceramic"), (("color", "white"),), 30.0,
                 weight=2.0),
        goal_for(mug(22), ("dishwasher safe",), (("color", "black"), ("size", "15 oz")), 1e6),
        goal_for(sofa(1), ("velvet",), (("color", "green"),), 400.0, weight=0.5),
    )


class OverlapSearch:
    """A stand-in search engine: rank by shared words (ties by index), hits only. Picklable."""

    def __init__(self, products: Catalogue) -> None:
        self.docs = [frozenset(re.findall(r"[a-z0-9]+", p.search_text()))
                     for p in products.products]

    def search(self, query: str, k: int = 50) -> list[int]:
        words = set(re.findall(r"[a-z0-9]+", query.lower()))
        scored = [(-len(words & doc), i) for i, doc in enumerate(self.docs) if words & doc]
        return [i for _, i in sorted(scored)[:k]]


def env(**kwargs):
    """A WebShopTextEnv over the tiny world (also a registry entry point for the tests)."""
    from rewardgym.envs.shopping.env import WebShopTextEnv

    cat = catalogue()
    return WebShopTextEnv(catalogue=cat, goals=goals(), search=OverlapSearch(cat), **kwargs)


def query_for(goal: Goal) -> str:
    """What a search oracle types for the tiny world's goals."""
    return "ceramic coffee mug" if goal.query == "mugs" else "velvet sofa couch"
