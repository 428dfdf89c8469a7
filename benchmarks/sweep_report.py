"""Confidence intervals over seeds, and the summary table and plot of a sweep.

Everything here reads the sweep's JSON lines (rows written by :mod:`rewardgym.benchmarks.sweep`);
nothing is kept in memory between a sweep's launches, so a summary can be rebuilt at any time
(``rewardgym sweep SPEC --report-only``).

Two intervals over the per-seed values of a metric:

* ``"t"`` (default): Student's t interval ``mean ± t_{1-α/2, n-1} · s / √n`` with the sample
  standard deviation ``s``. The t quantile is computed exactly for the integer degrees of freedom
  from the closed form of the t distribution function (Abramowitz & Stegun 26.7.3–26.7.4),
  inverted by bisection, so no SciPy is needed.
* ``"bootstrap"``: the percentile bootstrap (Efron & Tibshirani, 1993, ch. 13) of the mean,
  10,000 resamples from a fixed generator, so the same rows always give the same interval.

With one seed there is no interval (``None``); the table then shows the value with ``n=1``.

Example:
    >>> round(t_quantile(0.975, 4), 3)
    2.776
    >>> mean, lo, hi = confidence_interval([1.0, 2.0, 3.0])
    >>> mean, round(lo, 3), round(hi, 3)
    (2.0, -0.484, 4.484)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

CI_METHODS = ("t", "bootstrap")
_BOOTSTRAP_RESAMPLES = 10_000


def t_cdf_two_sided(t: float, df: int) -> float:
    """``P(|T| < t)`` for Student's t with integer ``df`` degrees of freedom (``t >= 0``).

    The finite sums of Abramowitz & Stegun 26.7.3 (odd ``df``) and 26.7.4 (even ``df``) in
    ``θ = atan(t / √df)``.
    """
    if df < 1:
        raise ValueError(f"t_cdf_two_sided: df must be >= 1, got {df}")
    theta = math.atan(t / math.sqrt(df))
    s, c = math.sin(theta), math.cos(theta)
    if df % 2 == 1:
        total, term = 0.0, c
        if df > 1:
            total = term
            for k in range(3, df - 1, 2):  # term_k = term_{k-2} * (k-1)/k * cos^2
                term *= (k - 1) / k * c * c
                total += term
        return (2.0 / math.pi) * (theta + s * total)
    total, term = 1.0, 1.0
    for k in range(2, df - 1, 2):  # term_k = term_{k-2} * (k-1)/k * cos^2
        term *= (k - 1) / k * c * c
        total += term
    return s * total


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile (``0.5 <= p < 1``) of Student's t with integer ``df``, by bisection.

    Raises:
        ValueError: ``p`` outside ``[0.5, 1)`` or ``df < 1``.
    """
    if not 0.5 <= p < 1.0:
        raise ValueError(f"t_quantile: p must be in [0.5, 1), got {p}")
    if df < 1:
        raise ValueError(f"t_quantile: df must be >= 1, got {df}")
    target = 2.0 * p - 1.0  # P(|T| < q) for the upper quantile q
    lo, hi = 0.0, 1.0
    while t_cdf_two_sided(hi, df) < target:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf_two_sided(mid, df) < target:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def confidence_interval(values: Sequence[float], *, level: float = 0.95,
                        method: str = "t") -> tuple[float, float | None, float | None]:
    """Mean of ``values`` and its ``level`` confidence interval (``None`` bounds for n < 2).

    Args:
        values: one value per seed (finite numbers).
        level: coverage, in (0, 1).
        method: ``"t"`` (Student's t) or ``"bootstrap"`` (percentile bootstrap of the mean).

    Raises:
        ValueError: no values, a non-finite value, a bad ``level`` or an unknown ``method``.
    """
    if method not in CI_METHODS:
        raise ValueError(f"confidence_interval: method must be one of {CI_METHODS}, "
                         f"got {method!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence_interval: level must be in (0, 1), got {level}")
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        raise ValueError("confidence_interval: no values")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"confidence_interval: values must be finite, got {x.tolist()}")
    mean = float(x.mean())
    if x.size < 2:
        return mean, None, None
    if method == "t":
        half = t_quantile(0.5 + level / 2.0, x.size - 1) * float(x.std(ddof=1)) / math.sqrt(x.size)
        return mean, mean - half, mean + half
    rng = np.random.default_rng(0)
    means = x[rng.integers(0, x.size, size=(_BOOTSTRAP_RESAMPLES, x.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    return mean, float(lo), float(hi)


def _coord_label(value: Any) -> str:
    return value if isinstance(value, str) else repr(value) if isinstance(value, dict) else (
        f"{value:g}" if isinstance(value, float) else str(value))


def summarise(rows: Sequence[Mapping[str, Any]], axes: Sequence[str], metrics: Sequence[str], *,
              method: str = "t", level: float = 0.95) -> list[dict[str, Any]]:
    """One summary row per point of the grid: its axis values, seeds, and each metric's CI.

    Args:
        rows: result rows of the sweep (``coords``, ``seed``, ``status``, ``metrics``).
        axes: axis names, in the spec's order (rows are grouped by their values).
        metrics: metric names to aggregate.
        method: interval method (see :func:`confidence_interval`).
        level: interval coverage.

    Returns:
        Rows with the axis values, ``seeds`` (finished ok), ``failed``, and per metric
        ``<m>``, ``<m>_lo``, ``<m>_hi`` and ``<m>_n`` (seeds with a finite value).
    """
    groups: dict[str, list[Mapping[str, Any]]] = {}
    coords_of: dict[str, dict[str, Any]] = {}
    for row in rows:
        coords = {axis: row["coords"][axis] for axis in axes}
        label = repr([coords[axis] for axis in axes])
        groups.setdefault(label, []).append(row)
        coords_of[label] = coords
    out = []
    for label, members in groups.items():
        ok = [r for r in members if r["status"] == "ok"]
        summary: dict[str, Any] = {**coords_of[label], "seeds": len(ok),
                                   "failed": len(members) - len(ok)}
        for metric in metrics:
            values = [r["metrics"].get(metric) for r in ok]
            finite = [float(v) for v in values if isinstance(v, int | float)
                      and not isinstance(v, bool) and math.isfinite(v)]
            mean, lo, hi = (confidence_interval(finite, level=level, method=method) if finite
                            else (None, None, None))
            summary |= {metric: mean, f"{metric}_lo": lo, f"{metric}_hi": hi,
                        f"{metric}_n": len(finite)}
        out.append(summary)
    return out


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}"


def write_markdown(path: str | Path, summary: Sequence[Mapping[str, Any]], axes: Sequence[str],
                   metrics: Sequence[str], *, title: str, notes: Sequence[str] = ()) -> Path:
    """Write the summary as a markdown table: axis values, seeds, then ``mean [lo, hi]`` cells."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = [*axes, "seeds", "failed", *metrics]
    lines = [f"# {title}", "", *notes, "" if notes else None,
             "| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] * len(axes) + ["---:"] * (2 + len(metrics))) + "|"]
    for row in summary:
        cells = [_coord_label(row[axis]) for axis in axes] + [str(row["seeds"]),
                                                              str(row["failed"])]
        for metric in metrics:
            mean, lo, hi, n = (row[metric], row[f"{metric}_lo"], row[f"{metric}_hi"],
                               row[f"{metric}_n"])
            if mean is None:
                cells.append("-")
            elif lo is None:
                cells.append(f"{_fmt(mean)} (n={n})")
            else:
                cells.append(f"{_fmt(mean)} [{_fmt(lo)}, {_fmt(hi)}]")
        lines.append("| " + " | ".join(cells) + " |")
    path.write_text("\n".join(line for line in lines if line is not None) + "\n",
                    encoding="utf-8")
    return path


def plot(path: str | Path, summary: Sequence[Mapping[str, Any]], axes: Sequence[str],
         metrics: Sequence[str], *, x_axis: str | None = None, title: str = "",
         level: float = 0.95) -> Path:
    """One panel per metric: the mean against ``x_axis``, one line per other-axes combination.

    The band is the confidence interval over seeds. A numeric x axis spanning a factor of 8 or
    more is drawn on a log2 scale (mini-batch sizes, budgets); other x values are categories.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    x_axis = x_axis if x_axis is not None else (axes[0] if axes else None)
    others = [a for a in axes if a != x_axis]
    xs_all = list(dict.fromkeys(_coord_label(r[x_axis]) for r in summary)) if x_axis else ["all"]
    numeric = x_axis is not None and all(
        isinstance(r[x_axis], int | float) and not isinstance(r[x_axis], bool) for r in summary)
    n = max(1, len(metrics))
    cols = min(n, 4)
    nrows = math.ceil(n / cols)
    fig, panels = plt.subplots(nrows, cols, figsize=(4.6 * cols, 3.8 * nrows), squeeze=False,
                               layout="constrained")
    for ax in panels.flat[n:]:
        ax.set_visible(False)
    for ax, metric in zip(panels.flat, metrics, strict=False):
        lines: dict[str, list[Mapping[str, Any]]] = {}
        for row in summary:
            label = ", ".join(f"{a}={_coord_label(row[a])}" for a in others) or metric
            lines.setdefault(label, []).append(row)
        for k, (label, members) in enumerate(lines.items()):
            members = [m for m in members if m[metric] is not None]
            if not members:
                continue
            if numeric:
                members = sorted(members, key=lambda m: m[x_axis])
                x = np.array([m[x_axis] for m in members], dtype=float)
            else:
                x = np.array([xs_all.index(_coord_label(m[x_axis])) if x_axis else 0
                              for m in members], dtype=float)
            y = np.array([m[metric] for m in members], dtype=float)
            lo = np.array([m[f"{metric}_lo"] if m[f"{metric}_lo"] is not None else m[metric]
                           for m in members], dtype=float)
            hi = np.array([m[f"{metric}_hi"] if m[f"{metric}_hi"] is not None else m[metric]
                           for m in members], dtype=float)
            colour = f"C{k % 10}"
            ax.plot(x, y, marker="o", color=colour, label=label)
            ax.fill_between(x, lo, hi, color=colour, alpha=0.2, linewidth=0)
        if numeric:
            xs = [r[x_axis] for r in summary]
            if min(xs) > 0 and max(xs) / min(xs) >= 8:
                ax.set_xscale("log", base=2)
        else:
            ax.set_xticks(range(len(xs_all)), xs_all, rotation=30, ha="right", fontsize=8)
        ax.set_xlabel(x_axis or "")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.suptitle(f"{title} (mean, {level:.0%} CI over seeds)")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


__all__ = ["CI_METHODS", "confidence_interval", "plot", "summarise", "t_cdf_two_sided",
           "t_quantile", "write_markdown"]
