"""The slot view's layout and its page encoder: slots, mask and numeric observation of a page.

:class:`SlotEncoder` turns the text env's current page into what
:class:`~rewardgym.envs.shopping.discrete.WebShopDiscrete` shows an agent: the label of every
action slot, the mask of valid slots and the flat ``float32`` observation (the layout is in the
module docstring of :mod:`rewardgym.envs.shopping.discrete`). It holds the per-episode reading of
the instruction (words, budget, search candidates, words searched so far) and two bounded
caches (title words per product, page bags of words per page).

Slots, in order: :data:`~rewardgym.envs.shopping.instruction.N_SEARCH` search candidates,
:data:`N_NAV` navigation buttons (:data:`NAV_LABELS`), :data:`N_PRODUCTS` product links, then
``option_groups x option_values`` option values.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from rewardgym.envs.native.checks import INT_TYPES
from rewardgym.envs.shopping import pages
from rewardgym.envs.shopping.instruction import (
    MAX_QUERY_LENGTH,
    N_SEARCH,
    budget_of,
    oracle_search_candidates,
    search_candidates,
    without_price,
)
from rewardgym.envs.shopping.tokens import content_words, hashed_bow, price_from_text, words

NAV_LABELS: tuple[str, ...] = tuple(label.lower() for label in (
    pages.BACK_TO_SEARCH, pages.NEXT_PAGE, pages.PREV_PAGE, *pages.SUB_PAGES, pages.BUY_NOW))
N_NAV = len(NAV_LABELS)
N_PRODUCTS = pages.RESULTS_PER_PAGE
PAGE_KINDS = ("search", "results", "item", "item_sub", "done")
N_GLOBAL = 16
N_SLOT_FEATURES = 8
NO_BUDGET = 1e6
SEARCH_MODES = ("instruction", "oracle")
PAGE_CACHE_SIZE = 2048
"""Page bags of words kept per env (LRU), so memory stays bounded."""


def check_int_arg(who: str, name: str, value: Any, minimum: int) -> None:
    """Refuse anything but an int ``>= minimum`` with a ``ValueError`` naming ``who.name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{who}: {name} must be an int >= {minimum}, got {value!r}")


def check_action(action: Any, n: int, name: str) -> int:
    """``action`` as a Python int in ``[0, n)``; else a ``ValueError`` naming ``name``.

    Accepts Python and numpy integers (and 0-d integer arrays, which some vector envs pass);
    refuses bools, floats (1.5, NaN), strings and arrays with elements.

    Example:
        >>> check_action(np.int64(3), 64, "shop")
        3
    """
    if type(action) in INT_TYPES and 0 <= action < n:  # the common case, without the checks
        return int(action)
    value = action
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name}: action must be an int in [0, {n}), got "
                         f"{type(action).__name__} {action!r:.80}")
    if not 0 <= value < n:
        raise ValueError(f"{name}: action must be an int in [0, {n}), got {int(value)}")
    return int(value)


class SlotEncoder:
    """Slot labels, mask and observation of the text env's pages (one episode at a time).

    Args:
        bow_dim: buckets of each hashed bag of words (instruction, page).
        search_mode: ``"instruction"`` or ``"oracle"`` search candidates.
        horizon: steps that make the step-fraction feature 1.
        option_groups: option groups given slots (page order).
        option_values: values per group given slots (page order).

    Example:
        >>> from rewardgym.envs.shopping.env import WebShopTextEnv
        >>> from rewardgym.envs.shopping.examples import one_mug_shop
        >>> shop = WebShopTextEnv(**one_mug_shop())
        >>> _, info = shop.reset(seed=0)
        >>> encoder = SlotEncoder(bow_dim=16)
        >>> encoder.start(shop, info["instruction"])
        >>> obs, labels, mask = encoder.encode(shop, info, t=0)
        >>> obs.shape, labels[0], np.flatnonzero(mask).tolist()
        ((560,), 'i want a large red mug', [0, 2, 3])
    """

    def __init__(self, *, bow_dim: int = 512, search_mode: str = "instruction",
                 horizon: int = 15, option_groups: int = 4, option_values: int = 10) -> None:
        self.bow_dim, self.search_mode, self.horizon = bow_dim, search_mode, horizon
        self.option_groups, self.option_values = option_groups, option_values
        self.nav_start = N_SEARCH
        self.product_start = N_SEARCH + N_NAV
        self.option_start = self.product_start + N_PRODUCTS
        self.n_slots = self.option_start + option_groups * option_values
        self.size = 2 * bow_dim + N_GLOBAL + self.n_slots * N_SLOT_FEATURES
        self.step_index = 2 * bow_dim + len(PAGE_KINDS)
        """Where the step-fraction feature sits in the observation."""
        self.instruction = ""
        self.queries: tuple[str, ...] = ("",) * N_SEARCH
        self.searched: set[str] = set()
        self._inst_words: frozenset[str] = frozenset()
        self._inst_content: frozenset[str] = frozenset()
        self._inst_bow = np.zeros(bow_dim, dtype=np.float32)
        self._budget: float | None = None
        self._titles: dict[int, list[str]] = {}
        self._bows: collections.OrderedDict[tuple, np.ndarray] = collections.OrderedDict()

    def start(self, shop: Any, instruction: str) -> None:
        """Read a new episode's instruction (``shop`` gives the goal in ``"oracle"`` mode)."""
        self.searched.clear()
        self.instruction = instruction
        self._inst_words = frozenset(words(without_price(instruction)))
        self._inst_content = frozenset(content_words(without_price(instruction)))
        self._inst_bow = hashed_bow(words(instruction), self.bow_dim)
        self._budget = budget_of(instruction)
        if self.search_mode == "oracle":
            queries = oracle_search_candidates(shop.goal)
        else:
            queries = search_candidates(instruction)
        self.queries = tuple(q[:MAX_QUERY_LENGTH] for q in queries)

    def encode(self, shop: Any, info: dict[str, Any], t: int,
               out: np.ndarray | None = None) -> tuple[np.ndarray, list[str], np.ndarray]:
        """``(obs, labels, mask)`` of ``shop``'s current page after ``t`` steps.

        ``obs`` is written into ``out`` when given (and returned), else into a new array.
        """
        state, nodes = shop.page_state, shop.page_nodes
        clickables = set(info["available_actions"]["clickables"])
        labels = [""] * self.n_slots
        mask = np.zeros(self.n_slots, dtype=bool)
        feats = np.zeros((self.n_slots, N_SLOT_FEATURES), dtype=np.float32)
        inst_lower = " ".join(words(self.instruction))

        if info["available_actions"]["has_search_bar"]:
            seen: set[str] = set()
            for i, query in enumerate(self.queries):
                key = " ".join(words(query))
                labels[i] = query
                if query.strip() and key not in seen:
                    seen.add(key)
                    mask[i] = True
                    feats[i, 0] = 1.0
                    feats[i, 1:3] = self._coverage(words(query))
                    feats[i, 5] = i / N_SEARCH
        for j, label in enumerate(NAV_LABELS):
            slot = self.nav_start + j
            labels[slot] = label
            if label in clickables and state.kind != "done":
                mask[slot] = True
                feats[slot, 0] = 1.0

        g = np.zeros(N_GLOBAL, dtype=np.float32)
        kind = state.kind
        g[PAGE_KINDS.index(kind)] = 1.0
        g[5] = min(1.0, t / self.horizon)
        budget = NO_BUDGET if self._budget is None else self._budget
        g[6] = math.log1p(budget) / math.log1p(NO_BUDGET)
        g[7] = float(self._budget is not None)
        catalogue = shop.catalogue
        if kind == "results":
            g[8] = state.page / 5.0
            g[9] = len(state.results) / pages.MAX_RESULTS
            links = [n for n in nodes if n.kind == "link"]
            for rank, node in enumerate(links[:N_PRODUCTS]):
                slot = self.product_start + rank
                product = catalogue.products[node.ref]
                labels[slot] = node.text.lower()
                mask[slot] = labels[slot] in clickables
                title_words = self._title_words(shop, node.ref)
                feats[slot, 0] = mask[slot]
                feats[slot, 1:3] = self._coverage(title_words)
                feats[slot, 3] = self._price_ok(product.price_text)
                feats[slot, 4] = float(node.selected)
                feats[slot, 5] = rank / N_PRODUCTS
                feats[slot, 7] = float(" ".join(title_words) in inst_lower)
        elif kind in ("item", "item_sub"):
            product = catalogue.products[state.product]
            chosen = dict(state.options)
            title_cov = self._coverage(self._title_words(shop, state.product))[1]
            price_ok = self._price_ok(product.price_text)
            groups = list(product.options)[:self.option_groups]
            g[10] = len(product.options) / max(1, self.option_groups)
            g[11] = len(chosen) / max(1, self.option_groups)
            g[12] = title_cov
            g[13] = price_ok
            buy = self.nav_start + NAV_LABELS.index(pages.BUY_NOW.lower())
            feats[buy, 2] = title_cov
            feats[buy, 3] = price_ok
            feats[buy, 6] = len(chosen) / len(product.options) if product.options else 1.0
            if kind == "item":
                self._option_slots(nodes, groups, chosen, clickables, labels, mask, feats,
                                   inst_lower)
        g[14] = float(any(n.selected for n in nodes if n.kind == "link")
                      or kind in ("item", "item_sub"))
        g[15] = (len(self.searched & self._inst_content) / len(self._inst_content)
                 if self._inst_content else 0.0)

        obs = np.zeros(self.size, dtype=np.float32) if out is None else out
        d = self.bow_dim
        obs[:d] = self._inst_bow
        obs[d:2 * d] = self._page_bow(state, nodes)
        obs[2 * d:2 * d + N_GLOBAL] = g
        obs[2 * d + N_GLOBAL:] = feats.ravel()
        return obs, labels, mask

    # ---- internals ----

    def _coverage(self, label_words: Sequence[str]) -> tuple[float, float]:
        if not label_words:
            return 0.0, 0.0
        label_set = set(label_words)
        recall = len(label_set & self._inst_words) / len(label_set)
        coverage = (len(label_set & self._inst_content) / len(self._inst_content)
                    if self._inst_content else 0.0)
        return recall, coverage

    def _price_ok(self, price_text: str) -> float:
        if self._budget is None:
            return 1.0
        price = price_from_text(price_text)
        return float(price is not None and price <= self._budget)

    def _title_words(self, shop: Any, index: int) -> list[str]:
        # Per product, for the life of the env: bounded by the catalogue's size.
        cached = self._titles.get(index)
        if cached is None:
            title = shop.catalogue.products[index].title
            cached = self._titles[index] = words(pages.printable(title))
        return cached

    def _page_bow(self, state: pages.PageState, nodes: Sequence[pages.Node]) -> np.ndarray:
        # The page text (instruction aside) is a function of these fields; chosen options and
        # visited marks change no text before the done page. An LRU spares re-hashing.
        key = (state.kind, state.product, state.sub_page, state.page, len(state.results),
               state.page_results, state.score, state.options if state.kind == "done" else ())
        bow = self._bows.get(key)
        if bow is None:
            page_words = [w for n in nodes if n.kind != "instruction" for w in words(n.text)]
            bow = self._bows[key] = hashed_bow(page_words, self.bow_dim)
            if len(self._bows) > PAGE_CACHE_SIZE:
                self._bows.popitem(last=False)
        else:
            self._bows.move_to_end(key)
        return bow

    def _option_slots(self, nodes: Sequence[pages.Node], groups: list[str],
                      chosen: dict[str, str], clickables: set[str], labels: list[str],
                      mask: np.ndarray, feats: np.ndarray, inst_lower: str) -> None:
        for node in nodes:
            if node.kind != "option" or node.group not in groups:
                continue
            gi, vi = groups.index(node.group), node.ref
            if vi >= self.option_values:
                continue
            slot = self.option_start + gi * self.option_values + vi
            label = node.text.lower()
            labels[slot] = label
            mask[slot] = label in clickables
            value_words = words(label)
            feats[slot, 0] = mask[slot]
            feats[slot, 1:3] = self._coverage(value_words)
            feats[slot, 4] = float(node.selected)
            feats[slot, 5] = vi / self.option_values
            feats[slot, 6] = float(node.group in chosen)
            phrase = " ".join(value_words)
            feats[slot, 7] = float(bool(phrase) and f" {phrase} " in f" {inst_lower} ")


__all__ = [
    "NAV_LABELS",
    "NO_BUDGET",
    "N_GLOBAL",
    "N_NAV",
    "N_PRODUCTS",
    "N_SLOT_FEATURES",
    "PAGE_KINDS",
    "SEARCH_MODES",
    "SlotEncoder",
    "check_action",
    "check_int_arg",
]
