"""ONI option: captions, background labelling by a loopback server, decayed intrinsic reward."""

import itertools
import json
import re
import time

import gymnasium as gym
import numpy as np
import pytest

from rewardgym.wrappers.llm.backends import OpenAICompatBackend
from rewardgym.wrappers.llm.oni import (
    AnnotationService,
    NgramClassifier,
    ONIReward,
    grid_captioner,
    locomotion_captioner,
    parse_labels,
)
from rewardgym.wrappers.llm.server import ChatServer, chat_reply
from rewardgym.wrappers.llm.views import view_of

ENV = "rewardgym/DoorKey-5x5-v0"


def judge(body, delay=0.0):
    """YES for captions that mention the key, NO otherwise."""
    lines = re.findall(r"^(\d+): (.*)$", body["messages"][-1]["content"], re.MULTILINE)
    text = "\n".join(f"{k}: {'YES' if 'key' in c else 'NO'}" for k, c in lines)
    reply = chat_reply([text], "judge")
    reply.delay = delay
    return reply


def scripted_captions(captions):
    it = itertools.cycle(captions)
    return lambda before, after: next(it)


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


def test_cls_mode_pays_for_unlabelled_variant():
    class Fixed:
        name, model = "fixed", "fixed"

        def complete(self, messages, **kw):
            raise AssertionError("no request expected")

    service = AnnotationService(Fixed(), "goal")
    service._labels = {"picked up the key": 1.0, "closed the door": 0.0}
    service._seen = set(service._labels) | {"picked up the blue key"}
    env = ONIReward(gym.make(ENV), service, model="cls", c_int=1.0,
                    captioner=scripted_captions(["picked up the blue key"]))
    env.reset(seed=0)
    _, _, _, _, info = env.step(2)
    assert info["reward_terms"]["intrinsic"] == 1.0
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
        ONIReward(gym.make(ENV), None, model="rank")
