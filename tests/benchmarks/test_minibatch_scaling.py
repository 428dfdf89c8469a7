"""The mini-batch scaling study: grid layout, resolved configs, and a tiny end-to-end sweep."""

from __future__ import annotations

import pytest

from rewardgym.benchmarks import minibatch_scaling, sweep


def test_layout_holds_mini_batches_per_epoch_or_the_rollout_fixed():
    for size in minibatch_scaling.BATCH_SIZES:
        sizes = minibatch_scaling.layout(size, "minibatches", 0)
        assert sizes["n_envs"] * sizes["n_steps"] == 4 * size  # CaRL: 4 mini-batches per epoch
    assert minibatch_scaling.layout(16384, "minibatches", 0)["n_envs"] == 512
    assert minibatch_scaling.layout(256, "rollout", 65536) == {
        "n_envs": 512, "n_steps": 128, "batch_size": 256}
    with pytest.raises(ValueError, match="must split"):
        minibatch_scaling.layout(100, "minibatches", 0)
    with pytest.raises(ValueError, match="hold must be"):
        minibatch_scaling.layout(256, "epochs", 0)


def test_resolved_config_sets_carl_ppo_and_the_reward_mode():
    spec = sweep.SweepSpec.from_dict(minibatch_scaling.sweep_spec(
        rewards=["carl", "roach"], batch_sizes=[256, 4096], seeds=3, timesteps=10**6,
        hold="minibatches", rollout=0, eval_episodes=64, curve_points=0))
    runs = sweep.expand(spec)
    assert len(runs) == 12
    roach_big = next(r for r in runs if r.coords == {"reward_mode": "roach", "batch_size": 4096})
    ppo = roach_big.config["ppo"]
    assert ppo["env_kwargs"]["reward_mode"] == "roach"
    assert (ppo["n_envs"], ppo["n_steps"], ppo["batch_size"]) == (128, 128, 4096)
    assert (ppo["n_epochs"], ppo["clip_range"], ppo["policy"]) == (3, 0.1, "BetaMlpPolicy")
    assert ppo["total_timesteps"] == 10**6
    assert roach_big.config["env_id"].startswith("rewardgym/RouteDrive-v")
    assert len({r.key for r in runs}) == 12


@pytest.mark.slow
def test_quick_sweep_trains_evaluates_on_held_out_routes_and_plots(tmp_path):
    summary = minibatch_scaling.run(True, tmp_path, batch_sizes=[64], seeds=1, timesteps=512,
                                    eval_episodes=16, backend="inline", progress=False)
    assert [(r["reward_mode"], r["batch_size"]) for r in summary] == [("carl", 64),
                                                                      ("roach", 64)]
    for row in summary:
        assert row["seeds"] == 1
        assert 0.0 <= row["ds"] <= row["rc"] <= 100.0
        assert 0.0 <= row["collision"] <= 1.0
        assert row["train_wall_s"] > 0
    rows = sweep.read_rows(tmp_path / "minibatch_scaling_quick" / "results.jsonl")
    assert {r["result"]["episodes"] for r in rows} == {16}
    assert {r["config"]["heldout_map_seed"] for r in rows} == {minibatch_scaling.HELDOUT_MAP_SEED}
    assert (tmp_path / "minibatch_scaling_quick" / "minibatch_scaling.png").read_bytes()[:4] == \
        b"\x89PNG"


def test_ppo_overrides_apply_after_carls_settings_and_change_every_runs_key():
    common = dict(rewards=["carl"], batch_sizes=[1024], seeds=1, timesteps=10**6,
                  hold="minibatches", rollout=0, eval_episodes=64, curve_points=0)
    small = ["policy_kwargs.carl_net=false", "policy_kwargs.net_arch=[64, 64]"]
    plain = sweep.expand(sweep.SweepSpec.from_dict(minibatch_scaling.sweep_spec(**common)))
    downsized = sweep.expand(sweep.SweepSpec.from_dict(
        minibatch_scaling.sweep_spec(**common, ppo_overrides=small)))
    assert plain[0].config["ppo"]["policy_kwargs"]["carl_net"] is True
    ppo = downsized[0].config["ppo"]
    assert ppo["policy_kwargs"]["carl_net"] is False
    assert ppo["policy_kwargs"]["net_arch"] == [64, 64]
    assert (ppo["n_epochs"], ppo["clip_range"], ppo["batch_size"]) == (3, 0.1, 1024)
    assert plain[0].key != downsized[0].key  # a changed design never reuses old results
