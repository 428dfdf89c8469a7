"""The shopping cases of the throughput benchmark: WebShop text env, its SB3 view, and memory.

Random clickable actions on ``rewardgym/WebShopText-v1`` (searching the instruction on the
search page), random valid slots and the rule policy on ``rewardgym/WebShopDiscrete-v1``, and
resets only; the memory check samples this process's resident set size (:func:`rss_mb`) over
many episodes, which must stay flat.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from rewardgym.benchmarks import harness

__all__ = ["SHOP_DISCRETE_ID", "SHOP_TEXT_ID", "rss_mb", "shopping_cases"]

SHOP_TEXT_ID = "rewardgym/WebShopText-v1"
SHOP_DISCRETE_ID = "rewardgym/WebShopDiscrete-v1"


class _ShopTextStepper:
    """Random clickable actions on the text env; ``search[instruction]`` on the search page."""

    steps_per_call = 1

    def __init__(self, env: gym.Env, pool: int = 4096, seed: int = 0) -> None:
        import numpy as np

        self.env = env
        self._draws = np.random.default_rng(seed).random(pool).tolist()
        self._next = 0
        self.episodes = 0
        _, self._info = env.reset(seed=seed)

    def __call__(self, calls: int) -> None:
        step, reset, draws = self.env.step, self.env.reset, self._draws
        j, size, info = self._next, len(self._draws), self._info
        for _ in range(calls):
            if info["page"] == "search":
                action = f"search[{info['instruction']}]"
            else:
                clickables = info["available_actions"]["clickables"]
                action = f"click[{clickables[int(draws[j] * len(clickables))]}]"
            _, _, terminated, truncated, info = step(action)
            if terminated or truncated:
                _, info = reset()
                self.episodes += 1
            j += 1
            if j == size:
                j = 0
        self._next, self._info = j, info


class _ShopDiscreteStepper:
    """The discrete view driven by random valid slots or by the rule policy."""

    steps_per_call = 1

    def __init__(self, env: gym.Env, policy: str, pool: int = 4096, seed: int = 0) -> None:
        import numpy as np

        from rewardgym.envs.shopping.baselines import rule_policy

        self.env, self._rule = env, (rule_policy if policy == "rule" else None)
        self._masks = env.unwrapped.action_masks
        self._draws = np.random.default_rng(seed).random(pool).tolist()
        self._next = 0
        self.episodes = 0
        self._obs, self._info = env.reset(seed=seed)

    def __call__(self, calls: int) -> None:
        import numpy as np

        step, reset, draws, rule = self.env.step, self.env.reset, self._draws, self._rule
        j, size, obs, info = self._next, len(self._draws), self._obs, self._info
        for _ in range(calls):
            if rule is not None:
                action = rule(self.env, obs, info, None)
            else:
                valid = np.flatnonzero(self._masks())
                action = int(valid[int(draws[j] * len(valid))])
            obs, _, terminated, truncated, info = step(action)
            if terminated or truncated:
                obs, info = reset()
                self.episodes += 1
            j += 1
            if j == size:
                j = 0
        self._next, self._obs, self._info = j, obs, info


class _ResetStepper:
    """Resets only: each call is one ``reset()`` (so its "steps/s" are resets per second)."""

    steps_per_call = 1

    def __init__(self, env: gym.Env, seed: int = 0) -> None:
        self.env = env
        env.reset(seed=seed)

    def __call__(self, calls: int) -> None:
        reset = self.env.reset
        for _ in range(calls):
            reset()


def _shop_env(env_id: str) -> gym.Env:
    if env_id == SHOP_DISCRETE_ID and env_id not in gym.registry:
        # Until the registry row exists (it is added in envs/__init__.py).
        from rewardgym.envs.shopping.discrete import WebShopDiscreteEnv

        return gym.wrappers.TimeLimit(WebShopDiscreteEnv(), max_episode_steps=15)
    return gym.make(env_id)


def rss_mb() -> float:
    """This process's current resident set size in MiB (``/proc/self/statm``; else peak RSS)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            resident_pages = int(f.read().split()[1])
        return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _memory_check(make: Callable[[], Any], episodes: int) -> dict[str, Any]:
    """RSS before and after ``episodes`` episodes of a fresh stepper (after a 2% warm-up).

    Also samples the RSS after each tenth of the episodes, to show it stays flat.
    """
    import gc

    stepper = make()

    def run(n_episodes: int) -> None:
        target = stepper.episodes + n_episodes
        while stepper.episodes < target:
            stepper(16)

    run(max(1, episodes // 50))  # warm caches (BM25 LRU, token hashes) before the baseline
    gc.collect()
    before, samples, start = rss_mb(), [], stepper.episodes
    for _ in range(10):
        run(max(1, episodes // 10))
        samples.append(rss_mb())
    gc.collect()
    after = rss_mb()
    return {"memory_episodes": stepper.episodes - start, "rss_before_mb": before,
            "rss_after_mb": after, "rss_growth_mb": after - before, "rss_samples_mb": samples}


def shopping_cases(case: Callable[..., Any]) -> list[Any]:
    """The shopping cases, built with ``case`` (the benchmark's ``Case`` class)."""
    text, disc = SHOP_TEXT_ID, SHOP_DISCRETE_ID

    def text_random() -> harness.Stepper:
        return _ShopTextStepper(_shop_env(text))

    def disc_random() -> harness.Stepper:
        return _ShopDiscreteStepper(_shop_env(disc), "random")

    def disc_rule() -> harness.Stepper:
        return _ShopDiscreteStepper(_shop_env(disc), "rule")

    return [
        case("shopping", "rewardgym", text, "single", 1, "WebShopText, random clicks",
             text_random, lambda n: _memory_check(text_random, n)),
        case("shopping", "rewardgym", text, "single", 1, "WebShopText, resets only",
             lambda: _ResetStepper(_shop_env(text))),
        case("shopping", "rewardgym", disc, "single", 1, "WebShopDiscrete, random valid slots",
             disc_random),
        case("shopping", "rewardgym", disc, "single", 1, "WebShopDiscrete, rule policy",
             disc_rule, lambda n: _memory_check(disc_rule, n)),
        case("shopping", "rewardgym", disc, "single", 1, "WebShopDiscrete, resets only",
             lambda: _ResetStepper(_shop_env(disc))),
    ]
