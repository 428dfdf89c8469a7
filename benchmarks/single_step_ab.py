"""Single-env step cost of several checkouts of rewardgym, interleaved in one run (A/B).

``python -m rewardgym.benchmarks.single_step_ab --tree NAME=PATH ... [--rounds 7] [--cases a,b]
[--steps N]``. ``PATH`` is a checkout with its own ``.venv`` (for an old commit: ``git worktree
add --detach DIR COMMIT`` and an editable install there) or a Python interpreter. Each tree runs
in its own worker subprocess (``PYTHON this_file --worker``), so each side imports its own
``rewardgym``; the first tree is the baseline of the change column. This is how the native-env
kit's single-env cost was compared with the commits before it (issue 12's closing note).

Per round, every case is measured on every tree (tree order
rotates each round). A measurement replays a fixed recorded action sequence (same seeds, same
actions, so the same trajectories on every tree whose behaviour is unchanged) and times only
the ``step`` calls (``time.process_time`` around each episode's steps; resets are not timed).
Reports CPU µs per step: median over rounds and the spread (min-max).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CASES = {
    # name: (env id, unwrapped?, steps per measurement)
    "DoorKey-8x8 unwrapped": ("rewardgym/DoorKey-8x8-v0", True, 60_000),
    "DoorKey-8x8 gym.make": ("rewardgym/DoorKey-8x8-v0", False, 60_000),
    "HalfCheetahBackward unwrapped": ("rewardgym/HalfCheetahBackward-v1", True, 6_000),
    "HalfCheetahBackward gym.make": ("rewardgym/HalfCheetahBackward-v1", False, 6_000),
    "WebShopDiscrete gym.make": ("rewardgym/WebShopDiscrete-v1", False, 3_000),
    "RouteDrive gym.make": ("rewardgym/RouteDrive-v1", False, 6_000),
}
CAP = 1000  # episode length cap while recording (unwrapped envs may have no time limit)


def _record(env, steps: int, seed0: int = 1000):
    """Episodes ``(seed, actions)`` of a seeded random (masked where the env masks) policy."""
    import numpy as np

    rng = np.random.default_rng(0)
    space = env.action_space
    space.seed(0)
    try:
        masks = env.get_wrapper_attr("action_masks")
    except AttributeError:
        masks = getattr(env, "action_masks", None)
    episodes, total, seed = [], 0, seed0
    while total < steps:
        env.reset(seed=seed)
        actions = []
        while total < steps and len(actions) < CAP:
            if masks is not None:
                a = np.int64(rng.choice(np.flatnonzero(masks())))
            else:
                a = space.sample()
            actions.append(a)
            total += 1
            _, _, term, trunc, _ = env.step(a)
            if term or trunc:
                break
        episodes.append((seed, actions))
        seed += 1
    return episodes


def _measure(env, episodes: list) -> float:
    """CPU µs per step over the recorded ``episodes`` (resets untimed)."""
    cpu = 0.0
    n = 0
    clock = time.process_time
    for seed, actions in episodes:
        env.reset(seed=seed)
        step = env.step
        t0 = clock()
        for a in actions:
            step(a)
        cpu += clock() - t0
        n += len(actions)
    return cpu / n * 1e6


def worker() -> None:
    """Serve measurements: read the case names and step count, record, then one case per line."""
    import gymnasium as gym

    import rewardgym.envs  # noqa: F401  (registers the ids)

    names, scale = json.loads(sys.stdin.readline())
    envs = {}
    for name in names:
        env_id, unwrapped, steps = CASES[name]
        steps = scale or steps
        try:
            env = gym.make(env_id)
        except gym.error.VersionNotFound:  # an old tree: the same env one version back
            env = gym.make(env_id[:-1] + str(int(env_id[-1]) - 1))
        if unwrapped:
            env = env.unwrapped
        episodes = _record(env, steps)
        _measure(env, episodes)  # warm-up
        envs[name] = (env, episodes)
    print("ready", flush=True)
    for line in sys.stdin:
        name = line.strip()
        if not name:
            break
        env, episodes = envs[name]
        print(json.dumps(_measure(env, episodes)), flush=True)


def _python(path: str) -> str:
    """The interpreter of a tree: ``PATH/.venv/bin/python``, or ``PATH`` itself if a file."""
    return path if os.path.isfile(path) else os.path.join(path, ".venv", "bin", "python")


def main(argv: list[str] | None = None) -> None:
    """Run every case on every tree, rotating the tree order each round; print the table."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tree", action="append", required=True, help="NAME=PATH (a tree with .venv)")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--cases", default=",".join(CASES))
    p.add_argument("--steps", type=int, default=0, help="steps per measurement (0: per case)")
    args = p.parse_args(argv)
    cases = [c.strip() for c in args.cases.split(",")]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        p.error(f"unknown case(s) {unknown}; choose from {list(CASES)}")
    trees = [t.split("=", 1) for t in args.tree]
    procs = {}
    for name, path in trees:
        env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONHASHSEED="0")
        env.pop("PYTHONPATH", None)
        procs[name] = subprocess.Popen(
            [_python(path), os.path.abspath(__file__), "--worker"],
            cwd="/tmp", env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs[name].stdin.write(json.dumps([cases, args.steps]) + "\n")
        procs[name].stdin.flush()
    for name, proc in procs.items():
        line = proc.stdout.readline()
        if line.strip() != "ready":
            sys.exit(f"worker {name} failed to start: {line!r}")
    res = {(c, t): [] for c in cases for t, _ in trees}
    order = [t for t, _ in trees]
    for r in range(args.rounds):
        rot = order[r % len(order):] + order[:r % len(order)]
        for c in cases:
            for t in rot:
                procs[t].stdin.write(c + "\n")
                procs[t].stdin.flush()
                res[(c, t)].append(json.loads(procs[t].stdout.readline()))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    for proc in procs.values():
        proc.stdin.write("\n")
        proc.stdin.close()
        proc.wait()
    base = order[0]
    print(f"CPU µs per step, median of {args.rounds} interleaved rounds [min-max]; "
          f"change vs {base}; load {os.getloadavg()[0]:.1f}")
    head = "| case | " + " | ".join(order) + " | " + " | ".join(
        f"{t} vs {base}" for t in order[1:]) + " |"
    print(head)
    print("|" + "---|" * (1 + 2 * len(order) - 1))
    for c in cases:
        med = {t: statistics.median(res[(c, t)]) for t in order}
        cells = [f"{med[t]:.2f} [{min(res[(c, t)]):.2f}-{max(res[(c, t)]):.2f}]" for t in order]
        ch = [f"{(med[t] / med[base] - 1) * 100:+.1f}%" for t in order[1:]]
        print(f"| {c} | " + " | ".join(cells) + " | " + " | ".join(ch) + " |")


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        worker()
    else:
        main()
