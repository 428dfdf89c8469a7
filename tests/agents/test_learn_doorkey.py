"""Learning regression: PPO with the shipped config solves DoorKey-5x5 within its budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from rewardgym.agents import load_config, train

ENV_ID = "rewardgym/DoorKey-5x5-v0"


@pytest.mark.slow
def test_ppo_solves_doorkey_5x5_with_shipped_config(tmp_path: Path) -> None:
    config = load_config(ENV_ID)
    assert config.total_timesteps <= 200_000  # the budget this test is about
    result = train(
        ENV_ID,
        config=config,
        log_dir=tmp_path,
        progress_bar=False,
        eval_episodes=100,
        verbose=0,
    )
    assert result.num_timesteps >= config.total_timesteps
    assert result.success_rate is not None
    assert result.success_rate >= 0.9
    # Success pays 1 - 0.9 * steps / max_steps: a solved 5x5 task takes few steps.
    assert result.mean_return > 0.9
