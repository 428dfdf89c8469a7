"""The shopping vector envs: registered vector entry points, equal to sync, masks batched."""

import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import rewardgym  # noqa: F401  (registers the envs)
from rewardgym.envs.shopping.vector_env import WebShopDiscreteVectorEnv, WebShopTextVectorEnv
from tests.helpers import assert_same

KWARGS = {"n_products": 200, "bow_dim": 64}


def _masked_rollout(envs, steps, seed=0):
    """Random valid slots (so shops buy and episodes terminate), recording everything."""
    rng = np.random.default_rng(seed)
    out = [envs.reset(seed=3)]
    for _ in range(steps):
        masks = np.stack(envs.call("action_masks"))
        # A finished shop (NEXT_STEP, before its reset) has no valid slot: its action is ignored.
        actions = np.array([rng.choice(np.flatnonzero(m)) if m.any() else 0 for m in masks])
        out.append(envs.step(actions))
    return out


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_discrete_vector_env_equals_sync_through_purchases(mode):
    native = gym.make_vec("rewardgym/WebShopDiscrete-v1", 3, autoreset_mode=mode, **KWARGS)
    sync = gym.make_vec("rewardgym/WebShopDiscrete-v1", 3, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": mode}, **KWARGS)
    assert isinstance(native, WebShopDiscreteVectorEnv)
    assert native.metadata["autoreset_mode"] == mode
    a, b = _masked_rollout(native, 60), _masked_rollout(sync, 60)
    assert_same(a, b)
    terminated = sum(int(step[2].sum()) for step in a[1:])
    truncated = sum(int(step[3].sum()) for step in a[1:])
    assert terminated >= 3  # purchases ended episodes,
    assert truncated >= 3  # and so did the registry's 15-step limit


def test_batched_action_masks_are_the_shops_masks():
    envs = gym.make_vec("rewardgym/WebShopDiscrete-v1", 4, **KWARGS)
    envs.reset(seed=0)
    envs.step(np.ones(4, dtype=np.int64))  # slot 1 is a search: masks now differ per shop
    masks = envs.action_masks()
    assert masks.shape == (4, 64)
    assert masks.dtype == np.bool_
    np.testing.assert_array_equal(masks, np.stack(envs.call("action_masks")))


def test_text_vector_env_flags_invalid_commands_and_pickles():
    envs = gym.make_vec("rewardgym/WebShopText-v1", 2, max_episode_steps=4, n_products=200)
    assert isinstance(envs, WebShopTextVectorEnv)
    envs.reset(seed=0)
    _, rewards, _, truncated, infos = envs.step(("click[nothing]", "search[red mug]"))
    assert infos["invalid"].tolist() == [True, False]
    assert rewards.tolist() == [0.0, 0.0]
    clone = pickle.loads(pickle.dumps(envs))
    for _ in range(3):
        actions = ("search[socks]", "click[back to search]")
        assert_same(envs.step(actions), clone.step(actions))
    assert truncated.tolist() == [False, False]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="num_envs"):
        WebShopTextVectorEnv(0)
    with pytest.raises(ValueError, match="max_episode_steps"):
        WebShopTextVectorEnv(2, max_episode_steps=0)
    with pytest.raises(ValueError, match="autoreset_mode"):
        WebShopTextVectorEnv(2, autoreset_mode="sometimes")


def test_sb3_adapter_uses_the_vector_env_and_its_batched_masks():
    from sb3_contrib.common.maskable.utils import get_action_masks

    from rewardgym.agents import make_sb3_vec_env

    venv = make_sb3_vec_env("rewardgym/WebShopDiscrete-v1", 2, seed=0, env_kwargs=KWARGS)
    venv.reset()
    assert get_action_masks(venv).shape == (2, 64)
    venv.close()


def test_shops_run_on_the_kit_shells():
    from rewardgym.envs.native import NativeEnv, NativeVectorEnv

    assert isinstance(gym.make("rewardgym/WebShopDiscrete-v1", **KWARGS).unwrapped, NativeEnv)
    for env_id in ("rewardgym/WebShopDiscrete-v1", "rewardgym/WebShopText-v1"):
        assert isinstance(gym.make_vec(env_id, 2, n_products=200), NativeVectorEnv)


def test_disabled_autoreset_waits_for_a_masked_reset_with_options():
    envs = gym.make_vec("rewardgym/WebShopDiscrete-v1", 2, max_episode_steps=2,
                        autoreset_mode="disabled", **KWARGS)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.DISABLED
    _, infos = envs.reset(seed=0, options={"goal_idx": 5})
    assert infos["goal_idx"].tolist() == [5, 5]  # reset options reach every shop
    for _ in range(2):
        _, _, _, truncated, _ = envs.step(np.array([0, 0]))
    assert truncated.tolist() == [True, True]
    _, infos = envs.reset(options={"reset_mask": np.array([False, True]), "goal_idx": 7})
    assert infos["_goal_idx"].tolist() == [False, True]
    assert infos["goal_idx"][1] == 7
    _, _, _, truncated, infos = envs.step(np.array([0, 0]))
    assert truncated.tolist() == [True, False]  # only the masked shop started again


def test_vector_actions_are_checked_before_any_shop_steps():
    envs = gym.make_vec("rewardgym/WebShopText-v1", 2, n_products=200)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match=r"env indices \[1\]"):
        envs.step(("search[mug]", 3))
    with pytest.raises(ValueError, match="shape"):
        envs.step(("search[mug]",))
    assert [shop.unwrapped.steps for shop in envs.envs] == [0, 0]
