"""Deterministic evaluation of a trained SB3 model, with action masks where the model takes them.

Action masking (``maskable_ppo``, sb3-contrib's ``MaskablePPO``): the env must expose
``action_masks()`` (per env, or batched on a native vector env; see
``rewardgym.agents.sb3_adapter``). :func:`rewardgym.agents.train.train` checks that before
training (:func:`require_masks`) and :func:`evaluate` passes the masks to ``model.predict``, so
neither training nor evaluation takes invalid actions.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import VecEnv

__all__ = ["ActionMaskError", "evaluate", "require_masks", "uses_action_masks"]


class ActionMaskError(ValueError):
    """A maskable algorithm or evaluation needs action masks that the env does not provide."""


def uses_action_masks(model: BaseAlgorithm | type[BaseAlgorithm]) -> bool:
    """Whether an algorithm (class or instance) takes action masks in ``predict``.

    Read from the signature rather than an ``isinstance`` check, so every sb3-contrib maskable
    algorithm (and a duck-typed stand-in) qualifies.
    """
    try:
        return "action_masks" in inspect.signature(model.predict).parameters
    except (TypeError, ValueError):
        return False


def require_masks(env: VecEnv, who: str) -> None:
    """Raise :class:`ActionMaskError` (naming ``who``) when ``env`` has no ``action_masks()``."""
    if not is_masking_supported(env):
        raise ActionMaskError(
            f"{who} needs action masks, but the env has no `action_masks()` method: define "
            "`action_masks() -> np.ndarray[bool]` of shape (n_actions,) on the env (reachable "
            "through its wrappers), or `action_masks() -> (num_envs, n_actions)` on a native "
            "vector env; or train with --algo ppo"
        )


def evaluate(
    model: BaseAlgorithm,
    env: VecEnv,
    n_episodes: int,
    *,
    use_masks: bool | None = None,
) -> dict[str, Any]:
    """Run ``model`` deterministically for ``n_episodes`` episodes on ``env``.

    Each env contributes a fixed share of the episodes (as SB3's ``evaluate_policy`` does), which
    avoids over-sampling short episodes when many envs run in parallel. Returns and lengths come
    from ``info["episode"]`` (Gymnasium's ``RecordEpisodeStatistics``, which ``make_sb3_vec_env``
    adds); success from ``info["is_success"]`` when the env reports it.

    A maskable model (one whose ``predict`` takes ``action_masks``, e.g. ``MaskablePPO``) gets the
    env's current masks at every step, as in training; without them it could pick invalid actions
    and its evaluation would not measure the policy it was trained as.

    Args:
        model: The trained model.
        env: A freshly built SB3 VecEnv (seeded beforehand if wanted).
        n_episodes: Episodes to run; must be >= 1.
        use_masks: Pass ``action_masks=`` to ``model.predict``. None: when the model takes
            them; True: always (the model must take them); False: never (to see what the
            policy does without masks).

    Returns:
        ``{"returns", "lengths", "successes"}`` lists (``successes`` empty when not reported).

    Raises:
        ValueError: ``n_episodes`` < 1.
        ActionMaskError: (a ``ValueError``) masks are to be used but the env has none.
    """
    if n_episodes < 1:
        raise ValueError(f"evaluate: n_episodes must be >= 1, got {n_episodes!r}")
    if use_masks is None:
        use_masks = uses_action_masks(model)
    if use_masks:
        require_masks(env, f"evaluate ({type(model).__name__})")
    predict_kwargs: dict[str, Any] = {}
    n = env.num_envs
    targets = np.array([(n_episodes + i) // n for i in range(n)])
    counts = np.zeros(n, dtype=int)
    returns: list[float] = []
    lengths: list[int] = []
    successes: list[bool] = []
    obs = env.reset()
    while (counts < targets).any():
        if use_masks:
            # After env.step, so the masks belong to the new (possibly auto-reset) states.
            predict_kwargs["action_masks"] = get_action_masks(env)
        actions, _ = model.predict(obs, deterministic=True, **predict_kwargs)
        obs, _, dones, infos = env.step(actions)
        for i in np.flatnonzero(dones):
            if counts[i] >= targets[i]:
                continue
            counts[i] += 1
            episode = infos[i].get("episode")
            if episode is None and infos[i].get("black_death"):
                continue  # a finished agent's padding step (agents/multi_agent.py), no episode
            if episode is None:
                raise RuntimeError(
                    "evaluate: finished episodes carry no info['episode']; wrap the vector env in "
                    "gymnasium.wrappers.vector.RecordEpisodeStatistics (make_sb3_vec_env does)"
                )
            returns.append(float(episode["r"]))
            lengths.append(int(episode["l"]))
            if "is_success" in infos[i]:
                successes.append(bool(infos[i]["is_success"]))
    return {"returns": returns, "lengths": lengths, "successes": successes}
