"""Shop-R1's hierarchical action reward for the shopping env, as a reward wrapper.

:class:`ShopR1Reward` follows Shop-R1 (Zhang et al., "Shop-R1: Rewarding LLMs to Simulate Human
Behavior in Online Shopping via Reinforcement Learning", arXiv 2507.17842; research
``webshop.md`` §8.8): each step is compared with the privileged oracle's next action
(:func:`rewardgym.envs.shopping.oracle.oracle_action`) and earns a weighted format, type,
element and argument (ROUGE-L) reward on top of WebShop's purchase reward. It is NOT
potential-based; see its docstring for what that costs. The policy-invariant alternative is
potential shaping on :func:`rewardgym.envs.shopping.potential.view_score_potential`.

Contract enforced by ``tests/wrappers/test_shop_r1.py``: the terms sum to the reward, the base
reward is kept in ``info["base_reward"]``, each argument changes the terms, and it pickles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
from gymnasium.utils import RecordConstructorArgs

from rewardgym.envs.shopping import pages
from rewardgym.envs.shopping.discrete import text_env_of, words
from rewardgym.envs.shopping.env import parse_action
from rewardgym.envs.shopping.oracle import oracle_action

TERMS = ("shop_r1_format", "shop_r1_type", "shop_r1_exists", "shop_r1_label", "shop_r1_search",
         "shop_r1_query")
"""The shaping terms :class:`ShopR1Reward` adds to ``info["reward_terms"]`` (always all)."""

TYPE_REWARD = 0.3
EXISTS_REWARD = 0.2
SEARCH_FIELD_REWARD = 0.1


def rouge_l(candidate: Sequence[str] | str, reference: Sequence[str] | str) -> float:
    """ROUGE-L F1 between two token sequences (strings are split into lower-case words).

    Example:
        >>> rouge_l("red ceramic mug", "ceramic mug red"), rouge_l("mug", "")
        (0.6666666666666666, 0.0)
    """
    a = words(candidate) if isinstance(candidate, str) else list(candidate)
    b = words(reference) if isinstance(reference, str) else list(reference)
    if not a or not b:
        return 0.0
    prev = [0] * (len(b) + 1)
    for x in a:
        row = [0]
        for j, y in enumerate(b):
            row.append(prev[j] + 1 if x == y else max(prev[j + 1], row[j]))
        prev = row
    lcs = prev[-1]
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(a), lcs / len(b)
    return 2 * precision * recall / (precision + recall)


def _kind(action: str) -> tuple[str, str] | None:
    parsed = parse_action(action)
    if parsed is None:
        return None
    name, arg = parsed
    if name == "search":
        return "search", arg
    if name == "click":
        return ("buy", arg) if arg == pages.BUY_NOW.lower() else ("click", arg)
    return None


class ShopR1Reward(gym.Wrapper, RecordConstructorArgs):
    """Shop-R1-style hierarchical action reward on top of WebShop's purchase reward.

    Before each step the privileged oracle (:func:`~rewardgym.envs.shopping.oracle.
    oracle_action`) names the expert's next action ``a*``; after it, the agent's action ``a``
    (the text action, or ``info["action_text"]`` on the discrete view) earns
    ``lam_t * v(a, a*)`` on top of the env's reward, where ``v`` adds:

    * ``shop_r1_format``: ``format_bonus`` when a text action parses as ``search[...]`` or
      ``click[...]`` (text env only: a discrete slot is always well-formed);
    * ``shop_r1_type``: 0.3 when ``a`` and ``a*`` have the same type (search, click, buy);
    * clicks (both clicks): ``shop_r1_exists`` 0.2 when the clicked label was on the page, and
      ``shop_r1_label`` ``dars * ROUGE-L(label, label*)`` when that is at least ``tau``;
    * searches (both searches): ``shop_r1_search`` 0.1 for a non-empty query + 0.1 for a page
      with a search bar + 0.1 for the element name (the search box, always right here), and
      ``shop_r1_query`` ``dars * ROUGE-L(query, query*)``;
    * buy (terminate): the type reward only.

    ``lam_t = lam`` or, with ``anneal_steps``, ``lam * max(0, 1 - t / anneal_steps)`` over this
    wrapper's steps ``t`` (across episodes). ``info["reward_terms"]`` holds the env's terms
    (``purchase``, ...) plus every term of :data:`TERMS` already multiplied by ``lam_t``, so
    they sum to the reward; ``info["base_reward"]`` is the env's own reward. To log base and
    shaped returns, put ``RecordEpisodeStatistics`` inside this wrapper (base) and outside it
    (shaped).

    **This is NOT potential-based shaping.** It pays for resembling the oracle step by step,
    not for a difference of potentials, so it can change the optimal policy (Ng et al., 1999):
    the return of a trajectory is no longer the purchase reward plus a constant. Over a
    15-step episode the shaping can add up to about ``15 * lam * (0.3 + 0.2 + dars)`` (1.1 at
    the defaults), as much as the purchase itself. Known failure mode, "terminate spam" (Shop-R1's
    ablation): the type reward is the easiest part to earn, and the terminate/buy action needs
    no argument to get right, so a policy trained on too strong a shaping signal learns to
    emit ``buy now`` early and often, trading the purchase score for sure type rewards; more
    generally it learns to imitate the oracle's action types rather than to buy the right
    product. Keep ``lam`` small (the default 0.05; Shop-R1's ``lam = 1000`` assumed
    GRPO-normalised advantages), anneal it to 0 (``anneal_steps``), and always report
    ``info["base_reward"]``.

    Args:
        env: a :class:`~rewardgym.envs.shopping.env.WebShopTextEnv` or the discrete view
            (:class:`~rewardgym.envs.shopping.discrete.WebShopDiscreteEnv`), possibly wrapped.
        lam: weight ``lambda`` of the whole action reward.
        dars: weight of the ROUGE-L argument terms (Shop-R1's difficulty-aware scaling).
        tau: ROUGE-L threshold below which a click label earns nothing.
        format_bonus: reward of a parseable text action.
        anneal_steps: decay ``lam`` linearly to 0 over this many steps (None: constant).

    Example:
        >>> from rewardgym.envs.shopping.env import WebShopTextEnv
        >>> from rewardgym.envs.shopping.examples import one_mug_shop
        >>> env = ShopR1Reward(WebShopTextEnv(**one_mug_shop()), format_bonus=0.0)
        >>> _ = env.reset(seed=0)
        >>> _, reward, _, _, info = env.step("search[i want a large red mug]")
        >>> round(reward, 4), info["base_reward"], round(sum(info["reward_terms"].values()), 4)
        (0.08, 0.0, 0.08)
    """

    def __init__(self, env: gym.Env, *, lam: float = 0.05, dars: float = 1.0, tau: float = 0.75,
                 format_bonus: float = 0.5, anneal_steps: int | None = None) -> None:
        RecordConstructorArgs.__init__(self, lam=lam, dars=dars, tau=tau,
                                       format_bonus=format_bonus, anneal_steps=anneal_steps)
        gym.Wrapper.__init__(self, env)
        who = type(self).__name__
        text_env_of(env)  # refuses other envs with a TypeError
        for name, value in (("lam", lam), ("dars", dars), ("tau", tau),
                            ("format_bonus", format_bonus)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not (
                    math.isfinite(value) and value >= 0):
                raise ValueError(f"{who}: {name} must be a finite number >= 0, got {value!r}")
        if tau > 1:
            raise ValueError(f"{who}: tau must be in [0, 1], got {tau!r}")
        if anneal_steps is not None and (isinstance(anneal_steps, bool) or not isinstance(
                anneal_steps, int) or anneal_steps < 1):
            raise ValueError(f"{who}: anneal_steps must be an int >= 1 or None, got "
                             f"{anneal_steps!r}")
        self.lam, self.dars, self.tau = float(lam), float(dars), float(tau)
        self.format_bonus, self.anneal_steps = float(format_bonus), anneal_steps
        self.num_steps = 0

    @property
    def current_lam(self) -> float:
        """``lam_t``: the weight the next step gets."""
        if self.anneal_steps is None:
            return self.lam
        return self.lam * max(0.0, 1.0 - self.num_steps / self.anneal_steps)

    def action_terms(self, action: str, expert: str | None, clickables: Sequence[str],
                     has_search_bar: bool, *, text_input: bool) -> dict[str, float]:
        """``v(a, a*)`` split into the unweighted :data:`TERMS` (before ``lam``)."""
        terms = dict.fromkeys(TERMS, 0.0)
        mine = _kind(action)
        if mine is None:
            return terms
        if text_input:
            terms["shop_r1_format"] = self.format_bonus
        theirs = None if expert is None else _kind(expert)
        if theirs is None or mine[0] != theirs[0]:
            return terms
        terms["shop_r1_type"] = TYPE_REWARD
        kind, arg = mine
        if kind == "click":
            terms["shop_r1_exists"] = EXISTS_REWARD if arg in clickables else 0.0
            similarity = rouge_l(arg, theirs[1])
            terms["shop_r1_label"] = self.dars * similarity if similarity >= self.tau else 0.0
        elif kind == "search":
            terms["shop_r1_search"] = SEARCH_FIELD_REWARD * (
                float(bool(arg.strip())) + float(has_search_bar) + 1.0)
            terms["shop_r1_query"] = self.dars * rouge_l(arg, theirs[1])
        return terms

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the env, then add ``lam_t * v(a, a*)`` (the oracle's ``a*`` from before)."""
        shop = text_env_of(self.env)
        expert = None if shop.page_state.kind == "done" else oracle_action(shop)
        nodes = shop.page_nodes
        clickables = list(pages.clickable_map(nodes))
        has_search_bar = any(node.kind == "search_input" for node in nodes)
        lam = self.current_lam
        obs, base, terminated, truncated, info = self.env.step(action)
        self.num_steps += 1
        text_input = isinstance(action, str)
        text = action if text_input else str(info.get("action_text", ""))
        terms = self.action_terms(text, expert, clickables, has_search_bar,
                                  text_input=text_input)
        base = float(base)
        shaped = {name: lam * value for name, value in terms.items()}
        info = dict(info)
        info["base_reward"] = base
        info["reward_terms"] = {**info.get("reward_terms", {"purchase": base}), **shaped}
        reward = base + sum(shaped.values())
        return obs, reward, terminated, truncated, info

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset the env; ``info`` gets zero shaping terms and ``base_reward`` 0."""
        obs, info = self.env.reset(seed=seed, options=options)
        info = dict(info)
        info["base_reward"] = 0.0
        info["reward_terms"] = {**info.get("reward_terms", {"purchase": 0.0}),
                                **dict.fromkeys(TERMS, 0.0)}
        return obs, info


__all__ = ["TERMS", "ShopR1Reward", "rouge_l"]
