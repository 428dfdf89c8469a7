"""The throughput benchmark's outputs: its table columns, headline sentences, files and console.

Writes ``<out>/throughput.jsonl`` (appended), ``<out>/throughput.md`` and ``<out>/throughput.png``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rewardgym.benchmarks import driving_cases, harness
from rewardgym.benchmarks.harness import Column
from rewardgym.benchmarks.throughput_shopping import SHOP_DISCRETE_ID, SHOP_TEXT_ID

__all__ = ["COLUMNS", "NAME", "headline", "make_console", "print_table", "write_outputs"]

NAME = "throughput"

COLUMNS = (
    Column("library", "library"),
    Column("env", "env"),
    Column("mode", "mode"),
    Column("n", "n", harness.fmt_int),
    Column("variant", "variant"),
    Column("steps/s (wall)", "steps_per_s_wall", harness.fmt_rate),
    Column("steps/s (cpu)", "steps_per_s_cpu", harness.fmt_rate),
    Column("µs/call", "us_per_call", harness.fmt_float),
    Column("vs MiniGrid single (wall)", "ratio_vs_minigrid_single", harness.fmt_ratio),
    Column("vs MiniGrid single (cpu)", "ratio_vs_minigrid_single_cpu", harness.fmt_ratio),
    Column("vs highway-fast (wall)", "ratio_vs_highway_fast", harness.fmt_ratio),
    Column("RSS before (MiB)", "rss_before_mb", harness.fmt_float),
    Column("RSS after (MiB)", "rss_after_mb", harness.fmt_float),
)


def headline(rows: Sequence[dict]) -> list[str]:
    """The two ratios the README quotes, as sentences (empty if a needed row is missing)."""
    lines = []
    natives = [r for r in rows if r["library"] == "rewardgym" and r["mode"] == "native"
               and r["variant"] == "Dict obs"]
    single = next((r for r in rows if r["library"] == "rewardgym" and r["mode"] == "single"
                   and r["variant"] == "gym.make"), None)
    big = max(natives, key=lambda r: r["n"], default=None)
    if big is not None and big["ratio_vs_minigrid_single"] is not None:
        lines.append(f"rewardgym native vector env n={big['n']} vs MiniGrid single env: "
                     f"{harness.fmt_ratio(big['ratio_vs_minigrid_single'])} (wall), "
                     f"{harness.fmt_ratio(big['ratio_vs_minigrid_single_cpu'])} (cpu)")
    if single is not None and single["ratio_vs_minigrid_single"] is not None:
        lines.append(f"rewardgym single env vs MiniGrid single env: "
                     f"{harness.fmt_ratio(single['ratio_vs_minigrid_single'])} (wall), "
                     f"{harness.fmt_ratio(single['ratio_vs_minigrid_single_cpu'])} (cpu)")
    shop = {r["variant"]: r for r in rows if r["env"] in (SHOP_TEXT_ID, SHOP_DISCRETE_ID)}
    for name in ("WebShopText", "WebShopDiscrete"):
        steps = next((r for v, r in shop.items() if v.startswith(name) and "resets" not in v
                      and "rss_before_mb" in r), None)
        resets = shop.get(f"{name}, resets only")
        if steps is None or resets is None:
            continue
        lines.append(f"{name} ({steps['variant'].split(', ')[1]}): "
                     f"{harness.fmt_rate(steps['steps_per_s_wall'])} steps/s, "
                     f"{harness.fmt_rate(resets['steps_per_s_wall'])} resets/s; RSS "
                     f"{steps['rss_before_mb']:.1f} -> {steps['rss_after_mb']:.1f} MiB over "
                     f"{steps['memory_episodes']:,} episodes")
    lines += driving_cases.headline(rows)
    for row in rows:
        if row.get("ratio_vs_sync") is not None:
            lines.append(f"{row['env']} native n={row['n']} ({row['variant']}): "
                         f"{harness.fmt_ratio(row['ratio_vs_sync'])} of SyncVectorEnv, "
                         f"{harness.fmt_ratio(row.get('ratio_vs_async'))} of AsyncVectorEnv "
                         "(wall)")
    return lines


def write_outputs(rows: Sequence[dict], settings: Any, out_dir: str | Path,
                  quick: bool) -> dict[str, Path]:
    """Append the JSON lines and (re)write the markdown table and the bar chart."""
    out = Path(out_dir)
    meta = harness.run_metadata()
    machine, vers = meta["machine"], meta["versions"]
    jsonl = harness.record(NAME, rows, out, quick=quick, settings=dataclasses.asdict(settings))
    notes = [
        f"{meta['timestamp_utc']}, commit `{meta['git_commit']}`, {machine['cpu_model']}, "
        f"{machine['nproc']} cores, numba threads {machine.get('numba_threads')}; "
        + ", ".join(f"{k} {v}" for k, v in vers.items()) + ".",
        "",
        f"Median of {settings.repeats} round-robin run(s) of {settings.seconds:g} s per row; "
        "random actions pre-sampled; resets included (autoreset for vector envs). "
        "CPU-time rates count all of this process's threads, so they fall below wall rates "
        "when numba runs a batch on several threads. Resets-only rows count resets per second. "
        "RSS: resident memory before and after the shopping memory check's episodes. "
        "Max 1-minute load average: "
        f"{max(r['load1'] for r in rows):.2f}.",
        "",
        *[f"- {line}" for line in headline(rows)],
    ]
    md = harness.write_markdown(out / f"{NAME}.md", rows, COLUMNS,
                                title="Env-step throughput", notes=notes)
    png = harness.plot_bars(out / f"{NAME}.png", [r["label"] for r in rows],
                            [r["steps_per_s_wall"] for r in rows],
                            title="Env-steps per second (wall clock, log scale)",
                            xlabel="env-steps / s", groups=[r["library"] for r in rows])
    return {"jsonl": jsonl, "md": md, "png": png}


def make_console() -> Any:
    """A rich console that does not squeeze the table into 80 columns when piped."""
    from rewardgym.agents.console import make_console as agents_console

    console = agents_console()
    if not console.is_terminal:  # piped or logged: don't squeeze the table into 80 columns
        console.width = max(console.width, 180)
    return console


def print_table(rows: Sequence[dict], console: Any = None) -> None:
    """Print the rows as a rich table, then the headline ratios."""
    from rich.table import Table

    console = make_console() if console is None else console
    table = Table(title="Env-step throughput")
    for col in COLUMNS:
        table.add_column(col.header, justify="right" if col.fmt is not str else "left")
    for cells in harness.table_cells(rows, COLUMNS):
        table.add_row(*cells)
    console.print(table)
    for line in headline(rows):
        console.print(line)
