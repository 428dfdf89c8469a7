"""Training: the SB3 adapter for Gymnasium vector envs, hyper-parameter configs, and ``train``.

Example:
    >>> from rewardgym.agents import load_config, make_sb3_vec_env
    >>> cfg = load_config("CartPole-v1")
    >>> env = make_sb3_vec_env("CartPole-v1", cfg.n_envs, seed=cfg.seed)
    >>> env.reset().shape
    (8, 4)
    >>> env.close()
"""

from rewardgym.agents.config import ConfigError, PPOConfig, load_config
from rewardgym.agents.sac_config import SACConfig
from rewardgym.agents.sb3_adapter import VectorEnvToSB3, make_sb3_vec_env
from rewardgym.agents.train import (
    ActionMaskError,
    ShapingGammaError,
    TrainResult,
    check_shaping_gamma,
    train,
)

__all__ = [
    "ActionMaskError",
    "ConfigError",
    "PPOConfig",
    "SACConfig",
    "ShapingGammaError",
    "TrainResult",
    "VectorEnvToSB3",
    "check_shaping_gamma",
    "load_config",
    "make_sb3_vec_env",
    "train",
]
