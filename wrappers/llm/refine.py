"""Generate, repair and refine reward programs (Eureka, Auto MC-Reward, Text2Reward).

Eureka's best-of-K with reward reflection, plus Auto MC-Reward's trajectory analysis and
Text2Reward's human-feedback turn.

One round (research notes ``llm_rewards.md`` §8.6): ask the backend for K candidates; check each
(:func:`~rewardgym.wrappers.llm.checker.check_program`) and send every rejected one back with its
report (the error, the traceback, what to change) up to ``max_repairs`` times; train each valid
candidate briefly through ``runner`` (the sweep contract: a batch of ``(config, run_dir)`` jobs,
each answered by ``fn(config: dict, run_dir: Path) -> dict``); pick the best by the env's OWN
success predicate (``success_rate``, ties by base return); and feed back Eureka's reflection:
every term's value at ten points of training with max/mean/min, the success rate, the episode
length, the final states of failed episodes (the deterministic trajectory analyzer), and the
rewriting tips. The conversation keeps only the elite (``[system, user, best reply,
reflection]``), as Eureka does. Everything goes into an archive folder (manifest with backend,
model, card hash, seeds; one JSON line per candidate; each program and report), and with a
:class:`~rewardgym.wrappers.llm.backends.RecordingBackend` the whole run replays from cassettes.
With ``final_seeds`` the elite is trained again on those seeds and its success rate is reported
as mean and confidence interval (``manifest["final"]``): the number to quote, since the
selection's own fitness is the best of K.

This module sits on the wrappers floor: it never imports a trainer. The default trainer is
``rewardgym.agents.llm_train.train_candidate``; the CLI wires it in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rewardgym.wrappers.llm.backends import Completion, LLMBackend, Message
from rewardgym.wrappers.llm.checker import ValidationReport, check_program
from rewardgym.wrappers.llm.program import Issue, Limits
from rewardgym.wrappers.llm.sandbox import States
from rewardgym.wrappers.llm.views import RewardView

Runner = Callable[[list[tuple[dict[str, Any], Path]]], list[dict[str, Any]]]
Progress = Callable[..., None]

# Eureka's reflection advice, in our words (Ma et al., ICLR 2024; MIT).
TIPS = ("Analyse each term before rewriting: (1) if the success rate stays near zero, rewrite "
        "the whole reward; (2) a term whose values barely change during training is not being "
        "optimised: change its scale or temperature, rewrite it, or drop it; (3) a term much "
        "larger than the others drowns them: rescale it. Then write the improved program.")


@dataclass(frozen=True)
class RefineConfig:
    """Sizes of a refine run (defaults sized for 2 CPU cores; Eureka used K=16, 5 rounds).

    Example:
        >>> RefineConfig(k=2, rounds=1).k
        2
    """

    k: int = 4
    rounds: int = 3
    max_repairs: int = 2
    temperature: float = 1.0
    max_tokens: int = 1024
    seed: int = 0
    n_states: int = 128
    timesteps: int = 20_000
    train_seeds: tuple[int, ...] = (0,)
    all_failed_retries: int = 1
    final_seeds: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for name in ("k", "rounds", "max_tokens", "n_states", "timesteps"):
            if getattr(self, name) < 1:
                raise ValueError(f"RefineConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.max_repairs < 0 or self.all_failed_retries < 0:
            raise ValueError("RefineConfig.max_repairs and all_failed_retries must be >= 0")
        if not self.train_seeds:
            raise ValueError("RefineConfig.train_seeds must name at least one seed")
        if len(set(self.final_seeds)) != len(self.final_seeds):
            raise ValueError(f"RefineConfig.final_seeds repeat a seed: {self.final_seeds}")


@dataclass
class Candidate:
    """One program's history: the replies, its report, training results and fitness."""

    id: str
    reply: str
    source: str | None
    report: ValidationReport
    provenance: dict[str, str]
    repairs: int = 0
    truncated: bool = False
    replies: list[str] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    fitness: float | None = None

    @property
    def ok(self) -> bool:
        """Whether the program passed the checker."""
        return self.report.ok

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able record (the report as a dict)."""
        out = asdict(self)
        out["report"] = self.report.to_dict()
        return out


def _check(completion: Completion, view: RewardView, states: States,
           limits: Limits | None) -> ValidationReport:
    report = check_program(completion.text, view, states, limits=limits).report
    if completion.truncated and not report.ok and not any(
            i.code == "truncated" for i in report.issues):
        report.issues.insert(0, Issue("truncated", "the reply was cut off at max_tokens "
                                      "(finish_reason=length); write a shorter program"))
    return report


SIGNATURE = "def compute_reward(obs, action, next_obs):"


def repair_message(report: ValidationReport, *, quote_signature: bool = False) -> str:
    """The user turn that sends a rejected program back (Eureka's execution-error feedback).

    The checker's reasons; with ``quote_signature``, then the required signature and return
    shape quoted (a small model loses both over a long conversation). Off by default: the
    message is part of the cassette key, so earlier recordings keep replaying.
    """
    text = report.feedback()
    if report.ok or not quote_signature:
        return text
    return (f"{text}\nThe function must start with exactly this line:\n{SIGNATURE}\nand end "
            "with: return total, {\"term_name\": term_value, ...}")


def _ask(backend: LLMBackend, convo: Sequence[Message], prefill: str | None, **kwargs: Any
         ) -> list[Completion]:
    """Completions of ``convo``; a ``prefill`` is sent as the start of the assistant's reply."""
    messages = list(convo) if prefill is None else [*convo,
                                                    {"role": "assistant", "content": prefill}]
    return backend.complete(messages, **kwargs)


def propose(backend: LLMBackend, messages: Sequence[Message], view: RewardView, states: States,
            *, k: int, temperature: float, seed: int, max_tokens: int, max_repairs: int,
            limits: Limits | None = None, prefix: str = "c",
            progress: Progress | None = None, prefill: str | None = None,
            quote_signature: bool = False) -> list[Candidate]:
    """K candidates for ``messages``, each checked and repaired from its report if rejected.

    ``prefill`` (e.g. :data:`~rewardgym.wrappers.llm.cards.PREFILL`) is sent as the start of
    every reply, first and repair turns alike, for servers that continue a final assistant
    turn (:class:`~rewardgym.wrappers.llm.backends.OpenAICompatBackend` asks for that); the
    replies come back whole, prefill included. ``quote_signature``: see
    :func:`repair_message`.
    """
    completions = _ask(backend, messages, prefill, n=k, temperature=temperature, seed=seed,
                       max_tokens=max_tokens)
    out = []
    for j, completion in enumerate(completions):
        report = _check(completion, view, states, limits)
        cand = Candidate(f"{prefix}{j}", completion.text, None, report,
                         completion.provenance, truncated=completion.truncated,
                         replies=[completion.text])
        convo = list(messages)
        while not cand.report.ok and cand.repairs < max_repairs:
            convo = [*convo, {"role": "assistant", "content": completion.text},
                     {"role": "user", "content": repair_message(
                         cand.report, quote_signature=quote_signature)}]
            completion = _ask(backend, convo, prefill, n=1, temperature=temperature,
                              seed=seed + 1000 * (j + 1) + cand.repairs,
                              max_tokens=max_tokens)[0]
            cand.repairs += 1
            cand.reply = completion.text
            cand.replies.append(completion.text)
            cand.truncated = completion.truncated
            cand.provenance = completion.provenance
            cand.report = _check(completion, view, states, limits)
        if cand.report.ok:
            from rewardgym.wrappers.llm.program import extract_code

            cand.source = extract_code(cand.reply)
        if progress is not None:
            progress("candidate", candidate=cand)
        out.append(cand)
    return out


def _series(values: Sequence[float], points: int = 10) -> list[float]:
    if not values:
        return []
    idx = np.linspace(0, len(values) - 1, min(points, len(values))).round().astype(int)
    return [float(values[i]) for i in idx]


def reflection(candidate: Candidate) -> str:
    """Eureka's reward reflection plus the trajectory analysis, from training results."""
    lines = ["We trained an RL policy with the reward program above and tracked each reward term "
             "(episode totals) and the policy's metrics at ten points during training, with "
             "their maximum, mean and minimum:"]
    result = candidate.results[0] if candidate.results else {}

    def line(name: str, values: Sequence[float]) -> None:
        if values:
            shown = ", ".join(f"{v:.3g}" for v in _series(values))
            lines.append(f"{name}: [{shown}], Max: {max(values):.3g}, "
                         f"Mean: {float(np.mean(values)):.3g}, Min: {min(values):.3g}")

    for name, values in sorted(result.get("term_series", {}).items()):
        line(name, values)
    line("task_score (success rate)", result.get("success_series", []))
    line("episode_length", result.get("length_series", []))
    line("env_return (the env's own reward)", result.get("base_return_series", []))
    rates = [r.get("success_rate", 0.0) for r in candidate.results]
    lines.append(f"Final evaluation success rate: {float(np.mean(rates)) if rates else 0.0:.3g}")
    failures = result.get("failure_summary")
    if failures:
        lines.append(f"Trajectory analysis of failed episodes: {failures}")
    for warning in candidate.report.warnings:
        lines.append(f"Checker warning: {warning}")
    lines.append(TIPS)
    return "\n".join(lines)


def human_feedback_message(description: str, feedback: str) -> str:
    """Text2Reward's human-feedback turn, in our words."""
    return (f"We trained a policy with the reward program above. What we observed: "
            f"{description}\nFeedback to improve it: {feedback}\nDecide which part of the "
            "reward is missing or wrong, and reply with the whole improved program in one "
            "```python block.")


class Archive:
    """A refine run's folder: manifest, candidates.jsonl, programs/, reports/, messages/."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        for sub in ("programs", "reports", "messages"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Write ``manifest.json``."""
        (self.directory / "manifest.json").write_text(json.dumps(manifest, indent=2,
                                                                 sort_keys=True, default=str))

    def add(self, candidate: Candidate, round_: int, card_hash: str) -> None:
        """Append a candidate (and write its program and report)."""
        record = {**candidate.to_dict(), "round": round_, "card_hash": card_hash}
        with (self.directory / "candidates.jsonl").open("a") as handle:
            handle.write(json.dumps(record, sort_keys=True, default=float) + "\n")
        if candidate.source is not None:
            (self.directory / "programs" / f"{candidate.id}.py").write_text(candidate.source)
        (self.directory / "reports" / f"{candidate.id}.json").write_text(
            candidate.report.to_json())

    def add_messages(self, round_: int, messages: Sequence[Message]) -> None:
        """Keep the conversation a round started from."""
        (self.directory / "messages" / f"round{round_}.json").write_text(
            json.dumps(list(messages), indent=1))

    def candidates(self) -> list[dict[str, Any]]:
        """Every archived candidate record."""
        path = self.directory / "candidates.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@dataclass
class RefineResult:
    """The best candidate (None if no program ever passed), all candidates, the archive.

    ``final`` is the elite retrained on ``RefineConfig.final_seeds`` (empty when none): the
    seeds, each run's success rate (the env's own predicate) and base return, their means and,
    with an ``interval`` function, the confidence interval of the success rate.
    """

    best: Candidate | None
    candidates: list[Candidate]
    archive: Path
    messages: list[Message]
    final: dict[str, Any] = field(default_factory=dict)


Interval = Callable[[Sequence[float]], tuple[float, float | None, float | None]]


def retrain(best: Candidate, env_id: str, seeds: Sequence[int], timesteps: int, runner: Runner,
            archive: Path, interval: Interval | None = None) -> dict[str, Any]:
    """Train the elite again on ``seeds`` and summarise success (mean, CI) and base return.

    Selection used the refine rounds' seeds, so its fitness is optimistic (the best of K); the
    retrain on fresh seeds is the number to report.
    """
    jobs = [({"env_id": env_id, "program": best.source, "seed": s, "timesteps": timesteps,
              "candidate": best.id}, archive / "runs" / f"final-{best.id}-s{s}") for s in seeds]
    results = runner(jobs)
    rates = [float(r.get("success_rate", 0.0)) for r in results]
    returns = [float(r.get("base_return", 0.0)) for r in results]
    out: dict[str, Any] = {"candidate": best.id, "seeds": list(seeds), "timesteps": timesteps,
                           "success_rates": rates, "base_returns": returns,
                           "success_mean": float(np.mean(rates)),
                           "base_return_mean": float(np.mean(returns)),
                           "errors": [r["error"] for r in results if r.get("error")]}
    if interval is not None:
        _, lo, hi = interval(rates)
        out["success_ci"] = [lo, hi]
    return out


def local_runner(fn: Callable[[dict[str, Any], Path], dict[str, Any]]) -> Runner:
    """A runner that calls ``fn(config, run_dir)`` for each job in turn (no sweep needed)."""
    def run(jobs: list[tuple[dict[str, Any], Path]]) -> list[dict[str, Any]]:
        out = []
        for config, run_dir in jobs:
            run_dir.mkdir(parents=True, exist_ok=True)
            out.append(fn(config, run_dir))
        return out

    return run


def refine(backend: LLMBackend, messages: Sequence[Message], view: RewardView, states: States,
           *, env_id: str, card_hash: str, runner: Runner, archive_dir: str | Path,
           config: RefineConfig | None = None, limits: Limits | None = None,
           progress: Progress | None = None,
           human_feedback: tuple[str, str] | None = None,
           interval: Interval | None = None, prefill: str | None = None,
           quote_signature: bool = False) -> RefineResult:
    """Run the refine loop (see the module docstring); returns the elite and the archive.

    ``human_feedback=(description, feedback)`` adds a Text2Reward turn after the last round:
    the elite and the human's observation go back to the model for one more round.
    ``prefill`` and ``quote_signature`` are :func:`propose`'s, for every round.
    """
    config = RefineConfig() if config is None else config
    archive = Archive(archive_dir)
    archive.write_manifest({"env_id": env_id, "backend": backend.name, "model": backend.model,
                            "card_hash": card_hash, "view": view.key, "config": asdict(config),
                            "human_feedback": human_feedback, "prefill": prefill,
                            "quote_signature": quote_signature})
    base = list(messages)
    convo = list(base)
    best: Candidate | None = None
    everyone: list[Candidate] = []
    rounds = config.rounds + (1 if human_feedback else 0)
    for r in range(rounds):
        if human_feedback and r == config.rounds:
            if best is None:
                break
            convo = [*base, {"role": "assistant", "content": best.reply},
                     {"role": "user", "content": human_feedback_message(*human_feedback)}]
        archive.add_messages(r, convo)
        if progress is not None:
            progress("round", round=r, rounds=rounds)
        cands: list[Candidate] = []
        for attempt in range(config.all_failed_retries + 1):
            cands = propose(backend, convo, view, states, k=config.k,
                            temperature=config.temperature,
                            seed=config.seed + 100_000 * r + 10_000 * attempt,
                            max_tokens=config.max_tokens, max_repairs=config.max_repairs,
                            limits=limits, prefix=f"r{r}a{attempt}c", progress=progress,
                            prefill=prefill, quote_signature=quote_signature)
            if any(c.ok for c in cands):
                break
            for c in cands:
                archive.add(c, r, card_hash)
                everyone.append(c)
        valid = [c for c in cands if c.ok]
        jobs = [({"env_id": env_id, "program": c.source, "seed": s,
                  "timesteps": config.timesteps, "candidate": c.id},
                 archive.directory / "runs" / f"{c.id}-s{s}")
                for c in valid for s in config.train_seeds]
        if progress is not None and jobs:
            progress("train", jobs=len(jobs))
        results = runner(jobs) if jobs else []
        for i, c in enumerate(valid):
            c.results = results[i * len(config.train_seeds):(i + 1) * len(config.train_seeds)]
            rates = [float(x.get("success_rate", 0.0)) for x in c.results]
            returns = [float(x.get("base_return", 0.0)) for x in c.results]
            c.fitness = float(np.mean(rates)) + 1e-6 * float(np.tanh(np.mean(returns)))
        if valid:
            archive_best = max(valid, key=lambda c: c.fitness)
            if best is None or archive_best.fitness >= best.fitness:
                best = archive_best
        if valid:
            for c in cands:
                archive.add(c, r, card_hash)
                everyone.append(c)
        if progress is not None:
            progress("round_done", round=r, best=best)
        if best is not None and r < config.rounds - 1:
            convo = [*base, {"role": "assistant", "content": best.reply},
                     {"role": "user", "content": reflection(best)}]
    final: dict[str, Any] = {}
    if best is not None and config.final_seeds:
        if progress is not None:
            progress("final", candidate=best, seeds=config.final_seeds)
        final = retrain(best, env_id, config.final_seeds, config.timesteps, runner,
                        archive.directory, interval)
    manifest = json.loads((archive.directory / "manifest.json").read_text())
    manifest["best"] = None if best is None else {"id": best.id, "fitness": best.fitness,
                                                  "program_hash": best.report.program_hash}
    if final:
        manifest["final"] = final
    archive.write_manifest(manifest)
    return RefineResult(best, everyone, archive.directory, convo, final)
