"""Checkpoints of a training run: SB3 model, RNG states and VecNormalize statistics per step count.

``checkpoints/<algo>_<N>_steps.zip`` is the model after ``N`` env steps (SB3's
``CheckpointCallback`` names), ``<algo>_rng_<N>_steps.pkl`` the torch/numpy/random RNG states
and ``<algo>_vecnormalize_<N>_steps.pkl`` the VecNormalize statistics (when the run normalises).
:func:`latest_checkpoint` finds the newest; :func:`rewardgym.agents.train.train` resumes from it.
"""

from __future__ import annotations

import pickle
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import CheckpointCallback

__all__ = ["Checkpoint", "CheckpointWithRng", "latest_checkpoint", "save_checkpoint"]


@dataclass(frozen=True)
class Checkpoint:
    """The files of one checkpoint (RNG and VecNormalize files may be absent)."""

    num_timesteps: int
    model: Path
    rng: Path
    vecnormalize: Path


def _checkpoint_files(directory: Path, prefix: str, steps: int) -> Checkpoint:
    return Checkpoint(
        num_timesteps=steps,
        model=directory / f"{prefix}_{steps}_steps.zip",
        rng=directory / f"{prefix}_rng_{steps}_steps.pkl",
        vecnormalize=directory / f"{prefix}_vecnormalize_{steps}_steps.pkl",
    )


def latest_checkpoint(directory: str | Path, prefix: str = "ppo") -> Checkpoint | None:
    """The checkpoint with the most timesteps in ``directory`` (None if there is none)."""
    pattern = re.compile(rf"^{re.escape(prefix)}_(\d+)_steps\.zip$")
    directory = Path(directory)
    steps = [
        int(m[1]) for p in directory.glob(f"{prefix}_*_steps.zip") if (m := pattern.match(p.name))
    ]
    return _checkpoint_files(directory, prefix, max(steps)) if steps else None


def _rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        # SB3 draws from numpy's global RNG (e.g. minibatch permutations): save that one.
        "numpy": np.random.get_state(),  # noqa: NPY002
        "random": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])  # noqa: NPY002
    random.setstate(state["random"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(model: BaseAlgorithm, directory: Path, prefix: str) -> Checkpoint:
    """Save model, RNG states and VecNormalize statistics under CheckpointCallback's names."""
    directory.mkdir(parents=True, exist_ok=True)
    files = _checkpoint_files(directory, prefix, model.num_timesteps)
    model.save(files.model)
    with files.rng.open("wb") as stream:
        pickle.dump(_rng_state(), stream)
    vecnormalize = model.get_vec_normalize_env()
    if vecnormalize is not None:
        vecnormalize.save(str(files.vecnormalize))
    return files


class CheckpointWithRng(CheckpointCallback):
    """SB3's CheckpointCallback that also saves the RNG states next to each model."""

    def _on_step(self) -> bool:
        if self.n_calls % self.save_freq == 0:
            with open(self._checkpoint_path("rng_", extension="pkl"), "wb") as stream:
                pickle.dump(_rng_state(), stream)
        return super()._on_step()
