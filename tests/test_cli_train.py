"""``rewardgym train`` and ``rewardgym bench`` as a user types them: ids, errors, run folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from rewardgym.benchmarks import BENCHMARKS
from rewardgym.cli import main

TINY = ["--total-timesteps", "64", "--eval-episodes", "2", "--no-progress",
        "--set", "n_envs=2", "n_steps=32", "batch_size=64"]


def _cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.pop("COLUMNS", None)
    return subprocess.run([sys.executable, "-m", "rewardgym.cli", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _runs(root: Path, name: str) -> list[Path]:
    folder = root / "runs" / name
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


@pytest.mark.parametrize("env_id", ["MiniGrid-DoorKey-5x5-v0", "minigrid:MiniGrid-DoorKey-5x5-v0"])
def test_train_accepts_any_gymnasium_id(env_id, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", env_id, *TINY]) == 0
    (run,) = _runs(tmp_path, "MiniGrid-DoorKey-5x5-v0_ppo_seed0")
    result = json.loads((run / "result.json").read_text())
    assert (result["env_id"], result["num_timesteps"]) == ("MiniGrid-DoorKey-5x5-v0", 64)
    # The MiniGrid-* entry of ppo.yml wraps each sub-env so SB3 gets the image only.
    config = (run / "config.yml").read_text()
    assert "minigrid.wrappers:ImgObsWrapper" in config
    assert "PPO on MiniGrid-DoorKey-5x5-v0" in capsys.readouterr().out


def test_rerun_gets_a_fresh_folder_and_resume_continues_the_newest(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["train", "CartPole-v1", *TINY]
    assert main(argv) == 0
    assert main(argv) == 0  # the same command again: no "already has checkpoints" error
    first, second = _runs(tmp_path, "CartPole-v1_ppo_seed0")
    assert json.loads((second / "result.json").read_text())["resumed_from"] is None
    capsys.readouterr()
    assert main([*argv, "--resume", "--total-timesteps", "128"]) == 0
    assert len(_runs(tmp_path, "CartPole-v1_ppo_seed0")) == 2
    resumed = json.loads((second / "result.json").read_text())
    assert (resumed["resumed_from"], resumed["num_timesteps"]) == (64, 128)
    assert json.loads((first / "result.json").read_text())["num_timesteps"] == 64


def test_resume_on_a_fresh_log_dir_starts_the_run(tmp_path, capsys):
    argv = ["train", "CartPole-v1", *TINY, "--resume", "--log-dir", str(tmp_path / "dk")]
    assert main(argv) == 0
    assert "no checkpoint in" in capsys.readouterr().err
    run = tmp_path / "dk" / "CartPole-v1_ppo_seed0"
    assert json.loads((run / "result.json").read_text())["num_timesteps"] == 64
    assert main([*argv, "--total-timesteps", "128"]) == 0
    assert json.loads((run / "result.json").read_text())["resumed_from"] == 64
    # Without --resume a fixed --log-dir that has checkpoints is refused, not overwritten.
    assert main([*argv[:-3], "--log-dir", str(tmp_path / "dk")]) == 1
    assert "--resume" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["rewardgym/DoorKey-5x5-v0", "--set", "env_kwargs.obs_mode=bad"],
         "rejected env_kwargs {'obs_mode': 'bad'}: GridConfig.obs_mode"),
        (["rewardgym/DoorKey-5x5-v0", "--algo", "sac"],
         "algo 'sac' needs a Box action space, but rewardgym/DoorKey-5x5-v0 has Discrete(7)"),
        (["rewardgym/DoorKey-5x5-v0", "--set", "shaping_potential=grid_subgoal_distance"],
         "subgoal_distance_in_info=True"),
        (["No-Such-Env-v0"], "env id 'No-Such-Env-v0' is not registered"),
        (["nosuchmodule:Env-v0"], "cannot import module 'nosuchmodule'"),
        (["MiniGrid-DoorKey-5x5-v0", "--set", "env_wrappers=[]"],
         "observation key 'mission' is a MissionSpace space"),
    ],
)
def test_config_mistakes_fail_up_front_in_one_line(argv, expected, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", *argv, "--no-progress"]) == 2
    # On a cold numba cache, compile progress lines may come first; the error is one line.
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert expected in last
    assert last.startswith("error:")
    assert not (tmp_path / "runs").exists()  # nothing built, nothing written


@pytest.mark.slow
def test_console_script_errors_have_no_traceback_and_tables_are_not_cut(tmp_path):
    bad = _cli("train", "rewardgym/DoorKey-5x5-v0", "--set", "env_kwargs.obs_mode=bad",
               cwd=tmp_path)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    errors = [line for line in bad.stderr.splitlines()
              if "compil" not in line and "done in" not in line]
    assert errors == [bad.stderr.strip().splitlines()[-1]], bad.stderr
    ok = _cli("train", "CartPole-v1", *TINY, "--log-dir",
              "a_rather_long_folder_name_so_the_run_path_passes_eighty_columns", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    run = "a_rather_long_folder_name_so_the_run_path_passes_eighty_columns/CartPole-v1_ppo_seed0"
    assert run in ok.stdout  # whole, on one line, though stdout is a pipe


def test_bench_help_lists_every_benchmark(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in BENCHMARKS:
        assert name in out
    assert "Env-step throughput" in out  # the one-line summaries


def test_bench_passes_every_option_to_the_benchmark(monkeypatch):
    received = []
    fake = types.ModuleType("fake_benchmark")
    fake.main = lambda argv: received.append(list(argv)) or 0
    monkeypatch.setitem(sys.modules, "fake_benchmark", fake)
    monkeypatch.setitem(BENCHMARKS, "fake", "fake_benchmark")
    assert main(["bench", "fake", "--groups", "driving", "--quick", "--out", "x"]) == 0
    assert received == [["--groups", "driving", "--quick", "--out", "x"]]


@pytest.mark.slow
def test_demo_writes_a_table_and_a_plot_in_a_fresh_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REWARDGYM_SMOKE", "1")
    assert main(["demo", "--out", str(tmp_path)]) == 0
    assert main(["demo", "--out", str(tmp_path), "--timesteps", "2048"]) == 0
    first, second = sorted((tmp_path / "demo").iterdir())  # a fresh folder per run
    for folder in (first, second):
        assert {p.name for p in folder.iterdir()} >= {"demo.md", "demo.png", "demo.jsonl", "runs"}
    rows = [json.loads(line) for line in (first / "demo.jsonl").read_text().splitlines()]
    assert [(r["condition"], r["timesteps"]) for r in rows] == [("sparse", 4096), ("shaped", 4096)]
    assert "| sparse | none |" in (first / "demo.md").read_text()
    out = capsys.readouterr().out
    assert "sparse vs shaped reward" in out


def test_warmup_compiles_in_process_and_reports(monkeypatch, capsys):
    monkeypatch.setenv("REWARDGYM_SMOKE", "1")  # serial kernels only
    assert main(["warmup", "grid", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "grid serial:" in out
    assert "kernels ready in" in out
