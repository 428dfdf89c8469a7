"""The LLM-reward trainer trains through the batched wrapper (SAME_STEP), equal to per-env ones."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from rewardgym.agents.llm_train import GRID_EXPERT_SCALE, PPO_DEFAULTS, train_candidate
from rewardgym.agents.sb3_adapter import VectorEnvToSB3
from rewardgym.wrappers.llm import LLMReward, LLMRewardVector

ENV = "rewardgym/DoorKey-5x5-v0"
PROGRAM = '''
def compute_reward(obs, action, next_obs):
    key = 0.1 * (obs.dist_key - next_obs.dist_key)
    late = 0.01 * next_obs.step_count
    return key + late, {"key": key, "late": late}
'''


def test_sb3_view_of_batched_wrapper_equals_per_env_wrappers():
    # What SB3 sees (obs, rewards, dones, terminal observations, truncation flags) is the same
    # through LLMRewardVector on a native SAME_STEP env as through LLMReward in every sub-env.
    n = 3
    native = gym.make_vec(ENV, n, vectorization_mode="vector_entry_point", max_steps=9,
                          obs_mode="flat", autoreset_mode=AutoresetMode.SAME_STEP)
    batched = VectorEnvToSB3(LLMRewardVector(native, PROGRAM, n_states=16))
    per_env = VectorEnvToSB3(SyncVectorEnv(
        [lambda: LLMReward(gym.make(ENV, max_steps=9, obs_mode="flat"), PROGRAM,
                           n_states=16)] * n, autoreset_mode=AutoresetMode.SAME_STEP))
    for venv in (batched, per_env):
        venv.seed(7)
    np.testing.assert_array_equal(batched.reset(), per_env.reset())
    rng = np.random.default_rng(2)
    ends = 0
    for _ in range(40):
        actions = rng.integers(0, 7, n)
        batched.step_async(actions)
        per_env.step_async(actions)
        o1, r1, d1, i1 = batched.step_wait()
        o2, r2, d2, i2 = per_env.step_wait()
        np.testing.assert_array_equal(o1, o2)
        np.testing.assert_allclose(r1, r2, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(d1, d2)
        for k in np.flatnonzero(d1):
            ends += 1
            np.testing.assert_array_equal(i1[k]["terminal_observation"],
                                          i2[k]["terminal_observation"])
            assert i1[k]["TimeLimit.truncated"] == i2[k]["TimeLimit.truncated"]
            assert i1[k]["reward_terms"]["late"] == i2[k]["reward_terms"]["late"] == 0.09
    assert ends >= 2 * n


def test_train_candidate_logs_episodes_and_terms(tmp_path):
    result = train_candidate({"env_id": ENV, "program": PROGRAM, "seed": 0, "timesteps": 256,
                              "n_steps": 64, "eval_episodes": 1, "n_envs": 2,
                              "env_kwargs": {"max_steps": 20}}, tmp_path)
    assert result["timesteps"] == 256
    assert set(result["term_series"]) == {"key", "late"}
    assert 0.0 <= result["success_rate"] <= 1.0
    assert 0.0 <= result["success_rate_sampled"] <= 1.0
    # Episodes of at most 20 steps: 128 steps per env end at least 6 in each of the two envs,
    # every one logged with the step count it ended at.
    assert result["episodes"] >= 12
    assert max(result["length_series"]) <= 20
    assert result["term_series"]["late"][0] > 0.0
    # Success and return over tenths of the 256 steps (~26 over both envs each): episodes of at
    # most 20 steps end in most tenths; a tenth where none ended is None.
    for key in ("success_by_step", "base_return_by_step"):
        assert len(result[key]) == 10
        assert sum(v is not None for v in result[key]) >= 5
    assert all(v is None or 0.0 <= v <= 1.0 for v in result["success_by_step"])


def test_train_candidate_reference_rewards(tmp_path):
    # The sparse and expert arms of the learning benchmark train through the same vector path;
    # expert (sub-goal potential shaping) decomposes its reward into base + shaping terms.
    config = {"env_id": ENV, "seed": 1, "timesteps": 128, "n_steps": 32, "eval_episodes": 1,
              "n_envs": 2, "env_kwargs": {"max_steps": 10}}
    expert = train_candidate({**config, "reward": "expert"}, tmp_path)
    sparse = train_candidate({**config, "reward": "sparse"}, tmp_path)
    assert "shaping" in expert["term_series"]
    assert "shaping" not in sparse["term_series"]
    assert expert["episodes"] == sparse["episodes"] >= 12


def test_train_candidate_ppo_settings_and_grid_expert_scale(tmp_path):
    # PPO settings come from the config; the grid expert's shaping scale defaults to the
    # shaping study's 0.1 and can be set. One rollout (2 envs x 32 steps) per run.
    config = {"env_id": ENV, "seed": 0, "timesteps": 64, "eval_episodes": 1, "n_envs": 2,
              "n_steps": 32, "batch_size": 16, "n_epochs": 1, "learning_rate": 1e-3,
              "ent_coef": 0.0, "reward": "expert", "env_kwargs": {"max_steps": 10}}
    default = train_candidate(config, tmp_path)
    assert default["ppo"] == {"n_envs": 2, "n_steps": 32, "batch_size": 16, "n_epochs": 1,
                              "learning_rate": 1e-3, "ent_coef": 0.0,
                              "expert_shaping_scale": GRID_EXPERT_SCALE}
    assert GRID_EXPERT_SCALE == 0.1
    one = train_candidate({**config, "expert_shaping_scale": 1.0}, tmp_path)
    assert one["ppo"]["expert_shaping_scale"] == 1.0
    # Same seed, same actions until the first update: the shaping terms scale exactly 10x.
    first = default["term_series"]["shaping"][0]
    assert first != 0.0
    np.testing.assert_allclose(one["term_series"]["shaping"][0], 10.0 * first, rtol=1e-9)
    sparse = train_candidate({**config, "reward": "sparse"}, tmp_path)
    assert "expert_shaping_scale" not in sparse["ppo"]


def test_train_candidate_defaults_and_unknown_keys(tmp_path):
    assert PPO_DEFAULTS == {"n_envs": 4, "n_steps": 128, "batch_size": 128, "n_epochs": 4,
                            "learning_rate": 3e-4, "ent_coef": 0.01}
    with pytest.raises(ValueError, match=r"unknown config key\(s\) \['batchsize'\]"):
        train_candidate({"env_id": ENV, "timesteps": 64, "reward": "sparse", "batchsize": 64},
                        tmp_path)


def test_evaluate_success_passes_the_sampling_choice_on():
    from rewardgym.agents.llm_train import evaluate_success

    class Recorder:
        flags: list[bool] = []

        def predict(self, obs, deterministic=True):
            self.flags.append(deterministic)
            return 6, None  # "done": a no-op on grids

    model = Recorder()
    rate, total = evaluate_success(ENV, model, 1, 0, {"max_steps": 5}, deterministic=False)
    assert (rate, total) == (0.0, 0.0)
    assert model.flags == [False] * 5
    evaluate_success(ENV, model, 1, 0, {"max_steps": 5})
    assert model.flags[5:] == [True] * 5
