"""Plot each reward term's share of the return over training (``rewardgym plot-terms``)."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from rewardgym.agents.callbacks import TERMS_CSV


def find_terms_csv(run_dir: str | Path) -> Path:
    """The ``reward_terms.csv`` of a run directory (searched recursively, newest first).

    Raises:
        FileNotFoundError: naming the directory when no run in it logged reward terms.
    """
    found = sorted(Path(run_dir).rglob(TERMS_CSV), key=lambda p: p.stat().st_mtime, reverse=True)
    if not found:
        raise FileNotFoundError(f"no {TERMS_CSV} under {run_dir}: train with `rewardgym train` "
                                f"on an env whose info carries reward_terms")
    return found[0]


def read_terms_csv(csv_path: str | Path) -> dict[str, list[tuple[int, float, float]]]:
    """``{term: [(timesteps, mean_total, share), ...]}`` from a ``reward_terms.csv``."""
    series: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    with Path(csv_path).open(newline="") as handle:
        for row in csv.DictReader(handle):
            series[row["term"]].append((int(row["timesteps"]), float(row["mean_total"]),
                                        float(row["share"])))
    return dict(series)


def plot_reward_terms(csv_path: str | Path, out_path: str | Path) -> Path:
    """Draw mean episode totals and shares of each term against env steps into a PNG.

    Raises:
        ValueError: the CSV has no rows (nothing to draw; no episode ended during training).
    """
    series = read_terms_csv(csv_path)
    if not series:
        raise ValueError(f"{csv_path} has no rows: no episode ended during training, so there "
                         "are no reward terms to plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_total, ax_share) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    for term, points in sorted(series.items()):
        steps, totals, shares = zip(*sorted(points), strict=True)
        ax_total.plot(steps, totals, label=term)
        ax_share.plot(steps, shares, label=term)
    ax_total.set_ylabel("mean episode total")
    ax_share.set_ylabel("share of |return|")
    ax_share.set_xlabel("env steps")
    ax_total.legend(loc="best", fontsize="small")
    ax_total.set_title(f"Reward terms: {Path(csv_path).parent.name}")
    fig.tight_layout()
    out = Path(out_path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
