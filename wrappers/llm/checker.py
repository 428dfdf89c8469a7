"""The checker: extract, static allowlist, rewrite, dry run in a child, compile, parity.

:func:`check_program` is the ONLY way to a :class:`~rewardgym.wrappers.llm.runtime.CompiledProgram`:
nothing from a model runs in the calling process before the child process ran it on the sampled
states and every check passed (research notes ``llm_rewards.md`` §8.4, Eureka's execution
feedback, Auto MC-Reward's critic done as deterministic checks). The :class:`ValidationReport`
names every reason and its :meth:`~ValidationReport.feedback` is the repair message a model gets.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from rewardgym.wrappers.llm.program import (
    Issue,
    Limits,
    ProgramRejected,
    extract_code,
    features_read,
    rewrite,
    source_hash,
    static_check,
)
from rewardgym.wrappers.llm.runtime import CompiledProgram
from rewardgym.wrappers.llm.sandbox import States, dry_run
from rewardgym.wrappers.llm.views import RewardView, view_of


@dataclass
class ValidationReport:
    """Everything the checker found about one program.

    ``ok`` is True only when there are no ``issues``; ``warnings`` (degenerate terms, no network
    namespace, terms not summing to the total) never reject.

    Example:
        >>> r = ValidationReport(ok=False, view="grid", source_hash="0" * 64,
        ...                      issues=[Issue("loop", "use a for loop", 3)])
        >>> r.reasons()
        ['[loop] line 3: use a for loop']
    """

    ok: bool
    view: str
    source_hash: str
    program_hash: str | None = None
    terms: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    issues: list[Issue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    term_stats: dict[str, dict[str, float]] = field(default_factory=dict)
    total_stats: dict[str, float] = field(default_factory=dict)
    call_time_median_s: float | None = None
    states: int = 0
    network_isolated: bool | None = None
    backend: str | None = None
    compile_note: str = ""
    terms_sum_to_total: bool = True
    executed: bool = False

    def reasons(self) -> list[str]:
        """Every rejection reason, one line each."""
        return [str(i) for i in self.issues]

    def feedback(self) -> str:
        """The repair message for a model: what failed and what to change (or the stats)."""
        if self.ok:
            lines = ["The reward program passed all checks."]
        else:
            lines = ["The reward program was rejected. Fix every point below and reply with the "
                     "whole corrected program in one ```python block:"]
            lines += [f"- {i}" for i in self.issues]
        lines += [f"- warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (issues as dicts)."""
        out = asdict(self)
        out["terms"] = list(self.terms)
        out["features"] = list(self.features)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        """Inverse of :meth:`to_dict`."""
        data = dict(data)
        data["issues"] = [Issue(**i) for i in data.get("issues", [])]
        data["terms"] = tuple(data.get("terms", ()))
        data["features"] = tuple(data.get("features", ()))
        return cls(**data)

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, default=float)


@dataclass
class CheckResult:
    """A report, the extracted general program (if any), and the runnable program if accepted."""

    report: ValidationReport
    source: str | None
    program: CompiledProgram | None


def _stats(values: np.ndarray) -> dict[str, float]:
    return {"mean": float(np.mean(values)), "std": float(np.std(values)),
            "min": float(np.min(values)), "max": float(np.max(values))}


def check_program(text: str, view: RewardView, states: States, *, limits: Limits | None = None,
                  use_numba: bool = True) -> CheckResult:
    r"""Check a model reply (or bare program) against ``view`` on ``states``.

    Returns a :class:`CheckResult`; ``result.program`` is None unless ``result.report.ok``.

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> env = gym.make("rewardgym/DoorKey-5x5-v0")
        >>> view = view_of(env)
        >>> states = sample_states(env, 32, seed=0)
        >>> r = check_program("def compute_reward(obs, action, next_obs):\n"
        ...                   "    while True:\n        pass\n", view, states)
        >>> r.report.ok, [i.code for i in r.report.issues], r.report.executed
        (False, ['return', 'loop'], False)
    """
    limits = Limits() if limits is None else limits
    try:
        source = extract_code(text)
    except ProgramRejected as err:
        report = ValidationReport(ok=False, view=view.key, source_hash=source_hash(text),
                                  issues=list(err.issues))
        return CheckResult(report, None, None)
    report = ValidationReport(ok=False, view=view.key, source_hash=source_hash(source),
                              states=len(states))
    static = static_check(source, view, limits)
    if not static.ok:
        report.issues = static.issues
        return CheckResult(report, source, None)
    report.terms = static.terms
    report.features = features_read(static.tree, view)
    code = rewrite(static, view)
    report.program_hash = source_hash(code)
    k = len(static.terms)
    run = dry_run(code, states, k, limits)
    report.executed = True
    report.network_isolated = run.network_isolated
    if not run.network_isolated:
        report.warnings.append("the dry run had no separate network namespace (unshare --net "
                               "unavailable); file and socket creation were still blocked by "
                               "RLIMIT_NOFILE")
    if not run.ok:
        where = f" on validation state {run.index}" if run.index is not None else ""
        if run.error_type in ("Timeout", "Killed"):
            report.issues.append(Issue("time", f"{run.error}; make the program cheaper (fewer "
                                       "loop iterations, no huge powers)"))
        else:
            report.issues.append(Issue("runtime", f"running the program raised an error{where}:"
                                       f"\n{run.error}\nFix the bug (check feature names, "
                                       "types: features are floats, vector features are 1-D "
                                       "float arrays)."))
        return CheckResult(report, source, None)
    totals, terms = run.totals, run.terms
    _output_checks(report, static.terms, run, limits)
    if report.issues:
        return CheckResult(report, source, None)
    report.total_stats = _stats(totals)
    report.term_stats = {name: _stats(terms[:, j]) for j, name in enumerate(static.terms)}
    for j, name in enumerate(static.terms):
        col = terms[:, j]
        if float(np.ptp(col)) <= 1e-12 * (1.0 + abs(float(np.mean(col)))):
            report.warnings.append(f"term {name!r} is the same ({float(col[0]):.6g}) on all "
                                   f"{len(states)} validation states: RL cannot optimise it; "
                                   "change its scale or temperature, rewrite it or drop it")
    residual = totals - terms.sum(axis=1)
    report.terms_sum_to_total = bool(np.allclose(residual, 0.0, rtol=0.0,
                                                 atol=1e-9 * (1 + np.abs(totals).max())))
    if not report.terms_sum_to_total:
        report.warnings.append("the terms do not sum to the total; the wrappers report the "
                               "difference as the term 'other'")
    program = CompiledProgram(code, static.terms, use_numba=use_numba)
    _parity(program, states, totals, terms, limits)
    report.backend = program.backend
    report.compile_note = program.note
    report.ok = True
    return CheckResult(report, source, program)


def _output_checks(report: ValidationReport, names: tuple[str, ...], run: Any,
                   limits: Limits) -> None:
    totals, terms = run.totals, run.terms
    bad_total = ~np.isfinite(totals)
    if bad_total.any():
        i = int(np.flatnonzero(bad_total)[0])
        report.issues.append(Issue("nonfinite", f"the total is {totals[i]} on "
                                   f"{int(bad_total.sum())} of {totals.size} validation "
                                   f"states (first: state {i}); "
                                   "guard divisions (add a small epsilon), clip exponents"))
    for j, name in enumerate(names):
        bad = ~np.isfinite(terms[:, j])
        if bad.any():
            report.issues.append(Issue("nonfinite", f"term {name!r} is not finite on "
                                       f"{int(bad.sum())} states; guard divisions and exponents"))
    same = np.array_equal(totals, run.totals_again, equal_nan=True) and \
        np.array_equal(terms, run.terms_again, equal_nan=True)
    if not same:
        report.issues.append(Issue("nondeterministic", "two runs on the same states gave "
                                   "different rewards; the reward must depend only on obs, "
                                   "action and next_obs"))
    # The median: robust to a busy machine pausing the child now and then.
    median = float(np.median(run.times))
    report.call_time_median_s = median
    if median > limits.call_budget_s:
        report.issues.append(Issue("slow", f"one call takes {median * 1e3:.2f} ms (median), "
                                   "over the "
                                   f"{limits.call_budget_s * 1e3:.2f} ms budget; use fewer loop "
                                   "iterations or vectorised np calls"))
    finite = totals[np.isfinite(totals)]
    if finite.size and float(np.quantile(np.abs(finite), 0.99)) > limits.max_abs_total:
        report.issues.append(Issue("scale", f"|total| reaches {np.abs(finite).max():.3g} (p99 "
                                   f"{np.quantile(np.abs(finite), 0.99):.3g}), over "
                                   f"{limits.max_abs_total:g}; rescale the terms to O(1)"))


def _parity(program: CompiledProgram, states: States, totals: np.ndarray, terms: np.ndarray,
            limits: Limits) -> None:
    """Python fallback == the child's outputs; numba == Python, else numba is switched off."""
    py_totals, py_terms = program.python(states.obs, states.actions, states.next_obs)
    if not (np.allclose(py_totals, totals, rtol=limits.parity_rtol, atol=limits.parity_atol)
            and np.allclose(py_terms, terms, rtol=limits.parity_rtol, atol=limits.parity_atol)):
        raise RuntimeError("the Python fallback disagrees with the dry run on the validation "
                           "states; this is a bug in rewardgym, please report it")
    if program.backend != "numba":
        return
    try:
        nb_totals, nb_terms = program(states.obs, states.actions, states.next_obs)
    except Exception as err:
        program.disable_numba(f"numba could not compile the program ({type(err).__name__}: "
                              f"{str(err).splitlines()[0] if str(err) else ''}); Python fallback")
        return
    if not (np.allclose(nb_totals, py_totals, rtol=limits.parity_rtol, atol=limits.parity_atol)
            and np.allclose(nb_terms, py_terms, rtol=limits.parity_rtol,
                            atol=limits.parity_atol)):
        worst = float(np.max(np.abs(nb_totals - py_totals)))
        program.disable_numba(f"numba and Python disagree on the validation states (max "
                              f"|difference| {worst:.3g}); Python fallback")


def sample_states(env: Any, n: int = 256, *, seed: int = 0) -> States:
    """``n`` transitions of a random policy on a single env, plus edge actions for boxes.

    The env is reset with ``seed`` and after every episode end; for box actions, every eighth
    transition's action is replaced by the lower bound, the upper bound or zero (edge cases).

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> states = sample_states(gym.make("rewardgym/DoorKey-5x5-v0"), 16, seed=0)
        >>> states.obs.shape, states.actions.shape
        ((16, 23), (16,))
    """
    view = view_of(env)
    space = env.action_space
    space.seed(seed)
    obs_rows, next_rows, actions = [], [], []
    env.reset(seed=seed)
    episode = 0
    while len(obs_rows) < n:
        before = view.rows(env)[0]
        action = space.sample()
        _, _, terminated, truncated, _ = env.step(action)
        obs_rows.append(before)
        next_rows.append(view.rows(env)[0])
        actions.append(np.asarray(action, dtype=np.float64))
        if terminated or truncated:
            episode += 1
            env.reset(seed=seed + episode)
    acts = np.array(actions, dtype=np.float64)
    if not view.discrete_actions:
        acts = acts.reshape(n, view.action_size)
        low, high = np.broadcast_to(space.low, acts.shape[1:]), \
            np.broadcast_to(space.high, acts.shape[1:])
        for j, i in enumerate(range(0, n, 8)):
            acts[i] = (low, high, np.zeros_like(low))[j % 3]
    return States(np.array(obs_rows), acts, np.array(next_rows))
