"""One run config: the shared fields live on RunConfig, checked once, named per subclass."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from rewardgym.agents.adaptive_rr import AdaptiveReplayRatio, PlasticityMonitor
from rewardgym.agents.config import ALGO_CONFIGS, PPOConfig, load_config
from rewardgym.agents.run_config import ConfigError, RunConfig
from rewardgym.agents.sac_config import AdaptiveRRConfig, SACConfig

SHARED = [f.name for f in dataclasses.fields(RunConfig)]


def test_every_algorithm_config_is_a_run_config_with_the_shared_fields():
    for cls in set(ALGO_CONFIGS.values()):
        assert issubclass(cls, RunConfig)
        names = [f.name for f in dataclasses.fields(cls)]
        assert names[: len(SHARED)] == SHARED
    # each algorithm keeps its own default where they differ
    assert PPOConfig().n_envs == 8
    assert SACConfig().n_envs == 1


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("n_envs", 0, "expected an int >= 1, got 0"),
    ("batch_size", True, "expected an int >= 1, got True"),
    ("gamma", 0.0, "expected a number in (0, 1], got 0.0"),
    ("seed", -1, "expected an int >= 0, got -1"),
    ("normalize", "yes", "expected true or false, got 'yes'"),
    ("device", "tpu", "expected 'cpu', 'cuda', 'cuda:<n>', 'mps' or 'auto', got 'tpu'"),
    ("shaping_scale", float("nan"), "expected a number in [-inf, inf], got nan"),
    ("env_wrappers", "a:B", "expected a list of 'module:Wrapper' import paths"),
])
def test_a_shared_field_fails_the_same_way_in_every_config(field, value, expected):
    for cls in (RunConfig, PPOConfig, SACConfig):
        with pytest.raises(ConfigError) as excinfo:
            cls(**{field: value})
        message = str(excinfo.value)
        assert message.startswith(f"{cls.__name__}.{field}: {expected}")
        assert "\n" not in message


def test_config_modules_import_without_a_cycle():
    # Each module first in a fresh interpreter: a cycle shows as a partially initialised module.
    for module in ("rewardgym.agents.sac_config", "rewardgym.agents.config"):
        done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]


def test_a_section_is_built_from_a_mapping_and_refuses_unknown_keys():
    cfg = SACConfig(adaptive_rr={"enabled": True, "check_interval": "3e3",
                                 "probe_interval": 500})
    assert cfg.adaptive_rr == AdaptiveRRConfig(enabled=True, check_interval=3000,
                                               probe_interval=500)
    with pytest.raises(ConfigError, match=r"^SACConfig\.adaptive_rr\.hi: expected one of"):
        SACConfig(adaptive_rr={"hi": 2})
    with pytest.raises(ConfigError, match=r"^SACConfig\.adaptive_rr: expected a mapping"):
        SACConfig(adaptive_rr=3)
    with pytest.raises(ConfigError, match=r"unknown key 'adaptive_rr' for PPOConfig"):
        load_config("CartPole-v1", overrides=["adaptive_rr.enabled=true"])
    with pytest.raises(ConfigError, match=r"dotted keys only apply to policy_kwargs, env_kwargs$"):
        load_config("CartPole-v1", overrides=["gamma.x=1"])


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"low": 2.0, "high": 1.0}, "high"),
    ({"check_interval": 120, "probe_interval": 50}, "check_interval"),
    ({"probe_batch_size": 0}, "probe_batch_size"),
    ({"dormant_tau": -1.0}, "dormant_tau"),
])
def test_the_config_and_the_callback_share_one_check(kwargs, field):
    with pytest.raises(ConfigError) as from_config:
        AdaptiveRRConfig(**kwargs)
    with pytest.raises(ConfigError) as from_callback:
        AdaptiveReplayRatio(**kwargs)
    config_message = str(from_config.value)
    callback_message = str(from_callback.value)
    assert config_message.startswith(f"SACConfig.adaptive_rr.{field}: expected")
    assert callback_message.startswith(f"AdaptiveReplayRatio.{field}: expected")
    assert config_message.split(": ", 1)[1] == callback_message.split(": ", 1)[1]
    with pytest.raises(ConfigError, match=r"^PlasticityMonitor\.probe_interval: expected"):
        PlasticityMonitor(probe_interval=0)
