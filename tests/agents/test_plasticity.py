"""FAU and the τ-dormant ratio on networks where they are known exactly (research note C1, C2)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from stable_baselines3 import SAC, TD3
from stable_baselines3.common.callbacks import BaseCallback
from torch import nn

from rewardgym.agents import plasticity
from rewardgym.agents.adaptive_rr import PlasticityMonitor
from rewardgym.agents.plasticity import (
    PlasticityError,
    actor_fau,
    collect_activations,
    critic_fau,
    dormant_ratio,
    module_fau,
    sample_batches,
)


def _linear(weight, bias=None) -> nn.Linear:
    weight = torch.as_tensor(weight, dtype=torch.float32)
    layer = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    with torch.no_grad():
        layer.weight.copy_(weight)
        if bias is not None:
            layer.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
    return layer


# ---------------------------------------------------------------------------- C1: known nets


def test_identity_layer_has_half_of_its_units_active():
    net = nn.Sequential(_linear(torch.eye(2)), nn.ReLU())
    x = torch.tensor([[1.0, -1.0], [1.0, 1.0], [-1.0, -1.0]])
    assert module_fau(net, lambda: net(x)) == 3 / 6


@pytest.mark.parametrize(("bias", "expected"), [(-1.0, 0.0), (1.0, 1.0)])
def test_all_negative_or_all_positive_bias_gives_fau_0_or_1(bias, expected):
    net = nn.Sequential(_linear(torch.zeros(5, 3), torch.full((5,), bias)), nn.ReLU())
    x = torch.randn(7, 3, generator=torch.Generator().manual_seed(0))
    assert module_fau(net, lambda: net(x)) == expected


def test_fau_pools_units_over_layers_not_the_mean_of_layer_fractions():
    # layer 1: 4 units, 3 active on x = 1; layer 2: 2 units, 1 active
    net = nn.Sequential(_linear([[1.0], [1.0], [1.0], [-1.0]]), nn.ReLU(),
                        _linear([[1.0, 0, 0, 0], [-1.0, 0, 0, 0]]), nn.ReLU())
    x = torch.ones(1, 1)
    stats = collect_activations([net[1], net[3]], lambda: net(x))
    assert stats.layer_fau() == [3 / 4, 1 / 2]
    assert stats.fau() == (3 + 1) / (4 + 2)
    assert stats.fau() != pytest.approx((3 / 4 + 1 / 2) / 2)
    assert module_fau(net, lambda: net(x)) == 4 / 6


def test_dormant_ratio_normalises_each_neuron_by_its_layer_mean():
    # per-neuron E|h| over two inputs: [1, 1, 0.01, 0]; layer mean 0.5025, scores 1.99, 1.99,
    # 0.0199, 0: tau 0.025 -> 2 dormant of 4, tau 0 -> 1 of 4
    layer = nn.Linear(1, 4, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0], [1.0], [0.01], [0.0]]))
    net = nn.Sequential(layer, nn.ReLU())
    stats = collect_activations([net[1]], lambda: net(torch.ones(2, 1)))
    assert stats.dormant_ratio(0.025) == 2 / 4
    assert stats.dormant_ratio(0.0) == 1 / 4
    assert stats.fau() == 6 / 8  # FAU is a different number: 3 of 4 units active on each input


def test_a_unit_active_on_half_the_inputs_lowers_fau_but_is_not_dormant():
    net = nn.Sequential(_linear([[1.0], [1.0]]), nn.ReLU())
    stats = collect_activations([net[1]], lambda: net(torch.tensor([[1.0], [-1.0]])))
    assert stats.fau() == 0.5
    assert stats.dormant_ratio(0.025) == 0.0
    silent = collect_activations([net[1]], lambda: net(torch.tensor([[-1.0], [-2.0]])))
    assert silent.fau() == 0.0
    assert silent.dormant_ratio(0.025) == 1.0  # an all-zero layer: every neuron dormant


# ---------------------------------------------------------------------------- SB3 critics


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny nets: one thread is fastest, and two stall on a loaded 2-core machine."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _model(algo=SAC, **kwargs):
    policy_kwargs = {"net_arch": [4, 4], **kwargs.pop("policy_kwargs", {})}
    settings = {"learning_starts": 10, "batch_size": 8, "seed": 0, **kwargs}
    return algo("MlpPolicy", "Pendulum-v1", policy_kwargs=policy_kwargs, **settings)


def _set_critic(critic, biases: list[tuple[list[float], list[float]]]) -> None:
    """Zero weights; per Q-head the biases of its two hidden layers (so FAU is input-free)."""
    for q_net, (b1, b2) in zip(critic.q_networks, biases, strict=True):
        linears = [m for m in q_net if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for layer in linears:
                layer.weight.zero_()
            linears[0].bias.copy_(torch.tensor(b1))
            linears[1].bias.copy_(torch.tensor(b2))


BIASES = [([1.0, 1.0, -1.0, -1.0], [1.0, -1.0, -1.0, -1.0]),  # Q1: 2 + 1 of 8 active
          ([1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0])]        # Q2: 8 of 8


def _batch(n=6, seed=0):
    rng = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, generator=rng), torch.rand(n, 1, generator=rng) * 4 - 2


@pytest.mark.parametrize("algo", [SAC, TD3])
def test_critic_fau_pools_both_q_heads_exactly(algo):
    model = _model(algo)
    _set_critic(model.critic, BIASES)
    assert critic_fau(model, _batch()) == (2 + 1 + 4 + 4) / 16
    # several batches pool their samples
    assert critic_fau(model, [_batch(3, 1), _batch(5, 2)]) == 11 / 16


def test_critic_fau_ignores_the_target_critic_and_leaves_no_hooks():
    model = _model()
    _set_critic(model.critic, BIASES)
    _set_critic(model.critic_target, [([-1.0] * 4, [-1.0] * 4)] * 2)
    calls = []
    spy = model.critic_target.register_forward_hook(lambda *_: calls.append(1))
    before = {k: v.clone() for k, v in model.policy.state_dict().items()}
    assert critic_fau(model, _batch()) == 11 / 16
    spy.remove()
    assert calls == []
    for module in model.policy.modules():
        assert not module._forward_hooks, module
        assert not module._forward_pre_hooks, module
    after = model.policy.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_hooks_are_removed_even_when_the_probe_fails():
    model = _model()
    with pytest.raises(RuntimeError):
        critic_fau(model, (torch.zeros(2, 7), torch.zeros(2, 1)))  # wrong obs width
    assert all(not m._forward_hooks for m in model.policy.modules())


def test_sac_and_td3_critics_with_equal_weights_give_equal_fau():
    sac, td3 = _model(SAC), _model(TD3)
    td3.critic.load_state_dict(sac.critic.state_dict())
    obs, actions = _batch(64)
    assert critic_fau(sac, (obs, actions)) == critic_fau(td3, (obs, actions))
    assert 0.0 < critic_fau(sac, (obs, actions)) < 1.0


def test_actor_fau_counts_hidden_relus_only():
    sac, td3 = _model(SAC), _model(TD3)
    for model in (sac, td3):
        hidden = [m for m in model.actor.modules() if isinstance(m, nn.Linear)][:2]
        with torch.no_grad():
            for layer, bias in zip(hidden, ([1.0, -1.0, -1.0, -1.0], [1.0, 1.0, 1.0, -1.0]),
                                   strict=True):
                layer.weight.zero_()
                layer.bias.copy_(torch.tensor(bias))
        # TD3's output Tanh is skipped: only the 8 hidden units count
        assert actor_fau(model, _batch()) == (1 + 3) / 8
        assert dormant_ratio(model, _batch(), tau=0.0, network="actor") == 4 / 8


@pytest.mark.parametrize("activation", [nn.Tanh, nn.ELU, nn.LeakyReLU])
def test_non_relu_critics_are_refused_by_name(activation):
    model = _model(policy_kwargs={"activation_fn": activation})
    with pytest.raises(PlasticityError, match=activation.__name__):
        critic_fau(model, _batch())


def test_models_without_an_sb3_critic_are_refused():
    from stable_baselines3 import PPO

    with pytest.raises(PlasticityError, match="ContinuousCritic"):
        critic_fau(PPO("MlpPolicy", "Pendulum-v1", n_steps=8, batch_size=8), _batch())


def test_dormant_ratio_rejects_unknown_networks_and_negative_tau():
    model = _model()
    with pytest.raises(ValueError, match="network"):
        dormant_ratio(model, _batch(), network="encoder")
    with pytest.raises(ValueError, match="tau"):
        dormant_ratio(model, _batch(), tau=-0.1)


# ---------------------------------------------------------------------------- probes and RNG


def test_sample_batches_leaves_numpy_global_rng_alone():
    model = _model()
    model.learn(40)
    state = np.random.get_state()  # noqa: NPY002
    batches = sample_batches(model, 2, 16, np.random.default_rng(0))
    assert [b.observations.shape for b in batches] == [(16, 3), (16, 3)]
    after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(state[1], after[1])
    assert state[2] == after[2]
    again = sample_batches(model, 2, 16, np.random.default_rng(0))
    assert torch.equal(batches[1].observations, again[1].observations)
    with pytest.raises(ValueError, match="batch_size"):
        sample_batches(model, 1, 0)
    with pytest.raises(ValueError, match="empty"):
        sample_batches(_model(), 1, 8)


def test_monitoring_does_not_change_training():
    """Probes run on their own RNG and under no_grad: the trained weights are bit-identical."""

    class Nothing(BaseCallback):
        def _on_step(self) -> bool:
            return True

    weights = []
    for callback in (Nothing(), PlasticityMonitor(probe_interval=20, probe_batch_size=16)):
        model = _model(learning_starts=50)
        model.learn(150, callback=callback)
        weights.append(torch.cat([p.detach().flatten() for p in model.policy.parameters()]))
    assert torch.equal(weights[0], weights[1])
    assert len(callback.rows) == 5  # probes at 51, 71, ..., 131


def test_probe_returns_the_four_numbers():
    model = _model()
    _set_critic(model.critic, BIASES)
    out = plasticity.probe(model, [_batch()], tau=0.0)
    assert out["fau_critic"] == 11 / 16
    assert out["dormant_critic"] == 5 / 16  # neurons that never fire
    assert set(out) == {"fau_critic", "fau_actor", "dormant_critic", "dormant_actor"}
