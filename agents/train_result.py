"""The numbers and paths of one training run (:class:`TrainResult`), as a table and as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

__all__ = ["TrainResult"]


@dataclass(frozen=True, kw_only=True)
class TrainResult:
    """Numbers and paths of one :func:`train` call.

    Attributes:
        env_id: The env trained on.
        algo: The algorithm name.
        num_timesteps: Env steps the model has been trained for in total.
        resumed_from: Timesteps of the checkpoint the run resumed from (None: fresh run).
        train_timesteps: Env steps trained in this call.
        train_time_s: Wall time of ``learn`` in this call.
        steps_per_second: ``train_timesteps / train_time_s`` (rollouts and updates).
        eval_episodes: Episodes in the final deterministic evaluation.
        success_rate: Fraction of evaluation episodes with ``info["is_success"]`` (None when the
            env does not report it).
        mean_return: Mean evaluation return (the env's reward, as the agent saw it).
        std_return: Its standard deviation.
        mean_length: Mean evaluation episode length.
        wall_time_s: Wall time of the whole call.
        log_dir: The run directory.
        model_path: The final model.
        checkpoint_dir: The checkpoints' directory.
        tensorboard_dir: The TensorBoard log directory.

    Example:
        >>> from pathlib import Path
        >>> r = TrainResult(env_id="CartPole-v1", algo="ppo", num_timesteps=2048,
        ...     resumed_from=None, train_timesteps=2048, train_time_s=2.0,
        ...     steps_per_second=1024.0, eval_episodes=5, success_rate=None, mean_return=20.0,
        ...     std_return=3.0, mean_length=20.0, wall_time_s=3.0, log_dir=Path("runs/x"),
        ...     model_path=Path("runs/x/model.zip"), checkpoint_dir=Path("runs/x/checkpoints"),
        ...     tensorboard_dir=Path("runs/x/tb"))
        >>> r.table().row_count
        8
    """

    env_id: str
    algo: str
    num_timesteps: int
    resumed_from: int | None
    train_timesteps: int
    train_time_s: float
    steps_per_second: float
    eval_episodes: int
    success_rate: float | None
    mean_return: float
    std_return: float
    mean_length: float
    wall_time_s: float
    log_dir: Path
    model_path: Path
    checkpoint_dir: Path
    tensorboard_dir: Path

    def table(self) -> Table:
        """A rich table of the evaluation and training numbers."""
        table = Table(title=f"{self.algo.upper()} on {self.env_id}")
        table.add_column("metric")
        table.add_column("value", justify="right")
        success = "n/a" if self.success_rate is None else f"{self.success_rate:.3f}"
        table.add_row(f"success rate ({self.eval_episodes} episodes)", success)
        table.add_row("mean return", f"{self.mean_return:.3f} ± {self.std_return:.3f}")
        table.add_row("mean episode length", f"{self.mean_length:.1f}")
        table.add_row("timesteps (total)", f"{self.num_timesteps:,}")
        resumed = "-" if self.resumed_from is None else f"{self.resumed_from:,}"
        table.add_row("resumed from", resumed)
        table.add_row("train env steps/s", f"{self.steps_per_second:,.0f}")
        table.add_row("wall time", f"{self.wall_time_s:.1f} s")
        table.add_row("run directory", str(self.log_dir))
        return table

    def to_json(self) -> dict[str, Any]:
        """JSON-serialisable form (paths as strings)."""
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
