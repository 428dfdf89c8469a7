import json

import pytest

from rewardgym.benchmarks import shaping_sparse


@pytest.mark.slow
def test_tiny_sweep_writes_results_and_relaunch_skips_finished_runs(tmp_path):
    kwargs = {"seeds": 1, "timesteps": 40960, "envs": ["rewardgym/DoorKey-5x5-v0"],
              "workers": 1, "conditions": ["sparse", "shaped"]}
    summary = shaping_sparse.run(True, str(tmp_path), **kwargs)
    assert [row["condition"] for row in summary] == ["sparse", "shaped"]
    lines = (tmp_path / "shaping_sparse.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 2
    assert {r["condition"] for r in rows} == {"sparse", "shaped"}
    assert all(r["curve"] and 0.0 <= r["eval_success"] <= 1.0 for r in rows)
    assert (tmp_path / "shaping_sparse.png").read_bytes()[:4] == b"\x89PNG"
    shaping_sparse.run(True, str(tmp_path), **kwargs)  # nothing left to run
    assert len((tmp_path / "shaping_sparse.jsonl").read_text().splitlines()) == 2


def test_run_keys_depend_on_every_setting():
    keys = {shaping_sparse.run_key(*args) for args in [
        ("a", "sparse", 0, 10), ("b", "sparse", 0, 10), ("a", "shaped", 0, 10),
        ("a", "sparse", 1, 10), ("a", "sparse", 0, 11)]}
    assert len(keys) == 5
