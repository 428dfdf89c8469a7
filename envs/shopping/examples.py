"""A one-product shop, for docstring examples and quick experiments with the shopping env."""

from __future__ import annotations

from typing import Any

from rewardgym.envs.shopping.schema import Catalogue, Goal, Product


def _always_first(query: str, k: int) -> list[int]:
    """A search engine that returns the only product (module level, so envs pickle)."""
    return [0]


def one_mug_shop() -> dict[str, Any]:
    """Keyword arguments of ``WebShopTextEnv`` for a shop with one red mug in two sizes.

    The single goal asks for the large one under $10, so ``search``, ``click[b000000001]``,
    ``click[large]``, ``click[buy now]`` earns 1.0.

    Example:
        >>> from rewardgym.envs.shopping import WebShopTextEnv
        >>> env = WebShopTextEnv(**one_mug_shop())
        >>> env.reset(seed=0)[0]
        'WebShop [SEP] Instruction: [SEP] i want a large red mug [SEP] Search'
    """
    mug = Product(asin="B000000001", title="Red Mug", description="A mug.",
                  bullet_points=("holds tea",), attributes=("red",),
                  options={"size": ("small", "large")}, price=5.0, price_text="$5.0",
                  category="garden", query="mugs", product_category="Home › Kitchen › Mugs",
                  title_nouns=("mug",))
    goal = Goal(asin="B000000001", instruction_text="i want a large red mug", attributes=("red",),
                goal_options=(("size", "large"),), price_upper=10.0, query="mugs",
                category="garden", product_category=mug.product_category, name=mug.title,
                title_nouns=("mug",))
    return {"catalogue": Catalogue([mug]), "goals": [goal], "search": _always_first}
