"""Plasticity metrics of SB3 actor-critic networks: FAU and the τ-dormant ratio.

**FAU** (fraction of active units; Ma et al., ICLR 2024, "Revisiting Plasticity in Visual
Reinforcement Learning", arXiv 2310.07418) of a set of ReLU layers on a set of inputs is

    FAU = Σ_layers #(h > 0) / Σ_layers numel(h)

pooled over layers, units and samples (not the mean of per-layer fractions), where ``h`` is a
hidden ReLU layer's output. For the critic it pools both Q-heads' hidden ReLU layers, as the
authors' ``Critic.forward_with_FAU`` does (``drqv2_adapt_rr.py`` in
github.com/Guozheng-Ma/Adaptive-Replay-Ratio); the features extractor (their trunk), the output
layer and the target critic are not part of it. ``1 - FAU`` is the fraction of zero ReLU outputs.

The **τ-dormant ratio** (Sokar, Agarwal, Castro & Evci, ICML 2023, "The Dormant Neuron
Phenomenon in Deep Reinforcement Learning") is a *different* metric: a neuron ``i`` of a layer
with ``H`` neurons scores ``s_i = E_x|h_i(x)| / ((1/H) Σ_k E_x|h_k(x)|)`` and is τ-dormant when
``s_i <= τ``; the ratio is dormant neurons over all neurons (pooled over layers). It counts
neurons that are (nearly) silent on *every* input, while FAU counts unit activations, so a unit
active on half the inputs lowers FAU but is not dormant. It is logged, never used to switch.

Measurement is a *probe*: forward hooks are registered on the ReLU modules, the network is run
once under ``torch.no_grad()`` on replay samples, and the hooks are removed (also on error), so
the training passes (SAC also runs the critic for the actor loss) are never counted and no hook
outlives the probe. Probes do not draw from torch's or numpy's global random state
(:func:`sample_batches` restores numpy's), so monitoring a run does not change its training.

FAU of ``h > 0`` is a plasticity measure only for ReLU units (a Tanh or ELU unit is "> 0" about
half the time whatever it learned), so the probes refuse networks with other hidden activations.

Example:
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(2, 2, bias=False), nn.ReLU())
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.eye(2))
    >>> x = torch.tensor([[1.0, -1.0], [1.0, 1.0], [-1.0, -1.0]])
    >>> module_fau(net, lambda: net(x))
    0.5
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = [
    "ActivationStats",
    "PlasticityError",
    "actor_fau",
    "collect_activations",
    "critic_activations",
    "critic_fau",
    "dormant_ratio",
    "module_fau",
    "sample_batches",
]

# Hidden activations that make "h > 0" meaningless as a plasticity measure.
_OTHER_ACTIVATIONS = (
    nn.Tanh, nn.Sigmoid, nn.ELU, nn.LeakyReLU, nn.GELU, nn.SiLU, nn.Softplus, nn.SELU, nn.CELU,
    nn.Mish, nn.Hardtanh, nn.PReLU, nn.RReLU, nn.Hardswish, nn.Hardsigmoid, nn.Softsign,
    nn.LogSigmoid, nn.Tanhshrink,
)


class PlasticityError(ValueError):
    """A network whose units FAU cannot measure (no ReLU, or other hidden activations)."""


@dataclass
class ActivationStats:
    """Counts gathered by one probe: per ReLU layer, active outputs and per-neuron ``E|h|``.

    Attributes:
        active: Outputs ``> 0`` per layer.
        total: Outputs per layer (samples x units).
        abs_sum: Per layer, the sum over samples of ``|h_i|`` per neuron ``i`` (last dimension).
        samples: Per layer, the number of samples summed in ``abs_sum``.

    Example:
        >>> stats = ActivationStats(active=[3, 1], total=[4, 2])
        >>> stats.fau()  # pooled: (3 + 1) / (4 + 2), not the mean of 3/4 and 1/2
        0.6666666666666666
    """

    active: list[int] = field(default_factory=list)
    total: list[int] = field(default_factory=list)
    abs_sum: list[torch.Tensor] = field(default_factory=list)
    samples: list[int] = field(default_factory=list)

    def fau(self) -> float:
        """Fraction of active units, pooled over layers, units and samples."""
        total = sum(self.total)
        if total == 0:
            raise PlasticityError("FAU: the probe saw no ReLU outputs")
        return sum(self.active) / total

    def layer_fau(self) -> list[float]:
        """FAU of each layer on its own."""
        return [a / t for a, t in zip(self.active, self.total, strict=True)]

    def dormant_ratio(self, tau: float) -> float:
        """Sokar et al.'s τ-dormant ratio: neurons with ``s_i <= tau``, pooled over layers.

        A layer whose mean ``E|h|`` is 0 has every neuron dormant (all its outputs were 0).
        """
        if not tau >= 0:
            raise ValueError(f"dormant_ratio: tau must be >= 0, got {tau!r}")
        dormant = neurons = 0
        for abs_sum, count in zip(self.abs_sum, self.samples, strict=True):
            mean = abs_sum / count  # E_x |h_i|
            layer_mean = float(mean.mean())
            neurons += mean.numel()
            if layer_mean == 0.0:
                dormant += mean.numel()
            else:
                dormant += int((mean / layer_mean <= tau).sum())
        if neurons == 0:
            raise PlasticityError("dormant_ratio: the probe saw no ReLU outputs")
        return dormant / neurons

    def merge(self, other: ActivationStats) -> None:
        """Add another probe of the same layers (more samples)."""
        if not self.total:
            self.active, self.total = list(other.active), list(other.total)
            self.abs_sum, self.samples = list(other.abs_sum), list(other.samples)
            return
        if len(other.total) != len(self.total):
            raise ValueError("ActivationStats.merge: probes of different layers")
        for i in range(len(self.total)):
            self.active[i] += other.active[i]
            self.total[i] += other.total[i]
            self.abs_sum[i] = self.abs_sum[i] + other.abs_sum[i]
            self.samples[i] += other.samples[i]


def relu_layers(network: nn.Module, who: str, *, skip: Sequence[nn.Module] = ()) -> list[nn.ReLU]:
    """The ``nn.ReLU`` modules of ``network``; refuses other hidden activations.

    Args:
        network: The module to probe.
        who: Named in the error messages.
        skip: Modules not to count or check (e.g. TD3's output ``Tanh``).

    Raises:
        PlasticityError: ``network`` has no ReLU, or has another activation module.
    """
    skipped = {id(m) for m in skip}
    relus: list[nn.ReLU] = []
    for name, module in network.named_modules():
        if id(module) in skipped:
            continue
        if isinstance(module, _OTHER_ACTIVATIONS):
            raise PlasticityError(
                f"{who}: hidden activation {name or 'module'}={type(module).__name__} is not "
                "ReLU; FAU (fraction of outputs > 0) measures plasticity only for ReLU units "
                "(train with policy_kwargs.activation_fn=relu, SB3's default)"
            )
        if type(module) is nn.ReLU:
            relus.append(module)
    if not relus:
        raise PlasticityError(
            f"{who}: found no nn.ReLU module; FAU needs ReLU hidden layers (a functional "
            "F.relu cannot be hooked)"
        )
    return relus


def collect_activations(layers: Sequence[nn.Module], forward: Callable[[], Any]) -> ActivationStats:
    """Run ``forward()`` once under ``no_grad`` with counting hooks on ``layers``, then remove them.

    The hooks are removed in a ``finally`` block, so none outlives the probe even if ``forward``
    raises.
    """
    stats = ActivationStats()
    index = {id(layer): i for i, layer in enumerate(layers)}
    stats.active = [0] * len(layers)
    stats.total = [0] * len(layers)
    stats.abs_sum = [torch.zeros(0)] * len(layers)
    stats.samples = [0] * len(layers)

    def hook(module: nn.Module, _inputs: Any, output: torch.Tensor) -> None:
        i = index[id(module)]
        out = output.detach()
        stats.active[i] += int((out > 0).sum())
        stats.total[i] += out.numel()
        flat = out.reshape(-1, out.shape[-1]).abs().sum(dim=0).cpu().double()
        stats.abs_sum[i] = flat if stats.abs_sum[i].numel() == 0 else stats.abs_sum[i] + flat
        stats.samples[i] += out.numel() // out.shape[-1]

    handles = [layer.register_forward_hook(hook) for layer in layers]
    try:
        with torch.no_grad():
            forward()
    finally:
        for handle in handles:
            handle.remove()
    if any(t == 0 for t in stats.total):
        raise PlasticityError("probe: a ReLU layer was not run by the forward pass")
    return stats


def module_fau(network: nn.Module, forward: Callable[[], Any]) -> float:
    """FAU of every ReLU layer of ``network`` on what ``forward()`` runs through it."""
    return collect_activations(relu_layers(network, type(network).__name__), forward).fau()


def _as_pairs(batches: Any) -> list[tuple[Any, Any]]:
    """(observations, actions) pairs from replay samples, one sample, or pairs."""
    if hasattr(batches, "observations") and hasattr(batches, "actions"):
        return [(batches.observations, batches.actions)]
    if isinstance(batches, tuple) and len(batches) == 2 and not hasattr(batches[0], "actions"):
        return [batches]
    pairs = []
    for batch in batches:
        if hasattr(batch, "observations"):
            pairs.append((batch.observations, batch.actions))
        else:
            obs, actions = batch
            pairs.append((obs, actions))
    if not pairs:
        raise ValueError("probe: no batches given")
    return pairs


def _critic(model: Any) -> nn.Module:
    critic = getattr(model, "critic", None)
    if critic is None or not hasattr(critic, "q_networks"):
        raise PlasticityError(
            f"critic_fau: {type(model).__name__} has no SB3 ContinuousCritic (model.critic with "
            "q_networks); SAC and TD3 have one"
        )
    return critic


def critic_activations(model: Any, batches: Any) -> ActivationStats:
    """Activation counts of the hidden ReLU layers of all Q-heads of ``model.critic``.

    Only ``model.critic.q_networks`` are hooked (not the features extractor, not
    ``critic_target``); the critic runs once per batch on ``(observations, actions)``.
    """
    critic = _critic(model)
    layers: list[nn.ReLU] = []
    for i, q_net in enumerate(critic.q_networks):
        layers += relu_layers(q_net, f"critic_fau: critic.q_networks[{i}]")
    stats = ActivationStats()
    for obs, actions in _as_pairs(batches):
        stats.merge(collect_activations(layers, lambda o=obs, a=actions: critic(o, a)))
    return stats


def critic_fau(model: Any, batches: Any) -> float:
    """FAU of the critic: both Q-heads' hidden ReLU layers, pooled, on replay samples.

    Args:
        model: An SB3 SAC or TD3 model (anything with ``model.critic.q_networks``).
        batches: ``ReplayBufferSamples``, a sequence of them (see :func:`sample_batches`), or
            ``(observations, actions)`` tensor pairs.

    Returns:
        Active ReLU outputs over all ReLU outputs, in [0, 1].

    Raises:
        PlasticityError: The critic has no ReLU hidden layer or another hidden activation.
    """
    return critic_activations(model, batches).fau()


def _actor_parts(model: Any) -> tuple[nn.Module, list[nn.Module], Callable[[Any], Any]]:
    actor = getattr(model, "actor", None)
    if actor is None:
        raise PlasticityError(f"actor_fau: {type(model).__name__} has no model.actor")
    skip: list[nn.Module] = []
    if hasattr(actor, "get_action_dist_params"):  # SAC: mean and log-std, no sampling
        return actor, skip, lambda obs: actor.get_action_dist_params(obs)
    mu = getattr(actor, "mu", None)
    if isinstance(mu, nn.Sequential) and len(mu) and isinstance(mu[-1], nn.Tanh):
        skip.append(mu[-1])  # TD3's squash of the action: an output, not a hidden unit
    return actor, skip, lambda obs: actor(obs)


def actor_activations(model: Any, batches: Any) -> ActivationStats:
    """Activation counts of the actor's hidden ReLU layers (deterministic pass, no sampling)."""
    actor, skip, run = _actor_parts(model)
    layers = relu_layers(actor, "actor_fau: actor", skip=skip)
    stats = ActivationStats()
    for obs, _ in _as_pairs(batches):
        stats.merge(collect_activations(layers, lambda o=obs: run(o)))
    return stats


def actor_fau(model: Any, batches: Any) -> float:
    """FAU of the actor's hidden ReLU layers on the batches' observations (for logging)."""
    return actor_activations(model, batches).fau()


def dormant_ratio(model: Any, batches: Any, tau: float = 0.025, network: str = "critic") -> float:
    """Sokar et al. (2023)'s τ-dormant ratio of the critic's or actor's hidden ReLU neurons.

    Not FAU: see the module docstring. ``tau = 0.025`` is a threshold Sokar et al. use; ``0``
    counts only neurons that never fire.
    """
    if network == "critic":
        return critic_activations(model, batches).dormant_ratio(tau)
    if network == "actor":
        return actor_activations(model, batches).dormant_ratio(tau)
    raise ValueError(f"dormant_ratio: network must be 'critic' or 'actor', got {network!r}")


def sample_batches(model: Any, n_batches: int, batch_size: int,
                   rng: np.random.Generator | None = None) -> list[Any]:
    """Draw ``n_batches`` replay batches for a probe without moving numpy's global RNG.

    SB3's replay buffer samples from ``np.random``; its state is saved, re-seeded from ``rng``
    and restored, so probing does not change which batches training draws next.

    Raises:
        ValueError: The replay buffer is empty or the sizes are not positive ints.
    """
    for name, value in (("n_batches", n_batches), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"sample_batches: {name} must be an int >= 1, got {value!r}")
    buffer = getattr(model, "replay_buffer", None)
    if buffer is None or buffer.size() == 0:
        raise ValueError("sample_batches: the model's replay buffer is empty")
    rng = rng if rng is not None else np.random.default_rng()
    state = np.random.get_state()  # noqa: NPY002
    try:
        np.random.seed(int(rng.integers(2**32)))  # noqa: NPY002
        env = model.get_vec_normalize_env()
        return [buffer.sample(batch_size, env=env) for _ in range(n_batches)]
    finally:
        np.random.set_state(state)  # noqa: NPY002


def probe(model: Any, batches: Iterable[Any], tau: float = 0.025) -> dict[str, float]:
    """Critic and actor FAU and τ-dormant ratios on the same batches, as one dict."""
    batches = list(batches)
    critic = critic_activations(model, batches)
    actor = actor_activations(model, batches)
    return {"fau_critic": critic.fau(), "fau_actor": actor.fau(),
            "dormant_critic": critic.dormant_ratio(tau), "dormant_actor": actor.dormant_ratio(tau)}
