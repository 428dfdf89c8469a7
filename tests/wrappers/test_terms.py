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
