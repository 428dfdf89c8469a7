"""The locomotion benchmarks on tiny budgets: rows, ratios and files (no speed is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rewardgym.benchmarks import BENCHMARKS, locomotion_learning, throughput


def test_locomotion_throughput_group_compares_native_with_sync_and_async(tmp_path: Path):
    rows = throughput.run(out_dir=tmp_path, seconds=0.02, repeats=1, groups=["locomotion"],
                          loco_sizes=[2], verbose=False)
    labels = [r["label"] for r in rows]
    assert len(labels) == len(set(labels)) == 8  # 2 envs x (native, threaded, sync, async)
    assert {r["mode"] for r in rows} == {"native", "sync", "async"}
    for row in rows:
        if row["mode"] == "native":
            assert row["ratio_vs_sync"] == pytest.approx(
                row["steps_per_s_wall"] / next(
                    r["steps_per_s_wall"] for r in rows
                    if r["env"] == row["env"] and r["mode"] == "sync"))
            assert row["ratio_vs_async"] > 0
    lines = throughput.headline(rows)
    assert sum("of SyncVectorEnv" in line for line in lines) == 4
    assert "locomotion" not in throughput.DEFAULT_GROUPS  # opt-in: it starts subprocesses


def test_learning_benchmark_writes_rows_curves_and_skips_finished_runs(tmp_path: Path):
    assert BENCHMARKS["locomotion_learning"] == "rewardgym.benchmarks.locomotion_learning"
    kwargs = {"out_dir": str(tmp_path), "timesteps": 300, "minutes": 1.0,
              "conditions": ["ant_goal_sparse_shaped"], "random_episodes": 0}
    rows = locomotion_learning.run(True, **kwargs)
    assert len(rows) == 1
    row = rows[0]
    assert row["trained_steps"] == 300
    assert row["env"] == "rewardgym/AntGoal-v1"
    assert "shaping_potential=ant_goal_distance" in row["overrides"]
    assert row["eval_success"] == 0.0
    assert row["episodes"] == 1  # 300 steps: the first episode hit its time limit
    lines = (tmp_path / "locomotion_learning_quick.jsonl").read_text().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["condition"] == "ant_goal_sparse_shaped"
    assert (tmp_path / "locomotion_learning_quick.png").read_bytes()[:4] == b"\x89PNG"
    assert "ant_goal_sparse_shaped" in (tmp_path / "locomotion_learning_quick.md").read_text()
    locomotion_learning.run(True, **kwargs)  # finished: nothing is trained again
    assert len((tmp_path / "locomotion_learning_quick.jsonl").read_text().splitlines()) == 1
    with pytest.raises(ValueError, match="unknown conditions"):
        locomotion_learning.run(True, out_dir=str(tmp_path), conditions=["ant_dance"])


def test_random_policy_baseline_covers_every_locomotion_task(tmp_path: Path):
    rows = locomotion_learning.random_policy_rows(episodes=1)
    assert [r["env"] for r in rows] == [
        "rewardgym/HalfCheetahBackward-v1", "rewardgym/HopperBackFlip-v0",
        "rewardgym/HopperFrontFlip-v0", "rewardgym/HopperJump-v0", "rewardgym/AntLieDown-v1",
        "rewardgym/AntLieDown-v2", "rewardgym/AntWaveLeg-v1", "rewardgym/HumanoidKneel-v0",
        "rewardgym/AntGoal-v1"]
    assert all(r["success_rate"] == 0.0 for r in rows)
    assert all(np.isfinite(r["mean_return"]) for r in rows)
