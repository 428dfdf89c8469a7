import numpy as np
import pytest

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


def _short_episodes(n):
    """Empty-5x5 with a 20-step limit: random moves reach the goal or time out within 300 steps."""
    import gymnasium as gym

    return gym.make_vec("rewardgym/Empty-5x5-v0", n, vectorization_mode="vector_entry_point",
                        subgoal_distance_in_info=True, max_steps=20)


class _Crashes(wrapper_overhead.Signals):
    """The benchmark's signals with dense progress and a collision on every terminating step."""

    def step(self, actions):
        obs, rewards, terminated, truncated, infos = super().step(actions)
        infos["progress"] = 1.0 + 100.0 * rewards
        infos["collision"] = np.array(terminated, dtype=bool)
        return obs, rewards, terminated, truncated, infos


def test_python_loop_shaping_matches_the_wrapper_through_episode_ends():
    from rewardgym.wrappers.potential import PotentialShapingVector

    n = 16
    fast = PotentialShapingVector(_short_episodes(n), "grid_subgoal_distance", gamma=0.99)
    slow = wrapper_overhead.PythonLoopShaping(_short_episodes(n), 0.99)
    fast.reset(seed=0)
    slow.reset(seed=0)
    rng = np.random.default_rng(0)
    terminations = truncations = 0
    for _ in range(300):
        actions = rng.integers(0, 3, n)  # turn left/right, forward: the moves that matter here
        _, r_fast, term, trunc, _ = fast.step(actions)
        _, r_slow, term_slow, trunc_slow, _ = slow.step(actions)
        np.testing.assert_array_equal(term, term_slow)
        np.testing.assert_array_equal(trunc, trunc_slow)
        np.testing.assert_allclose(r_fast, r_slow, rtol=0, atol=1e-12)
        terminations += int(term.sum())
        truncations += int(trunc.sum())
    assert terminations >= 10
    assert truncations >= 10


def test_python_loop_infractions_match_the_wrapper_through_episode_ends():
    """Collisions, speeding, TTC holds that outlive their episode, and NEXT_STEP reset steps."""
    from rewardgym.wrappers.infractions import InfractionPenaltyVector

    n = 16
    fast = InfractionPenaltyVector(_Crashes(_short_episodes(n)), wrapper_overhead.TABLE)
    slow = wrapper_overhead.PythonLoopInfractions(_Crashes(_short_episodes(n)))
    fast.reset(seed=0)
    slow.reset(seed=0)
    rng = np.random.default_rng(0)
    since_ttc = np.full(n, 10**6)  # steps since the last TTC warning, per env
    pending = np.zeros(n, dtype=bool)
    events = dict.fromkeys(("collision", "truncation", "speeding", "ttc", "hold_cut_by_end",
                            "reset_step"), 0)
    for _ in range(300):
        actions = rng.integers(0, 3, n)
        _, r_fast, term, trunc, infos = fast.step(actions)
        _, r_slow, _, _, _ = slow.step(actions)
        np.testing.assert_allclose(r_fast, r_slow, rtol=0, atol=1e-12)
        live = ~pending
        since_ttc = np.where(live & infos["ttc"], 0, since_ttc + 1)
        done = term | trunc
        events["collision"] += int((infos["collision"] & live).sum())
        events["truncation"] += int(trunc.sum())
        events["speeding"] += int(((infos["speeding"] > 0) & live).sum())
        events["ttc"] += int((infos["ttc"] & live).sum())
        # A 50-step hold still running when its episode ends: the next episode must not get it.
        events["hold_cut_by_end"] += int((done & (since_ttc < 49)).sum())
        events["reset_step"] += int(pending.sum())
        assert np.all(r_fast[pending] == 0.0)
        since_ttc[done] = 10**6
        pending = done
    assert min(events.values()) >= 5, events


def test_python_loop_infractions_refuses_same_step_envs():
    import gymnasium as gym

    env = gym.make_vec("rewardgym/Empty-5x5-v0", 2, vectorization_mode="vector_entry_point",
                       autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    with pytest.raises(ValueError, match="NEXT_STEP"):
        wrapper_overhead.PythonLoopInfractions(env)
