"""``--algo maskable_ppo``: masks through the adapter, training, evaluation, resume, config.

The test env is a masked contextual bandit: ``Discrete(6)`` actions, of which only two are valid
in each of the 6 states (which two depends on the state); one of them earns reward 1. An episode
has 3 decisions and succeeds when all 3 earn the reward. An invalid action is a no-op (the state
stays, the decision is lost) reported as ``info["invalid"]`` and counted in
``MaskedPicker.invalid_actions``, so a test can tell whether the masks reached the policy. A
uniformly random masked policy succeeds 1 time in 8.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import pytest
import yaml
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, SyncVectorEnv, VectorEnv, VectorWrapper
from gymnasium.vector.utils import batch_space
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported

from rewardgym.agents import (
    ActionMaskError,
    ConfigError,
    PPOConfig,
    VectorEnvToSB3,
    load_config,
    make_sb3_vec_env,
    train,
)
from rewardgym.agents.cli import add_train_command, run_directory
from rewardgym.agents.config import ALGO_CONFIGS, config_path
from rewardgym.agents.train import ALGORITHMS, evaluate, latest_checkpoint

ENV_ID = "rewardgym-test/MaskedPicker-v0"
N = 6
HORIZON = 3
#: The two valid actions per state, and the rewarded one among them.
VALID = np.array([[s, (s + 1) % N] for s in range(N)])
GOOD = VALID[np.arange(N), np.arange(N) % 2]

TINY = [
    "n_envs=4",
    "n_steps=64",
    "batch_size=64",
    "n_epochs=4",
    "learning_rate=3e-3",
    "policy_kwargs={net_arch: [32]}",
]


def expected_masks(obs: np.ndarray) -> np.ndarray:
    """The masks that belong to a batch of one-hot state observations."""
    masks = np.zeros((len(obs), N), dtype=bool)
    np.put_along_axis(masks, VALID[obs.argmax(axis=1)], True, axis=1)
    return masks


class MaskedPicker(gym.Env):
    """The masked bandit as a single env (class-level counters cover every instance)."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}
    steps: ClassVar[int] = 0
    invalid_actions: ClassVar[int] = 0

    def __init__(self) -> None:
        self.observation_space = spaces.Box(0.0, 1.0, (N,), np.float32)
        self.action_space = spaces.Discrete(N)
        self._state = self._t = self._correct = 0

    def action_masks(self) -> np.ndarray:
        mask = np.zeros(N, dtype=bool)
        mask[VALID[self._state]] = True
        return mask

    def _obs(self) -> np.ndarray:
        return np.eye(N, dtype=np.float32)[self._state]

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> Any:
        super().reset(seed=seed)
        self._state = int(self.np_random.integers(N))
        self._t = self._correct = 0
        return self._obs(), {}

    def step(self, action: Any) -> Any:
        MaskedPicker.steps += 1
        self._t += 1
        info: dict[str, Any] = {}
        reward = 0.0
        if self.action_masks()[action]:
            reward = float(action == GOOD[self._state])
            self._correct += int(reward)
            self._state = int(self.np_random.integers(N))
        else:
            MaskedPicker.invalid_actions += 1
            info["invalid"] = True
        terminated = self._t >= HORIZON
        if terminated:
            info["is_success"] = self._correct == HORIZON
        return self._obs(), reward, terminated, False, info


class MaskedPickerVector(VectorEnv):
    """The same bandit as a native SAME_STEP vector env with a batched ``action_masks()``."""

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": [],
        "autoreset_mode": AutoresetMode.SAME_STEP,
    }

    def __init__(self, num_envs: int, autoreset_mode: AutoresetMode = AutoresetMode.SAME_STEP):
        assert AutoresetMode(autoreset_mode) is AutoresetMode.SAME_STEP
        self.num_envs = num_envs
        self.render_mode = None
        self.single_observation_space = spaces.Box(0.0, 1.0, (N,), np.float32)
        self.single_action_space = spaces.Discrete(N)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._state = np.zeros(num_envs, dtype=np.int64)
        self._t = np.zeros(num_envs, dtype=np.int64)
        self._correct = np.zeros(num_envs, dtype=np.int64)
        self._masks = np.zeros((num_envs, N), dtype=bool)

    def action_masks(self) -> np.ndarray:
        # Returns its internal buffer on purpose: the adapter must copy the rows.
        self._masks[:] = False
        np.put_along_axis(self._masks, VALID[self._state], True, axis=1)
        return self._masks

    def _obs(self) -> np.ndarray:
        return np.eye(N, dtype=np.float32)[self._state]

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> Any:
        super().reset(seed=seed)
        self._state = self.np_random.integers(N, size=self.num_envs)
        self._t[:] = self._correct[:] = 0
        return self._obs(), {}

    def step(self, actions: np.ndarray) -> Any:
        actions = np.asarray(actions)
        valid = self.action_masks()[np.arange(self.num_envs), actions]
        MaskedPicker.steps += self.num_envs
        MaskedPicker.invalid_actions += int((~valid).sum())
        rewards = valid & (actions == GOOD[self._state])
        self._correct += rewards
        self._state = np.where(valid, self.np_random.integers(N, size=self.num_envs), self._state)
        self._t += 1
        terminated = self._t >= HORIZON
        infos: dict[str, Any] = {"invalid": ~valid, "_invalid": ~valid}
        if terminated.any():
            infos["final_obs"] = self._obs()
            infos["_final_obs"] = terminated.copy()
            infos["final_info"] = {
                "is_success": self._correct == HORIZON,
                "_is_success": terminated.copy(),
            }
            infos["_final_info"] = terminated.copy()
            self._state[terminated] = self.np_random.integers(N, size=int(terminated.sum()))
            self._t[terminated] = self._correct[terminated] = 0
        truncated = np.zeros(self.num_envs, dtype=bool)
        return self._obs(), rewards.astype(np.float64), terminated, truncated, infos


def _make_picker() -> gym.Env:
    # gym.make adds OrderEnforcing and PassiveEnvChecker on top: action_masks() sits under three
    # Gymnasium wrappers and must be found through them.
    return gym.wrappers.TimeLimit(MaskedPicker(), 10)


@pytest.fixture(scope="module", autouse=True)
def masked_env() -> Iterator[None]:
    gym.register(ENV_ID, entry_point=_make_picker, vector_entry_point=MaskedPickerVector)
    yield
    gym.registry.pop(ENV_ID)


@pytest.fixture
def counters() -> type[MaskedPicker]:
    MaskedPicker.steps = MaskedPicker.invalid_actions = 0
    return MaskedPicker


def _config(mode: str | None = "sync", **overrides: Any) -> PPOConfig:
    extra = [f"{key}={value}" for key, value in overrides.items()]
    vectorization = [f"vectorization_mode={mode}"] if mode else []
    return load_config(ENV_ID, "maskable_ppo", overrides=[*TINY, *vectorization, *extra])


# ---------------------------------------------------------------------------- config and names


def test_load_config_maskable_ppo_and_unknown_algo() -> None:
    table = yaml.safe_load(config_path("maskable_ppo").read_text())
    assert "default" in table
    for name in table:  # every shipped entry is a valid config
        assert isinstance(load_config(name, "maskable_ppo"), PPOConfig)
    cfg = load_config("AnyEnv-v0", "maskable_ppo", overrides=["n_envs=2", "batch_size=64"])
    assert cfg.ent_coef == table["default"]["ent_coef"]
    assert cfg.n_envs == 2
    # Same validation as PPO: the message names the field.
    with pytest.raises(ConfigError, match=r"PPOConfig\.gamma: expected"):
        load_config("AnyEnv-v0", "maskable_ppo", overrides=["gamma=2"])
    with pytest.raises(ConfigError,
                       match=r"algo: expected one of \['maskable_ppo', 'ppo', 'sac'\]"):
        load_config("AnyEnv-v0", "dqn")
    with pytest.raises(ValueError, match=r"algo must be one of \['maskable_ppo', 'ppo', 'sac'\]"):
        train("CartPole-v1", "dqn", cfg, log_dir="unused", verbose=0)
    # Config names and algorithm classes stay in step; the CLI offers both.
    assert set(ALGORITHMS) == set(ALGO_CONFIGS)
    assert ALGORITHMS["maskable_ppo"] is MaskablePPO
    assert _cli(["train", ENV_ID, "--algo", "maskable_ppo"]).algo == "maskable_ppo"
    with pytest.raises(SystemExit):
        _cli(["train", ENV_ID, "--algo", "dqn"])


# ---------------------------------------------------------------------------- adapter


def test_sync_env_masks_reach_through_wrappers() -> None:
    env = make_sb3_vec_env(ENV_ID, 3, seed=0, vectorization_mode="sync")
    assert isinstance(env.vector_env.unwrapped, SyncVectorEnv)
    assert is_masking_supported(env)
    obs = env.reset()
    for _ in range(5):  # the masks follow the states, across auto-resets too
        masks = get_action_masks(env)
        assert masks.shape == (3, N)
        np.testing.assert_array_equal(masks, expected_masks(obs))
        obs, *_ = env.step(masks.argmax(axis=1))
    np.testing.assert_array_equal(
        env.env_method("action_masks", indices=[1])[0], expected_masks(obs)[1]
    )
    env.close()
    cartpole = make_sb3_vec_env("CartPole-v1", 2, vectorization_mode="sync")
    assert not is_masking_supported(cartpole)
    cartpole.close()


def test_native_env_batched_masks_are_split_per_env() -> None:
    env = make_sb3_vec_env(ENV_ID, 3, seed=0)
    assert isinstance(env.vector_env.unwrapped, MaskedPickerVector)
    assert is_masking_supported(env)
    obs = env.reset()
    masks = get_action_masks(env)
    assert masks.shape == (3, N)  # not (3, 3, N): the batch is split, not replicated
    np.testing.assert_array_equal(masks, expected_masks(obs))
    row = env.env_method("action_masks", indices=[2])
    assert len(row) == 1
    np.testing.assert_array_equal(row[0], expected_masks(obs)[2])
    row[0][:] = True  # the rows are copies of the env's buffer
    assert env.vector_env.unwrapped.action_masks().sum() == 2 * 3
    env.close()


class AllValid(VectorWrapper):
    """A vector wrapper with its own batched ``action_masks()``: it wins over the sub-envs'."""

    def action_masks(self) -> np.ndarray:
        return np.ones((self.num_envs, N), dtype=bool)


class BadShape(VectorWrapper):
    def action_masks(self) -> np.ndarray:
        return np.ones(N, dtype=bool)


def test_vector_level_masks_win_and_bad_shapes_are_refused() -> None:
    sync = SyncVectorEnv([_make_picker] * 2, autoreset_mode=AutoresetMode.SAME_STEP)
    env = VectorEnvToSB3(AllValid(sync))
    env.reset()
    assert get_action_masks(env).all()
    assert get_action_masks(env).shape == (2, N)
    bad = VectorEnvToSB3(BadShape(sync))
    with pytest.raises(ValueError, match=r"one row per env, shape \(2, \.\.\.\), got shape \(6,\)"):
        get_action_masks(bad)
    # Without batched methods the sub-envs answer as before.
    plain = VectorEnvToSB3(AllValid(sync), batched_methods=())
    assert get_action_masks(plain).sum() == 2 * 2
    env.close()


# ---------------------------------------------------------------------------- training


@pytest.mark.parametrize("mode", ["sync", None], ids=["sync", "native"])
def test_maskable_ppo_learns_without_invalid_actions(
    mode: str | None, tmp_path: Path, counters: type[MaskedPicker]
) -> None:
    result = train(
        ENV_ID,
        "maskable_ppo",
        _config(mode, total_timesteps=2048),
        log_dir=tmp_path,
        progress_bar=False,
        eval_episodes=32,
        verbose=0,
    )
    assert counters.steps >= 2048
    assert counters.invalid_actions == 0  # the masks reached the policy in every rollout
    assert result.algo == "maskable_ppo"
    assert result.num_timesteps == 2048
    # Random masked play succeeds 1/8 of the time. Measured success 1.0 on 10/10 seeds at 1024
    # steps (sync) and on 8/8 seeds at 2048 steps (sync and native).
    assert result.success_rate is not None
    assert result.success_rate >= 0.9
    assert latest_checkpoint(tmp_path / "checkpoints", "maskable_ppo").num_timesteps == 2048
    assert (tmp_path / "checkpoints" / "maskable_ppo_rng_2048_steps.pkl").is_file()
    assert [p.name for p in (tmp_path / "tb").iterdir()] == ["MASKABLE_PPO_1"]
    assert isinstance(MaskablePPO.load(tmp_path / "model.zip"), MaskablePPO)


def test_counter_sees_invalid_actions_without_masks(counters: type[MaskedPicker]) -> None:
    # The control for the test above: the same algorithm without masks does hit invalid actions.
    env = make_sb3_vec_env(ENV_ID, 4, seed=0, vectorization_mode="sync")
    model = MaskablePPO("MlpPolicy", env, n_steps=32, batch_size=64, n_epochs=1, seed=0)
    model.learn(128, use_masking=False)
    assert counters.invalid_actions > 10
    env.close()


def test_maskable_ppo_refuses_env_without_masks(tmp_path: Path) -> None:
    cfg = load_config("CartPole-v1", "maskable_ppo", overrides=["n_envs=2", "batch_size=64"])
    with pytest.raises(ActionMaskError, match=r"action_masks\(\)"):
        train("CartPole-v1", "maskable_ppo", cfg, log_dir=tmp_path, verbose=0)
    assert not (tmp_path / "checkpoints").exists()


# ---------------------------------------------------------------------------- evaluation


class MaskReader:
    """A maskable stand-in: takes the first valid action and records the masks it got."""

    def __init__(self) -> None:
        self.calls: list[tuple[np.ndarray, np.ndarray | None]] = []

    def predict(
        self, obs: np.ndarray, deterministic: bool = True, action_masks: np.ndarray | None = None
    ) -> tuple[np.ndarray, None]:
        self.calls.append((obs.copy(), action_masks))
        if action_masks is None:
            return np.zeros(len(obs), dtype=np.int64), None
        return action_masks.argmax(axis=1), None


@pytest.mark.parametrize("mode", ["sync", None], ids=["sync", "native"])
def test_evaluate_passes_the_current_masks(mode: str | None, counters: type[MaskedPicker]) -> None:
    env = make_sb3_vec_env(ENV_ID, 3, seed=1, vectorization_mode=mode)
    model = MaskReader()
    stats = evaluate(model, env, 9)  # type: ignore[arg-type]
    assert len(stats["returns"]) == 9
    assert counters.invalid_actions == 0
    assert len(model.calls) == 9 // 3 * HORIZON
    for obs, masks in model.calls:
        assert masks is not None
        np.testing.assert_array_equal(masks, expected_masks(obs))
    # Masks off on request: the stand-in then plays action 0, invalid in 4 of the 6 states.
    unmasked = MaskReader()
    evaluate(unmasked, env, 9, use_masks=False)  # type: ignore[arg-type]
    assert all(masks is None for _, masks in unmasked.calls)
    assert counters.invalid_actions > 0
    env.close()
    cartpole = make_sb3_vec_env("CartPole-v1", 2, vectorization_mode="sync")
    with pytest.raises(ActionMaskError, match="evaluate"):
        evaluate(MaskReader(), cartpole, 2)  # type: ignore[arg-type]
    cartpole.close()


# ---------------------------------------------------------------------------- CLI and resume


def _cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rewardgym")
    add_train_command(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_cli_maskable_ppo_resume(
    tmp_path: Path, counters: type[MaskedPicker], capsys: pytest.CaptureFixture[str]
) -> None:
    # An RL-Zoo style file with an entry for the env id (the shipped file has only `default`).
    config = tmp_path / "maskable_ppo.yml"
    config.write_text(
        f"{ENV_ID}:\n  n_envs: 4\n  n_steps: 64\n  batch_size: 64\n  learning_rate: 3.0e-3\n"
        "  vectorization_mode: sync\n  policy_kwargs:\n    net_arch: [32]\n"
    )
    base = ["train", ENV_ID, "--algo", "maskable_ppo", "--config", str(config)]
    base += ["--log-dir", str(tmp_path / "runs"), "--no-progress", "--seed", "3"]
    base += ["--eval-episodes", "8"]
    args = _cli([*base, "--total-timesteps", "512"])
    assert args.func(args) == 0
    run = run_directory(tmp_path / "runs", ENV_ID, "maskable_ppo", 3)
    assert run.name == "rewardgym-test_MaskedPicker-v0_maskable_ppo_seed3"
    assert latest_checkpoint(run / "checkpoints", "maskable_ppo").num_timesteps == 512
    assert "MASKABLE_PPO on" in capsys.readouterr().out

    counters.invalid_actions = 0
    args = _cli([*base, "--total-timesteps", "1024", "--resume"])
    assert args.func(args) == 0
    result = json.loads((run / "result.json").read_text())
    assert (result["resumed_from"], result["num_timesteps"]) == (512, 1024)
    # The resumed model is a MaskablePPO again: masks still reach it.
    assert counters.invalid_actions == 0
    assert latest_checkpoint(run / "checkpoints", "maskable_ppo").num_timesteps == 1024
    assert sorted(p.name for p in (run / "tb").iterdir()) == ["MASKABLE_PPO_1"]

    # A plain-PPO resume of the same env finds no run of its own, so it starts one.
    args = _cli([*base[:2], "--log-dir", str(tmp_path / "runs"), "--seed", "3", "--resume",
                 "--no-progress", "--total-timesteps", "64", "--eval-episodes", "2",
                 "--set", "n_envs=2", "n_steps=32", "batch_size=64"])
    assert args.func(args) == 0
    assert "no checkpoint in" in capsys.readouterr().err
    assert latest_checkpoint(run_directory(tmp_path / "runs", ENV_ID, "ppo", 3) / "checkpoints",
                             "ppo").num_timesteps == 64
    # An env without action masks: a clear error, not a crash inside MaskablePPO.
    args = _cli(["train", "CartPole-v1", "--algo", "maskable_ppo", "--log-dir", str(tmp_path)])
    assert args.func(args) == 1
    assert "action_masks()" in capsys.readouterr().err
