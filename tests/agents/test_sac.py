"""SAC on the train path: config loading and validation, training, resume, the CLI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from stable_baselines3 import SAC

from rewardgym.agents import load_config, train
from rewardgym.agents.cli import add_train_command, run_directory
from rewardgym.agents.config import ALGO_CONFIGS, ConfigError, config_path
from rewardgym.agents.sac_config import SACConfig
from rewardgym.agents.train import ALGORITHMS

ENV = "rewardgym/HalfCheetahBackward-v1"
TINY = ["learning_starts=64", "batch_size=32", "policy_kwargs={net_arch: [32, 32]}"]


def test_sac_is_registered_with_its_own_config_class():
    assert ALGO_CONFIGS["sac"] is SACConfig
    assert ALGORITHMS["sac"] is SAC
    assert config_path("sac").name == "sac.yml"


def test_shipped_sac_file_has_locomotion_entries_and_a_default():
    cheetah = load_config(ENV, "sac")
    assert cheetah.policy_kwargs == {"net_arch": [256, 256]}
    assert cheetah.learning_starts == 2000
    assert cheetah.gamma == 0.98
    ant = load_config("rewardgym/AntGoal-v1", "sac")
    assert ant.gamma == 0.99  # the anchor's other settings, gamma overridden
    assert ant.learning_rate == cheetah.learning_rate
    default = load_config("Pendulum-v1", "sac")
    assert default.learning_starts == 10_000
    overridden = load_config(ENV, "sac", overrides=["ent_coef=auto_0.1", "tau=0.01",
                                                    "env_kwargs.reward_mode=sparse"])
    kwargs = overridden.sac_kwargs()
    assert kwargs["ent_coef"] == "auto_0.1"
    assert kwargs["tau"] == 0.01
    assert overridden.env_kwargs == {"reward_mode": "sparse"}


@pytest.mark.parametrize(("override", "message"), [
    ("tau=0", "SACConfig.tau: expected a number in (0, 1]"),
    ("ent_coef=warm", "SACConfig.ent_coef"),
    ("ent_coef=-1", "SACConfig.ent_coef"),
    ("learning_starts=-5", "SACConfig.learning_starts: expected an int >= 0"),
    ("shaping_potential=nope", "SACConfig.shaping_potential"),
    ("n_steps=8", "unknown key 'n_steps' for SACConfig"),
])
def test_bad_sac_settings_name_the_field(override, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("]", r"\]")):
        load_config(ENV, "sac", overrides=[override])


def test_train_sac_then_resume(tmp_path: Path):
    config = load_config(ENV, "sac", overrides=[*TINY, "total_timesteps=160", "seed=1"])
    result = train(ENV, "sac", config, log_dir=tmp_path, progress_bar=False, eval_episodes=1,
                   verbose=0, checkpoint_freq=80)
    assert result.algo == "sac"
    assert result.num_timesteps == 160
    assert result.success_rate == 0.0  # is_success reported by the env, 160 steps learn nothing
    assert (tmp_path / "checkpoints" / "sac_160_steps.zip").is_file()
    model = SAC.load(tmp_path / "model.zip")
    assert model.batch_size == 32
    longer = load_config(ENV, "sac", overrides=[*TINY, "total_timesteps=240", "seed=1"])
    resumed = train(ENV, "sac", longer, log_dir=tmp_path, resume=True, progress_bar=False,
                    eval_episodes=1, verbose=0)
    assert resumed.resumed_from == 160
    assert resumed.num_timesteps == 240


def test_sac_trains_on_potential_shaped_sparse_ant_goal(tmp_path: Path):
    config = load_config("rewardgym/AntGoal-v1", "sac", overrides=[
        *TINY, "total_timesteps=100", "env_kwargs.reward_mode=sparse",
        "shaping_potential=ant_goal_distance"])
    result = train("rewardgym/AntGoal-v1", "sac", config, log_dir=tmp_path, progress_bar=False,
                   eval_episodes=1, verbose=0)
    assert result.num_timesteps == 100
    # Evaluation uses the env's own (sparse) reward: no arrival, no reward.
    assert result.mean_return == 0.0


def test_cli_train_sac(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    parser = argparse.ArgumentParser(prog="rewardgym")
    add_train_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["train", ENV, "--algo", "sac", "--log-dir", str(tmp_path),
                              "--no-progress", "--seed", "2", "--eval-episodes", "1",
                              "--total-timesteps", "96", "--set", *TINY])
    assert args.func(args) == 0
    run = run_directory(tmp_path, ENV, "sac", 2)
    assert json.loads((run / "result.json").read_text())["algo"] == "sac"
    assert "SAC on rewardgym/HalfCheetahBackward-v1" in capsys.readouterr().out
