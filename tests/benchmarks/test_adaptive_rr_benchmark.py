"""The adaptive replay ratio study on a tiny budget: plumbing, files and resume (no claims)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rewardgym.benchmarks import BENCHMARKS, adaptive_rr

TINY = {"timesteps": 300, "learning_starts": 100, "check_interval": 100, "probe_interval": 50,
        "window": 2, "probe_batch_size": 64, "net": 16, "batch_size": 32, "eval_episodes": 1}


def test_overrides_set_the_three_conditions():
    config = {**adaptive_rr.FULL, "task": "ant_goal", "seed": 1}
    low = adaptive_rr.overrides_for({**config, "condition": "fixed_low"})
    high = adaptive_rr.overrides_for({**config, "condition": "fixed_high"})
    adaptive = adaptive_rr.overrides_for({**config, "condition": "adaptive"})
    assert {"train_freq=2", "gradient_steps=1"} <= set(low)
    assert {"train_freq=1", "gradient_steps=2"} <= set(high)
    assert "adaptive_rr.enabled=true" in adaptive
    assert not any(o.startswith("train_freq") for o in adaptive)
    shared = {f"total_timesteps={adaptive_rr.FULL['timesteps']}", "seed=1",
              f"policy_kwargs={{net_arch: [{adaptive_rr.FULL['net']}, {adaptive_rr.FULL['net']}]}}"}
    assert shared <= set(low) & set(high) & set(adaptive)


def test_spec_is_a_sweep_over_tasks_and_conditions():
    study = adaptive_rr.spec(False)
    assert study["axes"] == {"task": list(adaptive_rr.DEFAULT_TASKS),
                             "condition": list(adaptive_rr.CONDITIONS)}
    assert study["seeds"] == 3
    assert study["fixed"]["timesteps"] == adaptive_rr.FULL["timesteps"]
    assert study["run"] == "rewardgym.benchmarks.adaptive_rr:run_one"
    with pytest.raises(ValueError, match="unknown settings"):
        adaptive_rr.spec(True, settings={"steps": 5})
    with pytest.raises(ValueError, match="walker"):
        adaptive_rr.spec(True, tasks=["walker"])


@pytest.mark.slow
def test_smoke_study_writes_table_curves_reports_and_resumes(tmp_path: Path):
    assert BENCHMARKS["adaptive_rr"] == "rewardgym.benchmarks.adaptive_rr"
    kwargs = {"tasks": ["pendulum"], "settings": TINY, "backend": "inline"}
    summary = adaptive_rr.run(True, str(tmp_path), **kwargs)
    assert [row["condition"] for row in summary] == list(adaptive_rr.CONDITIONS)
    folder = tmp_path / "adaptive_rr_quick"
    rows = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
    assert [r["status"] for r in rows] == ["ok"] * 3
    updates = {r["result"]["condition"]: r["result"]["n_updates"] for r in rows}
    # the last probe is at 251: (251 - 100) // 2 updates at RR 0.5, (251 - 100) * 2 at RR 2
    assert updates["fixed_low"] == 75
    assert updates["fixed_high"] == 300
    assert 75 <= updates["adaptive"] <= 300
    for row in rows:
        result = row["result"]
        assert result["timesteps"] == 300
        assert 0.0 < result["final_fau_critic"] < 1.0
    reports = sorted(folder.glob("runs/*/plasticity.png"))
    assert len(reports) == 3
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in reports)
    assert (folder / "curves.png").read_bytes()[:4] == b"\x89PNG"
    table = (folder / "table.md").read_text()
    assert "fixed_high" in table
    assert "final_fau_critic" in table
    adaptive_rr.run(True, str(tmp_path), **kwargs)  # finished: nothing is trained again
    assert len((folder / "results.jsonl").read_text().splitlines()) == 3


def test_set_values_parse_as_numbers():
    # YAML 1.1 reads "1e-3" as a string; a study setting must come out a float
    assert adaptive_rr._setting("1e-3") == pytest.approx(1e-3)
    assert adaptive_rr._setting("8000") == 8000
    assert isinstance(adaptive_rr._setting("8000"), int)
    assert adaptive_rr._setting("true") is True
