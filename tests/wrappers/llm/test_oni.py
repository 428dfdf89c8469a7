"""ONI option: captions, background labelling by a loopback server, decayed intrinsic reward."""

import json
import re
import time

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from rewardgym.wrappers.llm.backends import OpenAICompatBackend
from rewardgym.wrappers.llm.oni import (
    AnnotationService,
    MLPClassifier,
    NgramClassifier,
    ONIReward,
    ONIRewardVector,
    grid_captioner,
    locomotion_captioner,
    parse_labels,
)
from rewardgym.wrappers.llm.server import ChatServer, chat_reply
from rewardgym.wrappers.llm.views import view_of
from tests.wrappers.llm.oni_helpers import NoRequests, scripted_captions, until

ENV = "rewardgym/DoorKey-5x5-v0"


def judge(body, delay=0.0):
    """YES for captions that mention the key, NO otherwise."""
    lines = re.findall(r"^(\d+): (.*)$", body["messages"][-1]["content"], re.MULTILINE)
    text = "\n".join(f"{k}: {'YES' if 'key' in c else 'NO'}" for k, c in lines)
    reply = chat_reply([text], "judge")
    reply.delay = delay
    return reply



def test_parse_labels():
    assert parse_labels("1: YES\n2: no\n3: maybe\n2: YES", 3) == {0: 1.0, 1: 0.0}
    assert parse_labels("<label>YES</label>", 1) == {}


def test_labels_and_decayed_intrinsic(tmp_path):
    with ChatServer(judge, model="judge") as server:
        backend = OpenAICompatBackend(server.base_url, "judge", max_retries=0)
        service = AnnotationService(backend, "get to the goal", path=tmp_path / "labels.json")
        env = ONIReward(gym.make(ENV), service, c_int=0.5,
                        captioner=scripted_captions(["picked up the key", "closed the door"]))
        env.reset(seed=0)
        env.step(2)
        env.step(2)
        assert service.wait(timeout=10.0)
        rewards = []
        for _ in range(6):
            _, reward, _, _, info = env.step(2)
            rewards.append((info["caption"], info["reward_terms"]["intrinsic"], reward))
        service.close()
    key = [r for c, r, _ in rewards if c == "picked up the key"]
    door = [r for c, r, _ in rewards if c == "closed the door"]
    # counts 2, 3, 4 of the key caption in this episode: 0.5 / N**3
    np.testing.assert_allclose(key, [0.5 / 2**3, 0.5 / 3**3, 0.5 / 4**3])
    assert door == [0.0, 0.0, 0.0]
    assert json.loads((tmp_path / "labels.json").read_text()) == {
        "closed the door": 0.0, "picked up the key": 1.0}
    assert service.requests >= 1
    again = AnnotationService(backend, "x", path=tmp_path / "labels.json")
    assert again.labels()["picked up the key"] == 1.0
    again.close()


def test_step_never_waits_for_a_slow_model():
    with ChatServer(lambda body: judge(body, delay=2.0), model="judge") as server:
        backend = OpenAICompatBackend(server.base_url, "judge", max_retries=0)
        service = AnnotationService(backend, "goal")
        env = ONIReward(gym.make(ENV), service,
                        captioner=scripted_captions(["picked up the key"]))
        env.reset(seed=0)
        worst = 0.0
        for _ in range(20):
            start = time.perf_counter()
            _, _, _, _, info = env.step(1)
            worst = max(worst, time.perf_counter() - start)
        assert info["reward_terms"]["intrinsic"] == 0.0  # label not there yet
        assert worst < 0.5
        assert service.wait(timeout=10.0)
        assert service.labels() == {"picked up the key": 1.0}
        service.close()


def test_classifier_model_generalises_to_unseen_captions():
    model = NgramClassifier()
    model.fit({"picked up the key": 1.0, "closed the door": 0.0, "dropped the key": 0.0},
              steps=300)
    assert model.predict("picked up the yellow key") > 0.5
    assert model.predict("closed the red door") < 0.5




def test_mlp_classifier_generalises_to_unseen_captions():
    model = MLPClassifier(seed=0)
    model.fit({"picked up the key": 1.0, "closed the door": 0.0, "dropped the key": 0.0},
              steps=300)
    assert model.predict("picked up the yellow key") > 0.5
    assert model.predict("closed the red door") < 0.5


@pytest.mark.parametrize("model", ["cls", "mlp"])
def test_distilled_model_pays_for_unlabelled_variant(tmp_path, model):
    # Labels loaded from labels.json are distilled on the annotation thread (never in step);
    # the model then pays a caption the LLM never labelled.
    path = tmp_path / "labels.json"
    path.write_text(json.dumps({"picked up the key": 1.0, "closed the door": 0.0}))
    service = AnnotationService(NoRequests(), "goal", path=path)
    service._seen.add("picked up the blue key")  # never sent to the (absent) model
    env = ONIReward(gym.make(ENV), service, model=model, c_int=1.0, train_steps=300,
                    captioner=scripted_captions(["picked up the blue key"]))
    env.reset(seed=0)
    until(lambda: env._label.handle.current is not None)
    assert env._label.handle.fitted_on == 2
    _, _, _, _, info = env.step(2)
    assert info["reward_terms"]["intrinsic"] == 1.0
    service.close()


GRID_CAPTIONS = ("reached the goal", "opened the door", "closed the door", "picked up the key",
                 "dropped the key", "picked up an object")


@pytest.mark.parametrize("autoreset", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_vector_twin_equals_single_wrappers(tmp_path, autoreset):
    # Every grid caption is labelled already (no label arrives mid-run), so the vector twin and
    # per-env wrappers must pay exactly the same, episode ends included.
    path = tmp_path / "labels.json"
    path.write_text(json.dumps({c: float("key" in c or "door" in c) for c in GRID_CAPTIONS}))
    service = AnnotationService(NoRequests(), "goal", path=path)
    n = 3
    native = gym.make_vec(ENV, n, vectorization_mode="vector_entry_point", max_steps=15,
                          autoreset_mode=autoreset)
    vec = ONIRewardVector(native, service, c_int=0.5, beta=1.0)
    sync = gym.make_vec(ENV, n, vectorization_mode="sync", max_steps=15,
                        vector_kwargs={"autoreset_mode": autoreset},
                        wrappers=[lambda e: ONIReward(e, service, c_int=0.5, beta=1.0)])
    vec.reset(seed=3)
    sync.reset(seed=3)
    rng = np.random.default_rng(0)
    paid = ends = 0
    for _ in range(90):
        a = rng.choice(7, n, p=[0.1, 0.1, 0.3, 0.2, 0.1, 0.2, 0.0])
        _, r1, t1, u1, _i1 = vec.step(a)
        _, r2, t2, u2, _i2 = sync.step(a)
        np.testing.assert_array_equal(t1 | u1, t2 | u2)
        np.testing.assert_allclose(r1, r2, atol=1e-12)
        paid += int((r1 > 0).sum())
        ends += int((t1 | u1).sum())
    assert paid > 0
    assert ends >= n
    service.close()


def test_vector_twin_step_never_waits_and_distils(tmp_path):
    with ChatServer(lambda body: judge(body, delay=1.5), model="judge") as server:
        backend = OpenAICompatBackend(server.base_url, "judge", max_retries=0)
        service = AnnotationService(backend, "goal", path=tmp_path / "labels.json")
        envs = ONIRewardVector(gym.make_vec(ENV, 2, vectorization_mode="vector_entry_point"),
                               service, model="mlp", c_int=1.0, train_steps=200,
                               captioner=scripted_captions(["picked up the key",
                                                           "closed the door"]))
        envs.reset(seed=0)
        worst = 0.0
        for _ in range(15):
            start = time.perf_counter()
            _, _, _, _, _infos = envs.step(np.array([1, 1]))
            worst = max(worst, time.perf_counter() - start)
        assert worst < 0.5  # the server takes 1.5 s per batch
        assert service.wait(timeout=10.0)
        until(lambda: envs._label.handle.fitted_on == 2)
        assert json.loads((tmp_path / "labels.json").read_text()) == {
            "closed the door": 0.0, "picked up the key": 1.0}
        service.close()


def test_builtin_captioners():
    grid_view = view_of(gym.make(ENV))
    cap = grid_captioner(grid_view)
    before = np.zeros(grid_view.size)
    after = before.copy()
    after[grid_view["carrying_key"].start] = 1.0
    assert cap(before, after) == "picked up the key"
    after[grid_view["door_open"].start] = 1.0
    assert cap(before, after) == "opened the door"
    assert cap(before, before) == ""
    loco = view_of(gym.make("rewardgym/AntLieDown-v1"))
    cap = locomotion_captioner(loco)
    a = np.zeros(loco.size)
    a[loco["torso_z"].start], a[loco["up_z"].start] = 0.6, 1.0
    b = a.copy()
    b[loco["torso_z"].start] = 0.4
    assert cap(a, b) == "torso fell below 0.5 m"


def test_bad_arguments():
    with pytest.raises(ValueError, match="model"):
        ONIReward(gym.make(ENV), None, model="ranking")


@pytest.mark.slow
def test_rewardgym_train_with_oni_env_wrapper(tmp_path, monkeypatch):
    # `rewardgym train ... --set env_wrappers=[...oni:oni_from_environment]` trains with the
    # intrinsic reward: the labels of a loopback server land in labels.json.
    import argparse

    from rewardgym.agents.cli import add_train_command

    with ChatServer(lambda body: judge(body, delay=0.2), model="judge") as server:
        labels = tmp_path / "labels.json"
        for key, value in (("LLM_BASE_URL", server.base_url), ("LLM_MODEL", "judge"),
                           ("ONI_GOAL", "pick up the key"), ("ONI_LABELS", str(labels)),
                           ("ONI_MODEL", "mlp")):
            monkeypatch.setenv(key, value)
        parser = argparse.ArgumentParser(prog="rewardgym")
        add_train_command(parser.add_subparsers(dest="command", required=True))
        args = parser.parse_args([
            "train", ENV, "--log-dir", str(tmp_path / "runs"), "--no-progress", "--seed", "0",
            "--eval-episodes", "1", "--total-timesteps", "512", "--set", "n_envs=2",
            "n_steps=128", "batch_size=64", "n_epochs=1",
            "env_kwargs={obs_mode: flat, max_steps: 8}",
            "env_wrappers=[rewardgym.wrappers.llm.oni:oni_from_environment]"])
        assert args.func(args) == 0
        until(lambda: labels.exists())
        assert set(json.loads(labels.read_text())) <= set(GRID_CAPTIONS)
        assert server.requests
    from rewardgym.wrappers.llm import oni

    for service in oni._SERVICES.values():
        service.close()
    oni._SERVICES.clear()


@pytest.mark.slow
def test_oni_env_wrapper_trains_on_the_native_vector_env(tmp_path, monkeypatch):
    # oni_from_environment's vector twin: make_sb3_vec_env keeps the native vector env and
    # wraps it in one ONIRewardVector (no SyncVectorEnv of wrapped sub-envs); labels arrive.
    from rewardgym.agents.sb3_adapter import _wrapper_chain, make_sb3_vec_env
    from rewardgym.envs.grid import GridVectorEnv
    from rewardgym.wrappers.llm import oni

    with ChatServer(judge, model="judge") as server:
        labels = tmp_path / "labels.json"
        for key, value in (("LLM_BASE_URL", server.base_url), ("LLM_MODEL", "judge"),
                           ("ONI_GOAL", "pick up the key"), ("ONI_LABELS", str(labels)),
                           ("ONI_MODEL", "hash")):
            monkeypatch.setenv(key, value)
        try:
            venv = make_sb3_vec_env(ENV, 3, seed=0, env_kwargs={"obs_mode": "flat"},
                                    env_wrappers=[oni.oni_from_environment])
            chain = list(_wrapper_chain(venv.vector_env))
            assert sum(isinstance(e, ONIRewardVector) for e in chain) == 1
            assert isinstance(venv.vector_env.unwrapped, GridVectorEnv)
            venv.reset()
            rng = np.random.default_rng(0)
            for _ in range(60):
                venv.step_async(rng.choice(7, 3, p=[0.2, 0.2, 0.3, 0.2, 0.0, 0.1, 0.0]))
                venv.step_wait()
            service = next(iter(oni._SERVICES.values()))
            assert service.wait(timeout=10.0)
            assert service.labels()
            assert set(service.labels()) <= set(GRID_CAPTIONS)
            venv.close()
        finally:
            for service in oni._SERVICES.values():
                service.close()
            oni._SERVICES.clear()
