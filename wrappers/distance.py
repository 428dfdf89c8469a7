"""Distances between reward functions: EPIC and STARC, tabular and sample-based.

* EPIC (Gleave et al., "Quantifying Differences in Reward Functions", ICLR 2021): canonicalise
  ``C(R)(s,a,s') = R(s,a,s') + E[γR(s',A,S') - R(s,A,S') - γR(S,A,S')]`` with ``S, S'`` uniform over
  states and ``A`` uniform over actions, then the Pearson distance ``sqrt((1 - ρ) / 2)``
  (computed stably, see :func:`pearson_distance`).
* STARC-VAL (Skalse et al., "STARC: A General Framework For Quantifying Differences Between
  Reward Functions", ICLR 2024): ``c(R)(s,a) = E_{S'~P(s,a)}[R(s,a,S') + γV^π(S')] - V^π(s)`` for
  the uniform policy π, standardised by its L2 norm; the distance is ``½ ||c1/|c1| - c2/|c2| ||``.

Both are zero, up to float error, between a reward and any potential-shaped version of it, and
positive for non-potential changes. Episodic tasks are handled with one absorbing terminal state
(reward 0, potential 0), which is exactly what ``PotentialShaping`` does by zeroing ``Φ(s')`` on
termination (research notes ``shaping_theory.md`` §3.3). The sample-based EPIC uses one shared
set of ``(A_j, S'_j)`` samples, which keeps it exactly invariant to shaping for any sample size.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Distances below this print as ``0`` (:func:`format_distance`). The stable Pearson distance
#: below is exact to ~1e-15 for any potential shaping of tabular rewards (relative float error of
#: the canonicalisation, times at most the condition number ``(1+γ)/(1-γ)`` of STARC's value
#: solve, ~2e3 at γ = 0.999), so anything under 1e-9 is float dust, not a difference of rewards.
DISPLAY_TOLERANCE = 1e-9


def pearson_distance(x: np.ndarray, y: np.ndarray) -> float:
    """``sqrt((1 - ρ(x, y)) / 2)`` in [0, 1]; 0 when either side is constant and equal.

    Computed as ``||x̂ - ŷ|| / 2`` with ``x̂, ŷ`` the centred vectors scaled to unit norm
    (``||x̂ - ŷ||² = 2 - 2ρ``), not from ``ρ``: near ``ρ = 1`` the square root of ``1 - ρ``
    turns a rounding error of 1e-16 in ``ρ`` into 1e-8, while the difference of the unit
    vectors keeps the relative precision of its inputs.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    x = x - x.mean()
    y = y - y.mean()
    nx, ny = np.linalg.norm(x), np.linalg.norm(y)
    if nx < 1e-12 or ny < 1e-12:
        return 0.0 if (nx < 1e-12 and ny < 1e-12) else 0.5 ** 0.5
    return float(min(1.0, 0.5 * np.linalg.norm(x / nx - y / ny)))


def format_distance(distance: float, tolerance: float = DISPLAY_TOLERANCE) -> str:
    """A distance for people: ``0`` below ``tolerance`` (float dust), else 6 significant digits.

    Example:
        >>> format_distance(7e-16), format_distance(0.0123456789)
        ('0', '0.0123457')
    """
    return "0" if abs(distance) < tolerance else f"{distance:.6g}"


def epic_canonical(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """EPIC's canonically shaped reward of ``R[s, a, s']`` (uniform state and action laws)."""
    mean_next = rewards.mean(axis=(1, 2))  # E_{A,S'} R(x, A, S') for every x
    return (rewards + gamma * mean_next[None, None, :] - mean_next[:, None, None]
            - gamma * mean_next.mean())


def epic_distance(r1: np.ndarray, r2: np.ndarray, gamma: float) -> float:
    """EPIC distance between two tabular rewards ``R[s, a, s']``."""
    _check_pair(r1, r2, gamma, strict=False)
    return pearson_distance(epic_canonical(r1, gamma), epic_canonical(r2, gamma))


def val_canonical(rewards: np.ndarray, transitions: np.ndarray, gamma: float) -> np.ndarray:
    """STARC's VAL canonicalisation ``c[s, a]`` under the uniform policy (needs ``gamma < 1``)."""
    n = transitions.shape[0]
    expected = (transitions * rewards).sum(axis=2)  # E_{S'} R(s, a, S')
    policy_transitions = transitions.mean(axis=1)
    values = np.linalg.solve(np.eye(n) - gamma * policy_transitions, expected.mean(axis=1))
    return expected + gamma * transitions @ values - values[:, None]


def starc_distance(r1: np.ndarray, r2: np.ndarray, transitions: np.ndarray,
                   gamma: float) -> float:
    """STARC-VAL distance in [0, 1] between two tabular rewards under ``P[s, a, s']``."""
    _check_pair(r1, r2, gamma, strict=True)
    if transitions.shape != r1.shape:
        raise ValueError(f"starc_distance: transitions have shape {transitions.shape}, rewards "
                         f"{r1.shape}")

    def standardised(r):
        canon = val_canonical(r, transitions, gamma)
        norm = np.linalg.norm(canon)
        return canon if norm < 1e-12 else canon / norm

    return float(0.5 * np.linalg.norm(standardised(r1) - standardised(r2)))


def sample_epic_distance(reward_a: Callable[..., np.ndarray], reward_b: Callable[..., np.ndarray],
                         batch: tuple[np.ndarray, np.ndarray, np.ndarray],
                         samples: tuple[np.ndarray, np.ndarray], gamma: float) -> float:
    """Sample-based EPIC for continuous spaces.

    Args:
        reward_a: ``reward(states, actions, next_states) -> (m,)`` rewards, vectorised.
        reward_b: the other reward function.
        batch: ``(states, actions, next_states)`` transitions to compare on (coverage).
        samples: ``(actions, next_states)`` drawn independently (``A_j``, ``S'_j``); the same
            samples serve every mean, which makes the estimate exactly shaping-invariant.
        gamma: the discount.
    """
    states, actions, next_states = batch
    sample_actions, sample_states = samples

    def canonical(reward):
        def mean_from(xs):
            m = sample_actions.shape[0]
            rep_x = np.repeat(xs, m, axis=0)
            rep_a = np.tile(sample_actions, (xs.shape[0],) + (1,) * (sample_actions.ndim - 1))
            rep_s = np.tile(sample_states, (xs.shape[0],) + (1,) * (sample_states.ndim - 1))
            return np.asarray(reward(rep_x, rep_a, rep_s), dtype=np.float64).reshape(-1, m).mean(1)

        grand = mean_from(sample_states).mean()
        return (np.asarray(reward(states, actions, next_states), dtype=np.float64)
                + gamma * mean_from(next_states) - mean_from(states) - gamma * grand)

    return pearson_distance(canonical(reward_a), canonical(reward_b))


def _check_pair(r1: np.ndarray, r2: np.ndarray, gamma: float, *, strict: bool) -> None:
    if r1.shape != r2.shape or r1.ndim != 3:
        raise ValueError(f"reward tensors must both be R[s, a, s'], got {r1.shape} and {r2.shape}")
    if not (0.0 <= gamma < 1.0 if strict else 0.0 <= gamma <= 1.0):
        raise ValueError(f"gamma must be in [0, 1{')' if strict else ']'}, got {gamma!r}")


def reward_from_spec(mdp, spec: str, gamma: float, seed: int = 0) -> np.ndarray:
    """A reward tensor for ``rewardgym distance`` from a short spec.

    Specs: ``base``; ``scale:K`` (K times base); ``bonus`` (a random per-(s, a) bonus, not
    potential-based); ``pbrs`` (potential shaping with ``Φ = -subgoal_distance``), with options
    ``pbrs:gamma=G`` (shaping with another discount), ``pbrs:offset=C`` (``Φ - C``),
    ``pbrs:noterm`` (terminal potential not zeroed), e.g. ``pbrs:offset=10:noterm``.

    Raises:
        ValueError: naming the spec and the part that was not understood.
    """
    from rewardgym.wrappers.potential import shaped_reward_tensor

    kind, *options = spec.split(":")
    base = mdp.rewards
    if kind == "base" and not options:
        return base.copy()
    if kind == "scale" and len(options) == 1:
        return float(options[0]) * base
    if kind == "bonus" and not options:
        rng = np.random.default_rng(seed)
        bonus = rng.random(base.shape[:2])[:, :, None] * mdp.transitions
        return base + bonus
    if kind == "pbrs":
        shaping_gamma, offset, zero_terminal = gamma, 0.0, True
        for option in options:
            name, _, value = option.partition("=")
            if name == "gamma" and value:
                shaping_gamma = float(value)
            elif name == "offset" and value:
                offset = float(value)
            elif name == "noterm" and not value:
                zero_terminal = False
            else:
                raise ValueError(f"reward spec {spec!r}: unknown option {option!r}")
        potential = -mdp.subgoal_distance - offset
        # The absorbing state's potential: 0 as PBRS requires, or left at the offset.
        potential[mdp.terminal] = 0.0 if zero_terminal else -offset
        return shaped_reward_tensor(base, potential, mdp.terminal, shaping_gamma,
                                    zero_terminal=zero_terminal)
    raise ValueError(f"reward spec {spec!r} not understood: use base, scale:K, bonus or "
                     f"pbrs[:gamma=G][:offset=C][:noterm]")
