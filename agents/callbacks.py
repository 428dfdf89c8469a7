"""SB3 callbacks of rewardgym: per-term reward logging."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

TERMS_CSV = "reward_terms.csv"


class RewardTermsCallback(BaseCallback):
    """Log each reward term's mean episode total and share of the return.

    Reads the ``terms`` that :class:`rewardgym.wrappers.terms.RecordRewardTermsVector` adds to
    ``info["episode"]`` (SB3 keeps the last 100 in ``model.ep_info_buffer``). After every
    rollout it records ``reward_terms/<name>`` (mean total) and ``reward_terms_share/<name>``
    (mean total divided by the sum of the absolute means) to the SB3 logger (TensorBoard), and
    appends the same numbers to ``<log_dir>/reward_terms.csv`` for ``rewardgym plot-terms``.
    Envs without reward terms log nothing.

    Example:
        >>> cb = RewardTermsCallback(log_dir=None)
        >>> cb.rows_written
        0
    """

    def __init__(self, log_dir: str | Path | None, verbose: int = 0) -> None:
        super().__init__(verbose)
        self.csv_path = None if log_dir is None else Path(log_dir) / TERMS_CSV
        self.rows_written = 0

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        episodes = [ep["terms"] for ep in self.model.ep_info_buffer
                    if isinstance(ep, dict) and isinstance(ep.get("terms"), dict)]
        if not episodes:
            return
        names = sorted({name for terms in episodes for name in terms})
        means = {name: float(np.mean([terms.get(name, 0.0) for terms in episodes]))
                 for name in names}
        scale = sum(abs(value) for value in means.values())
        rows = []
        for name, mean in means.items():
            share = mean / scale if scale > 0 else 0.0
            self.logger.record(f"reward_terms/{name}", mean)
            self.logger.record(f"reward_terms_share/{name}", share)
            rows.append((self.num_timesteps, name, mean, share, len(episodes)))
        if self.csv_path is not None:
            new = not self.csv_path.exists()
            self.csv_path.parent.mkdir(parents=True, exist_ok=True)
            with self.csv_path.open("a", newline="") as handle:
                writer = csv.writer(handle)
                if new:
                    writer.writerow(("timesteps", "term", "mean_total", "share", "episodes"))
                writer.writerows(rows)
            self.rows_written += len(rows)
