"""`rewardgym llm-reward` against a loopback server, then replayed from its cassettes."""

import json

import pytest

from rewardgym.cli import main
from rewardgym.wrappers.llm.server import ChatServer, chat_reply

ENV = "rewardgym/DoorKey-5x5-v0"
GOOD = ("```python\ndef compute_reward(obs, action, next_obs):\n"
        "    key = 0.1 * (obs.dist_key - next_obs.dist_key)\n"
        "    return key, {\"key\": key}\n```")
EVIL = ("```python\nimport os\ndef compute_reward(obs, action, next_obs):\n"
        "    return 0, {'a': 0}\n```")


def test_generate_show_check_and_replay(tmp_path, capsys):
    replies = iter([[GOOD, EVIL], [GOOD]])  # the EVIL one is repaired on the second request
    with ChatServer(lambda body: chat_reply(next(replies)[: body["n"]], "m"),
                    model="m") as server:
        code = main(["llm-reward", "generate", ENV, "--base-url", server.base_url, "--model",
                     "m", "-k", "2", "--states", "32", "--out", str(tmp_path / "gen"),
                     "--record", str(tmp_path / "tapes"), "--max-repairs", "1"])
        assert len(server.requests) == 2
    out = capsys.readouterr().out
    assert code == 0
    assert "2/2 program(s) passed" in out
    assert str((tmp_path / "gen").resolve()) in out
    assert len(list((tmp_path / "gen" / "programs").glob("*.py"))) == 2
    manifest = json.loads((tmp_path / "gen" / "manifest.json").read_text())
    assert manifest["model"] == "m"
    assert len(manifest["card_hash"]) == 64

    assert main(["llm-reward", "show", str(tmp_path / "gen")]) == 0
    shown = capsys.readouterr().out
    assert "c0" in shown
    assert "c1" in shown

    assert main(["llm-reward", "generate", ENV, "--backend", "replay", "--cassettes",
                 str(tmp_path / "tapes"), "-k", "2", "--states", "32", "--out",
                 str(tmp_path / "again"), "--max-repairs", "1"]) == 0
    first = (tmp_path / "gen" / "programs" / "c1.py").read_text()
    assert (tmp_path / "again" / "programs" / "c1.py").read_text() == first

    bad = tmp_path / "bad.py"
    bad.write_text(EVIL)
    capsys.readouterr()
    assert main(["llm-reward", "check", ENV, str(bad), "--states", "16"]) == 1
    assert "[import]" in capsys.readouterr().out
    assert main(["llm-reward", "check", ENV, str(tmp_path / "gen" / "programs" / "c0.py"),
                 "--states", "16", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_replay_needs_cassettes():
    with pytest.raises(SystemExit, match="--cassettes"):
        main(["llm-reward", "generate", ENV, "--backend", "replay"])


BODY = GOOD.split("next_obs):", 1)[1]  # what a server continuing the prefill sends


@pytest.mark.slow
@pytest.mark.parametrize("small", [False, True])
def test_refine_command_trains_and_selects(tmp_path, capsys, small):
    def respond(body):
        return chat_reply([BODY if body.get("continue_final_message") else GOOD] * body["n"],
                          "m")

    flags = ["--card", "small", "--prefill", "--stop-at-fence"] if small else []
    with ChatServer(respond, model="m") as server:
        code = main(["llm-reward", "refine", ENV, "--base-url", server.base_url, "--model", "m",
                     "-k", "1", "--rounds", "1", "--timesteps", "512", "--states", "32",
                     "--out", str(tmp_path / "ref"), *flags])
        (body,) = server.requests
    assert body.get("continue_final_message", False) is small
    assert ("stop" in body) is small
    manifest = json.loads((tmp_path / "ref" / "manifest.json").read_text())
    assert (manifest["prefill"] is not None) is small
    out = capsys.readouterr().out
    assert code == 0
    assert "best: r0a0c0" in out
    record = json.loads((tmp_path / "ref" / "candidates.jsonl").read_text().splitlines()[0])
    assert record["results"][0]["timesteps"] == 512
    assert 0.0 <= record["fitness"] <= 1.0 + 1e-6


def test_generate_with_the_small_model_settings_then_replay(tmp_path, capsys):
    from rewardgym.wrappers.llm.backends import CassetteMiss
    from rewardgym.wrappers.llm.cards import PREFILL

    body_text = ("\n    key = 0.1 * (obs.dist_key - next_obs.dist_key)\n"
                 "    return key, {\"key\": key}\n```")
    with ChatServer(lambda body: chat_reply([body_text], "m"), model="m") as server:
        flags = ["-k", "1", "--states", "32", "--max-repairs", "0", "--card", "small",
                 "--prefill", "--stop-at-fence", "--repetition-penalty", "1.1"]
        assert main(["llm-reward", "generate", ENV, "--base-url", server.base_url, "--model",
                     "m", "--out", str(tmp_path / "gen"), "--record", str(tmp_path / "tapes"),
                     *flags]) == 0
        (body,) = server.requests
    # What the flags put in the request: the sampling options, the small card, the prefill.
    assert body["stop"] == ["```"]
    assert body["include_stop_str_in_output"] is True
    assert body["repetition_penalty"] == 1.1
    assert body["continue_final_message"] is True
    assert body["messages"][-1] == {"role": "assistant", "content": PREFILL}
    assert "Example for a different task" in body["messages"][0]["content"]
    manifest = json.loads((tmp_path / "gen" / "manifest.json").read_text())
    assert manifest["card_style"] == "small"
    assert manifest["prefill"] == PREFILL
    program = (tmp_path / "gen" / "programs" / "c0.py").read_text()
    assert program == (PREFILL + body_text).removeprefix("```python\n").removesuffix("\n```")
    # The same flags replay it; without the sampling options the request is another one.
    capsys.readouterr()
    assert main(["llm-reward", "generate", ENV, "--backend", "replay", "--cassettes",
                 str(tmp_path / "tapes"), "--out", str(tmp_path / "again"), *flags]) == 0
    assert (tmp_path / "again" / "programs" / "c0.py").read_text() == program
    with pytest.raises(CassetteMiss, match="no cassette"):
        main(["llm-reward", "generate", ENV, "--backend", "replay", "--cassettes",
              str(tmp_path / "tapes"), "--out", str(tmp_path / "miss"),
              *[f for f in flags if f not in ("--stop-at-fence",)]])
