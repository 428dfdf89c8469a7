"""LLMReward, LLMRewardVector and LLMRewardParallel: modes, terms, pickling, vector == single."""

import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from pettingzoo import ParallelEnv

from rewardgym.wrappers.llm import (
    LLMReward,
    LLMRewardParallel,
    LLMRewardVector,
    ProgramRejected,
    States,
    view_of,
)
from rewardgym.wrappers.llm.views import RewardView

PROGRAM = '''
import numpy as np
def compute_reward(obs, action, next_obs):
    key = 0.1 * (obs.dist_key - next_obs.dist_key)
    turn = -0.01 if action < 2 else 0
    pick = 1.0 if next_obs.carrying_key > obs.carrying_key else 0.0
    return key + turn + pick, {"key": key, "turn": turn, "pick": pick}
'''
PRODUCT = '''
def compute_reward(obs, action, next_obs):
    a = 0.1 * (obs.dist_key - next_obs.dist_key)
    b = next_obs.agent_x * 0.1
    return a * b + 0.01, {"a": a, "b": b}
'''
ENV = "rewardgym/DoorKey-5x5-v0"


def rollout(env, actions, seed=0):
    env.reset(seed=seed)
    out = []
    for a in actions:
        _, r, term, trunc, info = env.step(a)
        out.append((r, info))
        if term or trunc:
            env.reset()
    return out


def test_replace_mode_terms_sum_and_base_kept():
    env = LLMReward(gym.make(ENV), PROGRAM, n_states=32)
    assert env.report.ok
    assert env.report.terms == ("key", "turn", "pick")
    rng = np.random.default_rng(0)
    for r, info in rollout(env, rng.integers(0, 7, 200).tolist()):
        assert r == pytest.approx(sum(info["reward_terms"].values()), abs=1e-12)
        assert set(info["reward_terms"]) == {"key", "turn", "pick"}
        assert "base_reward" in info


def test_add_mode_and_coef_change_the_reward():
    actions = np.random.default_rng(1).integers(0, 7, 300).tolist()
    base = rollout(gym.make(ENV), actions)
    rep = rollout(LLMReward(gym.make(ENV), PROGRAM, n_states=32), actions)
    add = rollout(LLMReward(gym.make(ENV), PROGRAM, mode="add", coef=2.0, n_states=32), actions)
    for (rb, _), (rr, _), (ra, info) in zip(base, rep, add, strict=True):
        assert ra == pytest.approx(rb + 2.0 * rr, abs=1e-12)
        assert info["base_reward"] == rb
        assert "success" in info["reward_terms"]
        assert "llm_key" in info["reward_terms"]
        assert ra == pytest.approx(sum(info["reward_terms"].values()), abs=1e-12)
    assert any(r != 0 for r, _ in rep)


def test_terms_not_summing_get_other():
    env = LLMReward(gym.make(ENV), PRODUCT, n_states=32)
    assert not env.report.terms_sum_to_total
    for r, info in rollout(env, [2, 2, 1, 2, 3]):
        assert "other" in info["reward_terms"]
        assert r == pytest.approx(sum(info["reward_terms"].values()), abs=1e-12)


def test_rejected_program_raises_with_every_reason():
    with pytest.raises(ProgramRejected) as err:
        LLMReward(gym.make(ENV), "import os\ndef compute_reward(obs, a, next_obs):\n    pass\n")
    codes = {i.code for i in err.value.issues}
    assert {"import", "signature", "return"} <= codes


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        LLMReward(gym.make(ENV), PROGRAM, mode="mix")
    with pytest.raises(ValueError, match="coef"):
        LLMReward(gym.make(ENV), PROGRAM, coef=float("nan"))


def test_pickle_round_trip_recompiles_same_rewards():
    env = LLMReward(gym.make(ENV), PROGRAM, n_states=32)
    clone = pickle.loads(pickle.dumps(env))
    assert clone.program.compiled.hash == env.program.compiled.hash
    actions = np.random.default_rng(2).integers(0, 7, 100).tolist()
    assert [r for r, _ in rollout(env, actions)] == [r for r, _ in rollout(clone, actions)]


def test_tampered_pickle_refused():
    env = LLMReward(gym.make(ENV), PROGRAM, n_states=32)
    state = pickle.dumps(env.program).replace(b"0.1 * (obs.dist_key", b"9.9 * (obs.dist_key")
    with pytest.raises(ValueError, match="not the one that was checked"):
        pickle.loads(state)


@pytest.mark.parametrize("use_numba", [True, False])
def test_vector_equals_single_envs(use_numba):
    n = 4
    envs = gym.make_vec(ENV, n, vectorization_mode="vector_entry_point")
    envs = LLMRewardVector(envs, PROGRAM, n_states=32, use_numba=use_numba)
    assert envs.program.compiled.backend == ("numba" if use_numba else "python")
    sync = gym.make_vec(ENV, n, vectorization_mode="sync",
                        wrappers=[lambda e: LLMReward(e, PROGRAM, n_states=32)])
    envs.reset(seed=5)
    sync.reset(seed=5)
    rng = np.random.default_rng(3)
    for _ in range(150):
        a = rng.integers(0, 7, n)
        _, r1, t1, _u1, i1 = envs.step(a)
        _, r2, t2, _u2, i2 = sync.step(a)
        np.testing.assert_array_equal(t1, t2)
        np.testing.assert_allclose(r1, r2, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(i1["reward_terms"]["key"], np.where(
            i2["_reward_terms"], i2["reward_terms"]["key"], 0.0), atol=1e-12)


# Pays the step counter: a SAME_STEP env has already reset (step_count 0) when the step returns,
# so only the state the episode ended in gives the right value on the finishing step.
ENDING = '''
def compute_reward(obs, action, next_obs):
    key = 0.1 * (obs.dist_key - next_obs.dist_key)
    late = 0.01 * next_obs.step_count
    goal = 1.0 if next_obs.at_goal > 0.5 else 0.0
    return key + late + goal, {"key": key, "late": late, "goal": goal}
'''


@pytest.mark.parametrize("mode", ["replace", "add"])
def test_vector_same_step_equals_single_envs_through_episode_ends(mode):
    n = 4
    envs = gym.make_vec(ENV, n, vectorization_mode="vector_entry_point", max_steps=12,
                        autoreset_mode=AutoresetMode.SAME_STEP)
    envs = LLMRewardVector(envs, ENDING, n_states=32, mode=mode)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    sync = gym.make_vec(ENV, n, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
                        wrappers=[lambda e: LLMReward(e, ENDING, n_states=32, mode=mode)],
                        max_steps=12)
    envs.reset(seed=5)
    sync.reset(seed=5)
    rng = np.random.default_rng(3)
    ends = 0
    for _ in range(60):
        a = rng.integers(0, 7, n)
        _, r1, t1, u1, i1 = envs.step(a)
        _, r2, t2, u2, i2 = sync.step(a)
        np.testing.assert_array_equal(t1, t2)
        np.testing.assert_array_equal(u1, u2)
        np.testing.assert_allclose(r1, r2, rtol=1e-12, atol=1e-12)
        done = t1 | u1
        live = ~done
        name = "llm_late" if mode == "add" else "late"
        if live.any():
            np.testing.assert_allclose(i1["reward_terms"][name][live],
                                       i2["reward_terms"][name][live], atol=1e-12)
        if done.any():
            ends += int(done.sum())
            f1, f2 = i1["final_info"], i2["final_info"]
            for term in f2["reward_terms"]:
                if term.startswith("_"):
                    continue
                np.testing.assert_allclose(f1["reward_terms"][term][done],
                                           f2["reward_terms"][term][done], atol=1e-12)
            np.testing.assert_array_equal(f1["base_reward"][done], f2["base_reward"][done])
            np.testing.assert_array_equal(f1["_reward_terms"], done)
            # The finishing step paid the episode's last step count, not the reset's 0.
            late = f1["reward_terms"][name][done]
            np.testing.assert_allclose(late, 0.12)
    assert ends >= 2 * n


@pytest.mark.slow
def test_vector_same_step_locomotion_pays_final_features():
    program = '''
def compute_reward(obs, action, next_obs):
    x = next_obs.torso_x
    return x, {"x": x}
'''
    env_id = "rewardgym/HalfCheetahBackward-v1"
    envs = gym.make_vec(env_id, 2, vectorization_mode="vector_entry_point",
                        autoreset_mode=AutoresetMode.SAME_STEP, max_episode_steps=5)
    envs = LLMRewardVector(envs, program, n_states=16)
    sync = gym.make_vec(env_id, 2, vectorization_mode="sync", max_episode_steps=5,
                        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
                        wrappers=[lambda e: LLMReward(e, program, n_states=16)])
    envs.reset(seed=1)
    sync.reset(seed=1)
    rng = np.random.default_rng(0)
    for t in range(11):
        a = rng.uniform(-1, 1, (2, 6))
        _, r1, _, u1, i1 = envs.step(a)
        _, r2, _, u2, _ = sync.step(a)
        np.testing.assert_array_equal(u1, u2)
        np.testing.assert_allclose(r1, r2, rtol=1e-9, atol=1e-12)
        assert u1.all() == (t % 5 == 4)
        if u1.all():
            assert "features" not in i1["final_info"]  # final_info stays SyncVectorEnv's
            assert envs.unwrapped.final_features.shape == (2, envs.view.size)
class _Layout:
    class F:
        def __init__(self, name, start):
            self.name, self.start, self.size, self.unit, self.doc, self.labels = \
                name, start, 1, "m", "position", ()

    features = (F("x", 0),)
    size = 1

    def describe(self):
        return "| x | 0 | m | position |"


class _Walk(ParallelEnv):
    metadata = {"name": "walk"}

    def __init__(self):
        self.possible_agents = ["a", "b"]

    def observation_space(self, agent):
        return spaces.Box(-10, 10, (1,))

    def action_space(self, agent):
        return spaces.Discrete(3)

    def reset(self, seed=None, options=None):
        self.agents = list(self.possible_agents)
        self.pos = {a: 0.0 for a in self.agents}
        return {a: np.array([0.0], np.float32) for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions):
        for a, act in actions.items():
            self.pos[a] += float(act) - 1.0
        obs = {a: np.array([self.pos[a]], np.float32) for a in self.agents}
        return obs, {a: 0.5 for a in self.agents}, {a: False for a in self.agents}, \
            {a: False for a in self.agents}, {a: {} for a in self.agents}


def test_parallel_pays_each_agent():
    view = RewardView("walk", _Layout(), discrete_actions=True, action_size=1)
    states = States(np.arange(16.0).reshape(16, 1), np.arange(16.0) % 3,
                    np.arange(16.0).reshape(16, 1) + 1)
    program = ("def compute_reward(obs, action, next_obs):\n"
               "    d = next_obs.x - obs.x\n    return d, {\"move\": d}\n")
    env = LLMRewardParallel(_Walk(), program, view=view, states=states, mode="add",
                            features=lambda e, agent: np.array([e.pos[agent]]))
    env.reset(seed=0)
    _, rewards, _, _, infos = env.step({"a": 2, "b": 0})
    assert rewards == {"a": 1.5, "b": -0.5}
    assert infos["a"]["base_reward"] == 0.5
    assert infos["b"]["reward_terms"] == {"llm_move": -1.0}


def test_view_of_unknown_env():
    with pytest.raises(ValueError, match="no reward view"):
        view_of(gym.make("CartPole-v1"))


def test_wrapper_reads_only_the_programs_features():
    envs = LLMRewardVector(gym.make_vec(ENV, 2, vectorization_mode="vector_entry_point"),
                           PROGRAM, n_states=16)
    assert envs.report.features == ("carrying_key", "dist_key")
    envs.reset(seed=0)
    envs.step(np.array([2, 2]))
    view = envs.view
    read = [view[n].start for n in envs.report.features]
    assert np.isfinite(envs._rows[:, read]).all()
    assert np.isnan(np.delete(envs._rows, read, axis=1)).all()
