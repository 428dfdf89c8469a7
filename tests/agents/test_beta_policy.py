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


class _Target(gym.Env):
    """One-step episodes on Pendulum's action box [-2, 2]: reward ``-(a - 1.8)^2``.

    The best action sits near the box's edge, where a squashed Gaussian struggles and a Beta
    does not; the return of the deterministic action measures improvement without the noise of
    Pendulum's random starts (its returns do not improve reliably within a CI-sized budget).
    """

    observation_space = gym.spaces.Box(-1, 1, (1,), np.float32)
    action_space = gym.spaces.Box(-2, 2, (1,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(1, np.float32), {}

    def step(self, action):
        return np.zeros(1, np.float32), -float((action[0] - 1.8) ** 2), True, False, {}


def test_ppo_with_the_beta_policy_moves_its_mode_toward_a_target_near_the_box_edge():
    """PPO + BetaMlpPolicy on one-step episodes (``_Target``), not on Pendulum itself.

    Proves that the Beta policy's gradients reach its concentrations through SB3's PPO update:
    the deterministic action (the Beta's mode) starts at the box's centre and, after 1024
    steps, has moved toward the rewarded action 1.8 near the box's edge (return up by > 1).
    It says nothing about Pendulum's dynamics or about beating a Gaussian policy.
    """
    env = _Target()
    model = PPO(resolve_policy("BetaMlpPolicy"), env, n_steps=128, batch_size=64, n_epochs=5,
                learning_rate=1e-3, seed=0, device="cpu")
    assert isinstance(model.policy, BetaActorCriticPolicy)
    obs = np.zeros(1, np.float32)

    def deterministic_return():
        action, _ = model.predict(obs, deterministic=True)
        assert -2.0 <= action[0] <= 2.0
        return env.step(action)[1]

    before = deterministic_return()
    assert before == pytest.approx(-1.8**2, abs=0.05)  # alpha = beta at init: the box's centre
    model.learn(1024)
    after = deterministic_return()
    # Measured for seeds 0-2: the mode moves from 0 to 1.03-1.17 (return -3.24 -> -0.40..-0.60);
    # a policy that did not learn stays near -3.24.
    assert after > before + 1.0


def test_beta_policy_refuses_unbounded_or_discrete_actions():
    with pytest.raises(ValueError, match="bounded Box"):
        PPO(BetaActorCriticPolicy, gym.make("CartPole-v1"))
    assert resolve_policy("MlpPolicy") == "MlpPolicy"
    assert POLICIES["BetaMlpPolicy"] is BetaActorCriticPolicy


# CaRL's network (policy_kwargs carl_net)


def _box_env() -> gym.Env:
    return gym.make("Pendulum-v1")


def test_carl_net_is_layernorm_relu_with_carls_sizes():
    from rewardgym.agents.beta_policy import CarlMlpExtractor

    model = PPO(BetaActorCriticPolicy, _box_env(), n_steps=64, batch_size=32,
                policy_kwargs={"carl_net": True})
    net = model.policy.mlp_extractor
    assert isinstance(net, CarlMlpExtractor)
    for block, sizes in ((net.trunk, [3, 256, 256, 512, 256]),
                         (net.policy_net, [256, 256, 256]), (net.value_net, [256, 256, 256])):
        layers = list(block)
        assert [type(m) for m in layers] == [torch.nn.Linear, torch.nn.LayerNorm,
                                             torch.nn.ReLU] * (len(sizes) - 1)
        linears = [m for m in layers if isinstance(m, torch.nn.Linear)]
        assert [m.in_features for m in linears] + [linears[-1].out_features] == sizes
    assert not any(isinstance(m, torch.nn.Tanh) for m in model.policy.modules())
    assert model.policy.action_net.in_features == 256
    assert model.policy.value_net.in_features == 256
    # The default BetaMlpPolicy is unchanged: SB3's Tanh MLP.
    plain = PPO(BetaActorCriticPolicy, _box_env(), n_steps=64, batch_size=32)
    assert any(isinstance(m, torch.nn.Tanh) for m in plain.policy.modules())
    assert not any(isinstance(m, torch.nn.LayerNorm) for m in plain.policy.modules())


def test_carl_net_forward_matches_its_layers_and_survives_save_and_load(tmp_path):
    model = PPO(BetaActorCriticPolicy, _box_env(), n_steps=64, batch_size=32, seed=0,
                policy_kwargs={"carl_net": True})
    obs = torch.tensor([[0.5, -0.5, 1.0]])
    net = model.policy.mlp_extractor
    shared = obs
    for m in net.trunk:
        shared = m(shared)
    pi, vf = net(obs)
    torch.testing.assert_close(pi, net.policy_net(shared))
    torch.testing.assert_close(vf, net.value_net(shared))
    torch.testing.assert_close(net.forward_actor(obs), pi)
    torch.testing.assert_close(net.forward_critic(obs), vf)
    model.save(tmp_path / "carl.zip")
    loaded = PPO.load(tmp_path / "carl.zip")
    assert loaded.policy.carl_net is True
    point = np.array([0.5, -0.5, 1.0], np.float32)
    np.testing.assert_array_equal(model.predict(point, deterministic=True)[0],
                                  loaded.predict(point, deterministic=True)[0])


@pytest.mark.parametrize("extra", [{"net_arch": [64, 64]}, {"activation_fn": torch.nn.Tanh}])
def test_carl_net_refuses_a_network_of_its_own(extra):
    with pytest.raises(ValueError, match=r"carl_net=True fixes the network.*" + next(iter(extra))):
        PPO(BetaActorCriticPolicy, _box_env(), policy_kwargs={"carl_net": True, **extra})
    with pytest.raises(ValueError, match="carl_net must be true or false"):
        PPO(BetaActorCriticPolicy, _box_env(), policy_kwargs={"carl_net": "yes"})
