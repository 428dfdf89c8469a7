"""The ``rewardgym`` command: list envs, train agents, run benchmarks, run the demo."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Sequence

import gymnasium as gym


def _cmd_list(args: argparse.Namespace) -> int:
    """Print every registered env (spaces, native vector, reward range) and every wrapper."""
    from rich.table import Table

    from rewardgym.agents.console import make_console
    from rewardgym.envs import ENV_TABLE
    from rewardgym.wrappers import WRAPPERS

    table = Table(title="rewardgym environments")
    for column in ("id", "observation space", "action space", "native vector", "reward range"):
        table.add_column(column)
    for row in ENV_TABLE:
        env = gym.make(row.env_id)
        table.add_row(row.env_id, _short(env.observation_space), _short(env.action_space),
                      "yes" if row.vector_entry_point else "no", _reward_range(env))
        env.close()
    console = make_console()  # piped: wide, so rows stay on one line each
    console.print(table)
    from rewardgym.envs import PARALLEL_ENVS, make_parallel

    multi = Table(title="rewardgym multi-agent environments (PettingZoo, rewardgym.make_parallel)")
    for column in ("id", "agents", "observation space", "action space"):
        multi.add_column(column)
    for env_id in PARALLEL_ENVS:
        env = make_parallel(env_id)
        agent = env.possible_agents[0]
        multi.add_row(env_id, ", ".join(env.possible_agents), _short(env.observation_space(agent)),
                      _short(env.action_space(agent)))
        env.close()
    console.print(multi)
    wrappers = Table(title="rewardgym wrappers")
    wrappers.add_column("name")
    wrappers.add_column("what it does")
    for name, summary in WRAPPERS.items():
        wrappers.add_row(name, summary)
    if WRAPPERS:
        console.print(wrappers)
    else:
        console.print("[dim]no reward wrappers yet[/dim]")
    return 0


def _short(space: gym.Space) -> str:
    if isinstance(space, gym.spaces.Dict):
        return "Dict(" + ", ".join(f"{k}={_short(v)}" for k, v in space.spaces.items()) + ")"
    if isinstance(space, gym.spaces.Box):
        return f"{space.dtype}{space.shape}"
    return repr(space)


def _reward_range(env: gym.Env) -> str:
    reward_range = getattr(env.unwrapped, "reward_range", None)
    if reward_range is None:
        return "see docs"
    low, high = reward_range
    return f"[{low:g}, {high:g}]"


def _cmd_bench(args: argparse.Namespace) -> int:
    from rewardgym.benchmarks import BENCHMARKS

    if args.name not in BENCHMARKS:
        print(f"error: unknown benchmark {args.name!r}; choose from {', '.join(sorted(BENCHMARKS))}"
              " (rewardgym bench --help describes them)", file=sys.stderr)
        return 2
    module = importlib.import_module(BENCHMARKS[args.name])
    # Everything after the name is the benchmark's own: `rewardgym bench NAME --help` lists it.
    argv = list(args.bench_args)
    from rewardgym.agents.smoke import smoke_mode, smoke_note

    if smoke_mode() and "--quick" not in argv and "--help" not in argv and "-h" not in argv:
        smoke_note(f"bench {args.name} runs its --quick preset with token timings and budgets")
        argv.append("--quick")
    return int(module.main(argv))


def _bench_epilog() -> str:
    """One line per benchmark (its module docstring's first line), read without importing it."""
    from rewardgym.benchmarks import BENCHMARKS, summary

    lines = ["benchmarks:"]
    lines += [f"  {name:<22} {summary(name)}" for name in sorted(BENCHMARKS)]
    lines.append("")
    lines.append("Options after NAME go to the benchmark (e.g. --quick, --out DIR, --groups "
                 "driving); `rewardgym bench NAME --help` lists them.")
    return "\n".join(lines)


def _cmd_sweep(args: argparse.Namespace) -> int:
    from rewardgym.benchmarks.sweep import run_from_args

    return run_from_args(args)


def _cmd_plot_terms(args: argparse.Namespace) -> int:
    from rewardgym.agents.plot_terms import find_terms_csv, plot_reward_terms

    try:
        csv_path = find_terms_csv(args.run_dir)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        out = plot_reward_terms(csv_path, args.out or csv_path.with_suffix(".png"))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


def _cmd_distance(args: argparse.Namespace) -> int:
    from rewardgym.wrappers.distance import (
        epic_distance,
        format_distance,
        reward_from_spec,
        starc_distance,
    )

    env = gym.make(args.env_id)
    env.reset(seed=args.seed)
    if not hasattr(env.unwrapped, "to_tabular"):
        print(f"error: {args.env_id} has no tabular form (to_tabular)", file=sys.stderr)
        return 1
    mdp = env.unwrapped.to_tabular()
    try:
        r_a = reward_from_spec(mdp, args.a, args.gamma, args.seed)
        r_b = reward_from_spec(mdp, args.b, args.gamma, args.seed)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    epic = epic_distance(r_a, r_b, args.gamma)
    starc = starc_distance(r_a, r_b, mdp.transitions, args.gamma)
    print(f"{args.env_id} (seed {args.seed}, {mdp.n_states} states, gamma {args.gamma}): "
          f"{args.a} vs {args.b}: EPIC {format_distance(epic)}  "
          f"STARC-VAL {format_distance(starc)}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    """PPO on DoorKey-5x5 with and without potential shaping: a table and a plot."""
    from rewardgym.benchmarks import demo

    argv = ["--out", args.out, "--seed", str(args.seed)]
    if args.timesteps is not None:
        argv += ["--timesteps", str(args.timesteps)]
    return int(demo.main(argv))


#: What ``rewardgym warmup FAMILY`` builds and steps: an env id per kernel family.
WARMUP_ENVS = {
    "grid": "rewardgym/DoorKey-5x5-v0",
    "driving": "rewardgym/RouteDrive-v1",
}


def warm_family(family: str, variant: str) -> float:
    """Compile (or load) one family's kernels; returns the seconds it took.

    ``serial``: the single env, batches under the ``prange`` threshold and the reward wrappers;
    ``parallel``: the ``prange`` step of large batches.
    """
    import numpy as np

    from rewardgym.agents.smoke import smoke_mode

    start = time.perf_counter()
    env_id = WARMUP_ENVS[family]
    kwargs = {"subgoal_distance_in_info": True} if family == "grid" else {}
    if variant == "serial":
        env = gym.make(env_id, **kwargs)
        env.reset(seed=0)
        env.step(env.action_space.sample())
        env.close()
        envs = gym.make_vec(env_id, 2, vectorization_mode="vector_entry_point", **kwargs)
        if family == "grid":
            from rewardgym.wrappers.potential import PotentialShapingVector

            envs = PotentialShapingVector(envs, "grid_subgoal_distance", gamma=0.99)
    else:
        envs = gym.make_vec(env_id, 2, vectorization_mode="vector_entry_point",
                            parallel_threshold=1, **kwargs)
    envs.reset(seed=0)
    if not smoke_mode() or variant == "serial":
        envs.step(np.asarray(envs.action_space.sample()))
    envs.close()
    return time.perf_counter() - start


def _warm_job(job: tuple[str, str]) -> tuple[str, str, float]:
    import rewardgym  # noqa: F401  (a spawned worker registers the envs itself)
    from rewardgym.envs.native import compile_progress

    with compile_progress():
        return (*job, warm_family(*job))


def _cmd_warmup(args: argparse.Namespace) -> int:
    """Compile the numba kernels of some families now, on ``--jobs`` processes at once."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from rewardgym.agents.smoke import smoke_mode

    families = args.families or ["grid"]
    unknown = sorted(set(families) - set(WARMUP_ENVS))
    if unknown:
        print(f"error: unknown families {unknown}; choose from {sorted(WARMUP_ENVS)}",
              file=sys.stderr)
        return 2
    variants = ("serial",) if smoke_mode() else tuple(args.variants)
    jobs = [(family, variant) for family in families for variant in variants]
    start = time.perf_counter()
    print(f"warming up {', '.join(families)} kernels ({', '.join(variants)}) on "
          f"{min(args.jobs, len(jobs))} process(es); numba caches them on disk", flush=True)
    if args.jobs == 1:
        results = [_warm_job(job) for job in jobs]
    else:
        # Fresh interpreters (not fork): the parent may hold numba/OpenMP threads.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=context) as pool:
            results = list(pool.map(_warm_job, jobs))
    for family, variant, seconds in results:
        print(f"  {family} {variant}: {seconds:.1f} s")
    print(f"kernels ready in {time.perf_counter() - start:.1f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``rewardgym`` command."""
    from rewardgym.agents.cli import add_train_command

    parser = argparse.ArgumentParser(prog="rewardgym", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list registered envs and wrappers").set_defaults(func=_cmd_list)
    add_train_command(sub)
    bench = sub.add_parser("bench", help="run a benchmark script (bench --help lists them)",
                           description="Run one benchmark script; it writes JSON lines, a markdown "
                           "table and plots under its --out folder (default: results).",
                           epilog=_bench_epilog(),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    bench.add_argument("name", metavar="NAME", help="benchmark name (listed below)")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER, metavar="...",
                       help="the benchmark's own options, e.g. --quick --out results")
    bench.set_defaults(func=_cmd_bench)
    from rewardgym.benchmarks.sweep import add_arguments as add_sweep_arguments

    sweep = sub.add_parser("sweep", help="run or resume a sweep (grid x seeds) from a YAML spec")
    add_sweep_arguments(sweep).set_defaults(func=_cmd_sweep)
    from rewardgym.benchmarks.llm_cli import add_llm_reward_command

    add_llm_reward_command(sub)
    plot = sub.add_parser("plot-terms", help="plot each reward term's share over training")
    plot.add_argument("run_dir", help="a run directory of `rewardgym train`")
    plot.add_argument("--out", default=None, help="PNG path (default: next to the CSV)")
    plot.set_defaults(func=_cmd_plot_terms)
    dist = sub.add_parser("distance", help="EPIC and STARC distance between two rewards",
                          description="EPIC and STARC-VAL distances in [0, 1]; distances below "
                                      "1e-9 (float error, see wrappers.distance."
                                      "DISPLAY_TOLERANCE) print as 0.")
    dist.add_argument("env_id", help="an env with a tabular form, e.g. rewardgym/DoorKey-5x5-v0")
    dist.add_argument("--a", default="base", help="reward spec (base, scale:K, bonus, pbrs...)")
    dist.add_argument("--b", default="pbrs", help="reward spec")
    dist.add_argument("--gamma", type=float, default=0.99)
    dist.add_argument("--seed", type=int, default=0, help="layout seed")
    dist.set_defaults(func=_cmd_distance)
    demo = sub.add_parser(
        "demo", help="PPO on DoorKey-5x5, sparse vs shaped reward: a table and a plot",
        description="Train PPO on rewardgym/DoorKey-5x5-v0 twice (sparse reward; + potential "
        "shaping) and write a table and a plot under OUT/demo/<timestamp>/.")
    demo.add_argument("--timesteps", type=int, default=None,
                      help="env steps per run (default 60000)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--out", default="results", help="parent folder (default: results)")
    demo.set_defaults(func=_cmd_demo)
    warm = sub.add_parser(
        "warmup", help="compile the numba kernels now (one time; numba caches them on disk)",
        description="Compile the kernels of the given families in --jobs processes at once, so "
        "the first env, training run or benchmark starts without a compile pause.")
    # Checked in _cmd_warmup: argparse tests an empty nargs="*" list itself against `choices`.
    warm.add_argument("families", nargs="*", default=None,
                      metavar="FAMILY", help=f"{', '.join(sorted(WARMUP_ENVS))} (default: grid)")
    warm.add_argument("--variants", nargs="+", default=["serial", "parallel"],
                      choices=["serial", "parallel"],
                      help="serial: single envs, batches under the prange threshold, reward "
                      "wrappers; parallel: large batches (default: both)")
    warm.add_argument("--jobs", type=int, default=2, help="processes (default: 2)")
    warm.set_defaults(func=_cmd_warmup)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rewardgym`` console script."""
    import rewardgym  # noqa: F401  (registers the envs)
    from rewardgym.envs.native import compile_progress

    args = build_parser().parse_args(argv)
    with compile_progress():  # a line while numba compiles, instead of minutes of silence
        return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
