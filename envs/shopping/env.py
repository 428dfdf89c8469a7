"""``WebShopTextEnv``: WebShop's text shopping task as a deterministic, offline Gymnasium env.

Follows WebShop's ``WebAgentTextEnv`` (Yao et al., "WebShop: Towards Scalable Real-World Web
Interaction with Grounded Language Agents", NeurIPS 2022; ``web_agent_site/envs/
web_agent_text_env.py``): the same pages, text formats, ``search[...]``/``click[...]`` actions,
available actions and purchase reward, without Java, spaCy, Flask or a download. The catalogue,
search engine and goals are constructor-injectable; by default they are generated from seeds
(``envs/shopping/{catalogue,search,goals}.py``) and cached per process.

Differences from upstream, all deliberate: the gymnasium API (``reset(seed, options)`` and five
return values), goals drawn from ``self.np_random`` (upstream uses the global ``random``), a
``ValueError`` for non-string actions, and no action after the purchase (the done page absorbs
everything as an invalid no-op).

Contract enforced by ``tests/envs/shopping/test_env.py`` (and the registry contract): gymnasium's
env checker with warnings as errors; the same seed and actions give byte-identical observations;
unparseable or unavailable actions are no-ops flagged ``info["invalid"]``; non-strings raise a
``ValueError`` naming the env; WebShop's page flow and buy flow; history modes; pickling.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import string
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rewardgym.envs.shopping import pages
from rewardgym.envs.shopping.pages import Node, PageState
from rewardgym.envs.shopping.reward import compute_reward
from rewardgym.envs.shopping.schema import Catalogue, Goal

OBSERVATION_MODES = ("text", "text_rich", "html", "url")
MODE_ALIASES = {"simple": "text"}
SPLITS = ("train", "eval", "test")
GOAL_STYLES = ("synthetic", "human", "mixed")
MAX_OBSERVATION_LENGTH = 65536
MAX_ACTION_LENGTH = 512

_ACTION = re.compile(r"(.+)\[(.+)\]")


class SearchEngine(Protocol):
    """What the env needs from a search engine: catalogue indices of the best hits."""

    def search(self, query: str, k: int = 50) -> Sequence[int]:
        """The catalogue indices of the best ``k`` hits for ``query``, best first."""
        ...


class GoalSource(Protocol):
    """A goal set with fixed splits (e.g. ``goals.GoalSet``)."""

    def split(self, name: str) -> Sequence[Goal]:
        """The goals of split ``name`` (``"train"``, ``"eval"`` or ``"test"``)."""
        ...


SearchArg = SearchEngine | Callable[[str, int], Sequence[int]]
GoalsArg = GoalSource | Mapping[str, Sequence[Goal]] | Sequence[Goal]


@dataclasses.dataclass(frozen=True, kw_only=True)
class WebShopConfig:
    """Settings of :class:`WebShopTextEnv` (plain scalars, so registry rows can carry them).

    Attributes:
        observation_mode: ``"text"`` (alias ``"simple"``), ``"text_rich"``, ``"html"`` or
            ``"url"``.
        num_prev_obs: previous page observations prepended to each step's observation.
        num_prev_actions: previous actions prepended to each step's observation.
        show_attrs: offer the ``Attributes`` sub-page (reveals the hidden attributes).
        split: the goal split episodes draw from unless ``reset`` options say otherwise.
        faithful_quirks: accept ``search[...]`` on every page, as WebShop does; when False,
            only where the page has a search bar.
        expose_goal: put the goal's fields in ``info["goal"]`` (privileged; off by default).
        n_products: size of the generated catalogue (when none is injected).
        catalogue_seed: seed of the generated catalogue.
        goal_seed: seed of the generated goals (instruction wording, budgets, splits).
        goal_style: ``"synthetic"``, ``"human"`` or ``"mixed"`` instruction wording.
        option_match: how goal options are matched (see :mod:`~rewardgym.envs.shopping.reward`):
            ``"value"`` (default) or ``"tuple"`` (upstream synthetic goals' ``(name, value)``
            quirk, stricter for short values such as ``"large"`` vs ``"x-large"``).
        view_score_in_info: add ``info["view_score"]`` at reset and every step: WebShop's score
            of the product in view (item page or its sub-pages) with the options chosen so far,
            0 elsewhere (a shaping potential, like upstream ``WebEnv.score()``; privileged, off
            by default; see :mod:`rewardgym.envs.shopping.potential`).

    Example:
        >>> WebShopConfig(observation_mode="simple").mode
        'text'
    """

    observation_mode: str = "text"
    num_prev_obs: int = 0
    num_prev_actions: int = 0
    show_attrs: bool = False
    split: str = "train"
    faithful_quirks: bool = True
    expose_goal: bool = False
    n_products: int = 2000
    catalogue_seed: int = 0
    goal_seed: int = 0
    goal_style: str = "mixed"
    option_match: str = "value"
    view_score_in_info: bool = False

    def __post_init__(self) -> None:
        modes = (*OBSERVATION_MODES, *MODE_ALIASES)
        if self.observation_mode not in modes:
            raise ValueError(f"WebShopConfig.observation_mode must be one of {modes}, got "
                             f"{self.observation_mode!r}")
        for name in ("num_prev_obs", "num_prev_actions"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"WebShopConfig.{name} must be an int >= 0, got {value!r}")
        if self.split not in SPLITS:
            raise ValueError(f"WebShopConfig.split must be one of {SPLITS}, got {self.split!r}")
        if self.goal_style not in GOAL_STYLES:
            raise ValueError(f"WebShopConfig.goal_style must be one of {GOAL_STYLES}, got "
                             f"{self.goal_style!r}")
        if self.option_match not in ("value", "tuple"):
            raise ValueError(f"WebShopConfig.option_match must be 'value' or 'tuple', got "
                             f"{self.option_match!r}")
        if not isinstance(self.n_products, int) or self.n_products < 1:
            raise ValueError(f"WebShopConfig.n_products must be an int >= 1, got "
                             f"{self.n_products!r}")

    @property
    def mode(self) -> str:
        """The observation mode with aliases resolved."""
        return MODE_ALIASES.get(self.observation_mode, self.observation_mode)


def parse_action(action: str) -> tuple[str, str] | None:
    r"""WebShop's ``(.+)\[(.+)\]`` parse: ``(name, lower-cased argument)`` or ``None``.

    The match is anchored at the start only and greedy, as upstream's ``re.match``; the name is
    case-sensitive.

    Example:
        >>> parse_action("click[Buy Now]"), parse_action("search[Red Mug] now"), parse_action("x")
        (('click', 'buy now'), ('search', 'red mug'), None)
    """
    match = _ACTION.match(action)
    if match is None:
        return None
    return match.group(1), match.group(2).lower()


@functools.lru_cache(maxsize=4)
def _default_catalogue(n_products: int, seed: int) -> Catalogue:
    from rewardgym.envs.shopping.catalogue import generate_catalogue

    return generate_catalogue(n_products=n_products, seed=seed)


def _default_search(catalogue: Catalogue) -> SearchEngine:
    from rewardgym.envs.shopping.search import index_for

    return index_for(catalogue)


@functools.lru_cache(maxsize=4)
def _default_index(n_products: int, seed: int) -> SearchEngine:
    return _default_search(_default_catalogue(n_products, seed))


@functools.lru_cache(maxsize=4)
def _default_goals(n_products: int, catalogue_seed: int, goal_seed: int,
                   style: str) -> GoalSource:
    from rewardgym.envs.shopping.goals import generate_goals

    return generate_goals(_default_catalogue(n_products, catalogue_seed), seed=goal_seed,
                          style=style)


def _split_goals(goals: GoalsArg) -> dict[str, tuple[Goal, ...]]:
    split = getattr(goals, "split", None)
    if callable(split) and not isinstance(goals, str):
        return {name: tuple(split(name)) for name in SPLITS}
    if isinstance(goals, Mapping):
        return {name: tuple(goals.get(name, ())) for name in SPLITS}
    every = tuple(goals)
    return dict.fromkeys(SPLITS, every)


def _search_function(search: SearchArg) -> Callable[[str, int], Sequence[int]]:
    method = getattr(search, "search", None)
    return method if callable(method) else search


class WebShopTextEnv(gym.Env):
    """WebShop's text shopping task: search, browse, pick options, buy.

    ## Description
    The agent reads an instruction ("i need a machine washable sofa cover in navy blue, and
    price lower than 60.00 dollars"), searches a product catalogue (BM25, 10 results per page,
    at most 50), opens products, chooses options and buys one (Yao et al., NeurIPS 2022).

    ## Observation
    ``Text(max_length=65536, charset=string.printable)``: the current page in
    ``observation_mode`` (see :mod:`rewardgym.envs.shopping.pages`), preceded by up to
    ``num_prev_obs`` earlier pages and ``num_prev_actions`` earlier actions joined by
    ``" [SEP] "`` (oldest first, WebShop's order; the head is cut beyond 65536 characters).

    ## Action
    ``Text(max_length=512, charset=string.printable)``: ``search[keywords]`` or
    ``click[label]`` with a label from ``info["available_actions"]["clickables"]``
    (case-insensitive). Anything else is a no-op with ``info["invalid"] = True``; a non-string
    raises ``ValueError``.

    ## Reward
    0 except on ``click[buy now]``: WebShop's score of the bought product and options
    (:func:`rewardgym.envs.shopping.reward.compute_reward`), with every term in
    ``info["reward_info"]`` and ``info["reward_terms"] = {"purchase": reward}`` on every step.
    ``info["is_success"]`` is ``R == 1``; ``info["exact"]`` says the goal's own product was
    bought.

    ## Episode end
    Terminates on the purchase. No step limit inside: the registry row sets
    ``max_episode_steps`` (15 is the LLM-agent convention, WebShop's IL/RL baselines use 100).

    ## Info keys
    Every step: ``available_actions``, ``instruction``, ``page``, ``asin``, ``options``,
    ``goal_idx``, ``split``, ``invalid``, ``is_success``, ``reward_terms``; on the purchase
    also ``reward_info`` and ``exact``; with ``expose_goal`` also ``goal``; with
    ``view_score_in_info`` also ``view_score`` (see :meth:`view_score`).

    ## Version history
    * v1: WebShop's colour list (``COLOR_SET``, same words and order) for option matching, and on
      real data WebShop's goal split (shuffled by a generator seeded 233; test 500, eval 1,000).
    * v0: initial release.

    Example:
        >>> from rewardgym.envs.shopping.examples import one_mug_shop
        >>> env = WebShopTextEnv(**one_mug_shop())
        >>> obs, info = env.reset(seed=0)
        >>> obs
        'WebShop [SEP] Instruction: [SEP] i want a large red mug [SEP] Search'
        >>> for action in ["search[red mug]", "click[b000000001]", "click[large]"]:
        ...     obs, reward, terminated, truncated, info = env.step(action)
        >>> env.step("click[buy now]")[1:3]
        (1.0, True)
    """

    # Invalid commands are no-ops flagged info["invalid"] (envs/action_policy.py).
    metadata = {"render_modes": ["ansi"], "render_fps": 4, "action_policy": "noop"}
    reward_range = (0.0, 1.0)

    def __init__(self, config: WebShopConfig | None = None, *, catalogue: Catalogue | None = None,
                 goals: GoalsArg | None = None, search: SearchArg | None = None,
                 render_mode: str | None = None, **overrides: Any) -> None:
        base = WebShopConfig() if config is None else config
        self.config = dataclasses.replace(base, **overrides)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"WebShopTextEnv: render_mode {render_mode!r} not in "
                             f"{self.metadata['render_modes']}")
        self.render_mode = render_mode
        self.observation_space = spaces.Text(max_length=MAX_OBSERVATION_LENGTH, min_length=0,
                                             charset=string.printable)
        self.action_space = spaces.Text(max_length=MAX_ACTION_LENGTH, min_length=0,
                                        charset=string.printable)
        # What is generated from seeds is rebuilt after unpickling, not shipped (__getstate__).
        self._generated = {"catalogue": catalogue is None, "goals": goals is None,
                           "search": search is None}
        self._build_world(catalogue, goals, search)
        self._goal: Goal | None = None
        self._goal_idx = -1
        self._split = self.config.split
        self._state = PageState()
        self._visited: set[int] = set()
        self._steps = 0
        self._nodes: list[Node] = []
        self._clickables: dict[str, Node] = {}
        self._prev_obs: deque[str] = deque(maxlen=self.config.num_prev_obs)
        self._prev_actions: deque[str] = deque(maxlen=self.config.num_prev_actions)

    def _build_world(self, catalogue: Catalogue | None, goals: GoalsArg | None,
                     search: SearchArg | None) -> None:
        # Defaults over the default catalogue come from per-process caches, so many envs (and
        # unpickled copies) share one catalogue, index and goal set.
        cfg = self.config
        generated = catalogue is None
        if generated:
            catalogue = _default_catalogue(cfg.n_products, cfg.catalogue_seed)
        if goals is None and generated:
            goals = _default_goals(cfg.n_products, cfg.catalogue_seed, cfg.goal_seed,
                                   cfg.goal_style)
        elif goals is None:
            from rewardgym.envs.shopping.goals import generate_goals

            goals = generate_goals(catalogue, seed=cfg.goal_seed, style=cfg.goal_style)
        if search is None:
            search = (_default_index(cfg.n_products, cfg.catalogue_seed) if generated
                      else _default_search(catalogue))
        self._catalogue = catalogue
        self._search_engine = search
        self._search = _search_function(self._search_engine)
        self._goals = _split_goals(goals)
        self._cum_weights: dict[str, np.ndarray] = {}
        for name, split_goals in self._goals.items():
            weights = np.array([g.weight for g in split_goals], dtype=np.float64)
            if split_goals and (not np.all(np.isfinite(weights)) or np.any(weights < 0)
                                or weights.sum() <= 0):
                raise ValueError(f"{self._name}: goal weights of split {name!r} must be finite, "
                                 f">= 0 and not all 0")
            self._cum_weights[name] = np.cumsum(weights)

    @property
    def _name(self) -> str:
        return self.spec.id if self.spec is not None else "WebShopTextEnv"

    # ---- read-only accessors (documented: the oracle and wrappers use them) ----

    @property
    def catalogue(self) -> Catalogue:
        """The product catalogue."""
        return self._catalogue

    @property
    def goal(self) -> Goal:
        """The current episode's goal (privileged: for oracles, shaping and analysis)."""
        if self._goal is None:
            raise gym.error.ResetNeeded(f"{self._name}: call reset() before reading the goal")
        return self._goal

    @property
    def goal_index(self) -> int:
        """Index of the current goal within :attr:`split_name`'s goals."""
        return self._goal_idx

    @property
    def split_name(self) -> str:
        """The split the current goal was drawn from."""
        return self._split

    @property
    def page_state(self) -> PageState:
        """The current page (immutable)."""
        return self._state

    @property
    def page_nodes(self) -> tuple[Node, ...]:
        """The current page's content, in document order."""
        return tuple(self._nodes)

    @property
    def steps(self) -> int:
        """Steps taken since the last reset (no-ops included)."""
        return self._steps

    @property
    def visited(self) -> frozenset[int]:
        """Catalogue indices of the products opened this episode."""
        return frozenset(self._visited)

    def goals(self, split: str) -> tuple[Goal, ...]:
        """The goals of ``split`` (``"train"``, ``"eval"`` or ``"test"``)."""
        if split not in SPLITS:
            raise ValueError(f"{self._name}: split must be one of {SPLITS}, got {split!r}")
        return self._goals[split]

    def search(self, keywords: str) -> tuple[int, ...]:
        """Catalogue indices of the hits a ``search[keywords]`` shows (at most 50)."""
        hits = self._search(keywords, pages.MAX_RESULTS)
        return tuple(int(i) for i in hits[:pages.MAX_RESULTS])

    # ---- gymnasium API ----

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """Start an episode on the search page.

        Args:
            seed: reseeds ``np_random``, which draws the goal.
            options: ``{"split": "train"|"eval"|"test"}`` for this episode only (default: the
                configured split) and ``{"goal_idx": i}`` to pick a goal instead of drawing one
                with probability proportional to its weight.
        """
        super().reset(seed=seed)
        options = {} if options is None else options
        unknown = set(options) - {"split", "goal_idx"}
        if unknown:
            raise ValueError(f"{self._name}: unknown reset options {sorted(unknown)}, expected "
                             f"'split' and/or 'goal_idx'")
        split = options.get("split", self.config.split)
        goals = self.goals(split)
        if not goals:
            raise ValueError(f"{self._name}: split {split!r} has no goals")
        if "goal_idx" in options:
            idx = options["goal_idx"]
            if (not isinstance(idx, int | np.integer) or isinstance(idx, bool)
                    or not 0 <= idx < len(goals)):
                raise ValueError(f"{self._name}: goal_idx must be an int in [0, {len(goals)}) "
                                 f"for split {split!r}, got {idx!r}")
            idx = int(idx)
        else:
            cum = self._cum_weights[split]
            draw = self.np_random.random() * cum[-1]
            idx = min(int(np.searchsorted(cum, draw, side="right")), len(goals) - 1)
        self._split, self._goal_idx, self._goal = split, idx, goals[idx]
        self._visited.clear()
        self._steps = 0
        self._prev_obs.clear()
        self._prev_actions.clear()
        self._go(PageState())
        obs = self._observe()
        self._prev_obs.append(obs)
        return obs, self._info(invalid=False, reward=0.0)

    def step(self, action: Any) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        """Apply ``search[...]`` or ``click[...]``; other strings are no-ops.

        Raises:
            ValueError: if ``action`` is not a ``str`` (the message names the env).
        """
        if not isinstance(action, str):
            raise ValueError(f"{self._name}: action must be a str such as 'search[red mug]' or "
                             f"'click[buy now]', got {type(action).__name__} {action!r:.80}")
        if self._goal is None:
            raise gym.error.ResetNeeded(f"{self._name}: call reset() before step()")
        self._steps += 1
        parsed = parse_action(action)
        reward, extra = 0.0, {}
        valid = parsed is not None and self._state.kind != "done"
        if valid:
            name, arg = parsed
            if name == "search":
                valid = self.config.faithful_quirks or self._state.kind == "search"
                if valid:
                    self._go(PageState(kind="results", keywords=arg, results=self.search(arg)))
            elif name == "click" and arg != "search" and arg in self._clickables:
                reward, extra = self._click(self._clickables[arg])
            else:
                valid = False
        ob = self._observe()
        self._prev_actions.append(pages.printable(action))
        obs = self._with_history(ob)
        self._prev_obs.append(ob)
        info = self._info(invalid=not valid, reward=reward)
        info.update(extra)
        # The done page absorbs every later action, and stays terminal.
        return obs, reward, self._state.kind == "done", False, info

    def render(self) -> str | None:
        """The current page in ``text`` mode (``render_mode="ansi"``)."""
        if self.render_mode is None:
            gym.logger.warn("WebShopTextEnv.render() called without a render_mode; pass "
                            "render_mode='ansi' to gym.make")
            return None
        return pages.to_text(self._nodes)

    # ---- internals ----

    def _click(self, node: Node) -> tuple[float, dict[str, Any]]:
        state = self._state
        if node.kind == "link":
            self._visited.add(node.ref)
            self._go(dataclasses.replace(state, kind="item", product=node.ref, options=()))
        elif node.kind == "option":
            value = self._catalogue.products[state.product].options[node.group][node.ref]
            self._go(state.with_option(node.group, value))
        elif node.text == pages.BACK_TO_SEARCH:
            self._go(PageState())
        elif node.text == pages.NEXT_PAGE:
            self._go(dataclasses.replace(state, page=state.page + 1))
        elif node.text == pages.PREV_PAGE:
            if state.kind == "results":
                self._go(dataclasses.replace(state, page=state.page - 1))
            elif state.kind == "item":
                self._go(dataclasses.replace(state, kind="results", product=-1, options=()))
            else:
                self._go(dataclasses.replace(state, kind="item", sub_page=""))
        elif node.text in pages.SUB_PAGES:
            self._go(dataclasses.replace(state, kind="item_sub", sub_page=node.text))
        elif node.text == pages.BUY_NOW:
            return self._buy()
        return 0.0, {}

    def _buy(self) -> tuple[float, dict[str, Any]]:
        state, goal = self._state, self.goal
        product = self._catalogue.products[state.product]
        info = compute_reward(product, goal, dict(state.options),
                              option_match=self.config.option_match)
        reward = float(info.total)
        self._go(dataclasses.replace(state, kind="done", score=reward))
        return reward, {"reward_info": info.as_dict(), "is_success": reward == 1.0,
                        "exact": product.asin.lower() == goal.asin.lower()}

    def _go(self, state: PageState) -> None:
        self._state = state
        self._nodes = pages.page_nodes(state, catalogue=self._catalogue,
                                       instruction=self.goal.instruction_text,
                                       show_attrs=self.config.show_attrs, visited=self._visited)
        self._clickables = pages.clickable_map(self._nodes)

    def _observe(self) -> str:
        mode = self.config.mode
        if mode == "text":
            return pages.to_text(self._nodes)
        if mode == "text_rich":
            return pages.to_text_rich(self._nodes)
        if mode == "html":
            return pages.to_html(self._nodes)
        return pages.to_url(self._state, self._catalogue, f"{self._split}-{self._goal_idx}")

    def _with_history(self, ob: str) -> str:
        # WebShop's order: pages and actions interleaved newest first, then reversed, so the
        # observation reads oldest -> newest and ends with the current page.
        parts = [ob]
        n_obs, n_act = len(self._prev_obs), len(self._prev_actions)
        for i in range(1, max(n_obs, n_act) + 1):
            if i <= n_act:
                parts.append(self._prev_actions[-i])
            if i <= n_obs:
                parts.append(self._prev_obs[-i])
        text = pages.SEP.join(reversed(parts))
        return text[-MAX_OBSERVATION_LENGTH:]

    def _info(self, *, invalid: bool, reward: float) -> dict[str, Any]:
        state = self._state
        asin = self._catalogue.products[state.product].asin if state.product >= 0 else None
        info = {
            "available_actions": pages.available_actions(self._nodes, self._clickables),
            "instruction": self.goal.instruction_text,
            "page": state.kind,
            "asin": asin,
            "options": dict(state.options),
            "goal_idx": self._goal_idx,
            "split": self._split,
            "invalid": invalid,
            "is_success": False,
            "reward_terms": {"purchase": reward},
        }
        if self.config.expose_goal:
            info["goal"] = dataclasses.asdict(self.goal)
        if self.config.view_score_in_info:
            info["view_score"] = self.view_score()
        return info

    def view_score(self) -> float:
        """WebShop's score of the product in view with the options chosen so far (privileged).

        The product in view is the one on the item page or its sub-pages; elsewhere (search,
        results, done) the score is 0, so a potential built on it vanishes at the end.
        """
        state = self._state
        if state.kind not in ("item", "item_sub"):
            return 0.0
        product = self._catalogue.products[state.product]
        return float(compute_reward(product, self.goal, dict(state.options),
                                    option_match=self.config.option_match).total)

    # ---- pickling ----

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if self._generated["catalogue"]:
            # A generated world is a pure function of the config: ship the seeds, not MBs.
            state["_catalogue"] = None
            for part, key in (("goals", "_goals"), ("search", "_search_engine")):
                if self._generated[part]:
                    state[key] = None
            del state["_search"], state["_cum_weights"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self._generated["catalogue"]:
            self._build_world(None, self._goals, self._search_engine)
