"""Mutation testing of the code where a silent bug corrupts results (``make mutation``).

Uses cosmic-ray (8.x), which mutates the source file on disk, runs the module's tests and
restores the file. Mutating files on disk matters here: numba's ``cache=True`` keys compiled
kernels on the source file, so every mutant of an ``@njit`` kernel is recompiled and tested as
machine code, exactly as users run it (a mutator that swaps functions at import time never
reaches a jitted kernel). Each module is scoped to the functions that compute rewards,
distances or episode flags (``SCOPES``): everything else in the file is marked skipped before
the run, so each mutant runs only the module's own tests.

Usage::

    python tests/mutation/run.py [MODULE_KEY ...]   # default: every module in SCOPES
    python tests/mutation/run.py --report           # the table from the finished sessions
    python tests/mutation/run.py --retest-survivors [MODULE_KEY ...]  # after adding tests
    python tests/mutation/run.py --lines 120,176 MODULE_KEY  # only the mutants on these lines
    python tests/mutation/run.py --retest-survivors --lines 120 MODULE_KEY  # those survivors

Sessions live in ``tests/mutation/sessions/<key>.sqlite`` (resumable: rerunning ``exec`` skips done
jobs); the survivors of each module are printed with their diff. Stopping a run part-way can
leave a mutant in the source file: ``git diff`` shows it, ``git checkout FILE`` restores it.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SESSIONS = ROOT / "tests" / "mutation" / "sessions"
PY = sys.executable
CR = str(Path(sys.executable).parent / "cosmic-ray")

def _fast_first(test_file: str, slow: tuple[str, ...]) -> str:
    """Every test function of ``test_file`` as node ids, the ``slow`` ones (names without
    ``test_``) last; tests added to the file later are picked up (first) without editing here."""
    tree = ast.parse((ROOT / test_file).read_text(encoding="utf-8"))
    names = [node.name for node in tree.body
             if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]
    last = [f"test_{name}" for name in slow]
    missing = [name for name in last if name not in names]
    if missing:
        raise SystemExit(f"tests/mutation/run.py: {test_file} has no {missing}")
    ordered = [name for name in names if name not in last] + last
    return " ".join(f"{test_file}::{name}" for name in ordered)


# key: (module path, functions/methods in scope ("Class.method" or "function"), test command)
SCOPES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "infractions": (
        "wrappers/infractions.py",
        ("penalize", "_severity", "_progress", "InfractionPenalty.step",
         "InfractionPenaltyVector.step", "InfractionPenaltyVector.reset"),
        "tests/wrappers/test_infractions.py "
        "tests/wrappers/test_distance.py::test_multiplicative_infraction_reward_is_not_a_"
        "shaping_of_the_base",
    ),
    "potential": (
        "wrappers/potential.py",
        ("shape_rewards", "PotentialShaping.step", "PotentialShaping.reset",
         "PotentialShapingVector.step", "PotentialShapingVector.reset", "_replace_rows",
         "PotentialShapingParallel.step", "shaped_reward_tensor"),
        "tests/wrappers/test_potential.py " + " ".join(
            f"tests/wrappers/test_distance.py::test_{name}" for name in (
                "noterm_shaping_is_caught_by_epic_on_door_key",
                "non_potential_changes_are_at_positive_distance",
                "shaping_leaves_optimal_policy_unchanged",
                "potential_shaping_is_at_distance_zero")),
    ),
    "distance": (
        "wrappers/distance.py",
        ("pearson_distance", "format_distance", "epic_canonical", "epic_distance",
         "val_canonical", "starc_distance", "sample_epic_distance"),
        # Fast unit tests first: with ``-x`` most mutants die in the first seconds.
        _fast_first("tests/wrappers/test_distance.py", slow=(
            "noterm_shaping_is_caught_by_epic_on_door_key",
            "non_potential_changes_are_at_positive_distance",
            "shaping_leaves_optimal_policy_unchanged", "potential_shaping_is_at_distance_zero",
            "distance_command", "multiplicative_infraction_reward_is_not_a_shaping_of_the_base")),
    ),
    "shopping_reward": (
        "envs/shopping/reward.py",
        ("type_reward", "attribute_reward", "option_reward", "compute_reward",
         "option_values_match", "fuzzy_match", "token_set_ratio"),
        "tests/envs/shopping/test_reward.py",
    ),
    "sb3_adapter": (
        "agents/sb3_adapter.py",
        ("VectorEnvToSB3.step_wait", "VectorEnvToSB3._finish_same_step",
         "VectorEnvToSB3._finish_disabled", "_final_obs_at", "_info_at"),
        # PPO and subprocess (async) runs cost most of the time and add no done/terminal check.
        "tests/agents/test_sb3_adapter.py -k 'not ppo_runs and not async'",
    ),
    # Only the lines of the step that set the reward, the episode-end flags and the step count
    # are mutated. The test calls ``transition`` on a hand-made room, compiling that one kernel
    # (the lockstep test against MiniGrid compiles the family's kernels: minutes per mutant).
    "grid_reward": (
        "envs/grid/kernels.py",
        (r"_transition@step_count\[i\] \+=|terminated = |success = |reward = |truncated = "
         r"|== c\.GOAL|== c\.LAVA",),
        "tests/envs/grid/test_transition_kernel.py",
    ),
    # RouteDrive's reward modes. Compiling the env's kernels, which inline them, takes minutes
    # per mutant: the test calls each function directly on hand-made inputs, compiling only
    # that function.
    "driving_rewards": (
        "envs/driving/rewards.py",
        ("held_factor", "soft_factor", "carl_reward", "progress_reward", "sparse_reward",
         "roach_target_speed", "roach_reward", "mode_reward"),
        "tests/envs/driving/test_reward_kernels.py",
    ),
    # RouteDrive's infraction signals, episode-end flags and driving score. Only the lines of
    # ``detect_infractions`` that decide a signal, a counter or a flag are mutated (not the
    # collision geometry, which ``geometry.py`` owns, nor the comfort filters).
    "driving_infractions": (
        "envs/driving/infractions.py",
        (r"detect_infractions@sig\[|E_WRONG|E_BLOCKED|E_OUTSIDE|E_FRONT|front = |hard|done_route"
         r"|timed_out|terminated|truncated|time_limit|if stop < |stop = |state = |off >= "
         r"|off_route_m|vlim|if centre|ROUTE0 << r|range\(MAX_STOPS\)",
         "driving_score"),
        "tests/envs/driving/test_infraction_kernels.py",
    ),
    # The static checker of LLM-written reward programs: what it lets through is exec'd later.
    "llm_checker": (
        "wrappers/llm/program.py",
        # The allowlist of statements, expressions, names, attributes and calls; the loop-bound
        # helpers are left out (the dry run's rlimits stop an unbounded loop in any case).
        ("_Checker.module", "_Checker.statement", "_Checker.expr", "_Checker.constant",
         "_Checker.name_ok", "_Checker.load_name", "_Checker.attribute", "_Checker.call",
         "_Checker.expr_no_report"),
        # The sandbox tests run raw programs past the checker (they test the dry run's limits).
        "tests/wrappers/llm/test_checker_feedback.py tests/wrappers/llm/test_checker.py "
        "-k 'not sandbox and not parent_unharmed'",
    ),
}


def _ranges(module: Path, names: tuple[str, ...]) -> list[tuple[int, int]]:
    """Line ranges (inclusive) of the named functions and methods.

    A name ``"function@REGEX"`` keeps only the function's lines that match ``REGEX`` (a kernel
    whose every mutant costs a recompile is scoped to its reward and episode-end lines).
    """
    source = module.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    found: dict[str, tuple[int, int]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = (node.lineno, node.end_lineno)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    found[f"{node.name}.{item.name}"] = (item.lineno, item.end_lineno)
    wanted = [name.partition("@") for name in names]
    missing = [name for name, _, _ in wanted if name not in found]
    if missing:
        raise SystemExit(f"tests/mutation/run.py: {module} has no {missing}")
    ranges = []
    for name, _, pattern in wanted:
        lo, hi = found[name]
        if not pattern:
            ranges.append((lo, hi))
            continue
        matching = [n for n in range(lo, hi + 1) if re.search(pattern, lines[n - 1])]
        if not matching:
            raise SystemExit(f"tests/mutation/run.py: no line of {module}:{name} matches "
                             f"{pattern!r}")
        ranges += [(n, n) for n in matching]
    return ranges


def _config(key: str) -> Path:
    module, _, tests = SCOPES[key]
    path = SESSIONS / f"{key}.toml"
    path.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{module}"\n'
        "timeout = 300.0\n"
        "excluded-modules = []\n"
        f'test-command = "{PY} -m pytest -x -q -p no:cacheprovider {tests}"\n\n'
        '[cosmic-ray.distributor]\nname = "local"\n', encoding="utf-8")
    return path


# Operator replacements left out: arithmetic or boolean operators turned into shifts, powers,
# modulo, floor division or matrix products, and arithmetic turned into bitwise operators (and
# back). On the float and bool arrays of these modules they raise or give wildly wrong values,
# so they are killed by any test that runs the line, and they tripled the run time. Kept:
# + - * / swapped among themselves, | & ^ among themselves, every comparison, numbers, not,
# and/or, True/False, loop and unary mutations.
_ARITHMETIC = {"Add", "Sub", "Mul", "Div"}
_BITWISE = {"BitOr", "BitAnd", "BitXor"}


def _interesting(operator: str) -> bool:
    if not operator.startswith("core/ReplaceBinaryOperator_"):
        return True
    source, target = operator.removeprefix("core/ReplaceBinaryOperator_").split("_")
    return any(source in group and target in group for group in (_ARITHMETIC, _BITWISE))


def _scope(session: Path, ranges: list[tuple[int, int]]) -> tuple[int, int]:
    """Mark every pending job outside ``ranges`` (or of a left-out operator) skipped.

    Returns (in scope, skipped).
    """
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    kept = skipped = 0
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item in list(db.pending_work_items):
            line = item.mutations[0].start_pos[0]
            if any(lo <= line <= hi for lo, hi in ranges) and _interesting(
                    item.mutations[0].operator_name):
                kept += 1
                continue
            db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED,
                                                  output="outside the mutation scope"))
            skipped += 1
    return kept, skipped


_DEFERRED = "deferred by --lines"


def _defer(session: Path, lines: set[int], undo: bool = False,
           jobs: set[str] | None = None) -> int:
    """Park the pending jobs whose mutation is not on ``lines`` (or, given ``jobs``, not one of
    them); ``undo``: make the parked jobs pending again. Returns how many."""
    import sqlite3

    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    if undo:
        with sqlite3.connect(session) as con:
            return con.execute("DELETE FROM work_results WHERE output = ?", (_DEFERRED,)).rowcount
    parked = 0
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item in list(db.pending_work_items):
            if (item.job_id not in jobs if jobs is not None
                    else item.mutations[0].start_pos[0] not in lines):
                db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED,
                                                      output=_DEFERRED))
                parked += 1
    return parked


def run(key: str, lines: set[int] | None = None, jobs: set[str] | None = None) -> None:
    """Create ``key``'s session if needed, scope it, and run its pending mutants.

    ``lines``: run only the pending mutants on these source lines now; ``jobs``: only these
    jobs (the others stay pending), e.g. to rerun the survivors a new test was written for.
    """
    module, names, _ = SCOPES[key]
    SESSIONS.mkdir(exist_ok=True)
    session = SESSIONS / f"{key}.sqlite"
    config = _config(key)
    if not session.exists():
        subprocess.run([CR, "init", str(config), str(session)],
                       cwd=ROOT, check=True)
    _defer(session, set(), undo=True)  # a run stopped part-way leaves its parked jobs parked
    kept, skipped = _scope(session, _ranges(ROOT / module, names))
    print(f"{key}: {kept} pending mutants in scope, {skipped} newly skipped", flush=True)
    if lines or jobs is not None:
        print(f"{key}: {_defer(session, lines or set(), jobs=jobs)} other pending mutants left "
              "for later", flush=True)
    # Mutants compile into a numba cache of their own, never the checkout's: every mutant edits
    # a source, so each family's cache guard (envs/native/cache_guard.py) deletes that family's
    # cached kernels on import, and machine code compiled from a mutant stays out of the
    # checkout's cache.
    env = dict(os.environ, NUMBA_CACHE_DIR=str(SESSIONS / "numba_cache" / key))
    try:
        subprocess.run([CR, "exec", str(config), str(session)], cwd=ROOT, check=True, env=env)
    finally:
        _defer(session, set(), undo=True)


def retest_survivors(key: str, lines: set[int] | None = None) -> set[str]:
    """Forget the results of ``key``'s surviving mutants (on ``lines``, if given), so the next
    run tests them again.

    For after adding tests: only the survivors can change outcome. Returns their job ids.
    """
    import sqlite3

    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome

    session = SESSIONS / f"{key}.sqlite"
    with use_db(str(session), WorkDB.Mode.open) as db:
        jobs = [item.job_id for item, result in db.completed_work_items
                if result.test_outcome == TestOutcome.SURVIVED
                and (not lines or item.mutations[0].start_pos[0] in lines)]
    with sqlite3.connect(session) as con:
        con.executemany("DELETE FROM work_results WHERE job_id = ?", [(j,) for j in jobs])
    return set(jobs)


def report() -> None:
    """One row per module: mutants in scope, killed, survived (with each survivor's diff)."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    print("| module | mutants | killed | survived | incompetent/timeout | pending |")
    print("|---|---|---|---|---|---|")
    survivors = []
    for key, (module, _, _) in SCOPES.items():
        session = SESSIONS / f"{key}.sqlite"
        if not session.exists():
            continue
        counts = dict.fromkeys(("mutants", "killed", "survived", "other", "pending"), 0)
        with use_db(str(session), WorkDB.Mode.open) as db:
            done = {item.job_id: result for item, result in db.completed_work_items}
            for item in db.work_items:
                result = done.get(item.job_id)
                if result is not None and result.worker_outcome == WorkerOutcome.SKIPPED:
                    continue
                counts["mutants"] += 1
                if result is None:
                    counts["pending"] += 1
                elif result.test_outcome == TestOutcome.KILLED:
                    counts["killed"] += 1
                elif result.test_outcome == TestOutcome.SURVIVED:
                    counts["survived"] += 1
                    spec = item.mutations[0]
                    survivors.append((module, spec.start_pos[0], spec.operator_name,
                                      result.diff))
                else:
                    counts["other"] += 1
        print(f"| {module} | {counts['mutants']} | {counts['killed']} | {counts['survived']} "
              f"| {counts['other']} | {counts['pending']} |")
    for module, line, operator, diff in survivors:
        print(f"\n## survived: {module}:{line} {operator}\n{diff}")


if __name__ == "__main__":
    args = sys.argv[1:]
    only: set[int] | None = None
    if "--lines" in args:  # --lines 12,40: only the (pending or survived) mutants on those lines
        at = args.index("--lines")
        only = {int(n) for n in args[at + 1].split(",")}
        args = args[:at] + args[at + 2:]
    if args == ["--report"]:
        report()
    elif args and args[0] == "--retest-survivors":
        for key in args[1:] or list(SCOPES):
            if (SESSIONS / f"{key}.sqlite").exists():
                jobs = retest_survivors(key, only)
                print(f"{key}: {len(jobs)} survivors to test again", flush=True)
                # With --lines: only those survivors now, not the other pending mutants there.
                run(key, jobs=jobs if only else None)
    else:
        for key in args or list(SCOPES):
            run(key, only)
