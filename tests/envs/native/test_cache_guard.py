"""The compile-cache guard: an edit to any source a kernel can inline recompiles that kernel."""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rewardgym
import rewardgym.agents
import rewardgym.benchmarks
import rewardgym.envs
import rewardgym.wrappers
from rewardgym.envs.native import cache_guard
from rewardgym.envs.native.cache_guard import STAMP, invalidate_if_sources_changed

NUMBA_PACKAGES = ["rewardgym.envs.native", "rewardgym.envs.grid", "rewardgym.envs.driving",
                  "rewardgym.envs.locomotion", "rewardgym.wrappers",
                  "rewardgym.wrappers.llm"]


def _package_dirs() -> dict[str, Path]:
    """Every rewardgym package (dotted name -> folder), as installed."""
    out = {}
    for top in (rewardgym, rewardgym.envs, rewardgym.wrappers, rewardgym.agents,
                rewardgym.benchmarks):
        root = Path(top.__file__).parent
        for init in root.rglob("__init__.py"):
            rel = init.parent.relative_to(root).parts
            if "__pycache__" not in rel:
                out[".".join((top.__name__, *rel))] = init.parent
    return out


def _caches_kernels(source: Path) -> bool:
    """Whether ``source`` jits with ``cache=True`` (in code: text in strings does not count)."""
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("njit", "jit") and any(
                k.arg == "cache" and getattr(k.value, "value", None) is True
                for k in node.keywords):
            return True
    return False


def test_every_package_with_cached_kernels_calls_the_guard():
    # (wrappers/llm writes each checked program to its own file, header included, so numba's
    # own per-file stamp covers it; its runtime only holds the template as text.)
    with_kernels = sorted(name for name, folder in _package_dirs().items()
                          if any(_caches_kernels(p) for p in folder.glob("*.py")))
    assert with_kernels == sorted(NUMBA_PACKAGES)
    for name in with_kernels:
        init = _package_dirs()[name] / "__init__.py"
        tree = ast.parse(init.read_text())
        calls = [node for node in tree.body if isinstance(node, ast.Expr)
                 and isinstance(node.value, ast.Call)
                 and getattr(node.value.func, "id", "") == "invalidate_if_sources_changed"]
        assert len(calls) == 1, f"{init} does not call the cache guard"
        assert ast.unparse(calls[0].value.args[0]) == "__name__"
        # The call comes before any kernel module of the package is imported.
        first_own_import = min(node.lineno for node in tree.body
                               if isinstance(node, ast.ImportFrom)
                               and (node.module or "").startswith(name)
                               and not (node.module or "").endswith(".cache_guard"))
        assert calls[0].lineno < first_own_import


def test_the_closure_holds_every_inlined_source():
    grid = cache_guard.reachable_sources("rewardgym.envs.grid")
    drive = cache_guard.reachable_sources("rewardgym.envs.driving")
    loco = cache_guard.reachable_sources("rewardgym.envs.locomotion")
    wrappers = cache_guard.reachable_sources("rewardgym.wrappers")
    # The random streams and the autoreset codes are inlined into grid and driving kernels.
    for shared in ("rewardgym.envs.native.rng", "rewardgym.envs.native.shell"):
        assert shared in grid
        assert shared in drive
    assert "rewardgym.envs.native.shell" in loco
    assert "rewardgym.envs.grid.layouts" in grid
    assert "rewardgym.wrappers.potential" in wrappers
    # Nothing from another family: an edit to driving never recompiles the grid.
    assert not any(name.startswith("rewardgym.envs.driving") for name in grid)
    assert not any(name.startswith("rewardgym.envs.grid") for name in drive)
    for sources in (grid, drive, loco, wrappers):
        assert all(path.is_file() and path.suffix == ".py" for path in sources.values())


def test_module_file_resolves_packages_modules_and_relative_imports(tmp_path):
    native = Path(rewardgym.envs.__file__).parent / "native"
    assert cache_guard.module_file("rewardgym.envs.native") == native / "__init__.py"
    assert cache_guard.module_file("rewardgym.envs.native.rng") == native / "rng.py"
    assert cache_guard.module_file("rewardgym.envs.native.NEXT_STEP") is None
    assert cache_guard.module_file("numpy.random") is None
    source = tmp_path / "mod.py"
    source.write_text("from . import rng\nfrom .. import grid\ndef f():\n    import numba\n"
                      "    from .shell import NEXT_STEP\n")
    stat = source.stat()
    names = cache_guard._imported_modules(source, "rewardgym.envs.native.mod",
                                          (stat.st_mtime_ns, stat.st_size))
    assert set(names) == {"rewardgym.envs.native", "rewardgym.envs.native.rng", "rewardgym.envs",
                          "rewardgym.envs.grid", "numba", "rewardgym.envs.native.shell",
                          "rewardgym.envs.native.shell.NEXT_STEP"}


def test_a_stale_stamp_drops_the_cache_and_a_fresh_one_keeps_it(tmp_path, monkeypatch):
    import numba

    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path))
    cache, _ = cache_guard.cache_folders(Path(rewardgym.envs.__file__).parent / "grid")
    cache.mkdir(parents=True)
    (cache / "kernels.f-1.py311.nbi").write_text("stale")
    assert invalidate_if_sources_changed("rewardgym.envs.grid")  # no stamp yet: dropped
    assert not list(cache.glob("*.nbi"))
    (cache / "kernels.f-1.py311.nbc").write_text("fresh")
    assert not invalidate_if_sources_changed("rewardgym.envs.grid")  # same sources: kept
    assert list(cache.glob("*.nbc"))
    (cache / STAMP).write_text("an older digest")
    assert invalidate_if_sources_changed("rewardgym.envs.grid")
    assert not list(cache.glob("*.nbc"))


# One small kernel per numba package, each calling (and so inlining) what its package shares.
_PROBE = """
import json, sys
import numpy as np
from rewardgym.envs.driving import kernels
from rewardgym.envs.grid import constants, layouts
from rewardgym.envs.locomotion import tasks
from rewardgym.envs.native import rng
from rewardgym.wrappers.potential import shape_rewards

def stream():
    return np.array([rng.seed_to_state(7)], dtype=np.uint64)

mem = np.zeros((1, 8))
ones = np.ones(1)
no = np.zeros(1, dtype=np.bool_)
out = {
    "grid": int(layouts._random_color(stream(), 0)),
    "grid_expected": int(constants.SORTED_COLOR_CODES[rng.randint(stream(), 0, 0, 6)]),
    "driving": float(kernels.uniform(stream(), 0, 0.0, 1.0)),
    "driving_expected": float(rng.next_u64(stream(), 0) >> np.uint64(11)) * 2.0 ** -53,
    "locomotion": bool(tasks._hold(mem, 0, True, 1.0)),
    "wrappers": shape_rewards(ones, ones, ones, no, ~no, 0.9, 1.0, np.zeros(1), np.zeros(1)),
}
dispatchers = {"grid": layouts._random_color, "driving": kernels.uniform,
               "locomotion": tasks._hold, "wrappers": shape_rewards}
out["recompiled"] = sorted(name for name, d in dispatchers.items() if d.stats.cache_misses)
out["loaded"] = sorted(name for name, d in dispatchers.items() if d.stats.cache_hits)
out["file"] = kernels.__file__
print(json.dumps(out))
"""


def _copy_installed_tree(site: Path) -> Path:
    """Copy the installed ``rewardgym`` (every sub-package where it is mapped) into ``site``."""
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(Path(rewardgym.__file__).parent, site / "rewardgym", ignore=ignore)
    for top in (rewardgym.envs, rewardgym.wrappers, rewardgym.agents, rewardgym.benchmarks):
        target = site / "rewardgym" / top.__name__.split(".")[1]
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(Path(top.__file__).parent, target, ignore=ignore)
    return site / "rewardgym"


def _probe(site: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "NUMBA_CACHE_DIR"}
    env |= {"PYTHONPATH": str(site), "NUMBA_DISABLE_JIT": "0"}
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=site, env=env, check=True,
                          capture_output=True, text=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["file"].startswith(str(site))  # the copy ran, not the checkout
    assert out["grid"] == out["grid_expected"]
    assert out["driving"] == out["driving_expected"]
    return out


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.slow
def test_editing_a_shared_source_recompiles_every_dependent_family(tmp_path):
    package = _copy_installed_tree(tmp_path)
    native = package / "envs" / "native"
    everything = ["driving", "grid", "locomotion", "wrappers"]

    first = _probe(tmp_path)
    assert first["recompiled"] == everything
    again = _probe(tmp_path)
    assert again["loaded"] == everything
    assert again["recompiled"] == []

    # A new stream constant: a kernel that kept its cached machine code would draw the old
    # numbers (``_probe`` checks each family against the stream called directly).
    golden = re.search(r"_GOLDEN = np\.uint64\((0x[0-9A-F]+)\)", (native / "rng.py").read_text())
    _edit(native / "rng.py", golden.group(0), "_GOLDEN = np.uint64(0x632BE59BD9B4E019)")
    after_rng = _probe(tmp_path)
    assert after_rng["grid_expected"] != first["grid_expected"] or (
        after_rng["driving_expected"] != first["driving_expected"])
    assert after_rng["recompiled"] == ["driving", "grid"]  # locomotion and wrappers draw nothing
    assert after_rng["loaded"] == ["locomotion", "wrappers"]

    # The shells' constants (NEXT_STEP, ...) reach grid, driving and locomotion kernels.
    _edit(native / "shell.py", "SEED_MOD = 2**64", "SEED_MOD = 2**64  # edited")
    after_shell = _probe(tmp_path)
    assert after_shell["recompiled"] == ["driving", "grid", "locomotion"]
    assert after_shell["loaded"] == ["wrappers"]

    # A wrapper module: only the wrappers recompile (no env imports the wrappers floor).
    _edit(package / "wrappers" / "vector_infos.py", '"""', '"""Edited. ', )
    after_wrappers = _probe(tmp_path)
    assert after_wrappers["recompiled"] == ["wrappers"]
    assert after_wrappers["loaded"] == ["driving", "grid", "locomotion"]
