"""The small-model prompting features: sampling options in the request body and the cassette key,
an assistant prefill (vLLM's ``continue_final_message``) in first and repair turns, stop at the
closing fence, the local model's option parsing, the small card and the repair message."""

import gymnasium as gym
import pytest

from rewardgym.wrappers.llm import sample_states, view_of
from rewardgym.wrappers.llm.backends import (
    CassetteMiss,
    OpenAICompatBackend,
    RecordingBackend,
    ReplayBackend,
    request_key,
)
from rewardgym.wrappers.llm.cards import PREFILL, SMALL_EXAMPLES, card_for, small_system
from rewardgym.wrappers.llm.checker import ValidationReport
from rewardgym.wrappers.llm.program import Issue
from rewardgym.wrappers.llm.refine import SIGNATURE, propose, repair_message
from rewardgym.wrappers.llm.server import ChatServer, GenerationOptions, chat_reply

MODEL = "fake-model"
MESSAGES = [{"role": "user", "content": "Write compute_reward for DoorKey."}]
BODY = "\n    key = 0.1 * (obs.dist_key - next_obs.dist_key)\n    return key, {\"key\": key}\n```"


@pytest.fixture(scope="module")
def grid():
    env = gym.make("rewardgym/DoorKey-5x5-v0")
    return view_of(env), sample_states(env, 32, seed=0)


def test_options_travel_in_the_body_and_reserved_ones_are_refused():
    options = {"stop": ["```"], "repetition_penalty": 1.1}
    with ChatServer(lambda body: chat_reply(["x"], MODEL), model=MODEL) as server:
        backend = OpenAICompatBackend(server.base_url, MODEL, max_retries=0, options=options)
        backend.complete(MESSAGES, n=1, temperature=0.0, seed=3, max_tokens=7)
        (body,) = server.requests
    assert body["stop"] == ["```"]
    assert body["repetition_penalty"] == 1.1
    assert body["max_tokens"] == 7
    assert body["seed"] == 3
    # No prefill: the server is not asked to continue anything.
    assert "continue_final_message" not in body
    with pytest.raises(ValueError, match=r"\['max_tokens'\]"):
        OpenAICompatBackend("http://127.0.0.1:9/v1", MODEL, options={"max_tokens": 5})


@pytest.mark.parametrize("echo", [False, True])
def test_prefill_is_continued_and_the_reply_comes_back_whole(echo):
    prefill = "```python\ndef compute_reward(obs, action, next_obs):\n"

    def respond(body):
        text = BODY if not echo else body["messages"][-1]["content"] + BODY
        return chat_reply([text], MODEL)

    with ChatServer(respond, model=MODEL) as server:
        backend = OpenAICompatBackend(server.base_url, MODEL, max_retries=0)
        (completion,) = backend.complete([*MESSAGES, {"role": "assistant", "content": prefill}])
        (body,) = server.requests
    assert body["continue_final_message"] is True
    assert body["add_generation_prompt"] is False
    # Whether the server echoes the prefill or not, the prefill appears exactly once.
    assert completion.text == prefill + BODY


def test_options_enter_the_cassette_key(tmp_path):
    assert request_key(MODEL, MESSAGES, 1, 0.7, 0, 10) == request_key(MODEL, MESSAGES, 1, 0.7, 0,
                                                                      10, {})
    assert request_key(MODEL, MESSAGES, 1, 0.7, 0, 10) != request_key(
        MODEL, MESSAGES, 1, 0.7, 0, 10, {"repetition_penalty": 1.1})
    options = {"repetition_penalty": 1.1}
    with ChatServer(lambda body: chat_reply(["recorded"], MODEL), model=MODEL) as server:
        inner = OpenAICompatBackend(server.base_url, MODEL, max_retries=0, options=options)
        RecordingBackend(inner, tmp_path).complete(MESSAGES, seed=0, max_tokens=10)
    replayed = ReplayBackend(tmp_path, options=options).complete(MESSAGES, seed=0, max_tokens=10)
    assert [c.text for c in replayed] == ["recorded"]
    # The same request sampled without the penalty is another request.
    with pytest.raises(CassetteMiss):
        ReplayBackend(tmp_path).complete(MESSAGES, seed=0, max_tokens=10)


def test_propose_prefills_first_and_repair_turns(grid):
    view, states = grid
    # First reply: a runtime error (an index into a scalar); the repair: a valid body.
    replies = iter(["\n    x = next_obs.dist_key[2]\n    return x, {\"x\": x}\n```", BODY])
    with ChatServer(lambda body: chat_reply([next(replies)], MODEL), model=MODEL) as server:
        backend = OpenAICompatBackend(server.base_url, MODEL, max_retries=0)
        (cand,) = propose(backend, MESSAGES, view, states, k=1, temperature=0.0, seed=0,
                          max_tokens=50, max_repairs=1, prefill=PREFILL, quote_signature=True)
        first, repair = server.requests
    assert cand.ok
    assert cand.repairs == 1
    assert cand.reply == PREFILL + BODY
    assert cand.source.startswith("import math")
    for body in (first, repair):
        assert body["messages"][-1] == {"role": "assistant", "content": PREFILL}
    # The repair turn shows the whole first reply (prefill included), then the reasons and the
    # required signature, then the prefill again.
    assert repair["messages"][-3]["content"].startswith(PREFILL + "\n    x = ")
    assert "rejected" in repair["messages"][-2]["content"]
    assert SIGNATURE in repair["messages"][-2]["content"]


def test_repair_message_quotes_reason_and_signature():
    report = ValidationReport(ok=False, view="grid", source_hash="0" * 64,
                              issues=[Issue("signature", "wrong arguments (obs)")])
    assert repair_message(report) == report.feedback()  # the default: earlier cassettes replay
    text = repair_message(report, quote_signature=True)
    assert "wrong arguments (obs)" in text
    assert f"exactly this line:\n{SIGNATURE}" in text
    assert "return total, {" in text
    passed = ValidationReport(ok=True, view="grid", source_hash="0" * 64)
    assert repair_message(passed, quote_signature=True) == passed.feedback()


def test_generation_options_from_a_body():
    opts = GenerationOptions.from_body({"stop": "```", "repetition_penalty": 1.2,
                                        "no_repeat_ngram_size": 0,
                                        "continue_final_message": True})
    assert opts == GenerationOptions(stop=("```",), repetition_penalty=1.2, continue_final=True)
    assert GenerationOptions.from_body({}) == GenerationOptions()
    text = "a = 1\n```\nb ``` c"
    assert opts.cut(text) == "a = 1\n"
    assert GenerationOptions(stop=("```", "a ="), include_stop=True).cut(text) == "a ="
    assert GenerationOptions(stop=("zzz",)).cut(text) is None
    with pytest.raises(ValueError, match="repetition_penalty"):
        GenerationOptions(repetition_penalty=0.0)
    with pytest.raises(ValueError, match="stop strings"):
        GenerationOptions(stop=("",))


@pytest.mark.parametrize("env_id", ["rewardgym/HalfCheetahBackward-v1",
                                    "rewardgym/AntLieDown-v2", "rewardgym/DoorKey-8x8-v0"])
def test_small_card_names_every_feature_with_its_meaning(env_id):
    env = gym.make(env_id)
    view = view_of(env)
    card = card_for(env_id)
    system, user = card.messages(env, style="small")
    assert system["content"] == small_system(card.family)
    for f in view.features:
        assert f"- {f.name}: " in user["content"]
        assert f.doc in user["content"]
    assert card.task in user["content"]
    assert card.success in user["content"]
    # The one-shot example solves a different task of the same family, with real feature names:
    # a verbatim copy passes the checker (the measurements look for copies).
    example_task, body = SMALL_EXAMPLES[card.family]
    assert f"different task ({example_task})" in system["content"]
    assert body in system["content"]
    assert example_task != card.task
    names = {word.split(".")[1] for word in body.replace("(", " ").replace(")", " ").split()
             if word.startswith(("obs.", "next_obs."))}
    assert names
    assert names <= set(view.names)
    assert "pole_angle" in small_system("driving")
    assert card.hash(env, style="small") != card.hash(env, style="compact")
    assert card.messages(env, compact=True) == card.messages(env, style="compact")
    with pytest.raises(ValueError, match="card style"):
        card.messages(env, style="tiny")
    with pytest.raises(ValueError, match="contradicts"):
        card.messages(env, compact=True, style="small")
    env.close()
