"""The refine loop with a scripted model and a deterministic fake trainer; cards vs live envs;
an archive replayed from cassettes is identical."""

import json

import gymnasium as gym
import numpy as np
import pytest

from rewardgym.envs.locomotion.robots import load_model
from rewardgym.wrappers.llm import sample_states, view_of
from rewardgym.wrappers.llm.backends import RecordingBackend, ReplayBackend, ScriptedBackend
from rewardgym.wrappers.llm.cards import CARDS, SYSTEM, card_for
from rewardgym.wrappers.llm.refine import RefineConfig, local_runner, refine, reflection

ENV = "rewardgym/DoorKey-5x5-v0"


def prog(weight, extra=""):
    return (f"```python\ndef compute_reward(obs, action, next_obs):\n{extra}"
            f"    key = {weight} * (obs.dist_key - next_obs.dist_key)\n"
            f"    goal = next_obs.at_goal\n"
            f"    return key + goal, {{\"key\": key, \"goal\": goal}}\n```")


BROKEN = "```python\ndef compute_reward(obs, action, next_obs):\n    while True:\n        pass\n```"


def fake_trainer(config, run_dir):
    """Fitness grows with the key weight written in the program (deterministic)."""
    weight = float(config["program"].split("key = ")[1].split(" *")[0])
    (run_dir / "done").write_text("1")
    return {"success_rate": min(1.0, weight), "base_return": weight,
            "term_series": {"key": list(np.linspace(0, weight, 10)), "goal": [0.0] * 10},
            "success_series": [0.0] * 5 + [weight] * 5, "length_series": [50.0] * 10,
            "base_return_series": [0.0] * 10,
            "failure_summary": f"episodes ended with carrying_key={weight:.2f}"}


@pytest.fixture(scope="module")
def grid():
    env = gym.make(ENV)
    return env, view_of(env), sample_states(env, 32, seed=0)


def script_for(messages, i):
    last = messages[-1]["content"]
    if "rejected" in last:
        return prog(0.3)  # the repair
    if "We trained an RL policy" in last:
        return [prog(0.9), prog(0.2)][i % 2]
    return [prog(0.5), BROKEN][i % 2]


def run(backend, grid, tmp_path, name, **kw):
    env, view, states = grid
    card = card_for(ENV)
    return refine(backend, card.messages(env), view, states, env_id=ENV,
                  card_hash=card.hash(env), runner=local_runner(fake_trainer),
                  archive_dir=tmp_path / name,
                  config=RefineConfig(k=2, rounds=2, max_repairs=1, timesteps=100), **kw)


def test_refine_loop_repairs_reflects_and_selects(grid, tmp_path):
    backend = ScriptedBackend(script_for)
    result = run(backend, grid, tmp_path, "a")
    # round 0: 0.5 valid, BROKEN repaired to 0.3; round 1 (after reflection): 0.9 and 0.2
    assert result.best is not None
    assert result.best.fitness == pytest.approx(0.9, abs=1e-5)
    assert result.best.id == "r1a0c1"
    repaired = [c for c in result.candidates if c.repairs == 1]
    assert len(repaired) == 1
    assert repaired[0].ok
    assert "while" in repaired[0].replies[0]
    reflect = backend.requests[-1][-1]["content"]
    assert reflect.startswith("We trained an RL policy")
    assert "key: [" in reflect
    assert "Max: 0.5" in reflect
    assert "Trajectory analysis of failed episodes: episodes ended with carrying_key=0.50" \
        in reflect
    assert backend.requests[-1][-2]["content"] == prog(0.5)  # the elite of round 0
    records = [json.loads(line) for line in
               (result.archive / "candidates.jsonl").read_text().splitlines()]
    assert len(records) == 4
    assert {r["card_hash"] for r in records} == {card_for(ENV).hash(grid[0])}
    manifest = json.loads((result.archive / "manifest.json").read_text())
    assert manifest["best"]["id"] == "r1a0c1"
    assert manifest["model"] == "scripted"
    assert (result.archive / "programs" / "r1a0c1.py").exists()


def test_refine_prefills_every_round_and_repair(grid, tmp_path):
    from rewardgym.wrappers.llm.refine import SIGNATURE

    prefill = "```python\ndef compute_reward(obs, action, next_obs):"

    def script(messages, i):
        # Every request ends with the prefill; the backend contract returns whole replies.
        assert messages[-1] == {"role": "assistant", "content": prefill}
        return script_for(messages[:-1], i)

    backend = ScriptedBackend(script)
    result = run(backend, grid, tmp_path, "p", prefill=prefill, quote_signature=True)
    assert result.best.id == "r1a0c1"
    assert len(backend.requests) == 3  # round 0, the repair, round 1
    assert all(r[-1]["content"] == prefill for r in backend.requests)
    assert SIGNATURE in backend.requests[1][-2]["content"]  # the repair turn
    assert backend.requests[2][-2]["content"].startswith("We trained an RL policy")
    manifest = json.loads((result.archive / "manifest.json").read_text())
    assert manifest["prefill"] == prefill
    assert manifest["quote_signature"] is True


def test_winner_retrained_on_final_seeds_with_interval(grid, tmp_path):
    from rewardgym.benchmarks.sweep_report import confidence_interval

    def seeded(config, run_dir):
        out = fake_trainer(config, run_dir)
        out["success_rate"] *= 1.0 - 0.1 * config["seed"]
        return out

    env, view, states = grid
    card = card_for(ENV)
    result = refine(ScriptedBackend(script_for), card.messages(env), view, states, env_id=ENV,
                    card_hash=card.hash(env), runner=local_runner(seeded),
                    archive_dir=tmp_path / "final", interval=confidence_interval,
                    config=RefineConfig(k=2, rounds=2, max_repairs=1, timesteps=100,
                                        final_seeds=(5, 6, 7)))
    final = result.final
    assert final["candidate"] == result.best.id == "r1a0c1"
    np.testing.assert_allclose(final["success_rates"], [0.45, 0.36, 0.27])
    assert final["success_mean"] == pytest.approx(0.36)
    lo, hi = final["success_ci"]
    assert lo < 0.36 < hi
    assert (result.archive / "runs" / "final-r1a0c1-s7" / "done").exists()
    manifest = json.loads((result.archive / "manifest.json").read_text())
    assert manifest["final"]["seeds"] == [5, 6, 7]
    with pytest.raises(ValueError, match="final_seeds"):
        RefineConfig(final_seeds=(1, 1))


def test_human_feedback_turn(grid, tmp_path):
    backend = ScriptedBackend(script_for)
    result = run(backend, grid, tmp_path, "h", human_feedback=("it circles the key",
                                                               "pick the key up"))
    turns = [r[-1]["content"] for r in backend.requests if "What we observed" in r[-1]["content"]]
    assert len(turns) == 1
    assert "What we observed: it circles the key" in turns[0]
    assert "pick the key up" in turns[0]
    assert any(c.id.startswith("r2") for c in result.candidates)


def test_all_failed_round_is_retried_then_recorded(grid, tmp_path):
    backend = ScriptedBackend(lambda messages, i: BROKEN)
    result = run(backend, grid, tmp_path, "f")
    assert result.best is None
    assert all(not c.ok for c in result.candidates)
    # 2 rounds x 2 attempts x 2 candidates x (1 + 1 repair)
    assert len(result.candidates) == 8
    assert len(backend.requests) == 2 * 2 * (1 + 2)


def test_archive_replays_identically_from_cassettes(grid, tmp_path):
    recorded = run(RecordingBackend(ScriptedBackend(script_for), tmp_path / "tapes"), grid,
                   tmp_path, "rec")
    replayed = run(ReplayBackend(tmp_path / "tapes"), grid, tmp_path, "rep")

    def strip(path):
        rows = [json.loads(x) for x in (path / "candidates.jsonl").read_text().splitlines()]
        for r in rows:
            r["report"].pop("call_time_median_s")
            r["provenance"].pop("time")
        return rows

    assert strip(recorded.archive) == strip(replayed.archive)


def test_reflection_mentions_warnings(grid):
    from rewardgym.wrappers.llm.checker import ValidationReport
    from rewardgym.wrappers.llm.refine import Candidate

    report = ValidationReport(ok=True, view="v", source_hash="0", warnings=["term 'x' flat"])
    text = reflection(Candidate("c", "", "", report, {}, results=[
        {"success_rate": 0.25, "term_series": {"x": [1.0] * 10}}]))
    assert "x: [1, 1" in text
    assert "Final evaluation success rate: 0.25" in text
    assert "term 'x' flat" in text


@pytest.mark.parametrize("env_id", sorted(CARDS))
def test_cards_match_the_live_env(env_id):
    env = gym.make(env_id)
    card = card_for(env_id)
    view = view_of(env)
    base = env.unwrapped
    text = card.render(env)
    assert view.describe() in text
    assert card.task in text
    assert card.success in text
    assert card.family == view.family
    if view.family in ("grid", "shopping"):
        assert len(card.actions) == env.action_space.n
        assert card.dt is None
    elif view.family == "driving":
        cfg = base.config
        assert card.dt == pytest.approx(cfg.dt)
        assert len(card.actions) == env.action_space.shape[0] == view.action_size
        steer, accel = card.actions
        assert f"x {cfg.max_steer:g} rad" in steer
        assert f"{cfg.steer_rate:g} rad/s" in steer
        assert f"+{cfg.max_accel:g} m/s^2" in accel
        assert f"-{cfg.max_brake:g} m/s^2" in accel
        assert card.action_meaning in text
    else:
        assert card.dt == pytest.approx(base.config.dt)
        assert card.actions == view["joint_pos"].labels
        model = load_model(base.config.robot.name)
        assert len(card.actions) == model.nu == env.action_space.shape[0]
        cfg = base.config
        if cfg.task == "ant_lie_down":  # the thresholds the card states are the env's
            assert f"{cfg.lie_height:g} m with up_z >= {cfg.lie_up_z:g}" in card.success
            assert f"for {cfg.hold_steps} consecutive steps" in card.success
            within = f"within the first {cfg.lie_within} steps ({cfg.lie_within * cfg.dt:g} s)"
            assert (within in card.success) == (cfg.lie_within > 0)
    assert len(card.hash(env)) == 64
    messages = card.messages(env)
    assert messages[0]["content"] == SYSTEM
    assert card.hash(env) == card.hash(gym.make(env_id))
    compact = card.messages(env, compact=True)[1]["content"]
    assert all(name in compact for name in view.names)
    assert len(compact) < len(text) / 2


def test_unknown_card():
    with pytest.raises(KeyError, match="cards exist for"):
        card_for("rewardgym/Nope-v0")
