"""Short PPO training of one LLM-written reward program: the refine loop's default trainer.

``train_candidate(config, run_dir) -> dict`` follows the sweep runner's contract
(:mod:`rewardgym.benchmarks.sweep`), so refine rounds can run through it. The env pays the
program (:class:`~rewardgym.wrappers.llm.LLMReward`, ``replace`` mode) in every sub-env of a
same-step sync vector env; a recorder outside it logs each training episode: the per-term totals,
the env's own return, the length, whether the env's success predicate held, and the final
feature row. The result carries what Eureka's reflection and Auto MC-Reward's trajectory analysis
need: each series in ten chunks of training, the success rate of a deterministic evaluation on
the plain env (the env's predicate, never the program's opinion), and a summary of how failed
episodes ended.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from stable_baselines3 import PPO

from rewardgym.agents.sb3_adapter import VectorEnvToSB3
from rewardgym.wrappers.llm import LLMReward, view_of
from rewardgym.wrappers.potential import PotentialShaping


class _Recorder(gym.Wrapper):
    """Log each episode's term totals, base return, length, success and final features."""

    def __init__(self, env: gym.Env, log: list[dict[str, Any]]) -> None:
        super().__init__(env)
        self.log = log
        self.view = view_of(env)
        self._reset_episode()

    def _reset_episode(self) -> None:
        self._terms: dict[str, float] = {}
        self._base = 0.0
        self._length = 0
        self._success = False

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self._reset_episode()
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        for name, value in info.get("reward_terms", {}).items():
            self._terms[name] = self._terms.get(name, 0.0) + float(value)
        self._base += float(info.get("base_reward", reward))
        self._length += 1
        self._success |= bool(info.get("is_success", False))
        if terminated or truncated:
            self.log.append({"terms": dict(self._terms), "base_return": self._base,
                             "length": self._length, "success": self._success,
                             "final": self.view.rows(self.env)[0].tolist()})
        return obs, reward, terminated, truncated, info


def _chunks(values: list[float], points: int = 10) -> list[float]:
    if not values:
        return []
    parts = np.array_split(np.asarray(values, dtype=np.float64), min(points, len(values)))
    return [float(p.mean()) for p in parts]


def _failure_summary(log: list[dict[str, Any]], names: tuple[str | None, ...]) -> str:
    late = log[len(log) // 2:]
    failed = [e for e in late if not e["success"]]
    if not failed:
        return ""
    won = [e for e in late if e["success"]]
    finals = np.asarray([e["final"] for e in failed])
    parts = []
    for j, name in enumerate(names[: finals.shape[1]]):
        if name is None:
            continue
        text = f"{name}={finals[:, j].mean():.3g}"
        if won:
            text += f" (successful: {np.mean([e['final'][j] for e in won]):.3g})"
        parts.append(text)
    return (f"{len(failed)} of {len(late)} episodes in the second half of training failed; their "
            f"final states averaged: " + ", ".join(parts))


def evaluate_success(env_id: str, model: Any, episodes: int, seed: int,
                     env_kwargs: dict[str, Any] | None = None) -> tuple[float, float]:
    """Success rate (the env's ``info["is_success"]``) and mean env return of a policy."""
    env = gym.make(env_id, **(env_kwargs or {}))
    wins, returns = 0, []
    for e in range(episodes):
        obs, _ = env.reset(seed=seed + 10_000 + e)
        done, total, success = False, 0.0, False
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, info = env.step(action)
            total += float(reward)
            success |= bool(info.get("is_success", False))
            done = terminated or truncated
        wins += success
        returns.append(total)
    env.close()
    return wins / episodes, float(np.mean(returns))


def train_candidate(config: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """Train PPO briefly on a reward and report success and per-term series.

    ``config``: ``env_id``, ``seed``, ``timesteps``, and the reward: ``program`` (source; the
    default ``reward="program"``), or ``reward="sparse"`` (locomotion ``reward_mode="sparse"``,
    the grid's own success reward) or ``reward="expert"`` (locomotion's dense reference reward,
    sub-goal potential shaping on grids); optional ``n_envs`` (4), ``eval_episodes`` (10),
    ``n_steps`` (128).
    """
    env_id = config["env_id"]
    reward = config.get("reward", "program")
    if reward not in ("program", "sparse", "expert"):
        raise ValueError(f"train_candidate: reward must be program, sparse or expert, got "
                         f"{reward!r}")
    program = config.get("program")
    if reward == "program" and not program:
        raise ValueError("train_candidate: reward='program' needs config['program']")
    seed = int(config.get("seed", 0))
    timesteps = int(config["timesteps"])
    n_envs = int(config.get("n_envs", 4))
    torch.set_num_threads(1)
    log: list[dict[str, Any]] = []
    view = view_of(gym.make(env_id))
    # Grid policies read the flat view (one-hot heading included): an MLP, not a CNN on 7x7.
    kwargs = {"obs_mode": "flat"} if view.family == "grid" else {}

    def make() -> gym.Env:
        if reward == "program":
            env = LLMReward(gym.make(env_id, **kwargs), program, n_states=64, seed=seed)
        elif reward == "sparse":
            env = gym.make(env_id, **kwargs) if view.family == "grid" else \
                gym.make(env_id, reward_mode="sparse")
        elif view.family == "grid":
            env = PotentialShaping(gym.make(env_id, subgoal_distance_in_info=True, **kwargs),
                                   "grid_subgoal_distance", gamma=0.99)
        else:
            env = gym.make(env_id)
        return _Recorder(env, log)

    venv = VectorEnvToSB3(SyncVectorEnv([make] * n_envs,
                                        autoreset_mode=AutoresetMode.SAME_STEP))
    venv.seed(seed)
    policy = "MultiInputPolicy" if isinstance(venv.observation_space, gym.spaces.Dict) \
        else "MlpPolicy"
    model = PPO(policy, venv, n_steps=int(config.get("n_steps", 128)), batch_size=128,
                n_epochs=4, learning_rate=3e-4, ent_coef=0.01, seed=seed, device="cpu",
                verbose=0)
    model.learn(total_timesteps=timesteps)
    venv.close()
    success_rate, base_return = evaluate_success(env_id, model,
                                                 int(config.get("eval_episodes", 10)), seed,
                                                 kwargs)
    names = sorted({n for e in log for n in e["terms"]})
    # One name per row entry; vector entries are left out of the summary (None).
    scalar_names = tuple(n for f in view.features
                         for n in ([f.name] if f.scalar else [None] * f.size))
    return {
        "success_rate": success_rate,
        "base_return": base_return,
        "episodes": len(log),
        "timesteps": timesteps,
        "term_series": {n: _chunks([e["terms"].get(n, 0.0) for e in log]) for n in names},
        "success_series": _chunks([float(e["success"]) for e in log]),
        "length_series": _chunks([float(e["length"]) for e in log]),
        "base_return_series": _chunks([e["base_return"] for e in log]),
        "failure_summary": _failure_summary(log, scalar_names),
    }
