"""The shared learning-curve callback against SB3's own episode buffers."""

from __future__ import annotations

import numpy as np
import pytest
from stable_baselines3 import PPO

from rewardgym.agents import make_sb3_vec_env
from rewardgym.agents.learning_curve import LearningCurveCallback


def _ppo(n_envs: int = 8) -> PPO:
    env = make_sb3_vec_env("rewardgym/DoorKey-5x5-v0", n_envs, seed=0,
                           env_kwargs={"obs_mode": "flat", "max_steps": 16})
    return PPO("MlpPolicy", env, n_steps=64, batch_size=256, n_epochs=1, seed=0, device="cpu",
               policy_kwargs={"net_arch": [32]})


def test_training_points_match_sb3_episode_buffers():
    model = _ppo()
    curve = LearningCurveCallback(window=20, every="rollout")
    model.learn(4096, callback=curve)
    assert curve.points, "DoorKey-5x5 ends far more than 20 episodes in 4096 steps"
    last = curve.points[-1]
    assert last["steps"] == model.num_timesteps == 4096
    # the callback saw the same finished episodes as SB3's buffers (success and return)
    assert last["success"] == pytest.approx(np.mean(list(model.ep_success_buffer)[-20:]))
    returns = [ep["r"] for ep in model.ep_info_buffer][-20:]
    assert last["return"] == pytest.approx(np.mean(returns), rel=1e-6)
    assert last["episodes"] >= len(model.ep_success_buffer)
    assert [p["steps"] for p in curve.points] == sorted(p["steps"] for p in curve.points)
    assert len(curve.points) <= 4096 // (64 * 8)  # one point per rollout at most
    reached = curve.first_reaching("success", 0.0)
    assert reached == curve.points[0]["steps"]
    assert curve.first_reaching("success", 1.5) is None
    model.env.close()


def test_no_point_before_the_window_is_full_and_episode_mode_records_per_episode():
    model = _ppo()
    curve = LearningCurveCallback(window=10**6, every="rollout")
    model.learn(1024, callback=curve)
    assert curve.points == []
    assert curve.episodes > 0
    per_episode = LearningCurveCallback(window=3, every="episode")
    model.learn(1024, callback=per_episode, reset_num_timesteps=False)
    assert len(per_episode.points) == per_episode.episodes - 2
    model.env.close()


def test_evaluations_run_every_eval_every_steps_and_the_budget_stops_training():
    model = _ppo()
    calls = []

    def evaluate(m):
        calls.append(m.num_timesteps)
        return {"score": float(len(calls))}

    curve = LearningCurveCallback(evaluate=evaluate, eval_every=1024)
    model.learn(2048 + 512, callback=curve)  # rollouts of 512 steps
    assert [e["steps"] for e in curve.evaluations] == [0, 1024, 2048]
    assert [e["score"] for e in curve.evaluations] == [1.0, 2.0, 3.0]
    stopped = LearningCurveCallback(max_seconds=1e-9)
    model.learn(4096, callback=stopped)
    assert model.num_timesteps == 8  # one vector step, then the budget ended training
    model.env.close()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"window": 0}, "window"),
    ({"every": "step"}, "every"),
    ({"eval_every": 10}, "go together"),
    ({"evaluate": print, "eval_every": 0}, "eval_every"),
    ({"max_seconds": 0}, "max_seconds"),
])
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LearningCurveCallback(**kwargs)
