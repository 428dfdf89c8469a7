"""Learnability of the shopping task: random, rules, oracle and MaskablePPO on the test split.

Scores the reference policies of :mod:`rewardgym.envs.shopping.baselines` on the SB3 view
``rewardgym/WebShopDiscrete-v1`` (one episode per test goal, 15-step limit) with WebShop's metrics
(score = mean reward x 100, success = fraction with reward 1):

* ``random``: uniform over valid slots;
* ``first result``: WebShop's published rule (search the instruction, buy the first hit);
* ``rule``: the instruction search, first product within budget, options named in the
  instruction, buy;
* ``oracle``: the privileged oracle (reads the goal), R = 1 by construction;
* ``maskable_ppo``: sb3-contrib's MaskablePPO trained with ``rewardgym.agents.train`` on the train
  split (hyper-parameters: the ``rewardgym/WebShopDiscrete-v1`` entry of
  ``agents/configs/maskable_ppo.yml``), evaluated deterministically with action masks.

Training runs in chunks (``train(..., resume=True)`` continues the same run) so that a wall-clock
budget (``--minutes``) can be honoured and a learning curve recorded: after each chunk the model
is scored on the eval split. Writes ``<out>/webshop_baselines.jsonl`` (appended; one row per
policy, the PPO row with its curve), ``<out>/webshop_baselines.md`` and
``<out>/webshop_baselines.png`` (scores and success rates per policy, and the PPO learning curve
against the reference scores).
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rewardgym.benchmarks import harness
from rewardgym.benchmarks.harness import Column

NAME = "webshop_baselines"
ENV_ID = "rewardgym/WebShopDiscrete-v1"
ALGO = "maskable_ppo"


@dataclasses.dataclass(frozen=True)
class Settings:
    """What one run trains and evaluates.

    Attributes:
        timesteps: stop training after this many env steps (None: only the time budget).
        minutes: stop training before this wall-clock budget is exceeded (None: only
            ``timesteps``).
        chunk: env steps per training chunk (one learning-curve point each).
        episodes: test goals per policy (None: the whole test split).
        curve_episodes: eval goals per learning-curve point (None: the whole eval split).
        seed: seed of training and of the evaluation resets.
        overrides: ``key=value`` changes to the YAML hyper-parameters (as ``--set`` of
            ``rewardgym train``).
    """

    timesteps: int | None
    minutes: float | None
    chunk: int
    episodes: int | None = None
    curve_episodes: int | None = None
    seed: int = 0
    overrides: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.timesteps is None and self.minutes is None:
            raise ValueError("Settings: give timesteps or minutes (or both)")
        if self.timesteps is not None and self.timesteps < 1:
            raise ValueError(f"Settings.timesteps: expected an int >= 1, got {self.timesteps!r}")
        if self.minutes is not None and not self.minutes > 0:
            raise ValueError(f"Settings.minutes: expected a positive number, got "
                             f"{self.minutes!r}")
        if self.chunk < 1:
            raise ValueError(f"Settings.chunk: expected an int >= 1, got {self.chunk!r}")
        for name in ("episodes", "curve_episodes"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"Settings.{name}: expected an int >= 1 or None, got {value!r}")


QUICK = Settings(timesteps=4096, minutes=None, chunk=2048, episodes=100, curve_episodes=50)
FULL = Settings(timesteps=None, minutes=15.0, chunk=100_000)
#: ``REWARDGYM_SMOKE=1`` (``rewardgym.agents.smoke``): the quick pipeline on 10 test goals.
SMOKE = Settings(timesteps=2048, minutes=None, chunk=1024, episodes=10, curve_episodes=5)


def _ensure_registered() -> None:
    import rewardgym  # noqa: F401  (registers the rewardgym ids)

    if ENV_ID not in gym.registry:  # until the registry row exists
        gym.register(ENV_ID, entry_point="rewardgym.envs.shopping.discrete:WebShopDiscreteEnv",
                     max_episode_steps=15)


def _model_policy(model: Any) -> Callable[..., int]:
    def policy(env: gym.Env, obs: np.ndarray, info: dict, rng: np.random.Generator) -> int:
        action, _ = model.predict(obs, action_masks=env.unwrapped.action_masks(),
                                  deterministic=True)
        return int(action)

    return policy


def _evaluate(env: gym.Env, policy: Callable[..., int], split: str, episodes: int | None,
              seed: int) -> dict[str, Any]:
    from rewardgym.envs.shopping.baselines import evaluate_policy

    start = time.perf_counter()
    result = evaluate_policy(env, policy, split, episodes, seed=seed)
    result["eval_wall_s"] = time.perf_counter() - start
    return result


def train_ppo(settings: Settings, run_dir: Path, env_kwargs: dict[str, Any],
              progress: Callable[[str], None] | None = None) -> tuple[Any, dict[str, Any]]:
    """Train MaskablePPO in chunks within the budget; returns the model and training facts."""
    from sb3_contrib import MaskablePPO

    from rewardgym.agents import load_config, train

    if run_dir.exists():
        shutil.rmtree(run_dir)  # a fresh run each time (train refuses to mix runs)
    curve_env = gym.make(ENV_ID, **env_kwargs)
    budget_s = None if settings.minutes is None else 60 * settings.minutes
    curve: list[dict[str, Any]] = []
    done, train_s, start = 0, 0.0, time.perf_counter()
    config = None
    while True:
        target = done + settings.chunk
        if settings.timesteps is not None:
            target = min(target, settings.timesteps)
        config = load_config(ENV_ID, ALGO, overrides=[*settings.overrides,
                                                      f"total_timesteps={target}",
                                                      f"seed={settings.seed}"])
        result = train(ENV_ID, ALGO, config, log_dir=run_dir, resume=done > 0,
                       progress_bar=False, eval_episodes=1, checkpoint_freq=10**9, verbose=0)
        done, train_s = result.num_timesteps, train_s + result.train_time_s
        model = MaskablePPO.load(result.model_path, device="cpu")
        point = _evaluate(curve_env, _model_policy(model), "eval", settings.curve_episodes,
                          settings.seed)
        elapsed = time.perf_counter() - start
        curve.append({"timesteps": done, "train_s": train_s, "elapsed_s": elapsed,
                      "score": point["score"], "success": point["success"]})
        if progress is not None:
            progress(f"PPO {done:,} steps, {elapsed / 60:.1f} min: eval score "
                     f"{point['score']:.1f}, success {point['success']:.3f}")
        if settings.timesteps is not None and done >= settings.timesteps:
            break
        per_chunk = elapsed / len(curve)
        if budget_s is not None and elapsed + per_chunk > budget_s:
            break
    facts = {"train_timesteps": done, "train_s": train_s,
             "train_wall_s": time.perf_counter() - start,
             "train_steps_per_s": done / train_s if train_s > 0 else float("nan"),
             "curve": curve, "config": config.to_dict() if config is not None else {}}
    return model, facts


def measure(settings: Settings, out_dir: Path,
            progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Evaluate the reference policies, train and evaluate MaskablePPO; one row per policy."""
    import torch

    from rewardgym.agents import load_config
    from rewardgym.envs.shopping import baselines

    _ensure_registered()
    torch.set_num_threads(1)
    env_kwargs = dict(load_config(ENV_ID, ALGO, overrides=list(settings.overrides)).env_kwargs)
    env = gym.make(ENV_ID, **env_kwargs)
    rows = []
    policies = {"random": baselines.random_policy, "first result": baselines.first_result_policy,
                "rule": baselines.rule_policy, "oracle": baselines.oracle_policy}
    for name, policy in policies.items():
        if progress is not None:
            progress(f"evaluate {name}")
        rows.append({"policy": name, **_evaluate(env, policy, "test", settings.episodes,
                                                 settings.seed)})
    model, facts = train_ppo(settings, out_dir / f"{NAME}_run", env_kwargs, progress)
    if progress is not None:
        progress("evaluate maskable_ppo")
    rows.append({"policy": ALGO, **_evaluate(env, _model_policy(model), "test",
                                             settings.episodes, settings.seed), **facts})
    return rows


COLUMNS = (
    Column("policy", "policy"),
    Column("score (mean R x 100)", "score", lambda v: f"{v:.1f}"),
    Column("success (R = 1)", "success", lambda v: f"{v:.3f}"),
    Column("exact item", "exact", lambda v: f"{v:.3f}"),
    Column("mean length", "mean_length", lambda v: f"{v:.2f}"),
    Column("test episodes", "episodes", harness.fmt_int),
    Column("training steps", "train_timesteps", harness.fmt_int),
    Column("training wall (min)", "train_wall_s",
           lambda v: "-" if v is None else f"{v / 60:.1f}"),
)


def plot(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """Bars of score and success per policy, and the PPO learning curve (eval split)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (bars, curve_ax) = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    names = [r["policy"] for r in rows]
    x = np.arange(len(rows))
    bars.bar(x - 0.2, [r["score"] for r in rows], 0.4, label="score (mean R x 100)")
    bars.bar(x + 0.2, [100 * r["success"] for r in rows], 0.4, label="success rate (%)")
    bars.set_xticks(x, names, fontsize=8)
    bars.set_ylim(0, 105)
    bars.set_title("Test split")
    bars.legend(fontsize=8, loc="upper left")
    ppo = next((r for r in rows if r["policy"] == ALGO), None)
    if ppo is not None and ppo.get("curve"):
        steps = [p["timesteps"] for p in ppo["curve"]]
        curve_ax.plot(steps, [p["score"] for p in ppo["curve"]], "o-", label="PPO score")
        curve_ax.plot(steps, [100 * p["success"] for p in ppo["curve"]], "s--",
                      label="PPO success (%)")
        for ref in rows:
            if ref["policy"] != ALGO:
                curve_ax.axhline(ref["score"], lw=0.8, ls=":", color="grey")
                curve_ax.annotate(f"{ref['policy']} (test)", (steps[0], ref["score"]),
                                  fontsize=7, va="bottom", color="grey")
        curve_ax.set_xlabel("training env steps")
        curve_ax.set_ylim(0, 105)
        curve_ax.legend(fontsize=8, loc="lower right")
    curve_ax.set_title("MaskablePPO learning curve (eval split)")
    fig.suptitle("WebShopDiscrete-v1: reference policies and MaskablePPO")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_outputs(rows: Sequence[dict[str, Any]], settings: Settings, out_dir: str | Path,
                  quick: bool) -> dict[str, Path]:
    """Append the JSON lines and (re)write the markdown table and the plot."""
    out = Path(out_dir)
    meta = harness.run_metadata()
    jsonl = harness.record(NAME, rows, out, quick=quick, settings=dataclasses.asdict(settings))
    ppo = next(r for r in rows if r["policy"] == ALGO)
    notes = [
        f"{meta['timestamp_utc']}, commit `{meta['git_commit']}`, "
        f"{meta['machine']['cpu_model']}, {meta['machine']['nproc']} cores.",
        "",
        f"`{ENV_ID}` (2,000-product catalogue, 15-step limit), one episode per test goal; "
        "score = mean reward x 100, success = fraction with reward 1, exact = bought the goal's "
        "own product. MaskablePPO: "
        f"{ppo['train_timesteps']:,} env steps in {ppo['train_wall_s'] / 60:.1f} min "
        f"({ppo['train_steps_per_s']:,.0f} steps/s while learning), deterministic actions "
        "with masks; hyper-parameters from `agents/configs/maskable_ppo.yml`.",
    ]
    md = harness.write_markdown(out / f"{NAME}.md", rows, COLUMNS,
                                title="WebShop learnability: baselines vs MaskablePPO",
                                notes=notes)
    png = plot(out / f"{NAME}.png", rows)
    return {"jsonl": jsonl, "md": md, "png": png}


def run(quick: bool = False, out_dir: str | Path = "results", *, timesteps: int | None = None,
        minutes: float | None = None, chunk: int | None = None, episodes: int | None = None,
        seed: int | None = None, overrides: Sequence[str] = (),
        verbose: bool = True) -> list[dict[str, Any]]:
    """Run the benchmark, write its outputs under ``out_dir`` and return the rows.

    Args:
        quick: a few thousand PPO steps and 100 test goals instead of a 15-minute budget and
            the whole test split.
        out_dir: folder of the outputs (and of the PPO run directory).
        timesteps: training steps (with ``minutes`` unset, the only limit).
        minutes: training wall-clock budget.
        chunk: steps per training chunk (one learning-curve point each).
        episodes: test goals per policy.
        seed: training and evaluation seed.
        overrides: ``key=value`` changes to the YAML hyper-parameters.
        verbose: print progress and the table.
    """
    base = QUICK if quick else FULL
    from rewardgym.agents.smoke import smoke_mode, smoke_note

    if smoke_mode():
        base = SMOKE
        smoke_note(f"webshop_baselines: {SMOKE.timesteps:,} PPO steps, {SMOKE.episodes} test goals")
    if timesteps is not None and minutes is None:
        budget_minutes = None
    else:
        budget_minutes = base.minutes if minutes is None else minutes
    settings = dataclasses.replace(
        base,
        timesteps=base.timesteps if timesteps is None and minutes is None else timesteps,
        minutes=budget_minutes,
        chunk=base.chunk if chunk is None else chunk,
        episodes=base.episodes if episodes is None else episodes,
        seed=base.seed if seed is None else seed,
        overrides=tuple(overrides),
    )
    console = None
    if verbose:
        from rewardgym.agents.console import make_console

        console = make_console()
    out = Path(out_dir)
    rows = measure(settings, out, progress=console.log if console is not None else None)
    paths = write_outputs(rows, settings, out, quick)
    if console is not None:
        console.print(Path(paths["md"]).read_text())
        console.print("wrote " + ", ".join(str(p) for p in paths.values()))
    return rows


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface (also used by ``rewardgym bench webshop_baselines``)."""
    parser = argparse.ArgumentParser(prog="python -m rewardgym.benchmarks.webshop_baselines",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="4,096 PPO steps and 100 test goals (default: 15 minutes of "
                             "training, the whole test split)")
    parser.add_argument("--timesteps", type=int, default=None,
                        help="PPO training steps (alone: no time budget)")
    parser.add_argument("--minutes", type=float, default=None, help="PPO wall-clock budget")
    parser.add_argument("--chunk", type=int, default=None,
                        help="steps per training chunk / learning-curve point")
    parser.add_argument("--episodes", type=int, default=None, help="test goals per policy")
    parser.add_argument("--seed", type=int, default=None, help="training and evaluation seed")
    parser.add_argument("--set", dest="overrides", nargs="*", default=[], metavar="KEY=VALUE",
                        help="change YAML hyper-parameters, e.g. --set learning_rate=lin_1e-3")
    parser.add_argument("--out", default="results", help="output folder (default: results)")
    parser.add_argument("--no-print", action="store_true", help="no progress or table output")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark from command-line arguments; returns the exit status."""
    args = build_parser().parse_args(argv)
    run(args.quick, args.out, timesteps=args.timesteps, minutes=args.minutes, chunk=args.chunk,
        episodes=args.episodes, seed=args.seed, overrides=args.overrides,
        verbose=not args.no_print)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
