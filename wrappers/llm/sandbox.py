"""The dry run: a checked program runs on sampled states in a separate, limited process.

Layers (research notes ``llm_rewards.md`` §7; no local Python sandbox is fully safe, so the
static allowlist of :mod:`~rewardgym.wrappers.llm.program` is the first line and this the
second): a fresh interpreter in isolated mode (``python -I``) that imports only numpy; its own
session (the whole process group is killed on a wall-clock timeout); CPU-seconds, address-space,
file-size (0) and open-file (no new descriptors) limits set before the program runs; an empty
environment and a throw-away working directory; and no network namespace (``unshare --net``)
where the OS allows it; where it does not, a warning says so in the report and the other layers
remain (no new descriptor means no socket either).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rewardgym.wrappers.llm.program import MATH_CONSTS, MATH_FUNCS, NP_CONSTS, NP_FUNCS, Limits

CHILD = Path(__file__).with_name("_sandbox_child.py")


@dataclass(frozen=True)
class States:
    """Validation transitions: feature rows before and after, and the actions between them.

    Example:
        >>> s = States(np.zeros((4, 3)), np.zeros(4), np.ones((4, 3)))
        >>> len(s)
        4
    """

    obs: np.ndarray  # (m, size) float64
    actions: np.ndarray  # (m,) discrete or (m, k) boxes, float64
    next_obs: np.ndarray  # (m, size) float64

    def __post_init__(self) -> None:
        if self.obs.shape != self.next_obs.shape or self.obs.ndim != 2:
            raise ValueError(f"States: obs {self.obs.shape} and next_obs {self.next_obs.shape} "
                             "must be equal (m, size) arrays")
        if self.actions.shape[0] != self.obs.shape[0]:
            raise ValueError(f"States: {self.actions.shape[0]} actions for "
                             f"{self.obs.shape[0]} states")

    def __len__(self) -> int:
        return int(self.obs.shape[0])


@dataclass
class DryRun:
    """The child's verdict: outputs, times, or the error and its traceback."""

    ok: bool
    error: str | None = None
    error_type: str | None = None
    index: int | None = None
    totals: np.ndarray | None = None
    terms: np.ndarray | None = None
    totals_again: np.ndarray | None = None
    terms_again: np.ndarray | None = None
    times: np.ndarray | None = None
    network_isolated: bool = False
    killed: str | None = None


@functools.cache
def network_isolation() -> bool:
    """Whether ``unshare --net`` works here (checked once per process)."""
    path = shutil.which("unshare")
    if path is None:
        return False
    try:
        done = subprocess.run([path, "--net", "true"], capture_output=True, timeout=10,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def dry_run(code: str, states: States, n_terms: int, limits: Limits, *,
            full_builtins: bool = False) -> DryRun:
    """Run a specific program on every state, twice, in a limited child process.

    ``full_builtins`` (tests only) hands the program Python's real builtins and numpy, to prove
    that the OS limits hold without the static layer.
    """
    request = {
        "code": code, "n_terms": n_terms, "cpu_s": limits.child_cpu_s,
        "memory_bytes": limits.child_memory_bytes, "np_names": list(NP_FUNCS + NP_CONSTS),
        "math_names": list(MATH_FUNCS + MATH_CONSTS), "full_builtins": full_builtins,
        "obs": states.obs.tolist(), "actions": states.actions.tolist(),
        "next_obs": states.next_obs.tolist(),
    }
    isolated = network_isolation()
    cmd = [sys.executable, "-I", str(CHILD)]
    if isolated:
        cmd = [shutil.which("unshare") or "unshare", "--net", "--", *cmd]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryDirectory(prefix="rewardgym-dry-run-") as workdir:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=workdir, env=env,
                                start_new_session=True)
        try:
            out, err = proc.communicate(json.dumps(request).encode(), timeout=limits.child_wall_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.communicate()
            return DryRun(False, error=f"the program did not finish within "
                          f"{limits.child_wall_s:g} s on {len(states)} states (killed)",
                          error_type="Timeout", network_isolated=isolated, killed="wall")
    if proc.returncode != 0:
        sig = -proc.returncode if proc.returncode < 0 else None
        name = signal.Signals(sig).name if sig else f"exit code {proc.returncode}"
        why = "CPU time limit" if sig == signal.SIGXCPU else name
        return DryRun(False, error=f"the dry-run process died ({why}); stderr: "
                      f"{err.decode(errors='replace')[-1500:]}", error_type="Killed",
                      network_isolated=isolated, killed=why)
    try:
        reply: dict[str, Any] = json.loads(out.decode())
    except ValueError:
        return DryRun(False, error=f"the dry-run process wrote no verdict; stderr: "
                      f"{err.decode(errors='replace')[-1500:]}", error_type="Protocol",
                      network_isolated=isolated)
    if not reply["ok"]:
        return DryRun(False, error=reply["error"], error_type=reply.get("error_type"),
                      index=reply.get("index"), network_isolated=isolated)
    arr = {k: np.asarray(reply[k], dtype=np.float64).reshape(len(states), -1)
           for k in ("terms", "terms_again")}
    return DryRun(True, totals=np.asarray(reply["totals"], dtype=np.float64),
                  terms=arr["terms"].reshape(len(states), n_terms),
                  totals_again=np.asarray(reply["totals_again"], dtype=np.float64),
                  terms_again=arr["terms_again"].reshape(len(states), n_terms),
                  times=np.asarray(reply["times"], dtype=np.float64),
                  network_isolated=isolated)


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
