"""Reward-term recording: episode totals, vector twin, SB3 logging and the plot command."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from rewardgym.agents import load_config, train
from rewardgym.cli import main
from rewardgym.wrappers import PotentialShaping
from rewardgym.wrappers.terms import RecordRewardTerms, RecordRewardTermsVector
from tests.wrappers.test_potential import facing_potential

ENV_ID = "rewardgym/Empty-Random-5x5-v0"


def _shaped(env):
    return RecordRewardTerms(PotentialShaping(env, facing_potential, gamma=0.9))


def test_episode_totals_sum_each_term_and_the_return():
    env = _shaped(gym.make(ENV_ID, max_episode_steps=10))
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    running, episodes = {"success": 0.0, "shaping": 0.0}, 0
    ret = 0.0
    for _ in range(300):
        _, reward, terminated, truncated, info = env.step(int(rng.integers(0, 3)))
        ret += reward
        for name in running:
            running[name] += info["reward_terms"][name]
        if terminated or truncated:
            terms = info["episode"]["terms"]
            assert terms == pytest.approx(running)
            assert sum(terms.values()) == pytest.approx(ret)
            running, ret, episodes = {k: 0.0 for k in running}, 0.0, episodes + 1
            env.reset()
        else:
            assert "episode" not in info
    assert episodes > 10


def _episode_terms(envs, steps, mode):
    envs.action_space.seed(0)
    envs.reset(seed=7)
    found = []
    for _ in range(steps):
        _, _, term, trunc, infos = envs.step(envs.action_space.sample())
        done = term | trunc
        if not done.any():
            continue
        if mode == AutoresetMode.SAME_STEP and "final_info" in infos and (
                "episode" in infos["final_info"]):
            source = infos["final_info"]["episode"]["terms"]  # sync: per-env wrapper output
        else:
            source = infos["episode"]["terms"]
        for i in np.flatnonzero(done):
            found.append({name: float(values[i]) for name, values in source.items()
                          if not name.startswith("_")})
    return found


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_vector_twin_equals_single_wrapper(mode):
    sync = gym.make_vec(ENV_ID, 3, vectorization_mode="sync", max_episode_steps=7,
                        vector_kwargs={"autoreset_mode": mode}, wrappers=[_shaped])
    from rewardgym.wrappers import PotentialShapingVector

    native = RecordRewardTermsVector(PotentialShapingVector(
        gym.make_vec(ENV_ID, 3, vectorization_mode="vector_entry_point", max_episode_steps=7,
                     autoreset_mode=mode), facing_potential, gamma=0.9))
    a, b = _episode_terms(sync, 200, mode), _episode_terms(native, 200, mode)
    assert len(a) == len(b) > 30
    for x, y in zip(a, b, strict=True):
        assert x == pytest.approx(y, abs=1e-12)


def test_training_logs_terms_and_plot_command_draws_them(tmp_path, capsys):
    config = load_config("rewardgym/DoorKey-5x5-v0", "ppo",
                         overrides=["total_timesteps=4096", "n_envs=8", "n_steps=128"])
    result = train("rewardgym/DoorKey-5x5-v0", "ppo", config, log_dir=tmp_path / "run",
                   progress_bar=False, eval_episodes=2, verbose=0)
    csv_path = result.log_dir / "reward_terms.csv"
    lines = csv_path.read_text().splitlines()
    assert lines[0] == "timesteps,term,mean_total,share,episodes"
    assert len(lines) >= 2
    assert all(line.split(",")[1] == "success" for line in lines[1:])
    assert main(["plot-terms", str(tmp_path)]) == 0
    png = csv_path.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["plot-terms", str(tmp_path / "empty")]) == 1
    assert "no reward_terms.csv" in capsys.readouterr().err


def _cartpole_potential(obs, info):
    return -abs(float(obs[2]))  # pole upright: a small shaping term next to CartPole's +1s


def test_env_without_terms_records_its_reward_as_base():
    # Once recorded only the shaping term: shaping showed as 100% of a return of ~20.
    env = RecordRewardTerms(PotentialShaping(gym.make("CartPole-v1"), _cartpole_potential,
                                             gamma=0.99))
    env.reset(seed=0)
    ret, episodes = 0.0, 0
    while episodes < 3:
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        ret += reward
        if terminated or truncated:
            terms = info["episode"]["terms"]
            assert set(terms) == {"base", "shaping"}
            assert sum(terms.values()) == pytest.approx(ret, abs=1e-9)
            assert abs(terms["shaping"]) < 0.2 * terms["base"]
            ret, episodes = 0.0, episodes + 1
            env.reset()
    bare = RecordRewardTerms(gym.make("CartPole-v1"))
    bare.reset(seed=0)
    steps, done = 0, False
    while not done:
        _, _, terminated, truncated, info = bare.step(0)
        steps, done = steps + 1, terminated or truncated
    assert info["episode"]["terms"] == {"base": float(steps)}  # CartPole pays 1 per step


def test_terms_that_do_not_sum_to_the_reward_leave_an_unattributed_term():
    env = RecordRewardTerms(gym.wrappers.TransformReward(
        gym.make("rewardgym/Empty-5x5-v0", max_episode_steps=30), lambda r: 2.0 * r + 0.5))
    env.reset(seed=0)
    ret = 0.0
    for action in [2, 2, 1, 2, 2]:  # reaches the goal in the corner
        _, reward, terminated, _, info = env.step(action)
        ret += reward
    assert terminated
    terms = info["episode"]["terms"]
    assert set(terms) == {"success", "unattributed"}
    assert terms["success"] > 0.0
    assert sum(terms.values()) == pytest.approx(ret, abs=1e-12)
    assert terms["unattributed"] == pytest.approx(ret - terms["success"], abs=1e-12)


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_vector_twin_records_base_like_the_single_wrapper(mode):
    def shaped_cartpole(env):
        return RecordRewardTerms(PotentialShaping(env, _cartpole_potential, gamma=0.99))

    sync = gym.make_vec("CartPole-v1", 3, vectorization_mode="sync", wrappers=[shaped_cartpole],
                        vector_kwargs={"autoreset_mode": mode})
    from rewardgym.wrappers import PotentialShapingVector

    def batched_potential(obs, infos):
        return -np.abs(obs[:, 2].astype(np.float64))

    twin = RecordRewardTermsVector(PotentialShapingVector(
        gym.make_vec("CartPole-v1", 3, vectorization_mode="sync",
                     vector_kwargs={"autoreset_mode": mode}), batched_potential, gamma=0.99))
    a, b = _episode_terms(sync, 300, mode), _episode_terms(twin, 300, mode)
    assert len(a) == len(b) > 20
    for x, y in zip(a, b, strict=True):
        assert set(y) == {"base", "shaping"}
        assert x == pytest.approx(y, abs=1e-9)
    bare = RecordRewardTermsVector(gym.make_vec("CartPole-v1", 2, vectorization_mode="sync",
                                                vector_kwargs={"autoreset_mode": mode}))
    for terms in _episode_terms(bare, 200, mode):
        assert set(terms) == {"base"}
        assert terms["base"] >= 8.0  # CartPole pays 1 per step


def test_plot_terms_draws_the_base_term_of_an_env_without_terms(tmp_path):
    from rewardgym.agents.plot_terms import read_terms_csv

    config = load_config("CartPole-v1", "ppo",
                         overrides=["total_timesteps=1024", "n_envs=4", "n_steps=128",
                                    "batch_size=64"])
    result = train("CartPole-v1", "ppo", config, log_dir=tmp_path / "run", progress_bar=False,
                   eval_episodes=2, verbose=0)
    series = read_terms_csv(result.log_dir / "reward_terms.csv")
    assert set(series) == {"base"}
    assert all(share == 1.0 and total >= 8.0 for _, total, share in series["base"])
    assert main(["plot-terms", str(tmp_path)]) == 0
    png = result.log_dir / "reward_terms.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    empty = tmp_path / "empty" / "reward_terms.csv"
    empty.parent.mkdir()
    empty.write_text("timesteps,term,mean_total,share,episodes\n")
    assert main(["plot-terms", str(empty.parent)]) == 1
