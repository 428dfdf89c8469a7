"""The RouteDrive learnability benchmark on a tiny budget (no learning is asserted)."""

from __future__ import annotations

import json

import numpy as np

from rewardgym.benchmarks import driving_learning


def test_references_are_ordered_as_expected():
    refs = {name: driving_learning.evaluate(policy, 8, num_envs=4)
            for name, policy in driving_learning.reference_policies().items()}
    assert refs["standing"]["rc"] == 0.0  # from rest, braking never moves
    assert refs["standing"]["ds"] == 0.0
    assert refs["route follower (scripted)"]["rc"] > 80.0
    assert refs["route follower (scripted)"]["rc"] > refs["random"]["rc"]
    assert all(r["episodes"] == 8 for r in refs.values())


def test_evaluate_judges_every_policy_on_the_same_episodes():
    policy = driving_learning.reference_policies()["route follower (scripted)"]
    a = driving_learning.evaluate(policy, 8, num_envs=4, seed=3)
    b = driving_learning.evaluate(policy, 8, num_envs=4, seed=3)
    assert a == b


def test_tiny_run_writes_rows_table_and_curve(tmp_path):
    rows = driving_learning.run(
        quick=True, out_dir=tmp_path, timesteps=1024, eval_every=512, eval_episodes=4,
        overrides=["n_envs=4", "n_steps=128", "batch_size=256"], verbose=False)
    ppo = [r for r in rows if r["policy"] == "PPO"]
    assert [r["steps"] for r in ppo] == [0, 512, 1024]
    for row in ppo:
        assert 0.0 <= row["rc"] <= 100.0
        assert row["ds"] <= row["rc"] + 1e-9
    lines = (tmp_path / "driving_learning.jsonl").read_text().splitlines()
    assert len(lines) == len(rows) == 3 + 3
    assert json.loads(lines[-1])["policy"] == "PPO"
    assert (tmp_path / "driving_learning.png").read_bytes()[:4] == b"\x89PNG"
    table = (tmp_path / "driving_learning.md").read_text()
    assert table.count("| PPO |") == 3


def test_rc_is_bounded_for_any_policy():
    rng = np.random.default_rng(0)
    result = driving_learning.evaluate(
        lambda obs: np.clip(rng.normal(0.3, 0.5, (len(obs), 2)), -1, 1).astype(np.float32), 4,
        num_envs=4)
    assert 0.0 <= result["ds"] <= result["rc"] <= 100.0
    assert result["return"] <= 100.0 + 1e-9
