"""Seeded digests of every registered env: the proof that a refactor of the shells changed nothing.

For each registered id and each of three ways to run it (the single env, the native vector env
with ``NEXT_STEP`` autoreset, with ``SAME_STEP`` autoreset) a seeded rollout of ``STEPS`` steps
with seeded random valid actions and a short time limit (so episodes end and autoreset runs) is
recorded, and everything it returned (observations, rewards, flags, infos with their ``_key``
masks, ``final_obs``/``final_info``) is hashed bit for bit (:func:`digest`). A float summary
(per-step rewards, flags and observation sums) is kept next to it for tolerance comparisons on
machines whose last float bits may differ (``test_digests.py``).

Record (from the repository root; the first run compiles every family's kernels)::

    python -m tests.envs.native.digests --out tests/envs/native/digests.json
    python -m tests.envs.native.digests --ids rewardgym/DoorKey-5x5-v0 --check FILE
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

import rewardgym  # noqa: F401  (registers the envs)
from rewardgym.envs import ENV_TABLE

STEPS = 200
TIME_LIMIT = 40  # forces truncations (and so autoresets) in every family
NUM_ENVS = 3
SEED = 7
MODES = ("single", "next_step", "same_step")
# Small shops keep the recorder fast; the shells are what is pinned, not the catalogue size.
EXTRA_KWARGS = {"WebShopText": {"n_products": 200}, "WebShopDiscrete": {"n_products": 200}}


def _feed(h: Any, value: Any) -> None:
    """Feed ``value`` into hash ``h`` with its type, shape and exact bits."""
    if isinstance(value, dict):
        h.update(b"{")
        for key in sorted(value, key=str):
            _feed(h, str(key))
            _feed(h, value[key])
        h.update(b"}")
    elif isinstance(value, list | tuple):
        h.update(b"[" + str(len(value)).encode())
        for item in value:
            _feed(h, item)
        h.update(b"]")
    elif isinstance(value, np.ndarray):
        h.update(f"a{value.dtype.str}{value.shape}".encode())
        if value.dtype == object:
            for item in value.reshape(-1):
                _feed(h, item)
        else:
            h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, np.generic):
        h.update(f"s{value.dtype.str}".encode() + value.tobytes())
    elif isinstance(value, bool | None):
        h.update(f"b{value}".encode())
    elif isinstance(value, int):
        h.update(f"i{value}".encode())
    elif isinstance(value, float):
        h.update(b"f" + struct.pack("<d", value))
    elif isinstance(value, str):
        h.update(b"t" + value.encode() + b"\0")
    else:
        raise TypeError(f"digest: no rule for {type(value).__name__}: {value!r}")


def digest(records: list[Any]) -> str:
    """SHA-256 over the exact bits of ``records`` (nested dicts, lists, arrays, scalars)."""
    h = hashlib.sha256()
    _feed(h, records)
    return h.hexdigest()


def _float_sum(obs: Any) -> float:
    """The sum of the numeric entries of an observation (0 for text)."""
    if isinstance(obs, dict):
        return sum(_float_sum(obs[key]) for key in sorted(obs))
    if isinstance(obs, str):
        return 0.0
    arr = np.asarray(obs)
    return float(arr.astype(np.float64).sum()) if arr.dtype.kind in "biuf" else 0.0


class _Actions:
    """Seeded valid actions: action masks where the env has them, clickables for text."""

    def __init__(self, space: gym.Space, seed: int) -> None:
        self.space = space
        self.rng = np.random.default_rng(seed)
        space.seed(seed)

    def text(self, info: dict[str, Any]) -> str:
        clickables = info.get("available_actions", {}).get("clickables", [])
        if info.get("available_actions", {}).get("has_search_bar") or not clickables:
            return "search[" + ("red shirt", "mug", "shoes")[self.rng.integers(3)] + "]"
        return f"click[{clickables[self.rng.integers(len(clickables))]}]"

    def single(self, env: gym.Env, info: dict[str, Any]) -> Any:
        if isinstance(self.space, gym.spaces.Text):
            return self.text(info)
        if hasattr(env.unwrapped, "action_masks"):
            mask = env.unwrapped.action_masks()
            return int(self.rng.choice(np.flatnonzero(mask))) if mask.any() else 0
        return self.space.sample()

    def vector(self, envs: gym.vector.VectorEnv, infos: dict[str, Any]) -> Any:
        if isinstance(self.space, gym.spaces.Tuple):  # batched Text
            avail = infos["available_actions"]  # a dict of per-env arrays
            return tuple(self.text({key: value[i] for key, value in avail.items()})
                         for i in range(envs.num_envs))
        if hasattr(envs, "action_masks"):
            masks = envs.action_masks()
            return np.array([self.rng.choice(np.flatnonzero(m)) if m.any() else 0
                             for m in masks])
        return self.space.sample()


def record(env_id: str, mode: str, steps: int = STEPS) -> dict[str, Any]:
    """Roll out ``env_id`` run as ``mode`` (see :data:`MODES`); its digest and float summary."""
    name = env_id.split("/")[1].rsplit("-v", 1)[0]
    kwargs = {"max_episode_steps": TIME_LIMIT, **EXTRA_KWARGS.get(name, {})}
    records: list[Any] = []
    rewards, flags, obs_sums = [], [], []
    if mode == "single":
        env = gym.make(env_id, **kwargs)
        actions = _Actions(env.action_space, SEED)
        obs, info = env.reset(seed=SEED)
        records.append((obs, info))
        for _ in range(steps):
            result = env.step(actions.single(env, info))
            records.append(result)
            obs, reward, terminated, truncated, info = result
            rewards.append(float(reward))
            flags.append(int(terminated) + 2 * int(truncated))
            obs_sums.append(_float_sum(obs))
            if terminated or truncated:
                obs, info = env.reset()
                records.append((obs, info))
        env.close()
    else:
        autoreset = AutoresetMode.NEXT_STEP if mode == "next_step" else AutoresetMode.SAME_STEP
        envs = gym.make_vec(env_id, NUM_ENVS, vectorization_mode="vector_entry_point",
                            autoreset_mode=autoreset, **kwargs)
        actions = _Actions(envs.action_space, SEED)
        obs, infos = envs.reset(seed=SEED)
        records.append((obs, infos))
        for _ in range(steps):
            result = envs.step(actions.vector(envs, infos))
            records.append(result)
            obs, reward, terminated, truncated, infos = result
            rewards.append(np.asarray(reward, dtype=np.float64).tolist())
            flags.append((terminated.astype(int) + 2 * truncated.astype(int)).tolist())
            obs_sums.append(_float_sum(obs))
        envs.close()
    return {"digest": digest(records), "rewards": rewards, "flags": flags, "obs_sums": obs_sums}


def registered() -> list[str]:
    """Every registered rewardgym id."""
    return [row.env_id for row in ENV_TABLE]


#: Ids whose float summaries the pinned file keeps (``test_digests.py`` compares them with
#: tolerances); every other record keeps its digest only.
SUMMARY_IDS = ("rewardgym/RouteDrive-v", "rewardgym/HopperJump-v", "rewardgym/AntGoal-v")


def _pinned(rec: dict[str, Any], key: str) -> dict[str, Any]:
    if key.startswith(SUMMARY_IDS):
        return rec
    return {"digest": rec["digest"]}


def main(argv: list[str] | None = None) -> int:
    """Record digests into ``--out`` and/or compare them with ``--check`` (exit 1 if any differ).

    ``--out`` keeps the records of other ids already in the file (re-recording the selected
    ids, or with ``--resume`` only the missing ones).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", nargs="*", default=None, help="env ids (default: all)")
    parser.add_argument("--match", default="", help="only ids containing this text")
    parser.add_argument("--out", help="write the digests (JSON) here")
    parser.add_argument("--check", help="compare with the digests in this JSON file")
    parser.add_argument("--resume", action="store_true",
                        help="keep the selected records already in --out")
    args = parser.parse_args(argv)
    ids = [i for i in (args.ids or registered()) if args.match in i]
    reference = json.loads(Path(args.check).read_text()) if args.check else {}
    results: dict[str, Any] = {}
    if args.out and os.path.exists(args.out):
        results = json.loads(Path(args.out).read_text())
    differ = []
    for env_id in ids:
        for mode in MODES:
            key = f"{env_id} {mode}"
            if key not in results or not args.resume:
                results[key] = _pinned(record(env_id, mode), key)
            rec = results[key]
            status = ""
            if args.check:
                if key not in reference:
                    status = "  (not in reference)"
                elif reference[key]["digest"] != rec["digest"]:
                    status = "  DIFFERS"
                    differ.append(key)
                else:
                    status = "  same"
            print(f"{key}: {rec['digest'][:16]}{status}", flush=True)
            if args.out:  # after every record, so an interrupted run can --resume
                with open(args.out, "w") as f:
                    json.dump(results, f, indent=0, sort_keys=True)
                    f.write("\n")
    if args.check:
        print(f"{len(ids) * len(MODES) - len(differ)} same, {len(differ)} differ: {differ}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
