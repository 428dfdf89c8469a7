"""The throughput benchmark and its harness, on tiny budgets (no speed is asserted)."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numba
import numpy as np
import pytest

from rewardgym.benchmarks import BENCHMARKS, driving_cases, harness, load, throughput

TINY = ["--seconds", "0.05", "--repeats", "1", "--sizes", "1,4", "--sync-sizes", "2",
        "--shop-episodes", "20", "--drive-sizes", "2", "--no-print"]
TINY_LABELS = [
    "minigrid single (gym.make)",
    "rewardgym single (gym.make)",
    "rewardgym single (.unwrapped)",
    "rewardgym native n=1 (Dict obs)",
    "rewardgym native n=4 (Dict obs)",
    "rewardgym native n=4 (flat obs)",
    f"rewardgym native n=4 (Dict obs, {numba.config.NUMBA_NUM_THREADS} numba threads)",
    "minigrid sync n=2 (SyncVectorEnv)",
    "gymnasium native n=1 (CartPoleVectorEnv)",
    "gymnasium native n=4 (CartPoleVectorEnv)",
    "rewardgym single (WebShopText, random clicks)",
    "rewardgym single (WebShopText, resets only)",
    "rewardgym single (WebShopDiscrete, random valid slots)",
    "rewardgym single (WebShopDiscrete, rule policy)",
    "rewardgym single (WebShopDiscrete, resets only)",
    "rewardgym native n=2 (RouteDrive, vector obs)",
    *([f"rewardgym native n=2 (RouteDrive, vector obs, {numba.config.NUMBA_NUM_THREADS} numba "
       "threads)"] if numba.config.NUMBA_NUM_THREADS > 1 else []),
    "rewardgym native n=2 (RouteDrive, BEV)",
    "rewardgym single (RouteDrive, gym.make)",
    *(["highway-env single (highway-fast-v0, gym.make)",
       "highway-env single (intersection-v1, gym.make)"] if driving_cases.highway_available()
      else []),
]
MEMORY_LABELS = ("rewardgym single (WebShopText, random clicks)",
                 "rewardgym single (WebShopDiscrete, rule policy)")
ROW_TYPES = {
    "library": str, "env": str, "mode": str, "n": int, "variant": str, "label": str,
    "steps_per_s_wall": float, "steps_per_s_cpu": float, "us_per_call": float, "repeats": int,
    "seconds_per_repeat": float, "calls": int, "wall_rates": list, "load1": float,
    "bench": str, "timestamp_utc": str, "machine": dict, "versions": dict, "quick": bool,
    "settings": dict,
}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench")
    assert throughput.main([*TINY, "--out", str(out)]) == 0
    return out


def test_tiny_run_writes_one_typed_row_per_case(tiny_run: Path) -> None:
    rows = read_jsonl(tiny_run / "throughput.jsonl")
    assert [r["label"] for r in rows] == TINY_LABELS
    for row in rows:
        for key, kind in ROW_TYPES.items():
            assert isinstance(row[key], kind), (key, row[key])
        assert row["steps_per_s_wall"] > 0
        assert row["steps_per_s_cpu"] > 0
        assert row["us_per_call"] > 0
        assert row["calls"] >= 1
        assert row["repeats"] == 1
        assert row["mode"] in {"single", "sync", "native"}
        # wall rate = n * calls / seconds, so µs per call and rate must agree.
        implied = row["n"] * 1e6 / row["us_per_call"]
        assert implied == pytest.approx(row["steps_per_s_wall"], rel=1e-6)
        assert row["bench"] == "throughput"
        assert row["quick"] is False
        assert row["settings"]["sizes"] == [1, 4]


def test_shopping_rows_carry_a_flat_memory_check(tiny_run: Path) -> None:
    rows = {r["label"]: r for r in read_jsonl(tiny_run / "throughput.jsonl")}
    for label, row in rows.items():
        if label not in MEMORY_LABELS:
            assert "rss_before_mb" not in row
            continue
        assert row["memory_episodes"] >= 20
        assert row["rss_before_mb"] > 0
        assert row["rss_after_mb"] > 0
        assert row["rss_growth_mb"] == pytest.approx(row["rss_after_mb"] - row["rss_before_mb"])
        assert len(row["rss_samples_mb"]) == 10
    lines = throughput.headline(list(rows.values()))
    assert any(line.startswith("WebShopText (random clicks):") for line in lines)
    assert any(line.startswith("WebShopDiscrete (rule policy):") for line in lines)
    assert throughput.rss_mb() > 0


def test_rows_carry_machine_versions_commit_and_timestamp(tiny_run: Path) -> None:
    row = read_jsonl(tiny_run / "throughput.jsonl")[0]
    assert row["machine"]["nproc"] >= 1
    assert row["machine"]["cpu_model"]
    assert row["machine"]["platform"]
    assert set(row["versions"]) == {"python", "numpy", "numba", "gymnasium", "minigrid"}
    assert row["versions"]["gymnasium"] == gym.__version__
    assert row["git_commit"] is None or len(row["git_commit"]) == 40
    stamp = dt.datetime.fromisoformat(row["timestamp_utc"])
    assert stamp.utcoffset() == dt.timedelta(0)


def test_ratios_are_relative_to_minigrid_single(tiny_run: Path) -> None:
    rows = {r["label"]: r for r in read_jsonl(tiny_run / "throughput.jsonl")}
    ref = rows["minigrid single (gym.make)"]
    assert ref["ratio_vs_minigrid_single"] == pytest.approx(1.0)
    for row in rows.values():
        assert row["ratio_vs_minigrid_single"] == pytest.approx(
            row["steps_per_s_wall"] / ref["steps_per_s_wall"])
        assert row["ratio_vs_minigrid_single_cpu"] == pytest.approx(
            row["steps_per_s_cpu"] / ref["steps_per_s_cpu"])
    lines = throughput.headline(list(rows.values()))
    assert lines[0].startswith("rewardgym native vector env n=4 vs MiniGrid single env")
    assert lines[1].startswith("rewardgym single env vs MiniGrid single env")


def test_driving_rows_are_relative_to_highway_fast(tiny_run: Path) -> None:
    if not driving_cases.highway_available():
        pytest.skip("highway-env is not installed (pip install rewardgym[bench])")
    rows = [r for r in read_jsonl(tiny_run / "throughput.jsonl") if "ratio_vs_highway_fast" in r]
    ref = next(r for r in rows if r["env"] == "highway-fast-v0")
    assert ref["ratio_vs_highway_fast"] == pytest.approx(1.0)
    assert {r["env"] for r in rows} == {"rewardgym/RouteDrive-v1", "rewardgym/RouteDrive-BEV-v1",
                                        "highway-fast-v0", "intersection-v1"}
    for row in rows:
        assert row["ratio_vs_highway_fast"] == pytest.approx(
            row["steps_per_s_wall"] / ref["steps_per_s_wall"])
    lines = driving_cases.headline(rows)
    assert lines[0].startswith("RouteDrive native (vector obs, n=2")
    assert "highway-fast-v0 (wall)" in lines[0]


def test_markdown_has_one_table_line_per_row(tiny_run: Path) -> None:
    text = (tiny_run / "throughput.md").read_text()
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(TINY_LABELS)  # header, alignment, rows
    assert "steps/s (wall)" in table[0]
    assert table[1].count("---") == len(throughput.COLUMNS)
    body = table[2:]
    assert body[0].startswith("| minigrid | MiniGrid-DoorKey-8x8-v0 | single | 1 |")
    assert all(cells.count("|") == len(throughput.COLUMNS) + 1 for cells in body)


def test_plot_is_a_png(tiny_run: Path) -> None:
    data = (tiny_run / "throughput.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 1000


def test_jsonl_appends_and_groups_restrict_the_cases(tmp_path: Path) -> None:
    kwargs = {"seconds": 0.02, "repeats": 2, "sizes": [2], "groups": ["ours-native"],
              "verbose": False}
    first = throughput.run(True, tmp_path, **kwargs)
    second = throughput.run(True, tmp_path, **kwargs)
    assert [r["label"] for r in first] == ["rewardgym native n=2 (Dict obs)"]
    assert len(second) == 1
    assert first[0]["ratio_vs_minigrid_single"] is None  # no reference in this run
    assert first[0]["repeats"] == 2
    assert len(first[0]["wall_rates"]) == 2
    rows = read_jsonl(tmp_path / "throughput.jsonl")
    assert len(rows) == 2
    assert all(r["quick"] is True for r in rows)
    # The markdown and plot describe the latest run only.
    table = [ln for ln in (tmp_path / "throughput.md").read_text().splitlines()
             if ln.startswith("|")]
    assert len(table) == 3


@pytest.mark.parametrize("argv", [["--groups", "nope"], ["--sizes", "a,b"]])
def test_bad_arguments_exit_with_usage_error(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as err:
        throughput.main(argv)
    assert err.value.code == 2


def test_settings_validate_their_fields() -> None:
    with pytest.raises(ValueError, match="seconds"):
        throughput.Settings(seconds=0, repeats=1, warmup_s=0, sizes=(1,), sync_sizes=())
    with pytest.raises(ValueError, match="sizes"):
        throughput.Settings(seconds=1, repeats=1, warmup_s=0, sizes=(0,), sync_sizes=())
    with pytest.raises(ValueError, match="groups"):
        throughput.Settings(seconds=1, repeats=1, warmup_s=0, sizes=(1,), sync_sizes=(),
                            groups=("bogus",))
    with pytest.raises(ValueError, match="shop_episodes"):
        throughput.Settings(seconds=1, repeats=1, warmup_s=0, sizes=(1,), sync_sizes=(),
                            shop_episodes=-1)


def test_quick_preset_is_shorter_than_full() -> None:
    def budget(s: throughput.Settings) -> float:
        return len(throughput.build_cases(s)) * s.repeats * s.seconds

    assert budget(throughput.QUICK) < 60
    assert budget(throughput.QUICK) < budget(throughput.FULL)
    assert 4096 in throughput.QUICK.sizes
    assert 4096 in throughput.FULL.sizes
    assert throughput.FULL.shop_episodes == 100_000
    assert throughput.QUICK.shop_episodes < throughput.FULL.shop_episodes


def test_registry_loads_modules_lazily() -> None:
    assert BENCHMARKS["throughput"] == "rewardgym.benchmarks.throughput"
    module = load("throughput")
    assert module is throughput
    assert callable(module.main)
    assert callable(module.run)
    with pytest.raises(ValueError, match="unknown benchmark 'nope'"):
        load("nope")


# --- harness --------------------------------------------------------------------------------


class _EndsEvery3(gym.Env):
    """Terminates every third step; records actions and resets."""

    observation_space = gym.spaces.Discrete(1)
    action_space = gym.spaces.Discrete(5)

    def __init__(self) -> None:
        self.actions: list[Any] = []
        self.resets = 0
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[int, dict]:
        super().reset(seed=seed)
        self.resets += 1
        self.t = 0
        return 0, {}

    def step(self, action: Any) -> tuple[int, float, bool, bool, dict]:
        self.actions.append(action)
        self.t += 1
        return 0, 0.0, self.t == 3, False, {}


def _forbid_sampling(space: gym.Space, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("actions must be sampled before timing")

    monkeypatch.setattr(space, "sample", fail)


def test_single_stepper_cycles_presampled_actions_and_resets(
        monkeypatch: pytest.MonkeyPatch) -> None:
    env = _EndsEvery3()
    stepper = harness.single_stepper(env, pool=4, seed=1)
    assert env.resets == 1  # seeded reset at construction
    _forbid_sampling(env.action_space, monkeypatch)
    stepper(7)
    stepper(3)
    assert env.resets == 1 + 3  # after steps 3, 6 and 9
    assert len(env.actions) == 10
    assert all(type(a) is int for a in env.actions)
    assert env.actions[4:8] == env.actions[:4]
    assert env.actions[8:] == env.actions[:2]
    assert stepper.steps_per_call == 1


def test_vector_stepper_cycles_presampled_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    env = gym.make_vec("CartPole-v1", num_envs=3, vectorization_mode="vector_entry_point")
    seen: list[np.ndarray] = []
    step = env.step
    monkeypatch.setattr(env, "step", lambda a: seen.append(np.array(a)) or step(a))
    stepper = harness.vector_stepper(env, pool=2, seed=0)
    _forbid_sampling(env.action_space, monkeypatch)
    stepper(5)
    assert stepper.steps_per_call == 3
    assert len(seen) == 5
    np.testing.assert_array_equal(seen[0], seen[2])
    np.testing.assert_array_equal(seen[1], seen[3])


class _Sleeper:
    """Sleeps 1 ms per call, so wall time outruns CPU time."""

    steps_per_call = 8

    def __init__(self, log: list[str] | None = None, name: str = "") -> None:
        self.calls = 0
        self.log, self.name = log, name

    def __call__(self, calls: int) -> None:
        if self.log is not None:
            self.log.append(self.name)
        self.calls += calls
        time.sleep(0.001 * calls)


def test_measure_counts_steps_and_separates_wall_from_cpu() -> None:
    sleeper = _Sleeper()
    m = harness.measure(sleeper, seconds=0.03, chunk=2)
    assert m.wall_s >= 0.03
    assert m.calls == sleeper.calls
    assert m.calls % 2 == 0
    assert m.steps == 8 * m.calls
    assert m.wall_rate == pytest.approx(m.steps / m.wall_s)
    assert m.us_per_call == pytest.approx(1e6 * m.wall_s / m.calls)
    assert m.cpu_s < m.wall_s / 2  # sleeping costs wall time, not CPU time
    assert m.cpu_rate > m.wall_rate


def test_with_numba_threads_limits_threads_during_calls_only() -> None:
    seen: list[int] = []

    class Probe:
        steps_per_call = 5

        def __call__(self, calls: int) -> None:
            seen.append(numba.get_num_threads())

    before = numba.get_num_threads()
    stepper = harness.with_numba_threads(Probe(), 1)
    stepper(3)
    assert seen == [1]
    assert stepper.steps_per_call == 5
    assert numba.get_num_threads() == before


def test_run_interleaved_alternates_the_order_of_rounds() -> None:
    log: list[str] = []
    steppers = {name: _Sleeper(log, name) for name in ("a", "b", "c")}
    out = harness.run_interleaved(steppers, seconds=0.005, repeats=3, warmup_s=0.002,
                                  progress=log.append)
    assert list(out) == ["a", "b", "c"]
    assert all(len(s.measurements) == 3 for s in out.values())
    # Split the call log at the progress messages; collapse consecutive calls of one stepper.
    phases: dict[str, list[str]] = {}
    current: list[str] = []
    for entry in log:
        if len(entry) > 1:
            current = phases.setdefault(entry, [])
        elif current[-1:] != [entry]:
            current.append(entry)
    assert phases == {
        "warm-up a": ["a"], "warm-up b": ["b"], "warm-up c": ["c"],
        "round 1/3": ["a", "b", "c"], "round 2/3": ["c", "b", "a"], "round 3/3": ["a", "b", "c"],
    }
    summary = out["a"]
    rates = sorted(m.wall_rate for m in summary.measurements)
    assert summary.wall_rate == pytest.approx(rates[1])  # the median


def test_write_markdown_and_formatters(tmp_path: Path) -> None:
    rows = [{"name": "x", "rate": 1234567.8, "ratio": 2.0}, {"name": "y", "rate": None,
                                                              "ratio": float("nan")}]
    cols = [harness.Column("name", "name"), harness.Column("rate", "rate", harness.fmt_rate),
            harness.Column("ratio", "ratio", harness.fmt_ratio)]
    path = harness.write_markdown(tmp_path / "t.md", rows, cols, title="T", notes=["note"])
    lines = path.read_text().splitlines()
    assert lines[0] == "# T"
    assert "note" in lines
    table = [ln for ln in lines if ln.startswith("|")]
    assert table == ["| name | rate | ratio |", "|---|---:|---:|", "| x | 1,234,568 | 2.0x |",
                     "| y | - | - |"]


def test_record_appends_metadata_and_converts_numpy_scalars(tmp_path: Path) -> None:
    harness.record("b", [{"v": np.float32(1.5), "n": np.int64(3)}], tmp_path, extra=1)
    harness.record("b", [{"v": 2.0, "n": 4}], tmp_path)
    rows = read_jsonl(tmp_path / "b.jsonl")
    assert [(r["v"], r["n"]) for r in rows] == [(1.5, 3), (2.0, 4)]
    assert rows[0]["extra"] == 1
    assert "extra" not in rows[1]
    assert rows[0]["bench"] == "b"
    with pytest.raises(TypeError, match="cannot write"):
        harness.record("b", [{"v": object()}], tmp_path)


def test_git_commit_tolerates_a_folder_outside_git(tmp_path: Path) -> None:
    assert harness.git_commit(tmp_path) is None
