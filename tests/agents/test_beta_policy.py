"""The Beta policy: a correct density on the action box, and PPO trains with it."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import PPO

from rewardgym.agents.beta_policy import (
    POLICIES,
    BetaActorCriticPolicy,
    BetaDistribution,
    resolve_policy,
)


def test_log_prob_is_the_scaled_beta_density():
    dist = BetaDistribution(np.array([-1.0, 0.0]), np.array([1.0, 4.0]))
    params = torch.tensor([[0.3, -0.2, 1.1, 0.0]])
    dist.proba_distribution(params)
    alpha = 1 + torch.nn.functional.softplus(params[0, :2])
    beta = 1 + torch.nn.functional.softplus(params[0, 2:])
    action = torch.tensor([[0.5, 1.0]])
    unit = torch.tensor([0.75, 0.25])
    expected = 0.0
    for a, b, x, width in zip(alpha.tolist(), beta.tolist(), unit.tolist(), (2.0, 4.0),
                              strict=True):
        log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
        expected += log_norm + (a - 1) * math.log(x) + (b - 1) * math.log(1 - x) - math.log(width)
    assert dist.log_prob(action).item() == pytest.approx(expected, rel=1e-5)


def test_samples_stay_in_the_box_and_mode_is_the_mean():
    dist = BetaDistribution(np.array([-2.0]), np.array([2.0]))
    dist.proba_distribution(torch.full((5000, 2), 0.5))
    samples = dist.sample()
    assert samples.min() >= -2.0
    assert samples.max() <= 2.0
    assert dist.mode()[0, 0].item() == pytest.approx(0.0, abs=1e-6)  # alpha = beta: centred
    assert samples.mean().item() == pytest.approx(0.0, abs=0.05)
    dist.proba_distribution(torch.full((2, 2), 0.5))
    assert torch.isfinite(dist.log_prob(torch.tensor([[2.0], [-2.0]]))).all()  # edges clamped


def test_ppo_with_the_beta_policy_improves_pendulum():
    env = gym.make("Pendulum-v1")
    model = PPO(resolve_policy("BetaMlpPolicy"), env, n_steps=512, batch_size=128,
                n_epochs=5, learning_rate=1e-3, seed=0, device="cpu")
    assert isinstance(model.policy, BetaActorCriticPolicy)
    obs = np.array([1.0, 0.0, 0.0], np.float32)
    before = model.policy.get_distribution(model.policy.obs_to_tensor(obs)[0]).log_prob(
        torch.tensor([[1.5]])).item()
    model.learn(2048)
    after = model.policy.get_distribution(model.policy.obs_to_tensor(obs)[0]).log_prob(
        torch.tensor([[1.5]])).item()
    assert after != before  # the policy head trained
    action, _ = model.predict(obs, deterministic=True)
    assert -2.0 <= action[0] <= 2.0


def test_beta_policy_refuses_unbounded_or_discrete_actions():
    with pytest.raises(ValueError, match="bounded Box"):
        PPO(BetaActorCriticPolicy, gym.make("CartPole-v1"))
    assert resolve_policy("MlpPolicy") == "MlpPolicy"
    assert POLICIES["BetaMlpPolicy"] is BetaActorCriticPolicy
