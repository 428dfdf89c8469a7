"""benchmarks/llm_rewards.py: arms and provenance of the learning comparison; a tiny sweep."""

import json

import numpy as np
import pytest

from rewardgym.agents.llm_train import PPO_DEFAULTS
from rewardgym.benchmarks import BENCHMARKS
from rewardgym.benchmarks.llm_rewards import (
    PROGRAMS,
    generated_programs,
    parse_ppo_overrides,
    ppo_settings,
    resolve_arm,
    run,
    run_learning,
)


def test_registered():
    assert BENCHMARKS["llm_rewards"] == "rewardgym.benchmarks.llm_rewards"


def test_arms_from_an_archive_carry_provenance(tmp_path):
    (tmp_path / "programs").mkdir()
    (tmp_path / "programs" / "r0a0c1.py").write_text("def compute_reward(): pass")
    (tmp_path / "manifest.json").write_text(json.dumps({
        "env_id": "rewardgym/AntLieDown-v1", "backend": "openai-compat:http://x/v1",
        "model": "m", "card_hash": "ab" * 32}))
    arms = generated_programs("rewardgym/AntLieDown-v1", str(tmp_path))
    assert list(arms) == ["generated:r0a0c1"]
    assert arms["generated:r0a0c1"]["provenance"].startswith("openai-compat:http://x/v1 / m / "
                                                             "r0a0c1 / card abab")
    # A program the generate step marked as a copy of the prompt's one-shot example says so.
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    (tmp_path / "manifest.json").write_text(json.dumps({**manifest,
                                                        "example_copies": ["r0a0c1"]}))
    copied = generated_programs("rewardgym/AntLieDown-v1", str(tmp_path))["generated:r0a0c1"]
    assert copied["provenance"].endswith("r0a0c1 / card abab" + "ab" * 4 + " / a verbatim copy "
                                         "of the prompt's one-shot example (another task)")
    # The same program twice in an archive (a small model copying its example) is one arm.
    (tmp_path / "programs" / "r0a0c2.py").write_text("def compute_reward(): pass")
    twice = generated_programs("rewardgym/AntLieDown-v1", str(tmp_path))
    assert list(twice) == ["generated:r0a0c1"]
    assert twice["generated:r0a0c1"]["provenance"].endswith("(another task) (= r0a0c2, identical)")
    (tmp_path / "programs" / "r0a0c2.py").unlink()
    other = generated_programs("rewardgym/DoorKey-8x8-v0", str(tmp_path))
    assert other["generated:example"]["provenance"] == \
        "hand-written example (no archive for this env)"
    # An archive whose programs all failed the checker: the example stands in, and says why.
    failed = tmp_path / "failed"
    (failed / "programs").mkdir(parents=True)
    (failed / "manifest.json").write_text(json.dumps({
        "env_id": "rewardgym/DoorKey-8x8-v0", "model": "tiny", "card_hash": "cd" * 32}))
    (failed / "candidates.jsonl").write_text('{"id": "c0"}\n{"id": "c1"}\n')
    stand_in = generated_programs("rewardgym/DoorKey-8x8-v0", [str(tmp_path), str(failed)])
    assert stand_in["generated:example"]["provenance"] == \
        "hand-written example (tiny: 0 of 2 programs passed the checker (failed))"
    example = generated_programs("rewardgym/DoorKey-5x5-v0", None)
    assert example["generated:example"]["program"] == PROGRAMS["rewardgym/DoorKey-8x8-v0"]
    assert "hand-written" in example["generated:example"]["provenance"]
    config = resolve_arm({"arm": "generated:r0a0c1", "programs": arms, "seed": 0})
    assert config["reward"] == "program"
    assert config["program"] == "def compute_reward(): pass"
    assert resolve_arm({"arm": "sparse", "programs": arms})["reward"] == "sparse"


@pytest.mark.slow
def test_learning_sweep_runs_every_arm(tmp_path):
    rows = run_learning(True, str(tmp_path), envs=["rewardgym/DoorKey-5x5-v0"], seeds=1,
                        timesteps=256, backend="inline")
    assert [r["arm"] for r in rows] == ["sparse", "expert", "generated:example"]
    assert all(0.0 <= r["success_rate"] <= 1.0 for r in rows)
    assert rows[2]["provenance"] == "hand-written example (no --archive)"
    # No preset for DoorKey-5x5: the trainer's defaults, in every row.
    assert all(r["ppo"] == PPO_DEFAULTS for r in rows)


def test_ppo_presets_and_overrides():
    doorkey = ppo_settings("rewardgym/DoorKey-8x8-v0")
    # The shaping study's settings (README "Shaping on sparse grids").
    assert doorkey == {"n_envs": 32, "n_steps": 128, "batch_size": 1024, "n_epochs": 4,
                       "learning_rate": 5e-4, "ent_coef": 0.01}
    assert ppo_settings("rewardgym/AntLieDown-v1") == PPO_DEFAULTS
    assert ppo_settings("rewardgym/AntLieDown-v1", {"n_envs": 8})["n_envs"] == 8
    assert parse_ppo_overrides(["n_envs=16", "learning_rate=1e-3", "expert_shaping_scale=1"]) \
        == {"n_envs": 16, "learning_rate": 1e-3, "expert_shaping_scale": 1}
    with pytest.raises(ValueError, match=r"unknown PPO setting\(s\) \['lr'\]"):
        parse_ppo_overrides(["lr=1e-3"])
    with pytest.raises(ValueError, match="expected KEY=VALUE, got 'n_envs'"):
        parse_ppo_overrides(["n_envs"])
    with pytest.raises(ValueError, match="n_envs needs a number, got 'many'"):
        parse_ppo_overrides(["n_envs=many"])


def test_report_table_shows_ppo_settings():
    from rewardgym.benchmarks.llm_rewards import _ppo_text

    assert _ppo_text({**ppo_settings("rewardgym/DoorKey-8x8-v0"), "expert_shaping_scale": 0.1}) \
        == "32 envs, n_steps 128, batch 1024, 4 epochs, lr 0.0005, ent 0.01, shaping scale 0.1"


def test_unknown_arm_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"arms must be among .*\['bogus'\]"):
        run_learning(True, str(tmp_path), envs=["rewardgym/DoorKey-5x5-v0"], arms=["bogus"])


def test_report_merges_the_sweep_folders_of_an_env(tmp_path):
    from rewardgym.benchmarks.llm_rewards import learning_report

    env = "rewardgym/DoorKey-5x5-v0"

    def write(folder, arm, rates):
        path = tmp_path / folder
        path.mkdir()
        rows = [{"status": "ok", "coords": {"arm": arm}, "config": {"provenance": f"p-{arm}"},
                 "result": {"success_rate": r, "base_return": r / 2, "timesteps": 64,
                            "success_series": [0.0, r], "base_return_series": [0.0, r]}}
                for r in rates]
        rows.append({"status": "failed", "coords": {"arm": arm}, "config": {}})
        (path / "results.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")

    write("llm_learning_DoorKey-5x5-v0_sparse-expert", "expert", [1.0, 0.5])
    write("llm_learning_DoorKey-5x5-v0_generated", "generated:c0", [0.25])
    write("llm_learning_DoorKey-6x6-v0_generated", "generated:other", [0.0])
    table = learning_report(str(tmp_path), [env]).read_text()
    rows = [line for line in table.splitlines() if line.startswith(f"| {env} |")]
    # Both folders of this env, ok runs only, mean over seeds; the other env's folder is left out.
    # Runs that recorded no PPO settings (before they were recorded) show "-".
    # The training success column is the last of the ten chunks (here the second entry).
    # Runs without a sampled evaluation (recorded since) show "-" there too.
    assert rows == [f"| {env} | expert | 2 | 0.75 [-2.43, 3.93] | - | 0.75 [-2.43, 3.93] | "
                    "0.375 [-1.21, 1.96] | 64 | - | p-expert |",
                    f"| {env} | generated:c0 | 1 | 0.25 | - | 0.25 | 0.125 | 64 | - | "
                    "p-generated:c0 |"]
    assert (tmp_path / "llm_learning.png").exists()


@pytest.mark.slow
def test_recorded_smollm2_programs_replay_offline(tmp_path):
    """The README's measurement, replayed strictly from the committed cassettes: with the small
    card, the signature prefill and the stop at the fence SmolLM2-135M passed 4 of 6, and every
    passing program is a verbatim copy of the one-shot example (another task)."""
    from pathlib import Path

    from rewardgym.benchmarks.llm_rewards import generate_archives

    tapes = Path(__file__).resolve().parents[2] / "docs" / "llm_learning" / "cassettes"
    v1 = ("rewardgym/HalfCheetahBackward-v1", "rewardgym/AntLieDown-v1",
          "rewardgym/DoorKey-8x8-v0")  # recorded before AntLieDown-v2 existed
    archives = generate_archives(str(tmp_path), v1, backend="replay", cassettes=str(tapes), k=2,
                                 temperature=0.2, max_tokens=200, max_repairs=1, style="small",
                                 prefill=True, stop_at_fence=True, quote_signature=True)
    passed, copies = {}, {}
    for env_id, folder in archives.items():
        manifest = json.loads((folder / "manifest.json").read_text())
        passed[env_id] = sorted(p.stem for p in (folder / "programs").glob("*.py"))
        copies[env_id] = manifest["example_copies"]
    assert passed == {"rewardgym/HalfCheetahBackward-v1": ["c1"],
                      "rewardgym/AntLieDown-v1": ["c1"],
                      "rewardgym/DoorKey-8x8-v0": ["c0", "c1"]}
    assert copies == passed
    # AntLieDown-v2's card (the timed test) was recorded later, the same way: the same outcome.
    v2 = generate_archives(str(tmp_path / "v2"), ("rewardgym/AntLieDown-v2",), backend="replay",
                           cassettes=str(tapes), k=2, temperature=0.2, max_tokens=200,
                           max_repairs=1, style="small", prefill=True, stop_at_fence=True,
                           quote_signature=True)["rewardgym/AntLieDown-v2"]
    manifest = json.loads((v2 / "manifest.json").read_text())
    assert sorted(p.stem for p in (v2 / "programs").glob("*.py")) == ["c1"]
    assert manifest["example_copies"] == ["c1"]


def test_overhead_run_times_every_case(tmp_path):
    rows = run(True, str(tmp_path), n=4, envs=("rewardgym/DoorKey-8x8-v0",), seconds=0.05,
               repeats=1)
    assert [r["case"] for r in rows] == ["bare env", "LLMRewardVector (numba)",
                                         "LLMRewardVector (Python fallback)",
                                         "LLMRewardVector (numba), no BFS features"]
    assert all(r["us_per_step"] > 0 and r["reader_us"] > 0 for r in rows)
    assert rows[1]["speedup_vs_python"] is not None
    assert "DoorKey-8x8" in (tmp_path / "llm_rewards_overhead.md").read_text()
    with pytest.raises(ValueError, match="no overhead program"):
        run(True, str(tmp_path), n=4, envs=("rewardgym/Empty-5x5-v0",))


def test_learning_curves_are_drawn_over_tenths_of_the_steps():
    from rewardgym.benchmarks.llm_rewards import _curve

    runs = [{"timesteps": 1000, "success_series": [0.0, 1.0],
             "success_by_step": [0.0, None, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]},
            {"timesteps": 1000, "success_series": [0.0, 0.5],
             "success_by_step": [0.0, None, None, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0]}]
    x, y = _curve(runs, "success_series")
    assert x.tolist() == [100.0 * k for k in range(1, 11)]
    assert y[0] == 0.0
    assert np.isnan(y[1])  # no episode of either run ended there: a gap, not a zero
    assert y[2] == 1.0  # only the first run's episodes ended there
    assert y[3] == pytest.approx(0.75)
    assert y[9] == 1.0
    # Runs from before the by-step series: episode chunks at even tenths of the budget.
    old = [{"timesteps": 1000, "success_series": [0.0, 1.0]}]
    x, y = _curve(old, "success_series")
    assert x.tolist() == [500.0, 1000.0]
    assert y.tolist() == [0.0, 1.0]
