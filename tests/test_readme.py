"""The README runs as written: every fenced Python block and every ``rewardgym ...`` command.

Python blocks run one by one, each in a fresh namespace (a block that forgets an import fails),
in one child process. Commands are the lines of fenced ``bash`` blocks that start with
``rewardgym`` and every inline code span that does; they run in README order in one scratch
folder (so ``plot-terms`` finds the run a ``train`` line made), as a child process each, with
``REWARDGYM_SMOKE=1``: training stops after a few thousand env steps and benchmarks run their
``--quick`` preset at tiny sizes with token timings (``rewardgym.agents.smoke``). ``make`` lines
are not run.

Each command's process is forked from one runner that has imported rewardgym's CLI, torch and
SB3 once (a fresh interpreter pays ~2 s of CPU for them; ~30 commands share it), then runs
``rewardgym.cli.main(argv)`` in the scratch folder with its output in files, as
``python -m rewardgym.cli ...`` would. Nothing has run in the runner before a fork (no torch or
numba thread pool exists yet), and processes a command spawns are fresh interpreters.
A bare ``rewardgym <sub-command>`` in prose that cannot run without arguments (``rewardgym
sweep``) names the command: its ``--help`` must work.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```(\w*)\s*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"(?<!`)`(rewardgym [^`]+)`(?!`)")

pytestmark = pytest.mark.slow


def python_blocks(text: str) -> list[str]:
    """The fenced ``python`` blocks of ``text``, in order."""
    return [body for lang, body in FENCE.findall(text) if lang == "python"]


def commands(text: str) -> list[str]:
    """Every ``rewardgym ...`` command: bash-block lines and inline spans, in order, once each."""
    found: list[tuple[int, str]] = []
    for match in FENCE.finditer(text):
        if match[1] not in ("bash", "sh", "shell", "console"):
            continue
        for line in match[2].splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("rewardgym "):
                found.append((match.start(), line.split(" #")[0].strip()))
    prose = FENCE.sub(lambda m: " " * len(m[0]), text)  # keep offsets, drop the blocks
    found += [(m.start(), m[1].strip()) for m in INLINE.finditer(prose)]
    return list(dict.fromkeys(command for _, command in sorted(found)))


TEXT = README.read_text(encoding="utf-8")
BLOCKS = python_blocks(TEXT)
COMMANDS = commands(TEXT)


def test_the_extraction_finds_what_the_readme_shows():
    assert len(BLOCKS) >= 4
    assert any("make_vec" in block for block in BLOCKS)
    assert "rewardgym bench throughput --groups driving" in COMMANDS
    assert "rewardgym train rewardgym/DoorKey-5x5-v0 --set n_envs=32 --resume --log-dir runs/dk5" \
        in COMMANDS
    assert all(not c.startswith("make") for c in COMMANDS)


def _env() -> dict[str, str]:
    env = {**os.environ, "REWARDGYM_SMOKE": "1", "MPLBACKEND": "Agg"}
    env.pop("COLUMNS", None)
    return env


def test_python_blocks_run_each_in_a_fresh_namespace(tmp_path):
    script = tmp_path / "blocks.py"
    script.write_text(
        # The guard keeps spawned worker processes (a block's sweep or vector env re-imports
        # __main__) from running every block again.
        f"blocks = {BLOCKS!r}\n"
        "if __name__ == '__main__':\n"
        "    for i, block in enumerate(blocks):\n"
        "        print(f'--- block {i}', flush=True)\n"
        "        code = compile(block, f'README.md python block {i}', 'exec')\n"
        "        exec(code, {'__name__': '__main__'})\n"
    )
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The README's commands are run from the repository's root; the files they name there
    # (docs/llm_example_program.py) are copied in, the rest of the scratch folder starts empty.
    folder = tmp_path_factory.mktemp("readme_commands")
    shutil.copytree(README.parent / "docs", folder / "docs")
    return folder


def _is_mention(argv: list[str]) -> bool:
    """``rewardgym sweep`` in prose names a sub-command that needs arguments: check its --help."""
    import contextlib
    import io

    from rewardgym.cli import build_parser

    if len(argv) != 2:
        return False
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            build_parser().parse_args(argv[1:])
    except SystemExit:
        return True
    return False


RUNNER = """
import json, os, sys, time, traceback

if __name__ == "__main__":  # spawned workers of a command re-import this file: they skip it
    import stable_baselines3, torch  # noqa: F401  (what every command would import again)
    import rewardgym.agents.train  # noqa: F401
    import rewardgym.cli

    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the command's own process
            code = 1
            try:
                os.chdir(request["cwd"])
                for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
                    os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
                sys.argv = ["rewardgym", *request["argv"]]
                code = rewardgym.cli.main(request["argv"])
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        deadline = time.monotonic() + request["timeout"]
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                code = 124
                break
            time.sleep(0.05)
        print(json.dumps({"returncode": code}), flush=True)
"""


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory):
    """A process that runs each command in a fork of itself (module docstring)."""
    folder = tmp_path_factory.mktemp("readme_runner")
    script = folder / "runner.py"
    script.write_text(RUNNER)
    process = subprocess.Popen([sys.executable, str(script)], cwd=folder, env=_env(),
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    yield folder, process
    process.stdin.close()
    process.wait(timeout=60)


def _run(runner, argv: list[str], cwd: Path, timeout: float = 600) -> tuple[int, str, str]:
    """Run ``rewardgym <argv>`` in ``cwd`` through the runner: exit code, stdout, stderr."""
    folder, process = runner
    out, err = folder / "stdout.txt", folder / "stderr.txt"
    request = {"argv": argv, "cwd": str(cwd), "stdout": str(out), "stderr": str(err),
               "timeout": timeout}
    process.stdin.write(json.dumps(request) + "\n")
    process.stdin.flush()
    reply = process.stdout.readline()
    assert reply, "the README command runner died"
    return (json.loads(reply)["returncode"], out.read_text(errors="replace"),
            err.read_text(errors="replace"))


@pytest.mark.parametrize("command", COMMANDS)
def test_command_runs_as_written(command, scratch, runner):
    argv = shlex.split(command)
    if _is_mention(argv):
        argv.append("--help")
    code, stdout, stderr = _run(runner, argv[1:], scratch)
    assert code == 0, f"{command}\n{stdout[-2000:]}\n{stderr[-4000:]}"
    assert "Traceback" not in stderr, stderr[-4000:]


def test_the_runner_reports_failures_like_a_fresh_process(scratch, runner):
    code, _, stderr = _run(runner, ["train", "No-Such-Env-v0", "--no-progress"], scratch)
    assert code == 2
    assert "not registered" in stderr.strip().splitlines()[-1]
    code, stdout, _ = _run(runner, ["bench", "--help"], scratch)
    assert code == 0
    assert "throughput" in stdout
