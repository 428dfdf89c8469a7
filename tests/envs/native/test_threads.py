"""Starting numba's thread pool must not change torch's thread count.

numba's ``omp`` layer, started from a thread where torch has set up OpenMP, left that thread's
OpenMP count at ``NUMBA_NUM_THREADS``, which torch reads as its own: every training run that
asked torch for 1 thread ran on all of them after the env's first step. Each case runs in a
fresh interpreter (the pool starts once per process) with ``NUMBA_NUM_THREADS=2``, so the count
the pool would leave differs from the one torch was given on any machine.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = """
import numpy as np, torch, gymnasium as gym, rewardgym
torch.set_num_threads(1)
assert torch.get_num_threads() == 1
envs = gym.make_vec("rewardgym/{env}", {n}, vectorization_mode="vector_entry_point")
envs.reset(seed=0)
for _ in range(2):
    envs.step(envs.action_space.sample())
print(torch.get_num_threads())
"""


@pytest.mark.parametrize(("env", "n"), [
    ("DoorKey-5x5-v0", 4),      # serial kernel, called through call_on_threads
    ("DoorKey-5x5-v0", 256),    # the prange kernel
    ("RouteDrive-v1", 64),      # driving's prange kernel
])
def test_env_steps_leave_torch_threads_alone(env, n):
    pytest.importorskip("torch")
    child_env = {**os.environ, "NUMBA_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(env=env, n=n)], env=child_env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "1", done.stdout
