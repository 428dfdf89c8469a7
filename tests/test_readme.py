"""The README runs as written: every fenced Python block and every ``rewardgym ...`` command.

Python blocks run one by one, each in a fresh namespace (a block that forgets an import fails),
in one child process. Commands are the lines of fenced ``bash`` blocks that start with
``rewardgym`` and every inline code span that does; they run in README order in one scratch
folder (so ``plot-terms`` finds the run a ``train`` line made), as a child process each, with
``REWARDGYM_SMOKE=1``: training stops after a few thousand env steps and benchmarks run their
``--quick`` preset with token timings (``rewardgym.agents.smoke``). ``make`` lines are not run.
A bare ``rewardgym <sub-command>`` in prose that cannot run without arguments (``rewardgym
sweep``) names the command: its ``--help`` must work.
"""

from __future__ import annotations

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


@pytest.mark.parametrize("command", COMMANDS)
def test_command_runs_as_written(command, scratch):
    argv = shlex.split(command)
    if _is_mention(argv):
        argv.append("--help")
    done = subprocess.run([sys.executable, "-m", "rewardgym.cli", *argv[1:]], cwd=scratch,
                          env=_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    assert "Traceback" not in done.stderr, done.stderr[-4000:]
