"""Short PPO training of one LLM-written reward program: the refine loop's default trainer.

``train_candidate(config, run_dir) -> dict`` follows the sweep runner's contract
(:mod:`rewardgym.benchmarks.sweep`), so refine rounds can run through it. The env pays the
program (:class:`~rewardgym.wrappers.llm.LLMRewardVector`, ``replace`` mode) on a native
``SAME_STEP`` vector env, one compiled call for every sub-env, and a recorder outside it logs
each training episode (the finishing step read from ``final_info``): the per-term totals,
the env's own return, the length, whether the env's success predicate held, and the final
feature row. The result carries what Eureka's reflection and Auto MC-Reward's trajectory analysis
need: each series in ten chunks of training episodes, success and return also over the ten
tenths of the step budget (``*_by_step``: the episodes that ended in each; long failed episodes
early make the first chunks of episodes span most of the steps), the success rate of a
deterministic evaluation on the plain env (the env's predicate, never the program's opinion),
and a summary of how failed episodes ended.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import VectorEnv, VectorWrapper
from stable_baselines3 import PPO

from rewardgym.agents.sb3_adapter import make_sb3_vec_env
from rewardgym.wrappers.llm import LLMRewardVector, view_of
from rewardgym.wrappers.potential import PotentialShapingVector


class _Recorder(VectorWrapper):
    """Log each finished episode: term totals, base return, length, success, final features.

    A vector wrapper over a ``SAME_STEP`` vector env: the finishing step's terms and success are
    read from ``infos["final_info"]`` and the final features from the view reader's replay of
    the last transition (:meth:`ViewReader.final_rows`).
    """

    def __init__(self, env: VectorEnv, log: list[dict[str, Any]]) -> None:
        super().__init__(env)
        self.log = log
        self.view = view_of(env)
        self._reader = self.view.reader(env)
        self._rows = self._reader.new_rows()
        n = self.num_envs
        self._terms: list[dict[str, float]] = [{} for _ in range(n)]
        self._base = np.zeros(n)
        self._length = np.zeros(n, dtype=np.int64)
        self._success = np.zeros(n, dtype=np.bool_)
        self._steps = 0  # env steps taken, over every sub-env

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self._terms = [{} for _ in range(self.num_envs)]
        self._base[:] = 0.0
        self._length[:] = 0
        self._success[:] = False
        return self.env.reset(**kwargs)

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        self._reader.before_step()
        obs, rewards, terminated, truncated, infos = self.env.step(actions)
        done = np.asarray(terminated | truncated, dtype=np.bool_)
        final = infos.get("final_info", {}) if done.any() else {}
        for source, rows in ((infos, ~done), (final, done)):
            if not rows.any():
                continue
            terms = source.get("reward_terms", {})
            for name, values in terms.items():
                if name.startswith("_"):
                    continue
                mask = rows & np.asarray(terms.get(f"_{name}", rows), dtype=np.bool_)
                for i in np.flatnonzero(mask):
                    self._terms[i][name] = self._terms[i].get(name, 0.0) + float(values[i])
            base = np.asarray(source.get("base_reward", rewards), dtype=np.float64)
            self._base[rows] += base[rows]
            if "is_success" in source:
                self._success[rows] |= np.asarray(source["is_success"], dtype=np.bool_)[rows]
        self._length += 1
        self._steps += self.num_envs
        if done.any():
            rows = self._reader.read(self._rows)
            rows = self._reader.final_rows(infos, self.view.actions(actions, self.num_envs), done,
                                           rows)
            for i in np.flatnonzero(done):
                self.log.append({"terms": self._terms[i], "base_return": float(self._base[i]),
                                 "length": int(self._length[i]), "step": self._steps,
                                 "success": bool(self._success[i]), "final": rows[i].tolist()})
                self._terms[i] = {}
            self._base[done] = 0.0
            self._length[done] = 0
            self._success[done] = False
        return obs, rewards, terminated, truncated, infos


def _chunks(values: list[float], points: int = 10) -> list[float]:
    if not values:
        return []
    parts = np.array_split(np.asarray(values, dtype=np.float64), min(points, len(values)))
    return [float(p.mean()) for p in parts]


def _by_step(log: list[dict[str, Any]], key: str, timesteps: int,
             points: int = 10) -> list[float | None]:
    """Mean of ``key`` over the episodes that ended in each of ``points`` even parts of training.

    Parts split the steps taken over every sub-env (the budget, or the last full rollout past
    it); a part where no episode ended is ``None``.
    """
    total = max([timesteps, *(e["step"] for e in log)])
    sums, counts = np.zeros(points), np.zeros(points, dtype=np.int64)
    for e in log:
        part = min(points - 1, (e["step"] - 1) * points // total)
        sums[part] += float(e[key])
        counts[part] += 1
    return [float(sums[k] / counts[k]) if counts[k] else None for k in range(points)]


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
                     env_kwargs: dict[str, Any] | None = None, *,
                     deterministic: bool = True) -> tuple[float, float]:
    """Success rate (the env's ``info["is_success"]``) and mean env return of a policy.

    ``deterministic=False`` samples the policy's actions: a memoryless grid policy whose argmax
    is a no-op in some state repeats it until the time limit, where the sampled policy moves on.
    """
    env = gym.make(env_id, **(env_kwargs or {}))
    wins, returns = 0, []
    for e in range(episodes):
        obs, _ = env.reset(seed=seed + 10_000 + e)
        done, total, success = False, 0.0, False
        while not done:
            action, _ = model.predict(obs, deterministic=deterministic)
            obs, reward, terminated, truncated, info = env.step(action)
            total += float(reward)
            success |= bool(info.get("is_success", False))
            done = terminated or truncated
        wins += success
        returns.append(total)
    env.close()
    return wins / episodes, float(np.mean(returns))


#: PPO settings of a run unless its config names others (the refine loop's short runs).
PPO_DEFAULTS: dict[str, Any] = {"n_envs": 4, "n_steps": 128, "batch_size": 128, "n_epochs": 4,
                                "learning_rate": 3e-4, "ent_coef": 0.01}
#: Scale of the grid expert's sub-goal potential shaping. Our shaping study (README "Shaping on
#: sparse grids", ``rewardgym.benchmarks.shaping_sparse``, DoorKey-8x8, 5 seeds, 600k steps)
#: found scale 1 collapses (0 / 5 runs reached 90 % success) while 0.1 solved 5 / 5.
GRID_EXPERT_SCALE = 0.1
#: Every config key ``train_candidate`` reads; ``arm``, ``provenance`` and ``candidate`` are the
#: sweep's and the refine loop's labels, carried along and not read.
CONFIG_KEYS = frozenset({"env_id", "seed", "timesteps", "reward", "program", "eval_episodes",
                         "env_kwargs", "expert_shaping_scale", *PPO_DEFAULTS, "arm",
                         "provenance", "candidate"})


def train_candidate(config: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """Train PPO briefly on a reward and report success and per-term series.

    ``config``: ``env_id``, ``seed``, ``timesteps``, and the reward: ``program`` (source; the
    default ``reward="program"``), or ``reward="sparse"`` (locomotion ``reward_mode="sparse"``,
    the grid's own success reward) or ``reward="expert"`` (locomotion's dense reference reward,
    sub-goal potential shaping on grids, scaled by ``expert_shaping_scale``, default
    :data:`GRID_EXPERT_SCALE`); optional PPO settings ``n_envs``, ``n_steps``, ``batch_size``,
    ``n_epochs``, ``learning_rate``, ``ent_coef`` (defaults :data:`PPO_DEFAULTS`),
    ``eval_episodes`` (10) and ``env_kwargs`` (for training and evaluation envs). Any other key
    raises ``ValueError`` naming it. The result's ``ppo`` holds the settings used;
    ``success_rate``/``base_return`` come from a deterministic (argmax) evaluation,
    ``success_rate_sampled``/``base_return_sampled`` from one with sampled actions on the
    same episodes' seeds.
    """
    unknown = sorted(set(config) - CONFIG_KEYS)
    if unknown:
        raise ValueError(f"train_candidate: unknown config key(s) {unknown}; known: "
                         f"{sorted(CONFIG_KEYS)}")
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
    ppo = {**PPO_DEFAULTS, **{k: config[k] for k in PPO_DEFAULTS if k in config}}
    n_envs = int(ppo["n_envs"])
    scale = float(config.get("expert_shaping_scale", GRID_EXPERT_SCALE))
    torch.set_num_threads(1)
    log: list[dict[str, Any]] = []
    view = view_of(gym.make(env_id))
    # Grid policies read the flat view (one-hot heading included): an MLP, not a CNN on 7x7.
    kwargs: dict[str, Any] = {"obs_mode": "flat"} if view.family == "grid" else {}
    kwargs.update(config.get("env_kwargs") or {})
    eval_kwargs = dict(kwargs)

    def pay(env: VectorEnv) -> VectorEnv:
        # The batched wrappers pay every sub-env in one call (SAME_STEP: what SB3 needs).
        if reward == "program":
            return LLMRewardVector(env, program, n_states=64, seed=seed)
        if reward == "expert" and view.family == "grid":
            return PotentialShapingVector(env, "grid_subgoal_distance", gamma=0.99,
                                          scale=scale)
        return env

    if reward == "sparse" and view.family != "grid":
        kwargs["reward_mode"] = "sparse"
    if reward == "expert" and view.family == "grid":
        kwargs["subgoal_distance_in_info"] = True
    venv = make_sb3_vec_env(env_id, n_envs, seed=seed, env_kwargs=kwargs,
                            vectorization_mode="vector_entry_point",
                            vector_wrappers=[pay, lambda e: _Recorder(e, log)])
    policy = "MultiInputPolicy" if isinstance(venv.observation_space, gym.spaces.Dict) \
        else "MlpPolicy"
    model = PPO(policy, venv, n_steps=int(ppo["n_steps"]), batch_size=int(ppo["batch_size"]),
                n_epochs=int(ppo["n_epochs"]), learning_rate=float(ppo["learning_rate"]),
                ent_coef=float(ppo["ent_coef"]), seed=seed, device="cpu", verbose=0)
    model.learn(total_timesteps=timesteps)
    venv.close()
    episodes = int(config.get("eval_episodes", 10))
    success_rate, base_return = evaluate_success(env_id, model, episodes, seed, eval_kwargs)
    sampled_rate, sampled_return = evaluate_success(env_id, model, episodes, seed, eval_kwargs,
                                                    deterministic=False)
    names = sorted({n for e in log for n in e["terms"]})
    # One name per row entry; vector entries are left out of the summary (None).
    scalar_names = tuple(n for f in view.features
                         for n in ([f.name] if f.scalar else [None] * f.size))
    return {
        "success_rate": success_rate,
        "base_return": base_return,
        "success_rate_sampled": sampled_rate,
        "base_return_sampled": sampled_return,
        "episodes": len(log),
        "timesteps": timesteps,
        "ppo": {**ppo, **({"expert_shaping_scale": scale}
                          if reward == "expert" and view.family == "grid" else {})},
        "term_series": {n: _chunks([e["terms"].get(n, 0.0) for e in log]) for n in names},
        "success_series": _chunks([float(e["success"]) for e in log]),
        "length_series": _chunks([float(e["length"]) for e in log]),
        "success_by_step": _by_step(log, "success", timesteps),
        "base_return_by_step": _by_step(log, "base_return", timesteps),
        "base_return_series": _chunks([e["base_return"] for e in log]),
        "failure_summary": _failure_summary(log, scalar_names),
    }
