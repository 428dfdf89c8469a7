"""Seeded rollouts of the registered envs still give what they gave when the digests were pinned.

``digests.json`` was recorded by ``tests/envs/native/digests.py`` from the code before the
shells moved onto the native kit (single env, vector ``NEXT_STEP`` and ``SAME_STEP``). Families
whose outputs are integers, text and correctly rounded arithmetic (grid, shopping) are compared
bit for bit; float families (driving, locomotion: libm's sin/exp and MuJoCo may differ in the
last bit between platforms, and closed-loop dynamics carry such a bit on) are compared as
trajectories with tolerances.

A change that is meant to change results bumps the env's version; re-record its rows with
``python -m tests.envs.native.digests --ids ID --out tests/envs/native/digests.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from tests.envs.native.digests import MODES, SUMMARY_IDS, record

PINNED = json.loads((Path(__file__).parent / "digests.json").read_text())
RERECORD = ("behaviour changed; if that is intended, bump the env's version and re-record: "
            "python -m tests.envs.native.digests --ids {} --out tests/envs/native/digests.json")


def _family(env_id: str) -> str:
    return gym.spec(env_id).entry_point.split(":")[0].split(".")[2]


EXACT_IDS = [key.split()[0] for key in PINNED if key.endswith(" single")
             and key.split()[0] in gym.registry and _family(key.split()[0]) in ("grid", "shopping")]
FLOAT_KEYS = [key for key in PINNED if key.startswith(SUMMARY_IDS)]


def test_the_pins_cover_every_exact_family_id():
    exact = [i for i in gym.registry if i.startswith("rewardgym/")
             and _family(i) in ("grid", "shopping")]
    assert sorted(exact) == sorted(EXACT_IDS)
    assert len(FLOAT_KEYS) >= 9


@pytest.mark.parametrize("env_id", EXACT_IDS)
def test_integer_and_text_families_are_bit_identical(env_id):
    for mode in MODES:
        got = record(env_id, mode)["digest"]
        assert got == PINNED[f"{env_id} {mode}"]["digest"], (mode, RERECORD.format(env_id))


@pytest.mark.slow
@pytest.mark.parametrize("key", FLOAT_KEYS)
def test_float_families_follow_the_pinned_trajectories(key):
    env_id, mode = key.split()
    if env_id not in gym.registry:
        pytest.fail(f"{env_id} is pinned but not registered; " + RERECORD.format(env_id))
    pinned, got = PINNED[key], record(env_id, mode)
    # Episode ends (and so every autoreset) must match exactly; the floats may differ in the
    # last bits across platforms, amplified by up to 40 steps of closed-loop dynamics: 1e-6
    # relative is ten orders of magnitude above a last-bit difference and far below any change
    # of a reward, a physics step or an autoreset.
    assert got["flags"] == pinned["flags"], RERECORD.format(env_id)
    np.testing.assert_allclose(got["rewards"], pinned["rewards"], rtol=1e-6, atol=1e-9,
                               err_msg=RERECORD.format(env_id))
    np.testing.assert_allclose(got["obs_sums"], pinned["obs_sums"], rtol=1e-6, atol=1e-6,
                               err_msg=RERECORD.format(env_id))
