import subprocess
import sys

from rewardgym.cli import main
from tests.conftest import ALL_IDS


def test_list_prints_every_env_with_its_spaces(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for env_id in ALL_IDS:
        assert env_id in out
    assert "Discrete(7)" in out
    assert "rewardgym/RouteDriveIntersection-v1" in out
    assert "car_0, car_1, car_2, car_3" in out


def test_unknown_benchmark_is_refused_with_choices(capsys):
    assert main(["bench", "no-such-benchmark"]) == 2
    err = capsys.readouterr().err
    assert "no-such-benchmark" in err
    assert "throughput" in err


def test_console_script_help_names_subcommands():
    out = subprocess.run([sys.executable, "-m", "rewardgym.cli", "--help"], check=True,
                         capture_output=True, text=True).stdout
    for command in ("list", "train", "bench", "demo"):
        assert command in out


def test_every_registered_benchmark_has_main_and_run():
    import importlib

    from rewardgym.benchmarks import BENCHMARKS

    assert set(BENCHMARKS) >= {"throughput", "wrapper_overhead", "shaping_sparse",
                               "webshop_baselines"}
    for path in BENCHMARKS.values():
        module = importlib.import_module(path)
        assert callable(module.main)
        assert callable(module.run)
