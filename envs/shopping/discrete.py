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
(the kit's single shell over a :class:`ShopCore` that owns one such view; the registry's entry
point, so ``gym.make(...).unwrapped`` is the discrete env and gymnasium's checker runs on it).
The vector env (:mod:`~rewardgym.envs.shopping.vector_env`) is the kit's vector shell over a
:class:`ShopCore` of ``n`` views.

Files by job: :mod:`~rewardgym.envs.shopping.tokens` (words, bags of words),
:mod:`~rewardgym.envs.shopping.instruction` (budget, search candidates),
:mod:`~rewardgym.envs.shopping.slots` (slot layout, the page encoder); this module holds the
two shells. Their public names stay importable from here.

Contract enforced by ``tests/envs/shopping/test_discrete.py``: gymnasium's and SB3's env
checkers; masks equal the available actions; masked actions are no-ops; bad actions raise a
``ValueError`` naming the env; seeds make runs identical; pickling; each constructor argument
changes the output; a MaskablePPO smoke run.
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import RecordConstructorArgs

from rewardgym.envs.native.checks import INT_TYPES, check_discrete_actions
from rewardgym.envs.native.rows import EnvRowsCore
from rewardgym.envs.native.single import NativeEnv
from rewardgym.envs.shopping.env import WebShopConfig, WebShopTextEnv
from rewardgym.envs.shopping.instruction import (
    N_SEARCH,
    budget_of,
    oracle_search_candidates,
    search_candidates,
    without_price,
)
from rewardgym.envs.shopping.slots import (
    N_GLOBAL,
    N_SLOT_FEATURES,
    NAV_LABELS,
    PAGE_KINDS,
    SEARCH_MODES,
    SlotEncoder,
    check_action,
    check_int_arg,
)
from rewardgym.envs.shopping.tokens import content_words, hashed_bow, words


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
        check_int_arg(who, "bow_dim", bow_dim, 1)
        check_int_arg(who, "horizon", horizon, 1)
        check_int_arg(who, "option_groups", option_groups, 0)
        check_int_arg(who, "option_values", option_values, 0)
        if search_candidates not in SEARCH_MODES:
            raise ValueError(f"{who}: search_candidates must be one of {SEARCH_MODES}, got "
                             f"{search_candidates!r}")
        if not (isinstance(invalid_penalty, int | float) and math.isfinite(invalid_penalty)):
            raise ValueError(f"{who}: invalid_penalty must be a finite number, got "
                             f"{invalid_penalty!r}")
        self.bow_dim, self.horizon = bow_dim, horizon
        self.search_mode, self.invalid_penalty = search_candidates, float(invalid_penalty)
        self.option_groups, self.option_values = option_groups, option_values
        self._encoder = SlotEncoder(bow_dim=bow_dim, search_mode=search_candidates,
                                    horizon=horizon, option_groups=option_groups,
                                    option_values=option_values)
        self.nav_start = self._encoder.nav_start
        self.product_start = self._encoder.product_start
        self.option_start = self._encoder.option_start
        self.n_slots = self._encoder.n_slots
        self.action_space = spaces.Discrete(self.n_slots)
        self.observation_space = spaces.Box(0.0, 1.0, (self._encoder.size,), np.float32)
        self._labels: list[str] = [""] * self.n_slots
        self._mask = np.zeros(self.n_slots, dtype=bool)
        self._obs = np.zeros(self._encoder.size, dtype=np.float32)
        self._info: dict[str, Any] = {}
        self._t = 0

    @property
    def name(self) -> str:
        """How errors name this env (the spec id when made through the registry)."""
        spec = self.unwrapped.spec
        return spec.id if spec is not None else type(self).__name__

    @property
    def text_env(self) -> WebShopTextEnv:
        """The underlying text env (for oracles and analysis)."""
        return self.env.unwrapped

    @property
    def steps(self) -> int:
        """Slots taken since the last reset (masked no-ops included, unlike the text env's)."""
        return self._t

    # ---- gymnasium API ----

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset the text env (same ``seed``/``options``) and observe its search page."""
        _, info = self.env.reset(seed=seed, options=options)
        self._t = 0
        self._encoder.start(self.text_env, info["instruction"])
        return self._observe(info), self._with_terms(info, 0.0, invalid=False, text="",
                                                     penalty=0.0)

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Take slot ``action``; a masked or empty slot is a no-op flagged ``invalid``.

        Raises:
            ValueError: ``action`` is not an int in ``[0, K)`` (the message names the env).
        """
        n = self.n_slots
        # The common case without computing the env's name (the checks' own fast path).
        slot = int(action) if type(action) in INT_TYPES and 0 <= action < n else check_action(
            action, n, self.name)
        self._t += 1
        text = self.action_text(slot)
        if not self._mask[slot]:
            penalty = -self.invalid_penalty if self.invalid_penalty else 0.0
            # A deep copy: every step must hand out fresh info objects.
            info = self._with_terms(copy.deepcopy(self._info), 0.0, invalid=True, text=text,
                                    penalty=penalty)
            # Only the step counter moved: refresh the step-fraction feature.
            self._obs[self._encoder.step_index] = min(1.0, self._t / self.horizon)
            return self._obs.copy(), penalty, self._info.get("page") == "done", False, info
        if slot < N_SEARCH:
            self._encoder.searched.update(words(self._labels[slot]))
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

    def _observe(self, info: dict[str, Any]) -> np.ndarray:
        self._info = info
        _, self._labels, self._mask = self._encoder.encode(self.text_env, info, self._t,
                                                           out=self._obs)
        return self._obs.copy()


class ShopCore(EnvRowsCore):
    """Shops seen through slots: the kit's core over rows that each hold a :class:`WebShopDiscrete`.

    WebShop's pages, search and reward are Python over one shared catalogue and BM25 index, so
    there is no batch kernel: the rows step one after another (the kit's
    :class:`~rewardgym.envs.native.rows.EnvRowsCore`). The single env's one row is the slot
    view itself; the vector env's rows are single envs under the time limit, as
    ``SyncVectorEnv`` holds them (``envs.envs[i].unwrapped`` is a :class:`WebShopDiscreteEnv`).

    Args:
        rows: the row envs.
        views: the slot view of each row (action masks and slot texts are read from them).
    """

    def __init__(self, rows: list[gym.Env], views: list[WebShopDiscrete]) -> None:
        self.views = views
        super().__init__(rows)

    def check_actions(self, name: str, actions: Any, num_envs: int | None) -> Any:
        """One slot (a Python int in ``[0, K)``) or ``num_envs`` slots; else a ``ValueError``."""
        n = self.views[0].n_slots
        if num_envs is None:
            return (check_action(actions, n, name),)
        return check_discrete_actions(name, actions, n, num_envs).tolist()

    def single_path(self) -> tuple[Any, ...]:
        """Row 0 stepped with the slot itself (its view converts a valid one to a Python int).

        The check passes a valid slot through untouched (the view's own fast path converts
        it) and raises, naming the env, for anything else, as :meth:`check_actions` does.
        """
        _, _, obs_row, info, *outputs = super().single_path()
        row, obs, infos = self.rows[0], self.row_obs, self.row_info
        reward, terminated, truncated = outputs
        n = self.views[0].n_slots

        def check(name: str, action: Any, num_envs: None) -> Any:
            if type(action) in INT_TYPES and 0 <= action < n:
                return action
            return check_action(action, n, name)

        def step(action: Any, autoreset: int) -> None:  # the single shell's NO_AUTORESET
            obs[0], reward[0], terminated[0], truncated[0], infos[0] = row.step(action)

        return check, step, obs_row, info, reward, terminated, truncated


def _slot_view(config: WebShopConfig | None = None, *, catalogue: Any = None, goals: Any = None,
               search: Any = None, render_mode: str | None = None, bow_dim: int = 512,
               search_candidates: str = "instruction", invalid_penalty: float = 0.0,
               horizon: int = 15, option_groups: int = 4, option_values: int = 10,
               **overrides: Any) -> WebShopDiscrete:
    """A :class:`WebShopTextEnv` (its arguments) seen through :class:`WebShopDiscrete`."""
    text_env = WebShopTextEnv(config, catalogue=catalogue, goals=goals, search=search,
                              render_mode=render_mode, **overrides)
    return WebShopDiscrete(text_env, bow_dim=bow_dim, search_candidates=search_candidates,
                           invalid_penalty=invalid_penalty, horizon=horizon,
                           option_groups=option_groups, option_values=option_values)


class WebShopDiscreteEnv(NativeEnv):
    """The registry's ``rewardgym/WebShopDiscrete-v1``: a text shop seen through slots.

    Builds a :class:`WebShopTextEnv` (``config``, ``catalogue``, ``goals``, ``search`` and the
    config ``overrides`` as that env takes them) and views it with :class:`WebShopDiscrete`
    (``bow_dim``, ``search_candidates``, ``invalid_penalty``, ``horizon``, ``option_groups``,
    ``option_values``); see the module docstring for slots, mask and observation. The kit's
    single shell (:class:`~rewardgym.envs.native.single.NativeEnv`) over a :class:`ShopCore`
    of one shop.

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

    def __init__(self, config: WebShopConfig | None = None, *, render_mode: str | None = None,
                 invalid_penalty: float = 0.0, **kwargs: Any) -> None:
        view = _slot_view(config, render_mode=render_mode, invalid_penalty=invalid_penalty,
                          **kwargs)
        core = ShopCore([view], [view])
        super().__init__(core, render_mode)
        self.reward_range = (-abs(float(invalid_penalty)), 1.0)

    @property
    def view(self) -> WebShopDiscrete:
        """The slot view of the shop (a ``gym.Wrapper`` over its text env)."""
        return self._core.views[0]

    @property
    def text_env(self) -> WebShopTextEnv:
        """The underlying text env (for oracles, shaping and analysis)."""
        return self.view.text_env

    def action_masks(self) -> np.ndarray:
        """The valid slots (``bool``, shape ``(K,)``), for sb3-contrib's MaskablePPO."""
        return self.view.action_masks()

    def action_text(self, slot: int) -> str:
        """The text action slot ``slot`` stands for now."""
        return self.view.action_text(slot)

    def slot_of(self, action_text: str) -> int | None:
        """The valid slot that takes ``action_text``, else None."""
        return self.view.slot_of(action_text)


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
    "N_GLOBAL",
    "N_SEARCH",
    "N_SLOT_FEATURES",
    "PAGE_KINDS",
    "ShopCore",
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
    "without_price",
    "words",
]
