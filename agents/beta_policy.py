"""A Beta-distribution actor-critic policy for SB3's PPO on bounded continuous actions.

CaRL (Jaeger et al., CoRL 2025) trains its driving policy with a Beta distribution over
``[steer, accel]`` (after Chou et al., "Improving Stochastic Policy Gradients in Continuous
Control with Deep Reinforcement Learning using the Beta Distribution", ICML 2017): its support
is exactly the action box, so no probability mass is clipped away at the bounds as with a
Gaussian.  :class:`BetaDistribution` maps ``Beta(α, β)`` on ``[0, 1]`` to ``[low, high]`` (the
Jacobian is a constant and cancels in PPO's ratio, but is kept so log-probabilities are true
densities); ``mode()`` returns the mean, which CaRL found better than the mode for driving.
``policy: BetaMlpPolicy`` in a PPO config selects it (see :data:`POLICIES`).
"""

from __future__ import annotations

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


class BetaActorCriticPolicy(ActorCriticPolicy):
    """SB3's MLP actor-critic with a :class:`BetaDistribution` head (``Box`` actions only).

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
                 *args: Any, **kwargs: Any) -> None:
        if not isinstance(action_space, spaces.Box) or not (
                np.all(np.isfinite(action_space.low)) and np.all(np.isfinite(action_space.high))):
            raise ValueError(f"BetaActorCriticPolicy needs a bounded Box action space, got "
                             f"{action_space}")
        if kwargs.get("use_sde"):
            raise ValueError("BetaActorCriticPolicy does not support use_sde")
        super().__init__(observation_space, action_space, *args, **kwargs)

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
