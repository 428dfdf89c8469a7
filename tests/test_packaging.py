"""The package installs as one ``rewardgym`` namespace, from a wheel as well as editable."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_IMPORT_CHECK = """
import sys, gymnasium as gym, rewardgym, rewardgym.envs, rewardgym.agents, rewardgym.wrappers
import rewardgym.benchmarks
site = sys.argv[1]
for module in (rewardgym, rewardgym.envs, rewardgym.agents, rewardgym.wrappers):
    assert module.__file__.startswith(site), (module.__name__, module.__file__)
env = gym.make("rewardgym/DoorKey-5x5-v0")
obs, info = env.reset(seed=0)
print("ok", env.spec.id, info["mission"])
"""


@pytest.mark.slow
def test_wheel_installs_one_namespace_and_works(tmp_path):
    wheel_dir, site = tmp_path / "wheels", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheel_dir), str(ROOT)], check=True)
    (wheel,) = wheel_dir.glob("rewardgym-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert {n for n in top_level if not n.endswith(".dist-info")} == {"rewardgym"}
    assert "rewardgym/envs/grid/kernels.py" in names
    assert "rewardgym/agents/configs/ppo.yml" in names
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(site), str(wheel)], check=True)
    # Packaging is under test, not the JIT: pure-Python kernels skip a minute of compiling.
    env = {**os.environ, "PYTHONPATH": str(site), "NUMBA_DISABLE_JIT": "1"}
    out = subprocess.run([sys.executable, "-c", _IMPORT_CHECK, str(site)], cwd=tmp_path,
                         env=env, check=True, capture_output=True, text=True).stdout
    assert out.startswith("ok rewardgym/DoorKey-5x5-v0")


def test_every_source_package_is_declared():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = set(config["packages"])
    mapping = config["package-dir"]
    found = set()
    for package, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((package, *rel)))
    assert found == declared
