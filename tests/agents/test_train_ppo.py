"""train(): checkpoints, TensorBoard, resume, evaluation, the shaping-gamma guard, the CLI."""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode, SyncVectorEnv, VectorWrapper
from stable_baselines3.common.vec_env import VecNormalize

from rewardgym.agents import (
    PPOConfig,
    ShapingGammaError,
    VectorEnvToSB3,
    check_shaping_gamma,
    load_config,
    make_sb3_vec_env,
    train,
)
from rewardgym.agents.cli import add_train_command, run_directory
from rewardgym.agents.train import _rng_state, _set_rng_state, evaluate, latest_checkpoint

TINY = [
    "n_envs=4",
    "n_steps=64",
    "batch_size=128",
    "n_epochs=2",
    "env_kwargs={max_episode_steps: 100}",
]


def tiny_config(**changes: Any) -> PPOConfig:
    return dataclasses.replace(load_config("CartPole-v1", overrides=TINY), **changes)


class Shaping(gym.Wrapper):
    """Stands in for a potential-shaping wrapper: only exposes ``shaping_gamma``."""

    def __init__(self, env: gym.Env, gamma: float) -> None:
        super().__init__(env)
        self.shaping_gamma = gamma


class SuccessInfo(gym.Wrapper):
    """Reports ``is_success`` = the pole stayed up until the time limit."""

    def step(self, action: Any) -> Any:
        obs, reward, terminated, truncated, info = self.env.step(action)
        info["is_success"] = bool(truncated and not terminated)
        return obs, reward, terminated, truncated, info


def _shaped_cartpole(gamma: float = 0.9, **kwargs: Any) -> gym.Env:
    return Shaping(gym.make("CartPole-v1", **kwargs), gamma)


def _success_cartpole(limit: int = 500) -> gym.Env:
    # The time limit must sit below SuccessInfo, so it is an env kwarg, not make's.
    return SuccessInfo(gym.make("CartPole-v1", max_episode_steps=limit))


@pytest.fixture(scope="module", autouse=True)
def test_envs() -> Iterator[None]:
    gym.register("rewardgym-test/ShapedCartPole-v0", entry_point=_shaped_cartpole)
    gym.register("rewardgym-test/SuccessCartPole-v0", entry_point=_success_cartpole)
    yield
    del gym.registry["rewardgym-test/ShapedCartPole-v0"]
    del gym.registry["rewardgym-test/SuccessCartPole-v0"]


def test_train_checkpoints_tensorboard_and_resume(tmp_path: Path) -> None:
    run = tmp_path / "run"
    cfg = tiny_config(total_timesteps=2048)
    first = train(
        "CartPole-v1",
        config=cfg,
        log_dir=run,
        progress_bar=False,
        eval_episodes=6,
        checkpoint_freq=1024,
        verbose=0,
    )
    assert first.num_timesteps == 2048
    assert first.train_timesteps == 2048
    assert first.resumed_from is None
    steps = sorted(int(p.name.split("_")[1]) for p in run.glob("checkpoints/ppo_*_steps.zip"))
    assert steps == [1024, 2048]
    assert (run / "checkpoints" / "ppo_rng_1024_steps.pkl").is_file()
    assert (run / "model.zip").is_file()
    events = list((run / "tb").glob("PPO_1/events.out.tfevents.*"))
    assert len(events) == 1
    assert events[0].stat().st_size > 0
    # The evaluation numbers are there and consistent.
    assert first.eval_episodes == 6
    assert first.success_rate is None  # CartPole reports no is_success
    assert 1 <= first.mean_length <= 100
    assert first.mean_return == pytest.approx(first.mean_length)  # reward 1 per step
    assert first.std_return >= 0
    assert first.steps_per_second > 0
    assert first.wall_time_s >= first.train_time_s > 0
    saved = json.loads((run / "result.json").read_text())
    assert saved["num_timesteps"] == 2048
    assert saved["log_dir"] == str(run)
    table = first.table()
    assert table.row_count == 8
    assert "success rate (6 episodes)" in table.columns[0]._cells

    # Same run directory without resume: refused rather than mixed.
    with pytest.raises(FileExistsError, match="resume=True"):
        train("CartPole-v1", config=cfg, log_dir=run, progress_bar=False, verbose=0)

    second = train(
        "CartPole-v1",
        config=dataclasses.replace(cfg, total_timesteps=3072),
        log_dir=run,
        resume=True,
        progress_bar=False,
        eval_episodes=2,
        verbose=0,
    )
    assert second.resumed_from == 2048
    assert second.num_timesteps == 3072
    assert second.train_timesteps == 1024
    assert latest_checkpoint(run / "checkpoints").num_timesteps == 3072
    # Resumed logging continues the same TensorBoard run instead of starting PPO_2.
    assert sorted(p.name for p in (run / "tb").iterdir()) == ["PPO_1"]


def test_resume_without_checkpoint_fails(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="has no checkpoint"):
        train("CartPole-v1", config=tiny_config(), log_dir=tmp_path, resume=True, verbose=0)


def test_resume_with_vecnormalize(tmp_path: Path) -> None:
    cfg = tiny_config(total_timesteps=512, normalize=True)
    train(
        "CartPole-v1", config=cfg, log_dir=tmp_path, progress_bar=False, verbose=0, eval_episodes=2
    )
    stats = tmp_path / "checkpoints" / "ppo_vecnormalize_512_steps.pkl"
    assert stats.is_file()
    saved = VecNormalize.load(str(stats), make_sb3_vec_env("CartPole-v1", 4))
    assert saved.obs_rms.count > 512  # statistics were collected during training
    result = train(
        "CartPole-v1",
        config=dataclasses.replace(cfg, total_timesteps=1024),
        log_dir=tmp_path,
        resume=True,
        progress_bar=False,
        verbose=0,
        eval_episodes=2,
    )
    assert result.num_timesteps == 1024
    resumed = VecNormalize.load(
        str(tmp_path / "checkpoints" / "ppo_vecnormalize_1024_steps.pkl"),
        make_sb3_vec_env("CartPole-v1", 4),
    )
    # Continued from the saved statistics, not from scratch.
    assert resumed.obs_rms.count > saved.obs_rms.count + 400


def test_rng_state_roundtrip() -> None:
    state = _rng_state()
    first = (torch.rand(3), np.random.rand(3), random.random())  # noqa: NPY002
    _set_rng_state(state)
    second = (torch.rand(3), np.random.rand(3), random.random())  # noqa: NPY002
    assert torch.equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert first[2] == second[2]


def test_evaluate_counts_success_and_shares_episodes() -> None:
    env = make_sb3_vec_env("rewardgym-test/SuccessCartPole-v0", 3, seed=0, env_kwargs={"limit": 12})

    class Balancer:
        """Pushes towards the pole's lean: survives the 12 steps most of the time."""

        def predict(self, obs: np.ndarray, deterministic: bool = True) -> tuple[np.ndarray, None]:
            return (obs[:, 2] > 0).astype(np.int64), None

    class Pusher:
        def predict(self, obs: np.ndarray, deterministic: bool = True) -> tuple[np.ndarray, None]:
            return np.ones(len(obs), dtype=np.int64), None

    good = evaluate(Balancer(), env, 7)  # type: ignore[arg-type]
    assert len(good["returns"]) == len(good["lengths"]) == len(good["successes"]) == 7
    assert good["successes"] == [length == 12 for length in good["lengths"]]
    assert np.mean(good["successes"]) > 0.5
    bad = evaluate(Pusher(), env, 5)  # type: ignore[arg-type]
    assert not any(bad["successes"])
    assert max(bad["lengths"]) < 12
    with pytest.raises(ValueError, match="n_episodes must be >= 1"):
        evaluate(Pusher(), env, 0)  # type: ignore[arg-type]
    env.close()


def test_train_reports_success_rate(tmp_path: Path) -> None:
    cfg = tiny_config(total_timesteps=256, env_kwargs={"limit": 5})
    result = train(
        "rewardgym-test/SuccessCartPole-v0",
        config=cfg,
        log_dir=tmp_path,
        progress_bar=False,
        eval_episodes=4,
        verbose=0,
    )
    # Every CartPole episode survives 5 steps, so every one succeeds.
    assert result.success_rate == 1.0
    assert result.mean_length == 5.0


# ---------------------------------------------------------------------------- gamma guard


class VectorShaping(VectorWrapper):
    @property
    def shaping_gamma(self) -> float:
        return 0.95


def test_check_shaping_gamma_walks_the_chain() -> None:
    plain = gym.make("CartPole-v1")
    assert check_shaping_gamma(plain, 0.99) is None
    shaped = gym.wrappers.TimeLimit(_shaped_cartpole(0.9), 10)  # shaping below another wrapper
    assert check_shaping_gamma(shaped, 0.9) == 0.9
    with pytest.raises(ShapingGammaError, match=r"shaping_gamma=0\.9 differs .* gamma=0\.99"):
        check_shaping_gamma(shaped, 0.99)
    with pytest.warns(UserWarning, match="differs"):
        assert check_shaping_gamma(shaped, 0.99, allow_mismatch=True) == 0.9
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_shaping_gamma(shaped, 0.9, allow_mismatch=True)  # equal: no warning

    # Inside the sub-envs of a sync vector env behind the adapter and VecNormalize.
    venv = SyncVectorEnv([_shaped_cartpole] * 2, autoreset_mode=AutoresetMode.SAME_STEP)
    sb3_env = VecNormalize(VectorEnvToSB3(venv))
    with pytest.raises(ShapingGammaError):
        check_shaping_gamma(sb3_env, 0.99)
    # A vector shaping wrapper exposing it as a property.
    inner = SyncVectorEnv([lambda: gym.make("CartPole-v1")], autoreset_mode=AutoresetMode.SAME_STEP)
    wrapped = VectorEnvToSB3(VectorShaping(inner))
    assert check_shaping_gamma(wrapped, 0.95) == 0.95
    with pytest.raises(ShapingGammaError, match="VectorShaping"):
        check_shaping_gamma(wrapped, 0.99)


def test_train_refuses_gamma_mismatch(tmp_path: Path) -> None:
    cfg = tiny_config(total_timesteps=256, gamma=0.99, env_kwargs={})
    with pytest.raises(ShapingGammaError, match="allow_gamma_mismatch"):
        train("rewardgym-test/ShapedCartPole-v0", config=cfg, log_dir=tmp_path, verbose=0)
    assert not (tmp_path / "checkpoints").exists()
    with pytest.warns(UserWarning, match="differs"):
        result = train(
            "rewardgym-test/ShapedCartPole-v0",
            config=cfg,
            log_dir=tmp_path,
            allow_gamma_mismatch=True,
            progress_bar=False,
            eval_episodes=2,
            verbose=0,
        )
    assert result.num_timesteps == 256


# ---------------------------------------------------------------------------- CLI


def _cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rewardgym")
    add_train_command(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_cli_train_and_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["train", "CartPole-v1", "--log-dir", str(tmp_path), "--no-progress"]
    base += ["--seed", "3", "--eval-episodes", "2", "--set", *TINY]
    args = _cli([*base, "--total-timesteps", "256"])
    assert args.func(args) == 0
    run = run_directory(tmp_path, "CartPole-v1", "ppo", 3)
    assert run == tmp_path / "CartPole-v1_ppo_seed3"
    assert json.loads((run / "result.json").read_text())["num_timesteps"] == 256
    assert "mean return" in capsys.readouterr().out

    args = _cli([*base, "--total-timesteps", "512"])
    assert args.func(args) == 1
    assert "--resume" in capsys.readouterr().err

    args = _cli([*base, "--total-timesteps", "512", "--resume"])
    assert args.func(args) == 0
    assert json.loads((run / "result.json").read_text())["resumed_from"] == 256

    args = _cli([*base, "--set", "n_env=2"])
    assert args.func(args) == 2
    assert "unknown key 'n_env'" in capsys.readouterr().err
