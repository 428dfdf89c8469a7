"""Reward distances (EPIC, STARC-VAL) and policy invariance on tabular grid MDPs."""

import gymnasium as gym
import numpy as np
import pytest

from rewardgym.cli import main
from rewardgym.wrappers.distance import (
    DISPLAY_TOLERANCE,
    epic_canonical,
    epic_distance,
    format_distance,
    pearson_distance,
    reward_from_spec,
    sample_epic_distance,
    starc_distance,
)
from rewardgym.wrappers.potential import shaped_reward_tensor

GAMMA = 0.95
IDS = ["rewardgym/Empty-5x5-v0", "rewardgym/LavaGapS5-v0", "rewardgym/DoorKey-5x5-v0"]


@pytest.fixture(scope="module", params=IDS)
def mdp(request):
    env = gym.make(request.param)
    env.reset(seed=1)
    return env.unwrapped.to_tabular()


def _random_potential(mdp, rng, scale):
    phi = scale * rng.normal(size=mdp.n_states)
    phi[mdp.terminal] = 0.0
    return phi


@pytest.mark.parametrize("scale", [1.0, 100.0])
def test_potential_shaping_is_at_distance_zero(mdp, scale):
    """Zero up to float error: ``eps`` times the potential's size over the reward's spread.

    The canonical rewards differ by rounding of terms of size ``scale`` (~1e-16 * scale)
    against a canonical reward whose spread is ~0.05 on these sparse grids, so the distance
    is ~1e-14 * scale (measured at most 2e-14 * scale); ``1e-12 * scale`` leaves 50x.
    """
    tol = 1e-12 * scale
    rng = np.random.default_rng(0)
    for _ in range(3):
        shaped = shaped_reward_tensor(mdp.rewards, _random_potential(mdp, rng, scale),
                                      mdp.terminal, GAMMA)
        assert epic_distance(mdp.rewards, shaped, GAMMA) < tol
        assert starc_distance(mdp.rewards, shaped, mdp.transitions, GAMMA) < tol
    assert epic_distance(mdp.rewards, 2.0 * mdp.rewards, GAMMA) < 1e-12
    assert starc_distance(mdp.rewards, 2.0 * mdp.rewards, mdp.transitions, GAMMA) < 1e-12
    for gamma in (0.5, 0.99, 0.999):  # the CLI's pbrs spec at any discount, incl. near 1
        pbrs = reward_from_spec(mdp, "pbrs", gamma)
        assert epic_distance(mdp.rewards, pbrs, gamma) < 1e-12
        assert starc_distance(mdp.rewards, pbrs, mdp.transitions, gamma) < 1e-12


@pytest.mark.parametrize("spec", ["bonus", "pbrs:gamma=0.5", "pbrs:offset=10:noterm"])
def test_non_potential_changes_are_at_positive_distance(mdp, spec):
    other = reward_from_spec(mdp, spec, GAMMA)
    assert starc_distance(mdp.rewards, other, mdp.transitions, GAMMA) > 1e-3
    if spec != "pbrs:offset=10:noterm":  # EPIC's uniform coverage dilutes this one to ~0.04
        assert epic_distance(mdp.rewards, other, GAMMA) > 1e-3


def test_noterm_shaping_is_caught_by_epic_on_door_key():
    env = gym.make("rewardgym/DoorKey-5x5-v0")
    env.reset(seed=0)
    mdp = env.unwrapped.to_tabular()
    assert epic_distance(mdp.rewards, reward_from_spec(mdp, "pbrs:offset=10:noterm", GAMMA),
                         GAMMA) > 1e-3


def test_metric_properties_on_random_rewards():
    rng = np.random.default_rng(3)
    transitions = rng.dirichlet(np.ones(6), size=(6, 3))
    for _ in range(20):
        r1, r2, r3 = (rng.normal(size=(6, 3, 6)) for _ in range(3))
        for dist in (lambda a, b: epic_distance(a, b, GAMMA),
                     lambda a, b: starc_distance(a, b, transitions, GAMMA)):
            d12, d21, d13, d23 = dist(r1, r2), dist(r2, r1), dist(r1, r3), dist(r2, r3)
            assert d12 == pytest.approx(d21, abs=1e-12)
            assert 0.0 <= d12 <= 1.0 + 1e-12
            assert d13 <= d12 + d23 + 1e-9
    assert pearson_distance(np.ones(4), np.ones(4)) == 0.0


def _q_star(mdp, rewards, gamma, iters=3000):
    q = np.zeros((mdp.n_states, mdp.n_actions))
    expected = (mdp.transitions * rewards).sum(axis=2)
    for _ in range(iters):
        q_new = expected + gamma * mdp.transitions @ q.max(axis=1)
        if np.max(np.abs(q_new - q)) < 1e-13:
            break
        q = q_new
    return q_new


def test_shaping_leaves_optimal_policy_unchanged(mdp):
    rng = np.random.default_rng(1)
    phi = _random_potential(mdp, rng, 5.0)
    q = _q_star(mdp, mdp.rewards, GAMMA)
    q_shaped = _q_star(mdp, shaped_reward_tensor(mdp.rewards, phi, mdp.terminal, GAMMA), GAMMA)
    assert np.max(np.abs(q_shaped - (q - phi[:, None]))) < 1e-8
    # Ties (symmetric paths) are ties up to rounding; every other action gap is far above the
    # 2e-8 the line above allows, so a 1e-6 band separates the two without touching either.
    gaps = q.max(axis=1, keepdims=True) - q
    assert not np.any((gaps > 1e-9) & (gaps < 1e-5))
    greedy = gaps < 1e-6
    greedy_shaped = q_shaped.max(axis=1, keepdims=True) - q_shaped < 1e-6
    np.testing.assert_array_equal(greedy, greedy_shaped)


@pytest.mark.parametrize("seed", range(20))
def test_sample_based_epic_is_exactly_shaping_invariant(seed):
    """Shared samples cancel the shaping term exactly, so only float error (~1e-16) is left.

    The bound 1e-12 leaves a factor of 1e3 over that error on every seed; with the unstable
    ``sqrt((1 - ρ) / 2)`` about a quarter of the seeds came out near 1e-8.
    """
    rng = np.random.default_rng(seed)
    batch = (rng.normal(size=(200, 2)), rng.normal(size=(200, 1)), rng.normal(size=(200, 2)))
    samples = (rng.normal(size=(64, 1)), rng.normal(size=(64, 2)))

    def base(s, a, s2):
        return -np.linalg.norm(s2, axis=1) + 0.1 * a[:, 0]

    def phi(s):
        return np.sin(s[:, 0]) + s[:, 1] ** 2

    def shaped(s, a, s2):
        return base(s, a, s2) + GAMMA * phi(s2) - phi(s)

    def bumped(s, a, s2):
        return base(s, a, s2) + np.exp(-np.sum((s2 - 0.5) ** 2, axis=1) / 0.1)

    assert sample_epic_distance(base, shaped, batch, samples, GAMMA) < 1e-12
    assert sample_epic_distance(base, bumped, batch, samples, GAMMA) > 0.05


def test_pearson_distance_is_stable_near_perfect_correlation():
    """Affine images of one vector are at distance ~1e-16, not ~1e-8 (``sqrt`` of rounding)."""
    rng = np.random.default_rng(7)
    for _ in range(50):
        scale = 10.0 ** rng.uniform(-3, 3)
        x = rng.normal(size=rng.integers(2, 500)) * scale
        # An offset comparable to the spread: a far larger one rounds y itself (eps * offset).
        y = rng.uniform(0.1, 10.0) * x + rng.normal() * 10.0 * scale
        assert pearson_distance(x, y) < 1e-12
        assert pearson_distance(x, -x) == pytest.approx(1.0, abs=1e-12)
    # Away from rho = 1 it is the textbook formula.
    for _ in range(50):
        x, y = rng.normal(size=(2, 30))
        rho = np.corrcoef(x, y)[0, 1]
        assert pearson_distance(x, y) == pytest.approx(np.sqrt((1 - rho) / 2), abs=1e-12)
    assert pearson_distance(np.ones(5), np.arange(5.0)) == pytest.approx(0.5 ** 0.5)


def test_pearson_distance_of_a_constant_side():
    """Either side constant: 0 if both are, else the distance of uncorrelated vectors, 1/sqrt 2."""
    small = 0.1 * np.arange(5.0)  # spread (norm 0.32) below 1: not mistaken for a constant
    assert pearson_distance(small, np.ones(5)) == pytest.approx(0.5 ** 0.5, abs=1e-15)
    assert pearson_distance(np.ones(5), small) == pytest.approx(0.5 ** 0.5, abs=1e-15)
    assert pearson_distance(np.full(5, 3.0), np.ones(5)) == 0.0


def test_pearson_distance_never_leaves_its_range():
    """Opposite vectors are at distance 1, never above: the unit-vector formula can round to
    1 + 2e-16 (some of these vectors do), and the distance is clamped to [0, 1]."""
    rng = np.random.default_rng(0)
    overshoots = 0
    for _ in range(200):
        x = rng.normal(size=int(rng.integers(2, 50)))
        x_hat = (x - x.mean()) / np.linalg.norm(x - x.mean())
        overshoots += 0.5 * np.linalg.norm(x_hat + x_hat) > 1.0
        assert 0.0 <= pearson_distance(x, -x) <= 1.0
    assert overshoots >= 1  # the clamp is exercised


def test_epic_canonical_is_centred_and_drops_constants_and_shaping():
    """``C(R)`` has mean 0 over uniform (s, a, s'), is 0 for a constant reward, for any γ, and
    equal for R and any potential shaping of R (EPIC's Prop. 4.2)."""
    rng = np.random.default_rng(3)
    rewards = rng.normal(size=(4, 3, 4))
    phi = rng.normal(size=4)
    for gamma in (0.0, 0.5, 1.0):
        shaped = rewards + gamma * phi[None, None, :] - phi[:, None, None]
        canon = epic_canonical(rewards, gamma)
        assert abs(canon.mean()) < 1e-14
        np.testing.assert_allclose(epic_canonical(shaped, gamma), canon, rtol=0, atol=1e-13)
        np.testing.assert_allclose(epic_canonical(np.full((4, 3, 4), 2.5), gamma), 0.0,
                                   rtol=0, atol=1e-15)


def test_epic_accepts_gamma_one_and_starc_refuses_it():
    """EPIC is defined for undiscounted episodic tasks; STARC's value solve needs γ < 1."""
    rng = np.random.default_rng(4)
    rewards = rng.normal(size=(4, 2, 4))
    phi = rng.normal(size=4)
    shaped = rewards + phi[None, None, :] - phi[:, None, None]
    assert epic_distance(rewards, shaped, 1.0) < 1e-12
    with pytest.raises(ValueError, match=r"gamma must be in \[0, 1\]"):
        epic_distance(rewards, shaped, 1.5)
    transitions = np.full((4, 2, 4), 0.25)
    with pytest.raises(ValueError, match=r"gamma must be in \[0, 1\)"):
        starc_distance(rewards, shaped, transitions, 1.0)


def test_starc_refuses_transitions_of_another_shape():
    rng = np.random.default_rng(5)
    rewards = rng.normal(size=(3, 2, 3))
    for shape in ((2, 2, 2), (3, 2, 4), (4, 2, 4)):
        transitions = np.full(shape, 1.0 / shape[2])
        with pytest.raises(ValueError, match="transitions have shape"):
            starc_distance(rewards, rewards, transitions, 0.9)


def test_starc_of_rewards_with_zero_canonical_form():
    """A constant-free zero reward has canonical form 0: distance 0 to itself, 1/2 to others."""
    rng = np.random.default_rng(6)
    transitions = rng.random((3, 2, 3))
    transitions /= transitions.sum(axis=2, keepdims=True)
    zero = np.zeros((3, 2, 3))
    other = rng.normal(size=(3, 2, 3))
    assert starc_distance(zero, zero, transitions, 0.9) == 0.0
    assert starc_distance(zero, other, transitions, 0.9) == pytest.approx(0.5, abs=1e-15)


def test_sample_epic_equals_tabular_epic_on_exhaustive_samples():
    """With every (s, a, s') in the batch and every (a, s') once as the samples (uniform laws),
    the sample-based estimate is the tabular EPIC distance. States and actions are one-hot
    rows, so a mis-tiled batch of samples fails loudly instead of reading the first column."""
    rng = np.random.default_rng(7)
    n_s, n_a = 4, 3
    r1, r2 = rng.normal(size=(2, n_s, n_a, n_s))
    eye_s, eye_a = np.eye(n_s, dtype=np.int64), np.eye(n_a, dtype=np.int64)
    s, a, s2 = (x.ravel() for x in np.meshgrid(np.arange(n_s), np.arange(n_a), np.arange(n_s),
                                               indexing="ij"))
    batch = (eye_s[s], eye_a[a], eye_s[s2])
    pa, ps = (x.ravel() for x in np.meshgrid(np.arange(n_a), np.arange(n_s), indexing="ij"))
    samples = (eye_a[pa], eye_s[ps])

    def lookup(table):
        def reward(states, actions, next_states):
            return table[states @ np.arange(n_s), actions @ np.arange(n_a),
                         next_states @ np.arange(n_s)]
        return reward

    for gamma in (0.0, 0.9, 1.0):
        expected = epic_distance(r1, r2, gamma)
        assert expected > 0.1
        assert sample_epic_distance(lookup(r1), lookup(r2), batch, samples, gamma) == \
            pytest.approx(expected, abs=1e-12)


def test_format_distance_hides_float_dust_only():
    assert format_distance(0.0) == "0"
    assert format_distance(DISPLAY_TOLERANCE / 2) == "0"
    assert format_distance(DISPLAY_TOLERANCE) == f"{DISPLAY_TOLERANCE:.6g}"
    assert format_distance(0.25) == "0.25"
    assert format_distance(0.123456789) == "0.123457"


def test_distance_command(capsys):
    assert main(["distance", "rewardgym/Empty-5x5-v0", "--a", "base", "--b", "pbrs"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("EPIC 0  STARC-VAL 0"), out
    assert main(["distance", "rewardgym/Empty-5x5-v0", "--a", "base", "--b", "bonus"]) == 0
    out = capsys.readouterr().out
    epic, starc = (float(out.split(name)[1].split()[0]) for name in ("EPIC ", "STARC-VAL "))
    assert epic > 1e-3
    assert starc > 1e-3
    assert main(["distance", "rewardgym/Empty-5x5-v0", "--b", "bonus:7:x"]) == 2
    assert "not understood" in capsys.readouterr().err


def test_multiplicative_infraction_reward_is_not_a_shaping_of_the_base(mdp):
    """CaRL-style: progress multiplied down in 'penalty' states is a different reward."""
    from rewardgym.wrappers.infractions import InfractionRule, penalize

    rng = np.random.default_rng(5)
    progress = rng.random(mdp.rewards.shape) * mdp.transitions  # a dense progress reward
    in_penalty = rng.random(mdp.n_states) < 0.3  # e.g. speeding in some states
    rule = InfractionRule("speeding", factor=0.5)
    severity = np.broadcast_to(in_penalty[None, None, :], progress.shape).reshape(-1, 1)
    flat = progress.reshape(-1)
    out = np.empty(flat.size), np.empty(flat.size), np.empty(flat.size, dtype=bool)
    penalize(flat, severity.astype(float), np.array([1]), np.array([rule.factor]),
             np.array([0]), np.ones((flat.size, 1)), np.zeros((flat.size, 1), dtype=np.int64),
             *out)
    penalized = out[0].reshape(progress.shape)
    assert epic_distance(progress, penalized, GAMMA) > 1e-3
    assert starc_distance(progress, penalized, mdp.transitions, GAMMA) > 1e-3
