from rewardgym.benchmarks import wrapper_overhead


def test_tiny_run_writes_rows_and_files(tmp_path):
    rows = wrapper_overhead.run(True, str(tmp_path), n=8, seconds=0.05, repeats=1)
    assert [r["group"] for r in rows] == ["potential"] * 3 + ["infractions"] * 3
    assert rows[0]["overhead_pct"] == 0.0
    assert rows[3]["overhead_pct"] == 0.0
    assert all(r["us_per_step"] > 0 and r["env_steps_per_s"] > 0 for r in rows)
    md = (tmp_path / "wrapper_overhead.md").read_text().splitlines()
    assert sum(line.startswith("| potential") or line.startswith("| infractions")
               for line in md) == 6
    assert (tmp_path / "wrapper_overhead.png").read_bytes()[:4] == b"\x89PNG"
    assert len((tmp_path / "wrapper_overhead.jsonl").read_text().splitlines()) == 6


def test_python_loop_references_compute_the_same_rewards():
    import gymnasium as gym
    import numpy as np

    from rewardgym.wrappers.infractions import InfractionPenaltyVector
    from rewardgym.wrappers.potential import PotentialShapingVector

    n = 16
    pairs = [
        (PotentialShapingVector(wrapper_overhead._native(n), "grid_subgoal_distance", gamma=0.99),
         wrapper_overhead.PythonLoopShaping(wrapper_overhead._native(n), 0.99)),
        (InfractionPenaltyVector(wrapper_overhead.Signals(wrapper_overhead._native(n)),
                                 wrapper_overhead.TABLE),
         wrapper_overhead.PythonLoopInfractions(
             wrapper_overhead.Signals(wrapper_overhead._native(n)))),
    ]
    for fast, slow in pairs:
        fast.reset(seed=0)
        slow.reset(seed=0)
        rng = np.random.default_rng(0)
        for _ in range(200):
            actions = rng.integers(0, 7, n)
            np.testing.assert_allclose(fast.step(actions)[1], slow.step(actions)[1], atol=1e-9)
    assert isinstance(gym.make(wrapper_overhead.ENV_ID), gym.Env)
