"""The PPO throughput benchmark on a tiny grid: rows, shares and the adapter comparison."""

from __future__ import annotations

import pytest

from rewardgym.benchmarks import ppo_throughput


@pytest.mark.slow
def test_tiny_grid_measures_every_variant_and_compares_adapter_with_bare(tmp_path):
    import torch
    from stable_baselines3.common import on_policy_algorithm

    originals = (torch.Tensor.backward, torch.nn.utils.clip_grad_norm_,
                 on_policy_algorithm.obs_as_tensor)
    rows = ppo_throughput.run(False, tmp_path, envs=["doorkey"], n_envs=[8], batch_sizes=[64, 512],
                              variants=["adapter", "bare", "dummy", "llm"], rollouts=1,
                              progress=False,
                              backend="inline")
    # mini-batch 512 > rollout 8 x 32 = 256: skipped, not measured
    assert sorted(r["variant"] for r in rows) == ["adapter", "bare", "dummy", "llm"]
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
    llm = next(r for r in rows if r["variant"] == "llm")
    assert llm["llm_overhead"] == pytest.approx(
        (llm["env_us_per_step"] - adapter["env_us_per_step"]) / adapter["wall_us_per_step"])
    assert adapter["llm_overhead"] is None
    phases = ppo_throughput.ROLLOUT_PHASES + ppo_throughput.UPDATE_PHASES
    for row in rows:
        shares = {key: row[f"p_{key}"] for key in phases}
        # the phases partition the wall time: rollout phases sum to the rollout share
        assert sum(shares.values()) == pytest.approx(1.0)
        assert sum(shares[k] for k in ppo_throughput.ROLLOUT_PHASES) == pytest.approx(
            row["rollout_share"])
        for key in ("policy_forward", "buffer_add", "gae", "minibatch_get", "evaluate_actions",
                    "backward", "optimizer_step", "vecenv_env"):
            assert shares[key] > 0.0, key
        # remainders are what no timer covered; timer jitter can only make them a hair negative
        assert shares["rollout_other"] > -1e-3
        assert shares["update_other"] > -1e-3
        assert (shares["vecenv_adapter"] > 0.0) == (row["variant"] in ppo_throughput.NATIVE)
    # every timer is removed again (the inline backend measured in this process)
    assert (torch.Tensor.backward, torch.nn.utils.clip_grad_norm_,
            on_policy_algorithm.obs_as_tensor) == originals
    profile = (tmp_path / "ppo_throughput_profile.md").read_text()
    assert profile.count("| rewardgym/DoorKey-8x8-v0 |") == 4
    assert "policy forward" in profile
    table = (tmp_path / "ppo_throughput.md").read_text()
    assert table.count("| rewardgym/DoorKey-8x8-v0 |") == 4
    assert len((tmp_path / "ppo_throughput.jsonl").read_text().splitlines()) == 4


def test_skip_rules():
    base = {"n_envs": 8, "n_steps": 32, "batch_size": 64, "variant": "subproc"}
    assert ppo_throughput.skip_reason(base) is None
    assert "one process per env" in ppo_throughput.skip_reason(base | {"n_envs": 64})
    assert "mini-batch" in ppo_throughput.skip_reason(base | {"batch_size": 1024})
    with pytest.raises(ValueError, match="unknown env"):
        ppo_throughput.env_setup("cartpole")


def test_env_threads_are_an_axis_of_native_rows_only():
    spec = ppo_throughput.sweep_spec(["routedrive"], [256], [8192], ["adapter", "dummy"],
                                     rollouts=1, env_threads=[1, 2])
    assert spec["axes"]["env_threads"] == [1, 2]
    assert spec["threads"] == 2  # the sweep reserves the most threads any run uses
    assert ppo_throughput.sweep_spec(["routedrive"], [256], [8192], ["bare"],
                                     rollouts=1)["fixed"]["env_threads"] == 1
    base = {"n_envs": 8, "n_steps": 32, "batch_size": 64, "env_threads": 2}
    assert ppo_throughput.skip_reason(base | {"variant": "bare"}) is None
    assert "native vector env" in ppo_throughput.skip_reason(base | {"variant": "dummy"})
    vec = ppo_throughput.build_vec_env("routedrive", "bare", 4, ppo_throughput._Clock(), 0,
                                       env_threads=2)
    try:
        assert vec.venv.unwrapped.num_threads == 2
    finally:
        vec.close()
