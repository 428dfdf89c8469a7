"""The WebShop learnability benchmark on a tiny budget (no score of PPO is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rewardgym.benchmarks import BENCHMARKS, load, webshop_baselines

TINY = ["--quick", "--timesteps", "1024", "--chunk", "1024", "--episodes", "12", "--no-print",
        "--set", "n_envs=4", "n_steps=64", "batch_size=128"]
POLICIES = ["random", "first result", "rule", "oracle", "maskable_ppo"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("webshop")
    assert webshop_baselines.main([*TINY, "--out", str(out)]) == 0
    return out


def test_rows_per_policy_with_webshop_metrics(tiny_run: Path) -> None:
    rows = [json.loads(line) for line in
            (tiny_run / "webshop_baselines.jsonl").read_text().splitlines()]
    assert [r["policy"] for r in rows] == POLICIES
    for row in rows:
        assert row["episodes"] == 12
        assert row["split"] == "test"
        assert 0 <= row["score"] <= 100
        assert row["bench"] == "webshop_baselines"
        assert row["quick"] is True
    by_policy = {r["policy"]: r for r in rows}
    assert by_policy["oracle"]["success"] == 1.0
    ppo = by_policy["maskable_ppo"]
    assert ppo["train_timesteps"] >= 1024
    assert ppo["train_wall_s"] > 0
    assert [p["timesteps"] for p in ppo["curve"]] == [ppo["train_timesteps"]]
    assert ppo["config"]["total_timesteps"] == 1024
    assert ppo["config"]["n_envs"] == 4  # --set reaches the YAML hyper-parameters
    assert (tiny_run / "webshop_baselines_run" / "model.zip").exists()


def test_markdown_and_plot(tiny_run: Path) -> None:
    table = [line for line in (tiny_run / "webshop_baselines.md").read_text().splitlines()
             if line.startswith("|")]
    assert len(table) == 2 + len(POLICIES)
    assert table[2].startswith("| random |")
    assert (tiny_run / "webshop_baselines.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_settings_and_budget_resolution() -> None:
    with pytest.raises(ValueError, match="timesteps or minutes"):
        webshop_baselines.Settings(timesteps=None, minutes=None, chunk=10)
    with pytest.raises(ValueError, match="chunk"):
        webshop_baselines.Settings(timesteps=10, minutes=None, chunk=0)
    with pytest.raises(ValueError, match="minutes"):
        webshop_baselines.Settings(timesteps=None, minutes=-1.0, chunk=10)
    assert webshop_baselines.FULL.minutes == 15.0
    assert webshop_baselines.QUICK.timesteps <= 10_000


def test_registered_as_a_benchmark() -> None:
    assert BENCHMARKS["webshop_baselines"] == "rewardgym.benchmarks.webshop_baselines"
    assert load("webshop_baselines") is webshop_baselines
