"""Reading an instruction: its budget, its price clause, and search queries built from it.

WebShop's instructions end in a price clause ("..., and price lower than 40.00 dollars") and
synthetic ones carry an option clause ("with color: navy blue, and size: large"). The slot view
offers :data:`N_SEARCH` search candidates built from the instruction text alone
(:func:`search_candidates`); WebShop's RL baseline builds its candidates from privileged goal
fields instead, which :func:`oracle_search_candidates` reproduces for ablations only.
"""

from __future__ import annotations

import re

from rewardgym.envs.shopping.schema import Goal
from rewardgym.envs.shopping.tokens import FILLER, content_words, words

N_SEARCH = 6
"""Search candidates per instruction (the slot view's search slots)."""
MAX_QUERY_LENGTH = 500
"""Search candidates are cut to this many characters."""

_PRICE_CLAUSE = re.compile(r",? and price lower than (\d+(?:\.\d+)?) dollars\s*$")
_OPTION_GROUPS = ("color", "size", "count", "flavor", "scent", "style")
# "with color: navy blue, and size: large" (WebShop's synthetic option clause)
_OPTION_CLAUSE = re.compile(r"\s*(?:with\s+)?(?:" + "|".join(_OPTION_GROUPS)
                            + r")\s*:\s*[^,]*(?:,\s*and\s+|,\s*|$)")
# Colour words dropped from search candidates (our heuristic vocabulary, not the reward's
# COLOR_WORDS: that list is WebShop's and holds words such as "dark", "light" and "natural" that
# are worth searching for).
_COLORS = frozenset((
    "amber", "apricot", "aqua", "azure", "beige", "black", "blue", "blush", "bronze", "brown",
    "burgundy", "camel", "caramel", "charcoal", "cherry", "chocolate", "coffee", "copper",
    "coral", "cream", "crimson", "cyan", "denim", "emerald", "fuchsia", "gold", "gray", "green",
    "grey", "indigo", "ivory", "khaki", "lavender", "lemon", "lilac", "lime", "magenta",
    "maroon", "mauve", "mint", "mocha", "multicolor", "mustard", "navy", "nude", "olive",
    "orange", "peach", "pink", "plum", "purple", "rainbow", "red", "rose", "ruby", "rust",
    "sage", "sand", "silver", "slate", "tan", "taupe", "teal", "turquoise", "violet", "walnut",
    "white", "wine", "yellow",
))


def budget_of(instruction: str) -> float | None:
    """The budget an instruction states ("... price lower than 40.00 dollars"), else None.

    Example:
        >>> budget_of("a red mug, and price lower than 40.00 dollars"), budget_of("a mug")
        (40.0, None)
    """
    match = _PRICE_CLAUSE.search(instruction)
    return float(match.group(1)) if match else None


def without_price(instruction: str) -> str:
    """The instruction without its trailing price clause."""
    return _PRICE_CLAUSE.sub("", instruction).strip()


def _without_options(text: str) -> str:
    text = _OPTION_CLAUSE.sub(" ", text)
    kept, skip = [], False
    for w in words(text):
        if skip:  # the value right after "size"/"in size"
            skip = False
            continue
        if w in ("size", "count", "flavor", "scent", "style", "color", "pack"):
            skip = w == "size"
            continue
        if w not in _COLORS:
            kept.append(w)
    return " ".join(kept)


def search_candidates(instruction: str) -> tuple[str, ...]:
    """:data:`N_SEARCH` search queries built from the instruction text only (no goal fields).

    Example:
        >>> for q in search_candidates("i need a red ceramic mug with handle, in size large, "
        ...                            "and price lower than 20.00 dollars"):
        ...     print(q)
        i need a red ceramic mug with handle, in size large, and price lower than 20.00 dollars
        i need a red ceramic mug with handle, in size large
        ceramic mug handle
        red ceramic mug handle size large
        red ceramic mug handle size large
        red ceramic mug
    """
    base = without_price(instruction)
    content = content_words(base)
    no_options = " ".join(w for w in words(_without_options(base)) if w not in FILLER)
    return (instruction, base, no_options, " ".join(content), " ".join(content[:6]),
            " ".join(content[:3]))


def oracle_search_candidates(goal: Goal) -> tuple[str, ...]:
    """Privileged queries from goal fields (WebShop baseline style): for ablations only."""
    queries = [goal.query, without_price(goal.instruction_text)]
    queries += [f"{attribute} {goal.query}" for attribute in goal.attributes]
    queries += [" ".join((*goal.attributes, goal.query))]
    queries = list(dict.fromkeys(queries))[:N_SEARCH]
    return tuple(queries + [""] * (N_SEARCH - len(queries)))


__all__ = ["MAX_QUERY_LENGTH", "N_SEARCH", "budget_of", "oracle_search_candidates",
           "search_candidates", "without_price"]
