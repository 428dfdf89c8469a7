"""Training on potential-shaped rewards through the config, with the gamma guard."""

import dataclasses

import pytest

from rewardgym.agents import load_config, train
from rewardgym.agents.config import ConfigError
from rewardgym.agents.sb3_adapter import make_sb3_vec_env
from rewardgym.agents.train import _shaping_wrappers, check_shaping_gamma
from rewardgym.wrappers.potential import PotentialShapingVector

OVERRIDES = ["total_timesteps=2048", "n_envs=8", "n_steps=64", "batch_size=256",
             "shaping_potential=grid_subgoal_distance", "env_kwargs.subgoal_distance_in_info=true"]


def test_config_builds_the_shaping_wrapper_with_the_algorithm_gamma():
    config = load_config("rewardgym/DoorKey-5x5-v0", "ppo", overrides=OVERRIDES)
    env = make_sb3_vec_env("rewardgym/DoorKey-5x5-v0", 4, env_kwargs=config.env_kwargs,
                           vector_wrappers=_shaping_wrappers(config))
    chain, link = [], env.vector_env
    while link is not None:
        chain.append(link)
        link = getattr(link, "env", None)
    shaping = [w for w in chain if isinstance(w, PotentialShapingVector)]
    assert len(shaping) == 1
    assert shaping[0].shaping_gamma == config.gamma
    assert check_shaping_gamma(env, config.gamma) == pytest.approx(config.gamma)
    with pytest.raises(ValueError, match="gamma"):
        check_shaping_gamma(env, 0.5)
    env.close()


def test_unknown_potential_is_refused():
    with pytest.raises(ConfigError, match="shaping_potential"):
        load_config("rewardgym/DoorKey-5x5-v0", "ppo", overrides=["shaping_potential=nope"])


def test_shaped_run_trains_logs_terms_and_evaluates_unshaped(tmp_path):
    config = load_config("rewardgym/DoorKey-5x5-v0", "ppo", overrides=OVERRIDES)
    result = train("rewardgym/DoorKey-5x5-v0", "ppo", config, log_dir=tmp_path, verbose=0,
                   progress_bar=False, eval_episodes=4)
    terms = (tmp_path / "reward_terms.csv").read_text()
    assert "shaping" in terms
    assert "success" in terms
    # Evaluation uses the env's own sparse reward: returns lie in [0, 1].
    assert 0.0 <= result.mean_return <= 1.0
    unshaped = dataclasses.replace(config, shaping_potential=None)
    assert _shaping_wrappers(unshaped) == []
