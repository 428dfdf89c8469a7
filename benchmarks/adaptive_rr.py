"""Does Ma et al.'s adaptive replay ratio beat fixed ratios for state-based SAC on 2 CPU cores?

Ma et al. (ICLR 2024, arXiv 2310.07418) start at replay ratio 0.5 and switch once to 2 when the
critic's fraction of active units (FAU) has stopped changing; on pixel-based DMC Quadruped Run
they report ≈780 return against ≈640 at fixed RR 0.5 and ≈430 at fixed RR 2. This study trains
SB3 SAC (``rewardgym.agents.train``, the ``sac`` run-config family) under three conditions at
equal env-step budgets:

* ``adaptive``: ``adaptive_rr.enabled=true`` (RR ``low`` -> ``high`` once, on the FAU rule);
* ``fixed_low``: RR ``low`` (0.5) throughout;
* ``fixed_high``: RR ``high`` (2) throughout;

on two rewardgym locomotion tasks with checkable success (HalfCheetahBackward, AntGoal) and one
Gymnasium MuJoCo task (Hopper-v5, return only), several seeds each. Every condition runs the same
probes (:class:`rewardgym.agents.adaptive_rr.PlasticityMonitor`), so critic FAU is comparable.

Sizing (what the defaults in :data:`FULL` are, and why). The study runs on one 2-core machine in
about 50 CPU minutes (27 runs; about 25 minutes of wall time with ``--workers 2`` on a machine
left to it). Measured there (one torch thread): one SAC update with ``[64, 64]`` nets and batch
128 costs about 2-4 ms of CPU (SB3's per-update overhead, not the net size, dominates), an env
step with the policy 0.5-1.6 ms. So a run is **20,000 env steps** (``learning_starts`` 1,000:
9,500 updates at RR 0.5, 38,000 at RR 2), nets ``[64, 64]``, batch 128; 40-150 CPU seconds per
run. The FAU schedule is scaled down with the budget: a probe every 250 env steps on 1,024
replay transitions, a check every 1,000 env steps on the mean of the last 4 probes (19 checks
per run; the paper checks about 60 times over 3M frames) and ``fau_gap`` **5e-3**. The paper's
1e-3 compares window means about 25k agent steps apart; at a check every 1,000 steps the same
flatness would be a gap of about 4e-5, and even 1e-3 was never met in a pilot
(HalfCheetahBackward seed 0, the window means at 2k-7k steps: 0.591, 0.658, 0.668, 0.673, 0.676,
0.675; the smallest step 1.03e-3 at 7k), so the adaptive runs stayed at RR 0.5 and were
identical to ``fixed_low``. 5e-3 switches once the FAU's initial rise (0.51 -> 0.67, 1e-2 to
7e-2 per check) is over, which is the rule's intent ("raise the ratio once the critic's
plasticity has recovered") at this scale. At 20,000 steps the critic's FAU already falls under
RR 2 on AntGoal (from about 0.70 to 0.49), so this budget reaches the plasticity loss the rule
is about, not only the initial rise; an earlier 8,000-step design did not (the FAU fell by at
most 0.06). A larger design (100k steps, ``[128, 128]`` nets, a check every 5,000 steps) costs
about 4.2 CPU hours; run it with ``--set timesteps=100000 net=128 check_interval=5000
probe_interval=500 window=5`` where the CPU exists.

Per run (``run_one``, the sweep runner's run function ``fn(config, run_dir) -> dict``): final
deterministic evaluation return and success, the normalised area under the training-return curve
(mean of the last-10-episode return at the probe points), final and mean critic FAU, switch step,
gradient updates and wall time. ``run`` hands the grid to the sweep runner
(``rewardgym.benchmarks.sweep``: keys, resume, local or Ray backend) and writes
``<out>/adaptive_rr/`` (``results.jsonl``, ``summary.{md,png}``, ``table.md`` with means and 95%
t-intervals over seeds, ``curves.png`` with critic FAU and training return per task, and a
``plasticity.png`` in every run directory). Run the full study with
``python -m rewardgym.benchmarks.adaptive_rr --workers 1`` (``--seeds 1``, then 2, then 3
extends a partial study).

``--quick`` is a smoke run: one task, one seed, a few thousand steps.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

NAME = "adaptive_rr"
TASKS: dict[str, str] = {
    "cheetah_backward": "rewardgym/HalfCheetahBackward-v1",
    "ant_goal": "rewardgym/AntGoal-v1",
    "hopper": "Hopper-v5",
    "pendulum": "Pendulum-v1",  # plumbing checks only
}
DEFAULT_TASKS = ("cheetah_backward", "ant_goal", "hopper")
CONDITIONS = ("adaptive", "fixed_low", "fixed_high")

#: The full study's settings (module docstring says why).
FULL: dict[str, Any] = {
    "timesteps": 20_000, "net": 64, "batch_size": 128, "learning_starts": 1000,
    "learning_rate": 1e-3, "tau": 0.02, "gamma": 0.99, "low": 0.5, "high": 2.0,
    "check_interval": 1000, "probe_interval": 250, "window": 4, "fau_gap": 5e-3,
    "probe_batch_size": 1024, "eval_episodes": 5,
}
#: ``--quick``: the same code path in about a minute per run.
QUICK: dict[str, Any] = {
    **FULL, "timesteps": 3000, "learning_starts": 500, "check_interval": 1000,
    "probe_interval": 250, "window": 2, "probe_batch_size": 256, "eval_episodes": 2,
}
_REQUIRED = ("task", "condition", "seed", *FULL)


def overrides_for(config: Mapping[str, Any]) -> list[str]:
    """The ``--set`` overrides of one run (what ``rewardgym train`` would take)."""
    from rewardgym.agents.adaptive_rr import rr_setting

    net = int(config["net"])
    out = [f"total_timesteps={config['timesteps']}", f"seed={config['seed']}",
           f"batch_size={config['batch_size']}", f"learning_starts={config['learning_starts']}",
           f"learning_rate={config['learning_rate']}", f"tau={config['tau']}",
           f"gamma={config['gamma']}", "n_envs=1", "buffer_size=300000",
           f"policy_kwargs={{net_arch: [{net}, {net}]}}", "torch_threads=1"]
    if config["condition"] == "adaptive":
        out += ["adaptive_rr.enabled=true", f"adaptive_rr.low={config['low']}",
                f"adaptive_rr.high={config['high']}",
                f"adaptive_rr.check_interval={config['check_interval']}",
                f"adaptive_rr.probe_interval={config['probe_interval']}",
                f"adaptive_rr.window={config['window']}",
                f"adaptive_rr.fau_gap={config['fau_gap']}",
                f"adaptive_rr.probe_batch_size={config['probe_batch_size']}"]
    else:
        ratio = config["low"] if config["condition"] == "fixed_low" else config["high"]
        train_freq, gradient_steps = rr_setting(float(ratio), 1)
        out += [f"train_freq={train_freq}", f"gradient_steps={gradient_steps}"]
    return out


def run_one(config: Mapping[str, Any], run_dir: Path) -> dict[str, Any]:
    """Train one SAC run of the study in ``run_dir`` and return its numbers (a run function).

    Args:
        config: ``task`` (a key of :data:`TASKS`), ``condition`` (one of :data:`CONDITIONS`),
            ``seed`` and every key of :data:`FULL`.
        run_dir: The run directory (``rewardgym.agents.train``'s ``log_dir``).
    """
    missing = [k for k in _REQUIRED if k not in config]
    if missing:
        raise ValueError(f"adaptive_rr.run_one: config lacks {missing}")
    if config["task"] not in TASKS or config["condition"] not in CONDITIONS:
        raise ValueError(f"adaptive_rr.run_one: unknown task {config['task']!r} or condition "
                         f"{config['condition']!r}; tasks {list(TASKS)}, conditions {CONDITIONS}")
    import torch

    import rewardgym  # noqa: F401
    from rewardgym.agents import load_config, train
    from rewardgym.agents.adaptive_rr import PlasticityMonitor
    from rewardgym.agents.plasticity_report import load_rows, plot

    torch.set_num_threads(1)
    env_id = TASKS[config["task"]]
    if env_id.endswith("-v5"):
        try:
            import imageio  # noqa: F401  (gymnasium.envs.mujoco imports it)
        except ImportError:
            raise ImportError(f"adaptive_rr: {env_id} needs imageio (gymnasium's MuJoCo tasks "
                              "import it): pip install 'rewardgym[bench]'") from None
    sac = load_config(env_id, "sac", overrides=overrides_for(config))
    callbacks = []
    if config["condition"] != "adaptive":  # the adaptive callback probes the same way itself
        callbacks.append(PlasticityMonitor(
            probe_interval=int(config["probe_interval"]),
            probe_batch_size=int(config["probe_batch_size"]), log_dir=run_dir,
            seed=int(config["seed"])))
    run_dir = Path(run_dir)
    start, cpu_start = time.perf_counter(), time.process_time()
    result = train(env_id, "sac", sac, log_dir=run_dir, progress_bar=False, verbose=0,
                   eval_episodes=int(config["eval_episodes"]), checkpoint_freq=10**9,
                   callbacks=callbacks)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    rows = load_rows(run_dir)
    plot(run_dir, run_dir / "plasticity.png", title=f"{config['task']} {config['condition']} "
         f"seed {config['seed']}")
    faus = [r["fau_critic"] for r in rows]
    returns = [r["episode_return"] for r in rows if r["episode_return"] is not None]
    switch = next((int(r["timesteps"]) for r in rows if r.get("switched") == 1.0), None)
    return {
        "task": config["task"], "env": env_id, "condition": config["condition"],
        "seed": int(config["seed"]), "timesteps": int(result.num_timesteps),
        "eval_return": result.mean_return, "eval_success": result.success_rate,
        "auc_return": float(np.mean(returns)) if returns else None,
        "final_fau_critic": float(np.mean(faus[-3:])) if faus else None,
        "mean_fau_critic": float(np.mean(faus)) if faus else None,
        "final_fau_actor": float(np.mean([r["fau_actor"] for r in rows[-3:]])) if rows else None,
        "switch_timestep": switch, "n_updates": int(rows[-1]["n_updates"]) if rows else 0,
        "wall_s": wall, "cpu_s": cpu, "train_s": result.train_time_s,
        "curve": [[int(r["timesteps"]), r["fau_critic"], r["episode_return"], r["replay_ratio"]]
                  for r in rows],
    }


METRICS = ("eval_return", "eval_success", "auc_return", "final_fau_critic", "mean_fau_critic",
           "switch_timestep", "wall_s", "cpu_s")


def spec(quick: bool, *, tasks: Sequence[str] | None = None,
         conditions: Sequence[str] = CONDITIONS, seeds: int | None = None,
         settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The study as a sweep spec (``rewardgym.benchmarks.sweep``): task x condition x seeds.

    ``settings`` overrides keys of :data:`FULL` (or :data:`QUICK` with ``quick``).
    """
    base = dict(QUICK if quick else FULL)
    unknown = set(settings or {}) - set(base)
    if unknown:
        raise ValueError(f"adaptive_rr: unknown settings {sorted(unknown)}; known {sorted(base)}")
    base.update(settings or {})
    tasks = tuple(tasks) if tasks is not None else (("cheetah_backward",) if quick
                                                    else DEFAULT_TASKS)
    bad = [t for t in tasks if t not in TASKS] + [c for c in conditions if c not in CONDITIONS]
    if bad:
        raise ValueError(f"adaptive_rr: unknown tasks or conditions {bad}; tasks {list(TASKS)}, "
                         f"conditions {list(CONDITIONS)}")
    return {"name": f"{NAME}_quick" if quick else NAME,
            "run": "rewardgym.benchmarks.adaptive_rr:run_one",
            "axes": {"task": list(tasks), "condition": list(conditions)}, "fixed": base,
            "seeds": seeds if seeds is not None else (1 if quick else 3),
            "metrics": list(METRICS), "resources": {"cpus": 1, "gpus": 0}, "threads": 1,
            "plot_x": "condition",
            "title": "Adaptive vs fixed replay ratio (SAC, one torch thread per run)"}


def _mean_band(curves: Sequence[Sequence[tuple[int, float]]]) -> tuple[list, list, list, list]:
    """Steps, mean, min and max over runs of the points every run has (the probe schedule)."""
    common = sorted(set.intersection(*(set(dict(c)) for c in curves)))
    values = np.array([[dict(c)[t] for t in common] for c in curves])
    return common, list(values.mean(0)), list(values.min(0)), list(values.max(0))


def plot(rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    """Critic FAU and training return against env steps, one column per task.

    Each condition is its mean over seeds with a min-max band; dotted lines mark the adaptive
    runs' switches.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(r["task"] for r in rows))
    fig, axes = plt.subplots(2, len(tasks), figsize=(5.5 * len(tasks), 7), squeeze=False)
    colours = dict(zip(CONDITIONS, ("C0", "C1", "C2"), strict=True))
    # adaptive is drawn dashed on top: until it switches it trains exactly as fixed_low
    styles = {"adaptive": "--", "fixed_low": "-", "fixed_high": "-"}
    for col, task in enumerate(tasks):
        for condition in CONDITIONS:
            runs = [r for r in rows if r["task"] == task and r["condition"] == condition
                    and r["curve"]]
            if not runs:
                continue
            label = f"{condition} ({len(runs)} seed{'s' if len(runs) > 1 else ''})"
            for ax, index in ((axes[0, col], 1), (axes[1, col], 2)):
                curves = [[(p[0], p[index]) for p in r["curve"] if p[index] is not None]
                          for r in runs]
                if not all(curves):
                    continue
                t, mean, low, high = _mean_band(curves)
                ax.plot(t, mean, color=colours[condition], ls=styles[condition], label=label,
                        zorder=3 if condition == "adaptive" else 2)
                ax.fill_between(t, low, high, color=colours[condition], alpha=0.15, lw=0)
            for r in runs:
                if r["switch_timestep"] is not None:
                    for ax in axes[:, col]:
                        ax.axvline(r["switch_timestep"], color=colours["adaptive"], lw=0.6,
                                   ls=":")
        axes[0, col].set_title(TASKS[task])
        axes[0, col].set_ylabel("critic FAU")
        axes[1, col].set_ylabel("training return (last 10 episodes)")
        axes[1, col].set_xlabel("env steps")
        for ax in axes[:, col]:
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def run(quick: bool, out_dir: str, *, tasks: Sequence[str] | None = None,
        conditions: Sequence[str] = CONDITIONS, seeds: int | None = None,
        settings: Mapping[str, Any] | None = None, workers: int = 1, backend: str = "local",
        progress: bool = False) -> list[dict[str, Any]]:
    """Run (or resume) the study through the sweep runner; returns its summary rows.

    The runner keys runs by their resolved config, skips finished ones and writes
    ``<out>/<name>/{results.jsonl,summary.md,summary.png}``; this adds ``table.md`` (the summary
    with the study's settings as notes) and ``curves.png`` (critic FAU and training return).
    """
    from rewardgym.benchmarks import sweep_report
    from rewardgym.benchmarks.sweep import run_sweep

    study = spec(quick, tasks=tasks, conditions=conditions, seeds=seeds, settings=settings)
    result = run_sweep(study, out=out_dir, backend=backend, workers=workers, progress=progress)
    base = study["fixed"]
    notes = [f"{base['timesteps']:,} env steps per run; replay ratio {base['low']} / "
             f"{base['high']} gradient steps per env step; nets [{base['net']}, {base['net']}], "
             f"batch {base['batch_size']}, learning_starts {base['learning_starts']}; a probe "
             f"every {base['probe_interval']} steps on {base['probe_batch_size']} transitions, "
             f"a check every {base['check_interval']} steps on the mean of {base['window']} "
             f"probes, fau_gap {base['fau_gap']}",
             "cells: mean [95% t-interval] over seeds; auc_return is the mean of the "
             "last-10-episode training return at the probe points; eval: deterministic, "
             f"{base['eval_episodes']} episodes on fresh envs; switch_timestep: adaptive runs "
             "that switched; wall_s / cpu_s: wall time / CPU time of the run's process (train "
             "and evaluation; CPU time is the fairer cost on a shared machine)",
             f"raw rows: {result.folder / 'results.jsonl'}"]
    sweep_report.write_markdown(result.folder / "table.md", result.summary,
                                list(study["axes"]), list(METRICS), title=study["title"],
                                notes=notes)
    runs = [row["result"] for row in result.rows if row["status"] == "ok"]
    if runs:
        plot(runs, result.folder / "curves.png")
    return result.summary


def _setting(text: str) -> Any:
    """A ``--set`` value: int, float (``1e-3`` too, which YAML 1.1 reads as text), else YAML."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return yaml.safe_load(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: one task, one seed, 3000 steps per condition")
    parser.add_argument("--out", default="results")
    parser.add_argument("--tasks", nargs="*", default=None, choices=list(TASKS))
    parser.add_argument("--conditions", nargs="*", default=list(CONDITIONS), choices=CONDITIONS)
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--timesteps", type=int, default=None)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help=f"override study settings (keys: {', '.join(FULL)})")
    parser.add_argument("--workers", type=int, default=1,
                        help="runs at once (one torch thread each); 2 on the 2-core machine")
    parser.add_argument("--backend", default="local", choices=("local", "ray", "inline"))
    args = parser.parse_args(argv)
    settings = {} if args.timesteps is None else {"timesteps": args.timesteps}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--set takes KEY=VALUE, got {item!r}")
        settings[key] = _setting(value)
    summary = run(args.quick, args.out, tasks=args.tasks, conditions=args.conditions,
                  seeds=args.seeds, settings=settings, workers=args.workers,
                  backend=args.backend, progress=True)
    for row in summary:
        print({k: v for k, v in row.items() if not k.endswith(("_lo", "_hi", "_n"))})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
