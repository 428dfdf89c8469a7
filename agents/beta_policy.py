"""A Beta-distribution actor-critic policy for SB3's PPO on bounded continuous actions.

CaRL (Jaeger et al., CoRL 2025) trains its driving policy with a Beta distribution over
``[steer, accel]`` (after Chou et al., "Improving Stochastic Policy Gradients in Continuous
Control with Deep Reinforcement Learning using the Beta Distribution", ICML 2017): its support
is exactly the action box, so no probability mass is clipped away at the bounds as with a
Gaussian.  :class:`BetaDistribution` maps ``Beta(α, β)`` on ``[0, 1]`` to ``[low, high]`` (the
Jacobian is a constant and cancels in PPO's ratio, but is kept so log-probabilities are true
densities); ``mode()`` returns the mean, which CaRL found better than the mode for driving.
``policy: BetaMlpPolicy`` in a PPO config selects it (see :data:`POLICIES`).

``policy_kwargs: {carl_net: true}`` swaps SB3's Tanh MLP for CaRL's network as far as a vector
observation allows (:class:`CarlMlpExtractor`; CaRL's ``model.py``, ``PPOPolicy`` and
``XtMaCNN`` with ``use_layer_norm``): every hidden layer is Linear → LayerNorm → ReLU; a shared
trunk (the measurement MLP 256-256, then the fusion layers 512-256 that follow CaRL's BEV CNN,
which a vector observation does not have) feeds a policy head 256-256 and a value head 256-256.
CaRL feeds its value measurements to the value head only; SB3 has no critic-only input, so here
they are part of the observation and go through the trunk.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.distributions import Distribution
from stable_baselines3.common.policies import ActorCriticPolicy
from torch import nn
from torch.nn import functional as F

_EPS = 1e-6


class BetaDistribution(Distribution):
    """Independent Beta distributions per action dimension, scaled to ``[low, high]``.

    Example:
        >>> import torch
        >>> dist = BetaDistribution(np.array([-1.0, -1.0]), np.array([1.0, 1.0]))
        >>> _ = dist.proba_distribution(torch.zeros(3, 4))
        >>> dist.mode().shape
        torch.Size([3, 2])
    """

    def __init__(self, low: np.ndarray, high: np.ndarray) -> None:
        super().__init__()
        self.action_dim = len(low)
        self.low = torch.as_tensor(low, dtype=torch.float32)
        self.scale = torch.as_tensor(np.asarray(high) - np.asarray(low), dtype=torch.float32)
        self.distribution: torch.distributions.Beta | None = None

    def proba_distribution_net(self, latent_dim: int) -> nn.Module:
        """The layer mapping the actor's latent to ``(α, β)`` pre-activations."""
        return nn.Linear(latent_dim, 2 * self.action_dim)

    def proba_distribution(self, action_params: torch.Tensor) -> BetaDistribution:
        """Set ``α, β = 1 + softplus(params)`` (≥ 1: unimodal, as in CaRL)."""
        alpha, beta = (1.0 + F.softplus(action_params)).chunk(2, dim=-1)
        self.distribution = torch.distributions.Beta(alpha, beta)
        return self

    def _unit(self, actions: torch.Tensor) -> torch.Tensor:
        unit = (actions - self.low.to(actions.device)) / self.scale.to(actions.device)
        return unit.clamp(_EPS, 1.0 - _EPS)

    def _box(self, unit: torch.Tensor) -> torch.Tensor:
        return self.low.to(unit.device) + self.scale.to(unit.device) * unit

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        """Log-density of ``actions`` (in the action box), summed over dimensions."""
        log_jacobian = torch.log(self.scale.to(actions.device)).sum()
        return self.distribution.log_prob(self._unit(actions)).sum(dim=-1) - log_jacobian

    def entropy(self) -> torch.Tensor:
        """Differential entropy in the action box, summed over dimensions."""
        return self.distribution.entropy().sum(dim=-1) + torch.log(
            self.scale.to(self.distribution.concentration1.device)).sum()

    def sample(self) -> torch.Tensor:
        """A reparameterised sample in the action box."""
        return self._box(self.distribution.rsample())

    def mode(self) -> torch.Tensor:
        """The mean (used for deterministic actions)."""
        return self._box(self.distribution.mean)

    def actions_from_params(self, action_params: torch.Tensor,
                            deterministic: bool = False) -> torch.Tensor:
        """Actions straight from the network's output."""
        self.proba_distribution(action_params)
        return self.get_actions(deterministic=deterministic)

    def log_prob_from_params(self, action_params: torch.Tensor) -> tuple[torch.Tensor,
                                                                         torch.Tensor]:
        """Sampled actions and their log-probabilities."""
        actions = self.actions_from_params(action_params)
        return actions, self.log_prob(actions)


def _carl_mlp(sizes: list[int]) -> nn.Sequential:
    """Linear → LayerNorm → ReLU for every step of ``sizes`` (CaRL's ``use_layer_norm``)."""
    layers: list[nn.Module] = []
    for n_in, n_out in itertools.pairwise(sizes):
        layers += [nn.Linear(n_in, n_out), nn.LayerNorm(n_out), nn.ReLU()]
    return nn.Sequential(*layers)


class CarlMlpExtractor(nn.Module):
    """CaRL's network without the BEV CNN: a shared LayerNorm-ReLU trunk and two heads.

    Sizes follow CaRL's defaults (``model.py``: ``states_neurons=(256, 256)``, fusion ``512``
    → ``features_dim=256``, ``policy_head_arch=value_head_arch=(256, 256)``). It presents SB3's
    ``MlpExtractor`` interface (``latent_dim_pi``, ``latent_dim_vf``, ``forward_actor``,
    ``forward_critic``).

    Example:
        >>> net = CarlMlpExtractor(80)
        >>> pi, vf = net(torch.zeros(3, 80))
        >>> tuple(pi.shape), tuple(vf.shape), net.latent_dim_pi
        ((3, 256), (3, 256), 256)
    """

    def __init__(self, feature_dim: int, *, trunk: tuple[int, ...] = (256, 256, 512, 256),
                 head: tuple[int, ...] = (256, 256)) -> None:
        super().__init__()
        self.trunk = _carl_mlp([feature_dim, *trunk])
        self.policy_net = _carl_mlp([trunk[-1], *head])
        self.value_net = _carl_mlp([trunk[-1], *head])
        self.latent_dim_pi = self.latent_dim_vf = head[-1]

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(actor latent, critic latent)``; the trunk runs once."""
        shared = self.trunk(features)
        return self.policy_net(shared), self.value_net(shared)

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        """The actor's latent."""
        return self.policy_net(self.trunk(features))

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        """The critic's latent."""
        return self.value_net(self.trunk(features))


class BetaActorCriticPolicy(ActorCriticPolicy):
    """SB3's MLP actor-critic with a :class:`BetaDistribution` head (``Box`` actions only).

    ``carl_net=True`` replaces the MLP by :class:`CarlMlpExtractor` (CaRL's LayerNorm-ReLU
    network); ``net_arch`` and ``activation_fn`` then cannot be given.

    Example:
        >>> import gymnasium as gym
        >>> from stable_baselines3 import PPO
        >>> model = PPO(BetaActorCriticPolicy, gym.make("Pendulum-v1"), n_steps=64,
        ...             batch_size=32)
        >>> action, _ = model.predict(np.zeros(3, np.float32), deterministic=True)
        >>> bool(-2.0 <= action[0] <= 2.0)
        True
    """

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space,
                 *args: Any, carl_net: bool = False, **kwargs: Any) -> None:
        if not isinstance(carl_net, bool):
            raise ValueError(f"BetaActorCriticPolicy: carl_net must be true or false, got "
                             f"{carl_net!r}")
        if carl_net:
            given = [name for name in ("net_arch", "activation_fn") if kwargs.get(name)]
            if given:
                raise ValueError(f"BetaActorCriticPolicy: carl_net=True fixes the network "
                                 f"(CaRL's sizes, LayerNorm + ReLU); drop {given}")
        self.carl_net = carl_net
        if not isinstance(action_space, spaces.Box) or not (
                np.all(np.isfinite(action_space.low)) and np.all(np.isfinite(action_space.high))):
            raise ValueError(f"BetaActorCriticPolicy needs a bounded Box action space, got "
                             f"{action_space}")
        if kwargs.get("use_sde"):
            raise ValueError("BetaActorCriticPolicy does not support use_sde")
        super().__init__(observation_space, action_space, *args, **kwargs)

    def _build_mlp_extractor(self) -> None:
        if self.carl_net:
            self.mlp_extractor = CarlMlpExtractor(self.features_dim)
        else:
            super()._build_mlp_extractor()

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {**super()._get_constructor_parameters(), "carl_net": self.carl_net}

    def _build(self, lr_schedule: Any) -> None:
        self._build_mlp_extractor()
        space = self.action_space
        self.action_dist = BetaDistribution(space.low.astype(np.float64),
                                            space.high.astype(np.float64))
        self.action_net = self.action_dist.proba_distribution_net(self.mlp_extractor.latent_dim_pi)
        self.value_net = nn.Linear(self.mlp_extractor.latent_dim_vf, 1)
        if self.ortho_init:
            gains = {self.features_extractor: np.sqrt(2), self.mlp_extractor: np.sqrt(2),
                     self.action_net: 0.01, self.value_net: 1.0}
            if not self.share_features_extractor:
                del gains[self.features_extractor]
                gains[self.pi_features_extractor] = np.sqrt(2)
                gains[self.vf_features_extractor] = np.sqrt(2)
            for module, gain in gains.items():
                module.apply(lambda m, g=gain: self.init_weights(m, gain=g))
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1),
                                              **self.optimizer_kwargs)

    def _get_action_dist_from_latent(self, latent_pi: torch.Tensor) -> Distribution:
        return self.action_dist.proba_distribution(self.action_net(latent_pi))


#: Policy names a config's ``policy`` field may use besides SB3's own aliases.
POLICIES: dict[str, type[ActorCriticPolicy]] = {"BetaMlpPolicy": BetaActorCriticPolicy}


def resolve_policy(name: str) -> str | type[ActorCriticPolicy]:
    """The policy class for one of :data:`POLICIES`, else ``name`` (an SB3 alias)."""
    return POLICIES.get(name, name)
