"""``WebShopDiscrete``: the shopping env as fixed action slots, a mask and numeric observations.

SB3 cannot consume ``Text`` spaces, so this view turns WebShop's ``search[...]``/``click[...]``
actions into ``Discrete(K)`` slots with an ``action_masks()`` method (sb3-contrib's MaskablePPO)
and the page into a flat ``Box`` of numbers, following the plan of the WebShop notes (research
``webshop.md`` §6.2, §8.7) and WebShop's own RL baseline (``baseline_models/env.py``), whose
search candidates we do NOT copy: upstream builds them from privileged goal fields.

Slots (default ``K = 6 + 8 + 10 + 4 * 10 = 64``), in this order:

* 6 search candidates, valid on the search page only, built from the instruction text alone
  (:func:`search_candidates`): the whole instruction (WebShop's rule baseline), the instruction
  without its price clause, the same without option phrases, its content words, its first six
  and first three content words. ``search_candidates="oracle"`` uses the goal's query and
  attributes instead (privileged; for ablations only);
* 8 navigation buttons: ``back to search``, ``next >``, ``< prev``, ``description``,
  ``features``, ``reviews``, ``attributes``, ``buy now``;
* 10 product links of the results page, in page order;
* ``option_groups x option_values`` option values of the item page (groups and values in page
  order; values beyond the grid are not reachable).

The mask marks the slots whose action is available (``info["available_actions"]``); a
duplicate search candidate is masked. A masked or empty slot is a no-op: the text env is not
stepped, ``info["invalid"] = True`` and the reward is ``-invalid_penalty`` (default 0).
SB3's env checker sends such actions, so they must not raise.

Observation (``Box(0, 1, (2 * bow_dim + 16 + K * 8,), float32)``), from what the page shows:

* hashed bag of words (crc32 of unigrams and bigrams, counts, L2-normalised) of the instruction
  and of the page text without the instruction, ``bow_dim`` each (crc32 is stable across
  processes, unlike Python's salted ``hash``);
* 16 globals: page type one-hot (5), step fraction ``t / horizon``, ``log1p(budget) /
  log1p(1e6)`` parsed from the instruction, whether it has a budget, results page / 5, results /
  50, option groups on the item / ``option_groups``, chosen groups / ``option_groups``, the item
  title's coverage of the instruction, item price within budget, any product visited, and the
  fraction of instruction content words already searched for;
* per slot (``K x 8``): valid; label recall (fraction of the label's words found in the
  instruction); coverage (fraction of the instruction's content words found in the label:
  product title, option value, search candidate, or for ``buy now`` the item's title); price
  within budget (products, ``buy now``); selected (option) or visited (product); rank in page
  order / 10; group already chosen (options) or fraction of groups chosen (``buy now``); label
  is a phrase of the instruction (options, products).

Everything passes through ``info`` (``reward_terms``, ``is_success``, ``reward_info``), with
``info["action_text"]``: the text action a slot stood for (``""`` for an empty slot).

Two shells share this code: :class:`WebShopDiscrete` (a ``gym.Wrapper`` over a, possibly
wrapped, :class:`~rewardgym.envs.shopping.env.WebShopTextEnv`) and :class:`WebShopDiscreteEnv`
(a ``gym.Env`` that owns one; the registry's entry point, so ``gym.make(...).unwrapped`` is the
discrete env and gymnasium's checker runs on it).

Contract enforced by ``tests/envs/shopping/test_discrete.py``: gymnasium's and SB3's env
checkers; masks equal the available actions; masked actions are no-ops; bad actions raise a
``ValueError`` naming the env; seeds make runs identical; pickling; each constructor argument
changes the output; a MaskablePPO smoke run.
"""

from __future__ import annotations

import collections
import copy
import functools
import itertools
import math
import re
import zlib
from collections.abc import Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import RecordConstructorArgs

from rewardgym.envs.shopping import pages
from rewardgym.envs.shopping.env import WebShopConfig, WebShopTextEnv
from rewardgym.envs.shopping.schema import Goal

N_SEARCH = 6
NAV_LABELS: tuple[str, ...] = tuple(label.lower() for label in (
    pages.BACK_TO_SEARCH, pages.NEXT_PAGE, pages.PREV_PAGE, *pages.SUB_PAGES, pages.BUY_NOW))
N_NAV = len(NAV_LABELS)
N_PRODUCTS = pages.RESULTS_PER_PAGE
PAGE_KINDS = ("search", "results", "item", "item_sub", "done")
N_GLOBAL = 16
N_SLOT_FEATURES = 8
NO_BUDGET = 1e6
SEARCH_MODES = ("instruction", "oracle")
MAX_QUERY_LENGTH = 500
PAGE_CACHE_SIZE = 2048
"""Page bags of words kept per env (LRU), so memory stays bounded."""

_WORD = re.compile(r"[a-z0-9]+")
_PRICE_CLAUSE = re.compile(r",? and price lower than (\d+(?:\.\d+)?) dollars\s*$")
_PRICE = re.compile(r"\d+(?:\.\d+)?")
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
# Instruction filler that carries no product information.
_FILLER = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "buy", "by", "can", "d", "find", "for", "get",
    "help", "hoping", "i", "im", "in", "is", "it", "looking", "love", "m", "market", "me", "my",
    "need", "needs", "of", "on", "one", "or", "order", "pick", "please", "preferably", "s",
    "searching", "shopping", "show", "some", "that", "the", "to", "want", "with", "would",
    "you", "am", "like", "wife", "husband", "mom", "dad", "sister", "brother", "friend",
    "roommate", "also", "which", "has", "have", "should", "be", "is", "its",
))


def words(text: str) -> list[str]:
    """Lower-case alphanumeric words of ``text``.

    Example:
        >>> words("Red Mug, 11-oz!")
        ['red', 'mug', '11', 'oz']
    """
    return _WORD.findall(text.lower())


def content_words(text: str) -> list[str]:
    """:func:`words` without instruction filler ("i", "need", "find", "me", "a", ...)."""
    return [w for w in words(text) if w not in _FILLER]


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
    no_options = " ".join(w for w in words(_without_options(base)) if w not in _FILLER)
    return (instruction, base, no_options, " ".join(content), " ".join(content[:6]),
            " ".join(content[:3]))


def oracle_search_candidates(goal: Goal) -> tuple[str, ...]:
    """Privileged queries from goal fields (WebShop baseline style): for ablations only."""
    queries = [goal.query, without_price(goal.instruction_text)]
    queries += [f"{attribute} {goal.query}" for attribute in goal.attributes]
    queries += [" ".join((*goal.attributes, goal.query))]
    queries = list(dict.fromkeys(queries))[:N_SEARCH]
    return tuple(queries + [""] * (N_SEARCH - len(queries)))


@functools.lru_cache(maxsize=1 << 17)
def _bucket(token: str, dim: int) -> int:
    return zlib.crc32(token.encode()) % dim


def hashed_bow(tokens: Sequence[str], dim: int) -> np.ndarray:
    """L2-normalised counts of crc32-hashed unigrams and bigrams (``float32``, shape ``(dim,)``).

    Example:
        >>> v = hashed_bow(["red", "mug"], 64)
        >>> float(round(np.linalg.norm(v), 6)), int((v > 0).sum()) <= 3
        (1.0, True)
    """
    out = np.zeros(dim, dtype=np.float32)
    if not tokens:
        return out
    ids = [_bucket(t, dim) for t in tokens]
    ids += [_bucket(f"{a} {b}", dim) for a, b in itertools.pairwise(tokens)]
    np.add.at(out, ids, 1.0)
    out /= np.sqrt(np.dot(out, out))
    return out


def _price_from_text(text: str) -> float | None:
    match = _PRICE.search(text.replace(",", ""))
    return float(match.group()) if match else None


def _check_int_arg(who: str, name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{who}: {name} must be an int >= {minimum}, got {value!r}")


def check_action(action: Any, n: int, name: str) -> int:
    """``action`` as a Python int in ``[0, n)``; else a ``ValueError`` naming ``name``.

    Accepts Python and numpy integers (and 0-d integer arrays, which some vector envs pass);
    refuses bools, floats (1.5, NaN), strings and arrays with elements.
    """
    value = action
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name}: action must be an int in [0, {n}), got "
                         f"{type(action).__name__} {action!r:.80}")
    if not 0 <= value < n:
        raise ValueError(f"{name}: action must be an int in [0, {n}), got {int(value)}")
    return int(value)


class WebShopDiscrete(gym.Wrapper, RecordConstructorArgs):
    """Fixed action slots, an action mask and a numeric observation over ``WebShopTextEnv``.

    Args:
        env: a :class:`WebShopTextEnv`, possibly wrapped (its text observation is ignored; the
            view reads the page through the env's public accessors).
        bow_dim: buckets of each hashed bag of words (instruction, page).
        search_candidates: ``"instruction"`` (default; from the instruction text only) or
            ``"oracle"`` (goal query and attributes; privileged, for ablations).
        invalid_penalty: subtracted from the reward of a masked action (term ``"invalid"``).
        horizon: steps that make the step-fraction feature 1 (the registry's time limit).
        option_groups: option groups given slots (page order).
        option_values: values per group given slots (page order).

    Example:
        >>> from rewardgym.envs.shopping.examples import one_mug_shop
        >>> text_env = WebShopTextEnv(**one_mug_shop())
        >>> env = WebShopDiscrete(text_env)
        >>> obs, info = env.reset(seed=0)
        >>> env.action_space, obs.shape, np.flatnonzero(env.action_masks()).tolist()
        (Discrete(64), (1552,), [0, 2, 3])
        >>> for action in ["search[large red mug]", "click[b000000001]"]:
        ...     _ = env.step(env.slot_of(action))
        >>> env.action_text(env.slot_of("click[large]")), env.step(env.slot_of("click[large]"))[1]
        ('click[large]', 0.0)
        >>> env.step(env.slot_of("click[buy now]"))[1:3]
        (1.0, True)
    """

    def __init__(self, env: gym.Env, *, bow_dim: int = 512,
                 search_candidates: str = "instruction", invalid_penalty: float = 0.0,
                 horizon: int = 15, option_groups: int = 4, option_values: int = 10) -> None:
        RecordConstructorArgs.__init__(
            self, bow_dim=bow_dim, search_candidates=search_candidates,
            invalid_penalty=invalid_penalty, horizon=horizon, option_groups=option_groups,
            option_values=option_values)
        gym.Wrapper.__init__(self, env)
        who = type(self).__name__
        if not isinstance(env.unwrapped, WebShopTextEnv):
            raise TypeError(f"{who}: env must be a WebShopTextEnv (possibly wrapped), got "
                            f"{type(env.unwrapped).__name__}")
        _check_int_arg(who, "bow_dim", bow_dim, 1)
        _check_int_arg(who, "horizon", horizon, 1)
        _check_int_arg(who, "option_groups", option_groups, 0)
        _check_int_arg(who, "option_values", option_values, 0)
        if search_candidates not in SEARCH_MODES:
            raise ValueError(f"{who}: search_candidates must be one of {SEARCH_MODES}, got "
                             f"{search_candidates!r}")
        if not (isinstance(invalid_penalty, int | float) and math.isfinite(invalid_penalty)):
            raise ValueError(f"{who}: invalid_penalty must be a finite number, got "
                             f"{invalid_penalty!r}")
        self.bow_dim, self.horizon = bow_dim, horizon
        self.search_mode, self.invalid_penalty = search_candidates, float(invalid_penalty)
        self.option_groups, self.option_values = option_groups, option_values
        self.nav_start = N_SEARCH
        self.product_start = N_SEARCH + N_NAV
        self.option_start = self.product_start + N_PRODUCTS
        self.n_slots = self.option_start + option_groups * option_values
        self.action_space = spaces.Discrete(self.n_slots)
        size = 2 * bow_dim + N_GLOBAL + self.n_slots * N_SLOT_FEATURES
        self.observation_space = spaces.Box(0.0, 1.0, (size,), np.float32)
        self._labels: list[str] = [""] * self.n_slots
        self._mask = np.zeros(self.n_slots, dtype=bool)
        self._obs = np.zeros(size, dtype=np.float32)
        self._info: dict[str, Any] = {}
        self._t = 0
        self._instruction = ""
        self._inst_words: frozenset[str] = frozenset()
        self._inst_content: frozenset[str] = frozenset()
        self._inst_bow = np.zeros(bow_dim, dtype=np.float32)
        self._budget: float | None = None
        self._queries: tuple[str, ...] = ("",) * N_SEARCH
        self._searched: set[str] = set()
        self._titles: dict[int, list[str]] = {}
        self._bows: collections.OrderedDict[tuple, np.ndarray] = collections.OrderedDict()

    @property
    def name(self) -> str:
        """How errors name this env (the spec id when made through the registry)."""
        spec = self.unwrapped.spec
        return spec.id if spec is not None else type(self).__name__

    @property
    def text_env(self) -> WebShopTextEnv:
        """The underlying text env (for oracles and analysis)."""
        return self.env.unwrapped

    # ---- gymnasium API ----

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset the text env (same ``seed``/``options``) and observe its search page."""
        _, info = self.env.reset(seed=seed, options=options)
        self._t = 0
        self._searched.clear()
        self._instruction = info["instruction"]
        self._inst_words = frozenset(words(without_price(self._instruction)))
        self._inst_content = frozenset(content_words(without_price(self._instruction)))
        self._inst_bow = hashed_bow(words(self._instruction), self.bow_dim)
        self._budget = budget_of(self._instruction)
        if self.search_mode == "oracle":
            self._queries = oracle_search_candidates(self.text_env.goal)
        else:
            self._queries = search_candidates(self._instruction)
        self._queries = tuple(q[:MAX_QUERY_LENGTH] for q in self._queries)
        return self._observe(info), self._with_terms(info, 0.0, invalid=False, text="",
                                                     penalty=0.0)

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Take slot ``action``; a masked or empty slot is a no-op flagged ``invalid``.

        Raises:
            ValueError: ``action`` is not an int in ``[0, K)`` (the message names the env).
        """
        slot = check_action(action, self.n_slots, self.name)
        self._t += 1
        text = self.action_text(slot)
        if not self._mask[slot]:
            penalty = -self.invalid_penalty if self.invalid_penalty else 0.0
            # A deep copy: every step must hand out fresh info objects.
            info = self._with_terms(copy.deepcopy(self._info), 0.0, invalid=True, text=text,
                                    penalty=penalty)
            # Only the step counter moved: refresh the step-fraction feature.
            self._obs[2 * self.bow_dim + len(PAGE_KINDS)] = min(1.0, self._t / self.horizon)
            return self._obs.copy(), penalty, self._info.get("page") == "done", False, info
        if slot < N_SEARCH:
            self._searched.update(words(self._labels[slot]))
        _, reward, terminated, truncated, info = self.env.step(text)
        reward = float(reward)
        obs = self._observe(info)
        return obs, reward, bool(terminated), bool(truncated), self._with_terms(
            info, reward, invalid=bool(info.get("invalid", False)), text=text, penalty=0.0)

    def action_masks(self) -> np.ndarray:
        """The valid slots of the current page (``bool``, shape ``(K,)``); a copy."""
        return self._mask.copy()

    def action_text(self, slot: int) -> str:
        """The text action slot ``slot`` stands for now (``""`` for an empty slot)."""
        label = self._labels[slot]
        if not label:
            return ""
        return f"search[{label}]" if slot < N_SEARCH else f"click[{label}]"

    def slot_of(self, action_text: str) -> int | None:
        """The slot that takes ``action_text`` (``search[...]``/``click[...]``), else None.

        Search keywords and click labels compare case-insensitively; the first matching
        valid slot wins.
        """
        match = re.match(r"(.+)\[(.+)\]", action_text)
        if match is None:
            return None
        kind, arg = match.group(1), match.group(2).lower().strip()
        span = range(N_SEARCH) if kind == "search" else range(N_SEARCH, self.n_slots)
        for slot in span:
            if self._mask[slot] and self._labels[slot].lower().strip() == arg:
                return slot
        return None

    # ---- internals ----

    @staticmethod
    def _with_terms(info: dict[str, Any], reward: float, *, invalid: bool, text: str,
                    penalty: float) -> dict[str, Any]:
        out = dict(info)
        out["invalid"] = invalid
        out["reward_terms"] = {"purchase": reward, "invalid": penalty}
        out["action_text"] = text
        if invalid:  # nothing was bought on a no-op
            out["is_success"] = False
            out.pop("reward_info", None)
            out.pop("exact", None)
        return out

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
        price = _price_from_text(price_text)
        return float(price is not None and price <= self._budget)

    def _observe(self, info: dict[str, Any]) -> np.ndarray:
        self._info = info
        shop = self.text_env
        state, nodes = shop.page_state, shop.page_nodes
        clickables = set(info["available_actions"]["clickables"])
        labels = [""] * self.n_slots
        mask = np.zeros(self.n_slots, dtype=bool)
        feats = np.zeros((self.n_slots, N_SLOT_FEATURES), dtype=np.float32)
        inst_lower = " ".join(words(self._instruction))

        if info["available_actions"]["has_search_bar"]:
            seen: set[str] = set()
            for i, query in enumerate(self._queries):
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
        g[5] = min(1.0, self._t / self.horizon)
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
                title_words = self._title_words(node.ref)
                feats[slot, 0] = mask[slot]
                feats[slot, 1:3] = self._coverage(title_words)
                feats[slot, 3] = self._price_ok(product.price_text)
                feats[slot, 4] = float(node.selected)
                feats[slot, 5] = rank / N_PRODUCTS
                feats[slot, 7] = float(" ".join(title_words) in inst_lower)
        elif kind in ("item", "item_sub"):
            product = catalogue.products[state.product]
            chosen = dict(state.options)
            title_cov = self._coverage(self._title_words(state.product))[1]
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
        g[15] = (len(self._searched & self._inst_content) / len(self._inst_content)
                 if self._inst_content else 0.0)

        self._labels, self._mask = labels, mask
        d = self.bow_dim
        obs = self._obs
        obs[:d] = self._inst_bow
        obs[d:2 * d] = self._page_bow(state, nodes)
        obs[2 * d:2 * d + N_GLOBAL] = g
        obs[2 * d + N_GLOBAL:] = feats.ravel()
        return obs.copy()

    def _title_words(self, index: int) -> list[str]:
        # Per product, for the life of the env: bounded by the catalogue's size.
        cached = self._titles.get(index)
        if cached is None:
            title = self.text_env.catalogue.products[index].title
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


class WebShopDiscreteEnv(gym.Env):
    """The registry's ``rewardgym/WebShopDiscrete-v1``: a text shop seen through slots.

    Builds a :class:`WebShopTextEnv` (``config``, ``catalogue``, ``goals``, ``search`` and the
    config ``overrides`` as that env takes them) and views it with :class:`WebShopDiscrete`
    (``bow_dim``, ``search_candidates``, ``invalid_penalty``, ``horizon``, ``option_groups``,
    ``option_values``); see the module docstring for slots, mask and observation.

    ## Reward
    WebShop's purchase reward on ``buy now`` (``info["reward_terms"]["purchase"]``), minus
    ``invalid_penalty`` for a masked action (``info["reward_terms"]["invalid"]``).

    ## Episode end
    Terminates on the purchase; the registry adds a 15-step time limit.

    ## Version history
    * v1: WebShop's colour list (``COLOR_SET``, same words and order) for option matching, and on
      real data WebShop's goal split (shuffled by a generator seeded 233; test 500, eval 1,000).
    * v0: initial release.

    Example:
        >>> env = WebShopDiscreteEnv(n_products=500, bow_dim=256)
        >>> obs, info = env.reset(seed=0)
        >>> obs.shape, env.action_space, info["page"], env.action_text(1).startswith("search[")
        ((1040,), Discrete(64), 'search', True)
    """

    # Slots outside [0, K) raise; a masked slot in range is an invalid no-op (see above).
    metadata = {"render_modes": ["ansi"], "render_fps": 4, "action_policy": "raise"}
    reward_range = (-math.inf, 1.0)

    def __init__(self, config: WebShopConfig | None = None, *, catalogue: Any = None,
                 goals: Any = None, search: Any = None, render_mode: str | None = None,
                 bow_dim: int = 512, search_candidates: str = "instruction",
                 invalid_penalty: float = 0.0, horizon: int = 15, option_groups: int = 4,
                 option_values: int = 10, **overrides: Any) -> None:
        text_env = WebShopTextEnv(config, catalogue=catalogue, goals=goals, search=search,
                                  render_mode=render_mode, **overrides)
        self.view = WebShopDiscrete(text_env, bow_dim=bow_dim,
                                    search_candidates=search_candidates,
                                    invalid_penalty=invalid_penalty, horizon=horizon,
                                    option_groups=option_groups, option_values=option_values)
        self.render_mode = render_mode
        self.action_space = self.view.action_space
        self.observation_space = self.view.observation_space
        self.reward_range = (-abs(float(invalid_penalty)), 1.0)

    @property
    def text_env(self) -> WebShopTextEnv:
        """The underlying text env (for oracles, shaping and analysis)."""
        return self.view.text_env

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode: ``options`` as :meth:`WebShopTextEnv.reset` takes them."""
        super().reset(seed=seed)
        return self.view.reset(seed=seed, options=options)

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Take slot ``action`` (see :meth:`WebShopDiscrete.step`)."""
        name = self.spec.id if self.spec is not None else type(self).__name__
        return self.view.step(check_action(action, self.view.n_slots, name))

    def action_masks(self) -> np.ndarray:
        """The valid slots (``bool``, shape ``(K,)``), for sb3-contrib's MaskablePPO."""
        return self.view.action_masks()

    def action_text(self, slot: int) -> str:
        """The text action slot ``slot`` stands for now."""
        return self.view.action_text(slot)

    def slot_of(self, action_text: str) -> int | None:
        """The valid slot that takes ``action_text``, else None."""
        return self.view.slot_of(action_text)

    def render(self) -> str | None:
        """The current page as text (``render_mode="ansi"``)."""
        return self.text_env.render()


def discrete_view(env: gym.Env) -> WebShopDiscrete:
    """The :class:`WebShopDiscrete` inside ``env`` (a wrapper chain or the registry's env)."""
    current: Any = env
    while True:
        if isinstance(current, WebShopDiscrete):
            return current
        if isinstance(current, WebShopDiscreteEnv):
            return current.view
        nxt = getattr(current, "env", None)
        if nxt is None or nxt is current:
            raise TypeError(f"no WebShopDiscrete view in {env!r}")
        current = nxt


def text_env_of(env: gym.Env) -> WebShopTextEnv:
    """The :class:`WebShopTextEnv` under ``env`` (text env, discrete view or their wrappers)."""
    shop = env.unwrapped
    if isinstance(shop, WebShopTextEnv):
        return shop
    if isinstance(shop, WebShopDiscreteEnv):
        return shop.text_env
    raise TypeError(f"expected a WebShopTextEnv or WebShopDiscreteEnv, got "
                    f"{type(shop).__name__}")


__all__ = [
    "NAV_LABELS",
    "N_SEARCH",
    "WebShopDiscrete",
    "WebShopDiscreteEnv",
    "budget_of",
    "check_action",
    "content_words",
    "discrete_view",
    "hashed_bow",
    "oracle_search_candidates",
    "search_candidates",
    "text_env_of",
    "words",
]
