"""The PPO throughput benchmark on a tiny grid: rows, shares and the adapter comparison."""

from __future__ import annotations

import pytest

from rewardgym.benchmarks import ppo_throughput


@pytest.mark.slow
def test_tiny_grid_measures_every_variant_and_compares_adapter_with_bare(tmp_path):
    rows = ppo_throughput.run(False, tmp_path, envs=["doorkey"], n_envs=[8], batch_sizes=[64, 512],
                              variants=["adapter", "bare", "dummy"], rollouts=1, progress=False,
                              backend="inline")
    # mini-batch 512 > rollout 8 x 32 = 256: skipped, not measured
    assert sorted(r["variant"] for r in rows) == ["adapter", "bare", "dummy"]
    for row in rows:
        assert row["steps"] == 8 * 32
        assert 0.0 < row["env_share"] <= row["vecenv_share"] <= 1.0
        assert row["rollout_share"] + row["train_share"] == pytest.approx(1.0)
        assert row["vecenv_share"] < row["rollout_share"]
        assert row["steps_per_s"] == pytest.approx(row["steps"] / row["wall_s"])
    adapter = next(r for r in rows if r["variant"] == "adapter")
    bare = next(r for r in rows if r["variant"] == "bare")
    assert adapter["adapter_overhead"] == pytest.approx(
        (adapter["vecenv_us_per_step"] - bare["vecenv_us_per_step"]) / bare["wall_us_per_step"])
    assert adapter["rate_vs_bare"] == pytest.approx(adapter["steps_per_s"] / bare["steps_per_s"])
    table = (tmp_path / "ppo_throughput.md").read_text()
    assert table.count("| rewardgym/DoorKey-8x8-v0 |") == 3
    assert len((tmp_path / "ppo_throughput.jsonl").read_text().splitlines()) == 3


def test_skip_rules():
    base = {"n_envs": 8, "n_steps": 32, "batch_size": 64, "variant": "subproc"}
    assert ppo_throughput.skip_reason(base) is None
    assert "one process per env" in ppo_throughput.skip_reason(base | {"n_envs": 64})
    assert "mini-batch" in ppo_throughput.skip_reason(base | {"batch_size": 1024})
    with pytest.raises(ValueError, match="unknown env"):
        ppo_throughput.env_setup("cartpole")
