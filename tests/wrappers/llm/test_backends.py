"""Backends against a real HTTP server on 127.0.0.1, scripted per test; cassettes; repair."""

import itertools
import time
from pathlib import Path

import gymnasium as gym
import pytest

from rewardgym.wrappers.llm import sample_states, view_of
from rewardgym.wrappers.llm.backends import (
    BackendError,
    CassetteMiss,
    OpenAICompatBackend,
    RecordingBackend,
    ReplayBackend,
    ScriptedBackend,
)
from rewardgym.wrappers.llm.refine import propose
from rewardgym.wrappers.llm.server import ChatServer, Reply, chat_reply

MODEL = "fake-model"
MESSAGES = [{"role": "system", "content": "You write rewards."},
            {"role": "user", "content": "Write compute_reward for DoorKey."}]
VALID = '''Here it is.
```python
import numpy as np
def compute_reward(obs, action, next_obs):
    key = 0.1 * (obs.dist_key - next_obs.dist_key)
    return key, {"key": key}
```'''
RUNTIME_ERROR = '''```python
def compute_reward(obs, action, next_obs):
    x = next_obs.dist_key[2]
    return x, {"x": x}
```'''


def block(body):
    return f"```python\n{body}\n```"


@pytest.fixture(scope="module")
def grid():
    env = gym.make("rewardgym/DoorKey-5x5-v0")
    return view_of(env), sample_states(env, 32, seed=0)


def scripted(replies):
    """A respond function that plays ``replies`` (Reply or text) in order."""
    it = iter(replies)

    def respond(body):
        item = next(it)
        return item if isinstance(item, Reply) else chat_reply([item], MODEL)

    return respond


def test_valid_program_and_request_shape(grid):
    view, states = grid
    with ChatServer(scripted([VALID]), model=MODEL) as server:
        backend = OpenAICompatBackend(server.base_url, MODEL, api_key="k", max_retries=0)
        (c,) = backend.complete(MESSAGES, n=1, temperature=0.7, seed=3, max_tokens=300)
        body = server.requests[0]
    assert body == {"model": MODEL, "messages": MESSAGES, "n": 1, "temperature": 0.7,
                    "max_tokens": 300, "stream": False, "seed": 3}
    assert c.model == MODEL
    assert c.server == server.base_url
    assert not c.truncated
    cands = propose(ScriptedBackend([c.text]), MESSAGES, view, states, k=1, temperature=0.0,
                    seed=0, max_tokens=300, max_repairs=0)
    assert cands[0].ok


def test_models_health_check():
    with ChatServer(scripted([]), model=MODEL) as server:
        assert OpenAICompatBackend(server.base_url, MODEL).models() == [MODEL]


def test_runtime_error_next_request_carries_traceback(grid):
    view, states = grid
    with ChatServer(scripted([RUNTIME_ERROR, VALID]), model=MODEL) as server:
        backend = OpenAICompatBackend(server.base_url, MODEL, max_retries=0)
        (cand,) = propose(backend, MESSAGES, view, states, k=1, temperature=1.0, seed=0,
                          max_tokens=500, max_repairs=2)
        assert len(server.requests) == 2
        repair = server.requests[1]["messages"]
    assert cand.ok
    assert cand.repairs == 1
    assert repair[-2] == {"role": "assistant", "content": RUNTIME_ERROR}
    assert "Traceback" in repair[-1]["content"]
    assert "IndexError" in repair[-1]["content"]
    assert "[runtime]" in repair[-1]["content"]


def test_malicious_program_rejected_without_executing(grid, tmp_path):
    view, states = grid
    target = tmp_path / "pwned"
    evil = block(f"import os\ndef compute_reward(obs, action, next_obs):\n"
                 f"    os.system('touch {target}')\n    return 0.0, {{'a': 0.0}}")
    with ChatServer(scripted([evil]), model=MODEL) as server:
        backend = OpenAICompatBackend(server.base_url, MODEL, max_retries=0)
        (cand,) = propose(backend, MESSAGES, view, states, k=1, temperature=1.0, seed=0,
                          max_tokens=500, max_repairs=0)
    assert not cand.ok
    assert not cand.report.executed
    assert {"import"} <= {i.code for i in cand.report.issues}
    assert not target.exists()


def test_truncated_reply_detected(grid):
    view, states = grid
    cut = "```python\ndef compute_reward(obs, action, next_obs):\n    key = 0.1 * (obs.dist"
    with ChatServer(lambda body: chat_reply([cut], MODEL, ["length"]), model=MODEL) as server:
        backend = OpenAICompatBackend(server.base_url, MODEL, max_retries=0)
        (cand,) = propose(backend, MESSAGES, view, states, k=1, temperature=1.0, seed=0,
                          max_tokens=20, max_repairs=0)
    assert cand.truncated
    assert [i.code for i in cand.report.issues] == ["truncated"]


def test_429_and_500_then_success_with_backoff():
    waits = []
    replies = [Reply(429, {"error": "slow down"}, headers={"Retry-After": "0.25"}),
               Reply(500, {"error": "boom"}), Reply(503, {"error": "busy"}), VALID]
    with ChatServer(scripted(replies), model=MODEL) as server:
        backend = OpenAICompatBackend(server.base_url, MODEL, max_retries=5, backoff=0.5,
                                      sleep=waits.append)
        (c,) = backend.complete(MESSAGES)
        assert len(server.requests) == 4
    assert c.text == VALID
    assert waits == [0.25, 1.0, 2.0]  # Retry-After honoured, then 0.5 * 2**attempt


def test_retries_exhausted_and_client_errors():
    with ChatServer(lambda body: Reply(500, {"error": "down"}), model=MODEL) as server:
        backend = OpenAICompatBackend(server.base_url, MODEL, max_retries=2, sleep=lambda s: None)
        with pytest.raises(BackendError, match="gave up after 3 tries"):
            backend.complete(MESSAGES)
        assert len(server.requests) == 3
    with ChatServer(lambda body: Reply(401, {"error": "bad key"}), model=MODEL) as server:
        backend = OpenAICompatBackend(server.base_url, MODEL, max_retries=3)
        with pytest.raises(BackendError, match="HTTP 401"):
            backend.complete(MESSAGES)
        assert len(server.requests) == 1


def test_server_ignoring_n_is_emulated():
    counter = itertools.count()
    with ChatServer(lambda body: chat_reply([f"reply {next(counter)}"], MODEL),
                    model=MODEL) as server:
        backend = OpenAICompatBackend(server.base_url, MODEL, max_retries=0)
        out = backend.complete(MESSAGES, n=3, seed=10)
        seeds = [r.get("seed") for r in server.requests]
        ns = [r["n"] for r in server.requests]
    assert [c.text for c in out] == ["reply 0", "reply 1", "reply 2"]
    assert ns == [3, 1, 1]
    assert seeds == [10, 11, 12]


def test_slow_server_times_out():
    with ChatServer(lambda body: Reply(200, chat_reply(["late"], MODEL).body, delay=3.0),
                    model=MODEL) as server:
        backend = OpenAICompatBackend(server.base_url, MODEL, timeout=0.3, max_retries=1,
                                      sleep=lambda s: None)
        start = time.monotonic()
        with pytest.raises(BackendError, match="timed out"):
            backend.complete(MESSAGES)
        assert time.monotonic() - start < 2.5
        assert len(server.requests) == 2


def test_missing_configuration_is_explained(monkeypatch):
    monkeypatch.delenv("LLM_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="LLM_BASE_URL"):
        OpenAICompatBackend(model="m")
    monkeypatch.setenv("LLM_BASE_URL", "http://127.0.0.1:1/v1")
    monkeypatch.setenv("LLM_MODEL", "from-env")
    assert OpenAICompatBackend().model == "from-env"


def test_record_then_strict_replay_is_identical(tmp_path: Path):
    with ChatServer(lambda body: chat_reply([VALID, "second"], MODEL), model=MODEL) as server:
        live = OpenAICompatBackend(server.base_url, MODEL, max_retries=0)
        recorded = RecordingBackend(live, tmp_path).complete(MESSAGES, n=2, seed=1)
    replay = ReplayBackend(tmp_path)
    again = replay.complete(MESSAGES, n=2, seed=1)
    assert again == recorded
    assert again[0].provenance["server"] == server.base_url
    assert again[0].provenance["model"] == MODEL
    assert again[0].provenance["time"]
    with pytest.raises(CassetteMiss):
        replay.complete(MESSAGES, n=2, seed=2)
    fallback = ReplayBackend(tmp_path, strict=False, fallback=ScriptedBackend(["fb"]))
    assert fallback.complete(MESSAGES, n=1, seed=2)[0].text == "fb"
