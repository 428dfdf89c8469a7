"""PPOConfig validation, the shipped YAML file, and load_config overrides."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
import yaml

from rewardgym.agents import ConfigError, PPOConfig, load_config
from rewardgym.agents.config import config_path


def test_shipped_file_has_default_cartpole_and_doorkey() -> None:
    table = yaml.safe_load(config_path("ppo").read_text())
    assert {"default", "CartPole-v1", "rewardgym/DoorKey-5x5-v0"} <= set(table)
    for name in table:  # every shipped entry is a valid config
        assert isinstance(load_config(name), PPOConfig)


def test_env_entry_and_default_fallback() -> None:
    cartpole = load_config("CartPole-v1")
    assert (cartpole.n_steps, cartpole.gamma, cartpole.learning_rate) == (32, 0.98, "lin_0.001")
    doorkey = load_config("rewardgym/DoorKey-5x5-v0")
    assert doorkey.env_kwargs == {"obs_mode": "flat"}
    assert doorkey.policy == "MlpPolicy"
    assert doorkey.total_timesteps == 200_000
    unknown = load_config("SomethingElse-v0")
    default = yaml.safe_load(config_path("ppo").read_text())["default"]
    assert unknown.n_steps == default["n_steps"]
    assert unknown.total_timesteps == default["total_timesteps"]


def test_overrides_parse_yaml_values() -> None:
    cfg = load_config(
        "rewardgym/DoorKey-5x5-v0",
        overrides=[
            "n_envs=4",
            "batch_size=128",
            "learning_rate=1e-3",  # YAML 1.1 reads this as a string: coerced
            "total_timesteps=2e5",
            "policy_kwargs={net_arch: [32, 32], activation_fn: tanh}",
            "env_kwargs.obs_mode=image",
            "env_kwargs.size=6",
            "seed=null",
        ],
    )
    assert cfg.n_envs == 4
    assert cfg.learning_rate == pytest.approx(1e-3)
    assert cfg.total_timesteps == 200_000
    assert isinstance(cfg.total_timesteps, int)
    assert cfg.policy_kwargs == {"net_arch": [32, 32], "activation_fn": "tanh"}
    assert cfg.env_kwargs == {"obs_mode": "image", "size": 6}
    assert cfg.seed is None
    assert cfg.ppo_kwargs()["policy_kwargs"]["activation_fn"] is torch.nn.Tanh


def test_unknown_override_key_lists_valid_keys() -> None:
    with pytest.raises(ConfigError, match="unknown key 'n_env'") as excinfo:
        load_config("CartPole-v1", overrides=["n_env=3"])
    assert "n_envs" in str(excinfo.value)
    assert "ent_coef" in str(excinfo.value)
    with pytest.raises(ConfigError, match="expected 'key=value'"):
        load_config("CartPole-v1", overrides=["n_envs"])
    with pytest.raises(ConfigError, match="dotted keys only apply"):
        load_config("CartPole-v1", overrides=["gamma.x=1"])
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config("CartPole-v1", overrides=["policy_kwargs={net_arch: [1"])


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("gamma=1.5", "gamma"),
        ("gamma=0", "gamma"),
        ("n_envs=0", "n_envs"),
        ("n_envs=true", "n_envs"),
        ("n_steps=2.5", "n_steps"),
        ("batch_size=100000", "batch_size"),
        ("learning_rate=-1", "learning_rate"),
        ("learning_rate=lin_abc", "learning_rate"),
        ("clip_range=fast", "clip_range"),
        ("gae_lambda=1.1", "gae_lambda"),
        ("ent_coef=-0.1", "ent_coef"),
        ("max_grad_norm=0", "max_grad_norm"),
        ("normalize_advantage=yes please", "normalize_advantage"),
        ("env_kwargs=[1, 2]", "env_kwargs"),
        ("vectorization_mode=threads", "vectorization_mode"),
        ("device=tpu", "device"),
        ("torch_threads=0", "torch_threads"),
        ("seed=-1", "seed"),
        ("policy_kwargs={activation_fn: swish}", "policy_kwargs.activation_fn"),
    ],
)
def test_bad_values_name_field_and_value(override: str, field: str) -> None:
    raw = override.split("=", 1)[1]
    with pytest.raises(ConfigError, match=rf"PPOConfig\.{field}: expected") as excinfo:
        load_config("CartPole-v1", overrides=[override])
    assert "got" in str(excinfo.value)
    if field not in ("batch_size", "policy_kwargs.activation_fn", "normalize_advantage"):
        assert raw.split(":")[-1].strip("{} ").lower() in str(excinfo.value).lower()


def test_custom_file_errors(tmp_path: Path) -> None:
    good = tmp_path / "ppo.yml"
    good.write_text("MyEnv-v0:\n  n_envs: 2\n  batch_size: 64\n")
    assert load_config("MyEnv-v0", path=good).n_envs == 2
    with pytest.raises(ConfigError, match="no entry for 'Other-v0' and no 'default' entry"):
        load_config("Other-v0", path=good)
    bad = tmp_path / "bad.yml"
    bad.write_text("default:\n  n_envs: 2\n  lr: 0.1\n")
    with pytest.raises(ConfigError, match=r"bad\.yml \[default\]: unknown key 'lr'"):
        load_config("X-v0", path=bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config("X-v0", path=tmp_path / "missing.yml")
    with pytest.raises(ConfigError, match="algo: expected one of"):
        load_config("X-v0", algo="dqn")


def test_config_is_frozen_and_owns_its_dicts() -> None:
    kwargs = {"net_arch": [8]}
    cfg = PPOConfig(policy_kwargs=kwargs)
    kwargs["net_arch"] = [99]
    kwargs["extra"] = 1
    assert "extra" not in cfg.policy_kwargs
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.n_envs = 3  # type: ignore[misc]
    assert cfg.rollout_size == cfg.n_envs * cfg.n_steps


def test_linear_schedules() -> None:
    kwargs = PPOConfig(learning_rate="lin_0.001", clip_range=0.1).ppo_kwargs()
    lr = kwargs["learning_rate"]
    assert lr(1.0) == pytest.approx(1e-3)
    assert lr(0.25) == pytest.approx(2.5e-4)
    assert kwargs["clip_range"] == 0.1
    assert kwargs["seed"] == 0
    assert kwargs["device"] == "cpu"


def test_clip_range_vf_reaches_sb3_and_is_validated() -> None:
    assert PPOConfig().ppo_kwargs()["clip_range_vf"] is None
    assert PPOConfig(clip_range_vf=0.1).ppo_kwargs()["clip_range_vf"] == 0.1
    decayed = PPOConfig(clip_range_vf="lin_0.2").ppo_kwargs()["clip_range_vf"]
    assert decayed(0.5) == pytest.approx(0.1)
    for bad in (0.0, -1.0, "lin_x"):
        with pytest.raises(ConfigError, match=r"PPOConfig\.clip_range_vf: expected"):
            PPOConfig(clip_range_vf=bad)


def test_routedrive_entry_has_carls_ppo_settings() -> None:
    cfg = load_config("rewardgym/RouteDrive-v1")
    # CaRL (dd_ppo.py, train_carl_py.sh): clip 0.1 for the policy and the value, loss weight
    # 0.5 * 0.5 on the squared value error (SB3 has no 0.5 inside), 4 mini-batches, 3 epochs.
    assert (cfg.clip_range, cfg.clip_range_vf, cfg.vf_coef) == (0.1, 0.1, 0.25)
    assert (cfg.n_epochs, cfg.rollout_size // cfg.batch_size) == (3, 4)
    assert (cfg.gamma, cfg.gae_lambda, cfg.ent_coef, cfg.max_grad_norm) == (0.99, 0.95, 0.01,
                                                                             0.5)
    assert cfg.learning_rate == "lin_2.5e-4"
    assert cfg.normalize_advantage is True
    assert cfg.policy == "BetaMlpPolicy"
    assert cfg.policy_kwargs == {"carl_net": True, "ortho_init": False}
