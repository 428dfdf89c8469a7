"""The sweep runner: keys, specs, resume after a kill, config changes, failures, CI math, Ray."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from rewardgym.benchmarks import sweep, sweep_report
from rewardgym.benchmarks.sweep import SweepConfigError, SweepSpec

TOY = "rewardgym.benchmarks.sweep_examples:toy_run"
_RESOLVED_LR = [1]


def resolve_with_lr(config: dict) -> dict:
    """A ``resolve`` hook whose output the tests change behind the spec's back."""
    return {**config, "lr": _RESOLVED_LR[0]}


def toy_spec(**changes) -> dict:
    spec = {"name": "toy", "run": TOY, "axes": {"scale": [1.0, 2.0]},
            "fixed": {"noise": 0.5}, "seeds": 3, "metrics": ["score"]}
    return spec | changes


# --- keys and specs ------------------------------------------------------------------------

def test_run_key_is_pinned_and_ignores_key_order_and_tuple_vs_list():
    config = {"a": 1, "b": [1.5, "x"], "seed": 0}
    # Pinned: a key must not change between releases of the runner, or every relaunch reruns.
    assert sweep.run_key("m:f", config, "0.1.0") == "e83e3a19debd28d0"
    assert sweep.run_key("m:f", {"seed": 0, "b": (1.5, "x"), "a": 1}, "0.1.0") == \
        "e83e3a19debd28d0"


@pytest.mark.parametrize(("run", "config", "version"), [
    ("m:g", {"a": 1, "seed": 0}, "0.1.0"),
    ("m:f", {"a": 2, "seed": 0}, "0.1.0"),
    ("m:f", {"a": 1, "seed": 1}, "0.1.0"),
    ("m:f", {"a": 1.5, "seed": 0}, "0.1.0"),
    ("m:f", {"a": 1, "seed": 0, "extra": None}, "0.1.0"),
    ("m:f", {"a": 1, "seed": 0}, "0.2.0"),
])
def test_run_key_changes_with_every_part(run, config, version):
    assert sweep.run_key(run, config, version) != sweep.run_key("m:f", {"a": 1, "seed": 0},
                                                                "0.1.0")


def test_expand_resolves_the_full_grid_in_order():
    spec = SweepSpec.from_dict(toy_spec(axes={"scale": [1.0, 2.0], "mode": ["a", "b"]},
                                        seeds=[7, 9]))
    runs = sweep.expand(spec, "0.1.0")
    assert spec.size == len(runs) == 8
    assert [(r.coords["scale"], r.coords["mode"], r.seed) for r in runs[:4]] == [
        (1.0, "a", 7), (1.0, "a", 9), (1.0, "b", 7), (1.0, "b", 9)]
    assert runs[0].config == {"noise": 0.5, "scale": 1.0, "mode": "a", "seed": 7}
    assert len({r.key for r in runs}) == 8
    assert all(r.key == sweep.run_key(TOY, r.config, "0.1.0") for r in runs)


@pytest.mark.parametrize(("changes", "message"), [
    ({"axes": {"noise": [1]}}, "set twice"),
    ({"fixed": {"seed": 3}}, "set twice"),
    ({"axes": {"scale": []}}, "axes.scale must be a non-empty list"),
    ({"axes": {"scale": [1, 1]}}, "repeats a value"),
    ({"seeds": 0}, "seeds must be"),
    ({"seeds": [1, 1]}, "seeds must be"),
    ({"run": "not a ref"}, "run must be 'module:function'"),
    ({"name": "../up"}, "name must be a folder name"),
    ({"ci": "normal"}, "ci must be one of"),
    ({"plot_x": "lr"}, "plot_x must be one of the axes"),
    ({"resources": {"cpus": -1}}, r"resources\.cpus"),
    ({"fixed": {"x": float("nan")}}, "not JSON-able"),
    ({"budget": 3}, "unknown spec keys"),
])
def test_bad_specs_are_refused_naming_the_field(changes, message):
    with pytest.raises(SweepConfigError, match=message):
        SweepSpec.from_dict(toy_spec(**changes))


# --- running, resuming, refusing -----------------------------------------------------------

def test_inline_sweep_writes_rows_summary_and_relaunch_runs_nothing(tmp_path):
    result = sweep.run_sweep(toy_spec(), out=tmp_path, backend="inline", progress=False)
    assert result.ran == 6
    assert result.failed == 0
    rows = sweep.read_rows(tmp_path / "toy" / "results.jsonl")
    assert len(rows) == 6
    assert {r["status"] for r in rows} == {"ok"}
    assert all(r["versions"]["rewardgym"] and "machine" in r for r in rows)
    z = np.array([np.random.default_rng(s).standard_normal() for s in range(3)])
    for row in result.summary:
        scores = row["scale"] + 0.5 * z
        assert row["score"] == pytest.approx(scores.mean())
        half = sweep_report.t_quantile(0.975, 2) * scores.std(ddof=1) / math.sqrt(3)
        assert row["score_lo"] == pytest.approx(scores.mean() - half)
        assert row["score_hi"] == pytest.approx(scores.mean() + half)
    assert (tmp_path / "toy" / "summary.png").read_bytes()[:4] == b"\x89PNG"
    assert "| 2 | 3 | 0 |" in (tmp_path / "toy" / "summary.md").read_text()
    again = sweep.run_sweep(toy_spec(), out=tmp_path, backend="inline", progress=False)
    assert again.ran == 0
    assert len(sweep.read_rows(tmp_path / "toy" / "results.jsonl")) == 6


def test_adding_seeds_or_axis_values_extends_the_sweep(tmp_path):
    sweep.run_sweep(toy_spec(seeds=2), out=tmp_path, backend="inline", progress=False)
    more = sweep.run_sweep(toy_spec(seeds=3, axes={"scale": [1.0, 2.0, 4.0]}), out=tmp_path,
                           backend="inline", progress=False)
    assert more.ran == 9 - 4
    assert len(more.rows) == 9


def test_a_changed_config_under_the_same_folder_is_refused(tmp_path):
    sweep.run_sweep(toy_spec(), out=tmp_path, backend="inline", progress=False)
    with pytest.raises(SweepConfigError, match=r"different sweep config \(fixed: "):
        sweep.run_sweep(toy_spec(fixed={"noise": 0.25}), out=tmp_path, backend="inline",
                        progress=False)
    with pytest.raises(SweepConfigError, match="different sweep config"):
        sweep.run_sweep(toy_spec(run="rewardgym.benchmarks.sweep_examples:other"),
                        out=tmp_path, backend="inline", progress=False)
    assert len(sweep.read_rows(tmp_path / "toy" / "results.jsonl")) == 6  # nothing touched


def test_a_changed_resolved_config_for_a_done_grid_point_is_refused(tmp_path):
    spec = toy_spec(resolve=f"{__name__}:resolve_with_lr", seeds=1)
    _RESOLVED_LR[0] = 1
    first = sweep.run_sweep(spec, out=tmp_path, backend="inline", progress=False)
    assert first.rows[0]["config"]["lr"] == 1
    _RESOLVED_LR[0] = 2
    try:
        with pytest.raises(SweepConfigError, match="another resolved config"):
            sweep.run_sweep(spec, out=tmp_path, backend="inline", progress=False)
    finally:
        _RESOLVED_LR[0] = 1


def test_failed_runs_are_recorded_and_retried_by_the_next_launch(tmp_path, capsys):
    spec = toy_spec(axes={"fail": [False, True]}, seeds=1)
    result = sweep.run_sweep(spec, out=tmp_path, backend="inline", progress=False)
    failed = [r for r in result.rows if r["status"] == "failed"]
    assert len(failed) == result.failed == 1
    assert "RuntimeError: toy_run asked to fail" in failed[0]["error"]
    assert "| True | 0 | 1 | - |" in result.table.read_text()
    again = sweep.run_sweep(spec, out=tmp_path, backend="inline", progress=False)
    assert again.ran == 1  # only the failed one; the ok run is not repeated
    rows = sweep.read_rows(tmp_path / "toy" / "results.jsonl")
    assert [r["status"] for r in rows] == ["ok", "failed", "failed"]


def test_a_torn_last_line_is_cut_and_complete_rows_kept(tmp_path):
    path = tmp_path / "r.jsonl"
    sweep.append_row(path, {"key": "a", "status": "ok"})
    sweep.append_row(path, {"key": "b", "status": "ok"})
    with path.open("ab") as handle:
        handle.write(b'{"key": "c", "sta')
    assert [r["key"] for r in sweep.read_rows(path)] == ["a", "b"]
    assert path.read_bytes().endswith(b'"sta')  # reading alone changes nothing
    sweep.read_rows(path, repair=True)
    assert path.read_bytes().endswith(b"}\n")
    sweep.append_row(path, {"key": "c", "status": "ok"})
    assert [r["key"] for r in sweep.read_rows(path)] == ["a", "b", "c"]


def test_local_backend_retries_a_worker_that_died(tmp_path):
    spec = toy_spec(seeds=1, axes={"scale": [1.0]},
                    fixed={"noise": 0.0, "crash_once_dir": str(tmp_path / "crashes")})
    result = sweep.run_sweep(spec, out=tmp_path, workers=1, progress=False)
    (row,) = result.rows
    assert row["status"] == "ok"
    assert row["attempts"] == 2
    assert row["result"]["attempt"] == 2
    no_retry = sweep.run_sweep(toy_spec(name="again", seeds=1, axes={"scale": [3.0]}, fixed={
        "noise": 0.0, "crash_once_dir": str(tmp_path / "crashes2")}), out=tmp_path, workers=1,
        progress=False, retries=0)
    assert no_retry.rows[0]["status"] == "failed"
    assert "worker process died (exit code 3)" in no_retry.rows[0]["error"]


@pytest.mark.slow
def test_resume_after_killing_the_launcher_loses_and_duplicates_nothing(tmp_path):
    spec_path = tmp_path / "spec.yml"
    spec = toy_spec(name="killed", axes={"scale": [1.0, 2.0, 3.0, 4.0]}, seeds=2,
                    fixed={"noise": 0.5, "sleep_s": 0.4})
    spec_path.write_text(yaml.safe_dump(spec))
    command = [sys.executable, "-m", "rewardgym.benchmarks.sweep", str(spec_path),
               "--out", str(tmp_path), "--workers", "2", "--no-progress"]
    results = tmp_path / "killed" / "results.jsonl"
    launcher = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(sweep.read_rows(results)) < 2:
        time.sleep(0.05)
    launcher.send_signal(signal.SIGKILL)  # no cleanup: children in flight die with it
    launcher.wait()
    before = results.read_bytes()
    n_before = len(sweep.read_rows(results))
    assert 2 <= n_before < 8, "the launcher should be killed mid-sweep"
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    assert results.read_bytes().startswith(before.rsplit(b"\n", 1)[0])  # old rows untouched
    rows = sweep.read_rows(results)
    assert len(rows) == 8
    assert len({r["key"] for r in rows}) == 8
    assert {r["status"] for r in rows} == {"ok"}
    expected = {r.key for r in sweep.expand(SweepSpec.from_dict(spec))}
    assert {r["key"] for r in rows} == expected


def test_the_cli_runs_a_spec_file(tmp_path, capsys):
    from rewardgym.cli import main

    spec_path = tmp_path / "toy.yml"
    spec_path.write_text(yaml.safe_dump(toy_spec(seeds=2)))
    assert main(["sweep", str(spec_path), "--backend", "inline", "--out", str(tmp_path),
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "4 runs recorded (4 this launch, 0 failed)" in out
    assert "| scale | seeds | failed | score |" in out
    assert main(["sweep", str(tmp_path / "missing.yml"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err


# --- confidence intervals -----------------------------------------------------------------

@pytest.mark.parametrize(("p", "df", "expected"), [
    # Student t table values (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
    (0.975, 1, 12.706), (0.975, 2, 4.303), (0.975, 4, 2.776), (0.975, 9, 2.262),
    (0.975, 29, 2.045), (0.95, 5, 2.015), (0.995, 3, 5.841), (0.975, 100, 1.984),
])
def test_t_quantile_matches_the_tables(p, df, expected):
    assert sweep_report.t_quantile(p, df) == pytest.approx(expected, abs=6e-4)


def test_t_distribution_function_limits():
    assert sweep_report.t_cdf_two_sided(0.0, 5) == 0.0
    assert sweep_report.t_cdf_two_sided(1e9, 6) == pytest.approx(1.0)
    # df = 1 is Cauchy: P(|T| < 1) = 1/2
    assert sweep_report.t_cdf_two_sided(1.0, 1) == pytest.approx(0.5)


def test_t_interval_covers_the_true_mean_at_its_nominal_rate():
    rng = np.random.default_rng(1)
    samples = rng.normal(3.0, 2.0, size=(4000, 4))
    covered = 0
    for x in samples:
        _, lo, hi = sweep_report.confidence_interval(x)
        covered += lo <= 3.0 <= hi
    # 4000 trials at p = 0.95: sd 0.0034, so +-0.015 is > 4 sd
    assert abs(covered / 4000 - 0.95) < 0.015


def test_bootstrap_interval_is_seeded_narrower_than_t_and_collapses_on_constants():
    x = [1.0, 2.0, 4.0, 3.5, 2.5]
    a = sweep_report.confidence_interval(x, method="bootstrap")
    assert a == sweep_report.confidence_interval(x, method="bootstrap")
    t = sweep_report.confidence_interval(x, method="t")
    assert a[0] == t[0] == pytest.approx(2.6)
    assert t[1] < a[1] < a[0] < a[2] < t[2]  # percentile bootstrap is narrow at n = 5
    assert sweep_report.confidence_interval([2.0] * 4, method="bootstrap") == (2.0, 2.0, 2.0)
    assert sweep_report.confidence_interval([2.0]) == (2.0, None, None)
    with pytest.raises(ValueError, match="finite"):
        sweep_report.confidence_interval([1.0, math.inf])


def test_summary_drops_missing_metric_values_and_counts_them():
    rows = [{"coords": {"x": 1}, "seed": s, "status": "ok", "metrics": {"m": v}}
            for s, v in enumerate([1.0, None, 3.0])]
    rows.append({"coords": {"x": 1}, "seed": 9, "status": "failed", "metrics": {}})
    (summary,) = sweep_report.summarise(rows, ["x"], ["m"])
    assert summary["seeds"] == 3
    assert summary["failed"] == 1
    assert summary["m_n"] == 2
    assert summary["m"] == 2.0


# --- Ray ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_ray_backend_runs_a_sweep_and_retries_a_worker_that_died(tmp_path):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        spec = toy_spec(name="on_ray", seeds=2, axes={"scale": [1.0, 2.0]},
                        fixed={"noise": 0.0, "crash_once_dir": str(tmp_path / "crashes"),
                               "tag": "ray"}, retries=1, resources={"cpus": 1})
        result = sweep.run_sweep(spec, out=tmp_path, backend="ray", progress=False)
    finally:
        ray.shutdown()
    assert result.failed == 0
    assert len(result.rows) == 4
    assert {r["status"] for r in result.rows} == {"ok"}
    # every run's first attempt killed its worker; Ray reran it in a fresh worker
    assert all(r["result"]["attempt"] == 2 for r in result.rows)
    assert len(list((tmp_path / "crashes").iterdir())) == 4
    assert [row["score"] for row in result.summary] == [1.0, 2.0]
    assert os.getpid() not in {r["result"]["pid"] for r in result.rows}
    assert json.loads((tmp_path / "on_ray" / "sweep.json").read_text())["name"] == "on_ray"
