"""Where does large-batch PPO time go on the native envs, and what does our SB3 adapter cost?

SB3 PPO (MlpPolicy 256×256, 3 epochs, ``n_steps`` 32, one torch thread) on RouteDrive (vector
obs) and DoorKey-8x8 (flat obs), for ``n_envs`` × mini-batch, with four ways to give SB3 the env:

* ``adapter``: :func:`rewardgym.agents.make_sb3_vec_env` (the native vector env, episode
  statistics and reward-term totals, :class:`~rewardgym.agents.VectorEnvToSB3`), what
  ``rewardgym train`` uses;
* ``bare``: the reference: a minimal SB3 ``VecEnv`` written straight on the native vector env
  (``terminal_observation`` and ``TimeLimit.truncated`` for finished envs, nothing else: no
  episode statistics), the least any adapter must do;
* ``dummy``: SB3's ``DummyVecEnv`` of ``n_envs`` single envs (``gym.make``);
* ``subproc``: SB3's ``SubprocVecEnv`` (one process per env; only run for ``n_envs`` <= 16 on
  a small machine);
* ``llm``: ``adapter`` with :class:`~rewardgym.wrappers.llm.LLMRewardVector` paying the
  LLM-reward benchmark's program (``rewardgym.benchmarks.llm_rewards.PROGRAMS``) inside the
  timed env step, so its env share minus the adapter row's is what the compiled reward costs
  a training run (``llm_overhead``: the extra env time per env step over the adapter run's
  wall time per env step).

Each configuration runs in its own process (the sweep runner, one at a time): one warm-up
rollout and update (numba compilation, torch allocations), then ``rollouts`` timed rollouts and
updates. Recorded: env-steps per second end to end, and the shares of wall time spent in the env
itself (the native ``VectorEnv.step``, or the whole SB3 ``VecEnv.step_wait`` for dummy/subproc,
whose env is the Python loop), in the SB3 ``VecEnv`` (env + adapter), in rollouts and in updates.
The adapter's overhead over the bare reference is the difference of their ``VecEnv`` time per
env step, relative to the bare run's wall time per env step (and, noisier, the ratio of their end-
to-end rates). Speed numbers are for the machine they were measured on; rows carry its load.
Every row also carries a profile of SB3's rollout and update by phase (:class:`_Profile`:
policy forward, buffer, GAE, adapter, backward, optimizer, ...), written as a second table.
Writes ``<out>/ppo_throughput.{jsonl,md}``, ``<out>/ppo_throughput_profile.md`` and the
sweep's ``<out>/ppo_throughput/``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

NAME = "ppo_throughput"
MODULE = "rewardgym.benchmarks.ppo_throughput"
VARIANTS = ("adapter", "bare", "dummy", "subproc", "llm")
SUBPROC_MAX_ENVS = 16
NATIVE = ("adapter", "bare", "llm")  # variants on the native vector env
ENVS = ("routedrive", "doorkey")
METRICS = ("steps_per_s", "env_share", "vecenv_share", "rollout_share", "train_share",
           "vecenv_us_per_step", "wall_us_per_step")


def env_setup(env: str) -> tuple[str, dict[str, Any]]:
    """Env id and kwargs of a short env name (``routedrive``, ``doorkey``)."""
    from rewardgym.benchmarks.harness import latest_env_id

    if env == "routedrive":
        return latest_env_id("RouteDrive"), {}
    if env == "doorkey":
        return "rewardgym/DoorKey-8x8-v0", {"obs_mode": "flat"}
    raise ValueError(f"unknown env {env!r}; choose from {ENVS}")


def _bare_vec_env(venv: Any) -> Any:
    """The reference: the least an SB3 ``VecEnv`` over a SAME_STEP native vector env must do."""
    from stable_baselines3.common.vec_env import VecEnv

    class BareVecEnv(VecEnv):
        def __init__(self) -> None:
            self.venv = venv
            self._actions = None
            super().__init__(venv.num_envs, venv.single_observation_space,
                             venv.single_action_space)

        def reset(self) -> np.ndarray:
            seed = self._seeds[0]
            obs, _ = venv.reset(seed=seed)
            self._reset_seeds()
            return np.array(obs)

        def step_async(self, actions: np.ndarray) -> None:
            self._actions = actions

        def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
            obs, rewards, terminated, truncated, infos = venv.step(self._actions)
            dones = terminated | truncated
            out: list[dict] = [{} for _ in range(self.num_envs)]
            for i in np.flatnonzero(dones):
                out[i] = {"terminal_observation": np.array(infos["final_obs"][i]),
                          "TimeLimit.truncated": bool(truncated[i] and not terminated[i])}
            return np.array(obs), np.asarray(rewards, dtype=np.float32), dones, out

        def close(self) -> None:
            venv.close()

        def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
            if attr_name == "render_mode":
                return [None] * len(list(self._get_indices(indices)))
            raise AttributeError(attr_name)

        def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
            raise NotImplementedError

        def env_method(self, method_name: str, *args: Any, indices: Any = None,
                       **kwargs: Any) -> list[Any]:
            raise NotImplementedError

        def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
            return [False] * len(list(self._get_indices(indices)))

    return BareVecEnv()


class _Clock:
    """Accumulated seconds (and calls) spent inside one wrapped call."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0


def _time_vector_step(venv: Any, clock: _Clock) -> Any:
    """A Gymnasium vector wrapper whose ``step`` time goes to ``clock`` (the env's own time)."""
    from gymnasium.vector import VectorWrapper

    class Timed(VectorWrapper):
        def step(self, actions: Any) -> Any:
            start = time.perf_counter()
            out = self.env.step(actions)
            clock.seconds += time.perf_counter() - start
            clock.calls += 1
            return out

    return Timed(venv)


def _time_vecenv(venv: Any, clock: _Clock) -> Any:
    """An SB3 ``VecEnvWrapper`` whose ``step_wait`` time goes to ``clock``."""
    from stable_baselines3.common.vec_env import VecEnvWrapper

    class Timed(VecEnvWrapper):
        def reset(self) -> Any:
            return self.venv.reset()

        def step_wait(self) -> Any:
            start = time.perf_counter()
            out = self.venv.step_wait()
            clock.seconds += time.perf_counter() - start
            clock.calls += 1
            return out

    return Timed(venv)


#: Profile phases, in table order: rollout phases, then update phases (see :class:`_Profile`).
ROLLOUT_PHASES = ("obs_to_tensor", "policy_forward", "vecenv_env", "vecenv_adapter",
                  "sb3_step_loops", "buffer_add", "gae", "rollout_other")
UPDATE_PHASES = ("minibatch_get", "evaluate_actions", "backward", "clip_grad", "optimizer_step",
                 "update_other")


class _Profile:
    """Seconds per phase of SB3 PPO's rollout and update, from timers on the calls it makes.

    Rollout (``OnPolicyAlgorithm.collect_rollouts``): ``obs_to_tensor`` (``obs_as_tensor``),
    ``policy_forward`` (``policy.forward``: features, both MLPs, action sampling),
    ``vecenv_env`` (the env's own step) and ``vecenv_adapter`` (the rest of the SB3 ``VecEnv``
    step: for ``adapter`` / ``bare``, the adapter and wrappers around the native env),
    ``sb3_step_loops`` (SB3's ``_update_info_buffer``, a Python loop over every env's info each
    step), ``buffer_add`` (``RolloutBuffer.add``), ``gae``
    (``compute_returns_and_advantage``), ``rollout_other`` (the rest: the per-env time-out loop,
    action clipping, the last value). Update (``PPO.train``): ``minibatch_get``
    (``RolloutBuffer.get``: flattening, shuffling, indexing, tensors), ``evaluate_actions``
    (the forward pass), ``backward``, ``clip_grad``, ``optimizer_step`` (Adam),
    ``update_other`` (loss arithmetic, logging, explained variance). Timers wrap the calls
    (instance attributes, and ``torch.Tensor.backward`` / ``torch.nn.utils.clip_grad_norm_``
    / ``obs_as_tensor`` for the duration of the measurement, restored afterwards); their own
    cost is a few microseconds per call, against milliseconds per phase.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(ROLLOUT_PHASES + UPDATE_PHASES, 0.0)
        self._undo: list[tuple[Any, str, Any, bool]] = []

    def reset(self) -> None:
        """Zero every phase."""
        for key in self.seconds:
            self.seconds[key] = 0.0

    def _timer(self, fn: Any, phase: str) -> Any:
        seconds = self.seconds

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                seconds[phase] += time.perf_counter() - start

        return timed

    def _patch(self, owner: Any, name: str, value: Any) -> None:
        had = name in vars(owner)
        self._undo.append((owner, name, vars(owner).get(name), had))
        setattr(owner, name, value)

    def install(self, model: Any) -> None:
        """Put timers on ``model``'s policy and rollout buffer and on the torch calls."""
        import torch
        from stable_baselines3.common import on_policy_algorithm

        policy, buffer = model.policy, model.rollout_buffer
        self._patch(policy, "forward", self._timer(policy.forward, "policy_forward"))
        self._patch(policy, "evaluate_actions",
                    self._timer(policy.evaluate_actions, "evaluate_actions"))
        self._patch(policy.optimizer, "step",
                    self._timer(policy.optimizer.step, "optimizer_step"))
        self._patch(buffer, "add", self._timer(buffer.add, "buffer_add"))
        self._patch(buffer, "compute_returns_and_advantage",
                    self._timer(buffer.compute_returns_and_advantage, "gae"))
        self._patch(model, "_update_info_buffer",
                    self._timer(model._update_info_buffer, "sb3_step_loops"))
        get, seconds = buffer.get, self.seconds

        def timed_get(*args: Any, **kwargs: Any) -> Any:
            batches = get(*args, **kwargs)
            while True:
                start = time.perf_counter()
                try:
                    batch = next(batches)
                except StopIteration:
                    return
                finally:
                    seconds["minibatch_get"] += time.perf_counter() - start
                yield batch

        self._patch(buffer, "get", timed_get)
        self._patch(on_policy_algorithm, "obs_as_tensor",
                    self._timer(on_policy_algorithm.obs_as_tensor, "obs_to_tensor"))
        self._patch(torch.Tensor, "backward", self._timer(torch.Tensor.backward, "backward"))
        self._patch(torch.nn.utils, "clip_grad_norm_",
                    self._timer(torch.nn.utils.clip_grad_norm_, "clip_grad"))

    def remove(self) -> None:
        """Undo every patch (in reverse order)."""
        for owner, name, value, had in reversed(self._undo):
            if had:
                setattr(owner, name, value)
            else:
                delattr(owner, name)
        self._undo.clear()

    def shares(self, rollout_s: float, train_s: float, env_s: float, vecenv_s: float,
               wall: float) -> dict[str, float]:
        """Every phase as a share of ``wall`` (the ``*_other`` phases are the remainders)."""
        sec = dict(self.seconds)
        sec["vecenv_env"], sec["vecenv_adapter"] = env_s, max(vecenv_s - env_s, 0.0)
        sec["rollout_other"] = rollout_s - sum(sec[k] for k in ROLLOUT_PHASES[:-1])
        sec["update_other"] = train_s - sum(sec[k] for k in UPDATE_PHASES[:-1])
        return {f"p_{key}": sec[key] / wall for key in ROLLOUT_PHASES + UPDATE_PHASES}


def build_vec_env(env: str, variant: str, n_envs: int, env_clock: _Clock, seed: int,
                  env_threads: int = 1) -> Any:
    """The SB3 ``VecEnv`` of one variant, with ``env_clock`` timing the env itself.

    ``env_threads`` is the native vector env's ``num_threads`` (its numba ``prange`` kernel
    steps the batch on that many threads while the learner waits); adapter and bare only.
    """
    import gymnasium as gym
    from gymnasium.vector import AutoresetMode
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    from rewardgym.agents import make_sb3_vec_env

    env_id, kwargs = env_setup(env)
    vector_kwargs = {**kwargs, "num_threads": env_threads} if env_threads != 1 else kwargs
    if variant == "adapter":
        vec = make_sb3_vec_env(env_id, n_envs, seed=seed, env_kwargs=vector_kwargs,
                               vector_wrappers=[lambda v: _time_vector_step(v, env_clock)])
        return vec
    if variant == "llm":
        from rewardgym.benchmarks.llm_rewards import PROGRAMS
        from rewardgym.wrappers.llm import LLMRewardVector

        def paid(v: Any) -> Any:
            return _time_vector_step(LLMRewardVector(v, PROGRAMS[env_id], n_states=64,
                                                     seed=seed), env_clock)

        return make_sb3_vec_env(env_id, n_envs, seed=seed, env_kwargs=vector_kwargs,
                                vector_wrappers=[paid])
    if variant == "bare":
        venv = gym.make_vec(env_id, n_envs, vectorization_mode="vector_entry_point",
                            autoreset_mode=AutoresetMode.SAME_STEP, **vector_kwargs)
        vec = _bare_vec_env(_time_vector_step(venv, env_clock))
        vec.seed(seed)
        return vec
    factories = [lambda: gym.make(env_id, **kwargs) for _ in range(n_envs)]
    if variant == "dummy":
        vec = DummyVecEnv(factories)
    elif variant == "subproc":
        vec = SubprocVecEnv(factories, start_method="spawn")
    else:
        raise ValueError(f"unknown variant {variant!r}; choose from {VARIANTS}")
    vec.seed(seed)
    return _time_vecenv(vec, env_clock)  # for dummy/subproc the whole VecEnv is "the env"


def skip_reason(config: dict[str, Any]) -> str | None:
    """Why a grid point is not measured (or None)."""
    rollout = config["n_envs"] * config["n_steps"]
    if config["batch_size"] > rollout:
        return f"mini-batch {config['batch_size']} > rollout {rollout}"
    if config["variant"] == "subproc" and config["n_envs"] > SUBPROC_MAX_ENVS:
        return f"SubprocVecEnv only up to {SUBPROC_MAX_ENVS} envs (one process per env)"
    if config.get("env_threads", 1) != 1 and config["variant"] not in NATIVE:
        return "env threads only apply to the native vector env (adapter, bare)"
    return None


def one_config(config: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """Measure one configuration (a sweep run function); see the module doc."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback

    reason = skip_reason(config)
    if reason is not None:
        return {"skipped": reason, **dict.fromkeys(METRICS)}
    torch.set_num_threads(config["threads"])
    env_clock, vec_clock = _Clock(), _Clock()
    vec = build_vec_env(config["env"], config["variant"], config["n_envs"], env_clock,
                        config["seed"], config.get("env_threads", 1))
    if config["variant"] in NATIVE:
        vec = _time_vecenv(vec, vec_clock)
    else:
        vec_clock = env_clock
    model = PPO("MlpPolicy", vec, n_steps=config["n_steps"], batch_size=config["batch_size"],
                n_epochs=config["n_epochs"], policy_kwargs={"net_arch": [256, 256]},
                device="cpu", seed=config["seed"], verbose=0)
    rollout_s = [0.0]

    class Phases(BaseCallback):
        def _on_rollout_start(self) -> None:
            self._start = time.perf_counter()

        def _on_rollout_end(self) -> None:
            rollout_s[0] += time.perf_counter() - self._start

        def _on_step(self) -> bool:
            return True

    per_rollout = config["n_envs"] * config["n_steps"]
    model.learn(per_rollout)  # warm-up: compilation, allocation, first update
    for clock in (env_clock, vec_clock):
        clock.seconds, clock.calls = 0.0, 0
    rollout_s[0] = 0.0
    profile = _Profile()
    profile.install(model)
    try:
        steps0, cpu0, wall0 = model.num_timesteps, time.process_time(), time.perf_counter()
        model.learn(per_rollout * config["rollouts"], reset_num_timesteps=False,
                    callback=Phases())
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
    finally:
        profile.remove()
    steps = model.num_timesteps - steps0
    vec.close()
    shares = profile.shares(rollout_s[0], wall - rollout_s[0], env_clock.seconds,
                            vec_clock.seconds, wall)
    return {"steps": steps, "wall_s": wall, "cpu_s": cpu, "load1": os.getloadavg()[0],
            "steps_per_s": steps / wall,
            # the main process's CPU only: SubprocVecEnv's env work is in its workers
            "steps_per_cpu_s": None if config["variant"] == "subproc" else steps / cpu,
            "env_share": env_clock.seconds / wall,
            "vecenv_share": vec_clock.seconds / wall, "rollout_share": rollout_s[0] / wall,
            "train_share": (wall - rollout_s[0]) / wall,
            "vecenv_us_per_step": 1e6 * vec_clock.seconds / steps,
            "env_us_per_step": 1e6 * env_clock.seconds / steps,
            "wall_us_per_step": 1e6 * wall / steps, "torch_threads": torch.get_num_threads(),
            "env_id": env_setup(config["env"])[0], **shares}


def sweep_spec(envs: Sequence[str], n_envs: Sequence[int], batch_sizes: Sequence[int],
               variants: Sequence[str], *, rollouts: int, threads: int | Sequence[int] = 1,
               env_threads: int | Sequence[int] = 1, n_steps: int = 32, n_epochs: int = 3,
               name: str = NAME) -> dict[str, Any]:
    """The measurement grid as a sweep spec (one process per configuration).

    ``threads`` (torch threads) and ``env_threads`` (the native env's numba threads) are each
    a fixed setting, or an axis when given as a list.
    """
    axes: dict[str, list[Any]] = {"env": list(envs), "n_envs": list(n_envs),
                                  "batch_size": list(batch_sizes), "variant": list(variants)}
    fixed: dict[str, Any] = {"n_steps": n_steps, "n_epochs": n_epochs, "rollouts": rollouts}
    for key, value in (("threads", threads), ("env_threads", env_threads)):
        if isinstance(value, int):
            fixed[key] = value
        else:
            axes[key] = list(value)
    most = max(max([threads] if isinstance(threads, int) else threads),
               max([env_threads] if isinstance(env_threads, int) else env_threads))
    return {"name": name, "run": f"{MODULE}:one_config", "axes": axes, "fixed": fixed,
            "seeds": [0], "metrics": list(METRICS), "threads": most, "retries": 0,
            "title": "SB3 PPO throughput by VecEnv", "plot_x": "n_envs"}


def table_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Measured rows plus the adapter's overhead over bare and the LLM reward's over adapter."""
    point = ("env", "n_envs", "batch_size", "threads", "env_threads")
    bare = {tuple(r.get(k) for k in point): r for r in rows if r["variant"] == "bare"}
    adapter = {tuple(r.get(k) for k in point): r for r in rows if r["variant"] == "adapter"}
    out = []
    for row in rows:
        key = tuple(row.get(k) for k in point)
        ref = bare.get(key)
        extra: dict[str, Any] = {"adapter_overhead": None, "rate_vs_bare": None,
                                 "llm_overhead": None}
        if row["variant"] == "adapter" and ref is not None:
            extra["adapter_overhead"] = ((row["vecenv_us_per_step"] - ref["vecenv_us_per_step"])
                                         / ref["wall_us_per_step"])
            extra["rate_vs_bare"] = row["steps_per_s"] / ref["steps_per_s"]
        plain = adapter.get(key)
        if row["variant"] == "llm" and plain is not None:
            extra["llm_overhead"] = ((row["env_us_per_step"] - plain["env_us_per_step"])
                                     / plain["wall_us_per_step"])
        out.append(row | extra)
    return out


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _signed_pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:+.1f}%"


def run(quick: bool = False, out_dir: str | Path = "results", *,
        envs: Sequence[str] | None = None, n_envs: Sequence[int] | None = None,
        batch_sizes: Sequence[int] | None = None, variants: Sequence[str] | None = None,
        rollouts: int | None = None, threads: int | Sequence[int] = 1,
        env_threads: int | Sequence[int] = 1, backend: str = "local",
        address: str | None = None, progress: bool = True) -> list[dict[str, Any]]:
    """Measure the grid (resuming), write the table; returns the table rows."""
    from rewardgym.benchmarks import harness, sweep

    envs = list(envs) if envs is not None else list(ENVS)
    n_envs = list(n_envs) if n_envs is not None else ([64] if quick else [16, 256, 1024])
    batch_sizes = list(batch_sizes) if batch_sizes is not None else (
        [1024] if quick else [512, 2048, 8192])
    variants = list(variants) if variants is not None else (
        ["adapter", "bare", "dummy"] if quick else list(VARIANTS))
    rollouts = rollouts if rollouts is not None else (1 if quick else 3)
    for env in envs:
        env_setup(env)
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise ValueError(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    name = f"{NAME}_quick" if quick else NAME
    spec = sweep_spec(envs, n_envs, batch_sizes, variants, rollouts=rollouts, threads=threads,
                      env_threads=env_threads, name=name)
    # One configuration at a time: concurrent runs would time each other.
    result = sweep.run_sweep(spec, out=out_dir, backend=backend, workers=1, address=address,
                             progress=progress)
    # Every configuration measured into this folder so far (earlier launches with other grids
    # included), so one table can be built up from several short runs.
    latest = {r["key"]: r for r in sweep.read_rows(result.folder / sweep.RESULTS)
              if r["status"] == "ok"}
    measured = [{"threads": r["result"].get("torch_threads"),
                 "env_threads": r["config"].get("env_threads", 1), **r["coords"], **r["result"]}
                for r in latest.values() if not r["result"].get("skipped")]
    rows = table_rows(measured)
    out = Path(out_dir)
    meta = harness.run_metadata()
    (out / f"{name}.jsonl").write_text(
        "".join(json.dumps({"bench": name, **meta, **row}) + "\n" for row in rows),
        encoding="utf-8")
    columns = [harness.Column("env", "env_id"), harness.Column("n_envs", "n_envs", harness.fmt_int),
               harness.Column("mini-batch", "batch_size", harness.fmt_int),
               harness.Column("VecEnv", "variant"),
               harness.Column("torch threads", "threads", harness.fmt_int),
               harness.Column("env threads", "env_threads", harness.fmt_int),
               harness.Column("env-steps/s", "steps_per_s", harness.fmt_rate),
               harness.Column("env-steps/CPU-s", "steps_per_cpu_s", harness.fmt_rate),
               harness.Column("env share", "env_share", _pct),
               harness.Column("VecEnv share", "vecenv_share", _pct),
               harness.Column("rollout share", "rollout_share", _pct),
               harness.Column("update share", "train_share", _pct),
               harness.Column("adapter overhead vs bare", "adapter_overhead", _signed_pct),
               harness.Column("LLM reward vs adapter", "llm_overhead", _signed_pct),
               harness.Column("load", "load1", harness.fmt_float)]
    loads = [r["load1"] for r in rows]
    notes = [f"SB3 PPO, MlpPolicy 256x256, n_steps {spec['fixed']['n_steps']}, "
             f"{spec['fixed']['n_epochs']} epochs; {rollouts} timed "
             "rollout(s)+update(s) after one warm-up, one configuration at a time"
             f"{' in one process' if backend == 'inline' else ', one process each'}.",
             "env share: time in the env's own step (native VectorEnv.step; for dummy/subproc "
             "the whole VecEnv.step_wait). adapter overhead: (adapter - bare) VecEnv time per "
             "env step over the bare run's wall time per env step. LLM reward: (llm - "
             "adapter) env time per env step over the adapter run's wall time per env step.",
             f"Machine: {harness.cpu_model()}, {os.cpu_count()} cores, shared with other jobs "
             f"(1-min load {min(loads, default=0):.1f}-{max(loads, default=0):.1f} during the "
             "rows): absolute rates are noisy, compare rows of one run."]
    harness.write_markdown(out / f"{name}.md", rows, columns,
                           title="PPO throughput: where the time goes", notes=notes)
    profiled = [r for r in rows if r.get("p_gae") is not None]
    phase_columns = [*columns[:7]] + [
        harness.Column(key.replace("_", " "), f"p_{key}", _pct)
        for key in ROLLOUT_PHASES + UPDATE_PHASES]
    harness.write_markdown(
        out / f"{name}_profile.md", profiled, phase_columns,
        title="PPO throughput: wall time by phase (share of the run's wall time)",
        notes=["Rollout phases (obs to tensor ... rollout other) and update phases (minibatch "
               "get ... update other) add up to 100%; see rewardgym.benchmarks.ppo_throughput."
               "_Profile for what each covers.", *notes[2:]])
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m rewardgym.benchmarks.ppo_throughput [--quick]``."""
    parser = argparse.ArgumentParser(prog="python -m rewardgym.benchmarks.ppo_throughput",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="n_envs 64, mini-batch 1024")
    parser.add_argument("--out", default="results")
    parser.add_argument("--envs", nargs="*", choices=ENVS, default=None)
    parser.add_argument("--n-envs", nargs="*", type=int, default=None)
    parser.add_argument("--batch-sizes", nargs="*", type=int, default=None)
    parser.add_argument("--variants", nargs="*", choices=VARIANTS, default=None)
    parser.add_argument("--rollouts", type=int, default=None, help="timed rollouts per row")
    parser.add_argument("--threads", type=int, nargs="+", default=[1],
                        help="torch threads (several: one row each)")
    parser.add_argument("--env-threads", type=int, nargs="+", default=[1],
                        help="the native vector env's numba threads (several: one row each)")
    parser.add_argument("--backend", choices=("local", "ray", "inline"), default="local",
                        help="sweep backend (inline: in this process, no spawn)")
    args = parser.parse_args(argv)
    rows = run(args.quick, args.out, envs=args.envs, n_envs=args.n_envs,
               batch_sizes=args.batch_sizes, variants=args.variants, rollouts=args.rollouts,
               threads=args.threads[0] if len(args.threads) == 1 else args.threads,
               env_threads=(args.env_threads[0] if len(args.env_threads) == 1
                            else args.env_threads),
               backend=args.backend)
    print(Path(args.out, f"{NAME}_quick.md" if args.quick else f"{NAME}.md").read_text())
    return 0 if rows else 1


if __name__ == "__main__":
    raise SystemExit(main())
