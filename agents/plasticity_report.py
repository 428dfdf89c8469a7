"""The plasticity report of one run: FAU, replay ratio, return and success against env steps.

Reads ``<run_dir>/plasticity.csv`` (written by :class:`rewardgym.agents.adaptive_rr.
PlasticityMonitor` and :class:`~rewardgym.agents.adaptive_rr.AdaptiveReplayRatio`) and draws one
PNG with four panels: critic and actor FAU (with the τ-dormant ratio of the critic, a different
metric, dashed), the replay ratio (set and measured from SB3's update counter), the mean return
and the success rate of the last 10 training episodes. A vertical line marks the switch.

``rewardgym train ... --set adaptive_rr.enabled=true`` draws it at the end of training; for any
run directory with a ``plasticity.csv``::

    python -m rewardgym.agents.plasticity_report RUN_DIR [--out FILE.png]
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["load_rows", "main", "plot"]


def load_rows(run_dir: str | Path) -> list[dict[str, Any]]:
    """The rows of ``<run_dir>/plasticity.csv`` (or of that CSV path), numbers as floats.

    Raises:
        FileNotFoundError: There is no such CSV.
    """
    path = Path(run_dir)
    if path.suffix != ".csv":
        path = path / "plasticity.csv"
    if not path.is_file():
        raise FileNotFoundError(f"plasticity report: {path} does not exist (run with "
                                "adaptive_rr.enabled=true or a PlasticityMonitor callback)")
    with path.open(newline="") as handle:
        return [{k: (float(v) if v not in ("", None) else None) for k, v in row.items()}
                for row in csv.DictReader(handle)]


def _series(rows: Sequence[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    pairs = [(r["timesteps"], r[key]) for r in rows if r.get(key) is not None]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def plot(run_dir: str | Path, out: str | Path | None = None, title: str | None = None) -> Path:
    """Draw the report of ``run_dir`` to ``out`` (default ``<run_dir>/plasticity.png``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = load_rows(run_dir)
    run_dir = Path(run_dir)
    folder = run_dir.parent if run_dir.suffix == ".csv" else run_dir
    out = Path(out) if out is not None else folder / "plasticity.png"
    switch = next((r["timesteps"] for r in rows if r.get("switched") == 1.0), None)
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    ax = axes[0, 0]
    for key, label in (("fau_critic", "critic FAU"), ("fau_actor", "actor FAU")):
        ax.plot(*_series(rows, key), label=label)
    ax.plot(*_series(rows, "dormant_critic"), "--", label="critic τ-dormant ratio")
    t, m = _series(rows, "window_mean")
    if t:
        ax.plot(t, m, "o", ms=4, label="critic FAU, check window mean")
    ax.set_ylabel("fraction")
    ax.set_title("plasticity")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    ax.step(*_series(rows, "replay_ratio"), where="post", label="set")
    ax.plot(*_series(rows, "replay_ratio_measured"), ".", label="measured (Δ updates / Δ steps)")
    ax.set_ylabel("gradient steps per env step")
    ax.set_title("replay ratio")
    ax.legend(fontsize=8)
    ax = axes[1, 0]
    ax.plot(*_series(rows, "episode_return"))
    ax.set_ylabel("return (last 10 training episodes)")
    ax = axes[1, 1]
    t, s = _series(rows, "success_rate")
    ax.plot(t, s)
    if not t:
        ax.text(0.5, 0.5, "the env reports no info['is_success']", ha="center",
                transform=ax.transAxes)
    ax.set_ylabel("success (last 10 training episodes)")
    ax.set_ylim(-0.05, 1.05)
    for ax in axes.flat:
        if switch is not None:
            ax.axvline(switch, color="grey", lw=0.8, ls=":")
    for ax in axes[1]:
        ax.set_xlabel("env steps")
    if not rows:
        axes[0, 0].text(0.5, 0.5, "no probes yet: training ended before learning_starts",
                        ha="center", transform=axes[0, 0].transAxes)
    fig.suptitle(title if title is not None else str(run_dir))
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``python -m rewardgym.agents.plasticity_report RUN_DIR``."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", help="a run directory with plasticity.csv (or the CSV)")
    parser.add_argument("--out", default=None, help="PNG path (default RUN_DIR/plasticity.png)")
    args = parser.parse_args(argv)
    print(plot(args.run_dir, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
