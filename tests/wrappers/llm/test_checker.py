"""The checker: an adversarial corpus, each program rejected with its reason; accepted programs
compile, and numba agrees with Python; the sandbox's OS limits hold on their own."""

import os
import socket
import textwrap
import uuid
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import rewardgym.wrappers.llm.checker as checker_module
from rewardgym.wrappers.llm import Limits, check_program, sample_states, view_of
from rewardgym.wrappers.llm.sandbox import States, dry_run, network_isolation

STATIC_CODES = {"import", "dunder", "call", "attribute", "feature", "loop", "statement",
                "expression", "string", "signature", "return", "terms", "name", "assign",
                "constant", "size", "syntax", "no_code", "truncated", "operator"}


@pytest.fixture(scope="module")
def grid():
    env = gym.make("rewardgym/DoorKey-5x5-v0")
    return view_of(env), sample_states(env, 48, seed=0)


def fn(body: str, head: str = "import numpy as np\nimport math\n") -> str:
    """A program whose compute_reward has ``body`` (indented for you)."""
    return head + "def compute_reward(obs, action, next_obs):\n" + textwrap.indent(
        textwrap.dedent(body).strip("\n"), "    ") + "\n"


RET = 'return 0.0, {"a": 0.0}'

# (id, program, expected issue code)
CORPUS = [
    # imports by every route
    ("import_os", "import os\n" + fn(RET), "import"),
    ("import_subprocess_as", "import subprocess as sp\n" + fn(RET), "import"),
    ("from_import", "from os import system\n" + fn(RET), "import"),
    ("import_numpy_plain", fn(RET, head="import numpy\n"), "import"),
    ("import_two", fn(RET, head="import numpy as np, socket\n"), "import"),
    ("import_urllib", fn(RET, head="import urllib.request\n"), "import"),
    ("import_inside", fn("import os\n" + RET), "import"),
    ("dunder_import", fn("x = __import__('os')\n" + RET), "dunder"),
    ("builtins_name", fn("x = __builtins__\n" + RET), "dunder"),
    # dunder walks and getattr chains
    ("mro_walk", fn("x = ().__class__.__mro__[1].__subclasses__()\n" + RET), "dunder"),
    ("obs_class", fn("x = obs.__class__\n" + RET), "dunder"),
    ("np_dict", fn("x = np.__dict__\n" + RET), "dunder"),
    ("facade_globals", fn("x = np.sum.__globals__\n" + RET), "dunder"),
    ("private_attr", fn("x = obs._layout\n" + RET), "dunder"),
    ("getattr_call", fn("x = getattr(obs, 'dist_key')\n" + RET), "call"),
    ("getattr_chain", fn("x = getattr(getattr(np, 'lib'), 'format')\n" + RET), "call"),
    ("vars_call", fn("x = vars(obs)\n" + RET), "call"),
    ("globals_call", fn("x = globals()\n" + RET), "call"),
    ("type_call", fn("x = type(obs)\n" + RET), "call"),
    ("eval_call", fn("x = eval('1')\n" + RET), "call"),
    ("exec_call", fn("x = exec('y = 1')\n" + RET), "call"),
    ("compile_call", fn("x = compile('1', 'f', 'eval')\n" + RET), "call"),
    ("breakpoint_call", fn("x = breakpoint()\n" + RET), "call"),
    ("attr_of_local", fn("x = obs.dist_key\ny = x.real\n" + RET), "attribute"),
    ("action_attr", fn("x = action.shape\n" + RET), "attribute"),
    ("obs_not_feature", fn("x = obs.values\n" + RET), "feature"),
    # numpy IO and ctypes paths
    ("np_load", fn("x = np.load('x.npy', True)\n" + RET), "call"),
    ("np_fromfile", fn("x = np.fromfile('/etc/passwd')\n" + RET), "call"),
    ("np_memmap", fn("x = np.memmap('/tmp/x')\n" + RET), "call"),
    ("np_save", fn("x = np.save('/tmp/x', 1.0)\n" + RET), "call"),
    ("np_ctypeslib", fn("x = np.ctypeslib.as_array(1)\n" + RET), "call"),
    ("np_lib_format", fn("x = np.lib.format.open_memmap('/tmp/x')\n" + RET), "call"),
    ("np_keyword", fn("x = np.sum(next_obs.dist_key, axis=0)\n" + RET), "call"),
    # huge exponents and strings, memory bombs
    ("huge_string", fn("x = 'a' * 10 ** 10\n" + RET), "string"),
    ("fstring", fn("x = f'{obs}'\n" + RET), "string"),
    ("huge_literal", fn("x = " + "9" * 400 + "\n" + RET), "constant"),
    ("list_bomb", fn("x = [0.0] * 10 ** 9\n" + RET), "expression"),
    ("np_ones_bomb", fn("x = np.ones(10 ** 10)\n" + RET), "call"),
    ("np_zeros_bomb", fn("x = np.zeros(100000)\n" + RET), "call"),
    ("math_factorial", fn("x = math.factorial(100000)\n" + RET), "call"),
    # unbounded loops and recursion
    ("while_true", fn("while True:\n    pass\n" + RET), "loop"),
    ("range_variable", fn("n = 5\nfor i in range(n):\n    pass\n" + RET), "loop"),
    ("range_expression", fn("for i in range(10 ** 6):\n    pass\n" + RET), "loop"),
    ("range_too_long", fn("for i in range(1000000):\n    pass\n" + RET), "loop"),
    ("nested_loops", fn("for i in range(200):\n    for j in range(200):\n        pass\n" + RET),
     "loop"),
    ("loop_over_obs", fn("for x in obs:\n    pass\n" + RET), "loop"),
    ("recursion", fn("return compute_reward(obs, action, next_obs)"), "call"),
    ("helper_recursion", "def f(x):\n    return f(x)\n" + fn(RET), "signature"),
    ("lambda", fn("f = lambda: 0.0\n" + RET), "expression"),
    ("comprehension", fn("x = sum([i for i in range(3)])\n" + RET), "expression"),
    ("walrus", fn("y = (x := 1.0)\n" + RET), "expression"),
    # statements that are not allowed
    ("try_except", fn("try:\n    x = 1.0\nexcept Exception:\n    x = 0.0\n" + RET),
     "statement"),
    ("with_open", fn("with open('/tmp/x', 'w') as f:\n    pass\n" + RET), "statement"),
    ("open_write", fn("x = open('/tmp/x', 'w')\n" + RET), "call"),
    ("class_def", "class X:\n    pass\n" + fn(RET), "statement"),
    ("global_stmt", fn("global x\n" + RET), "statement"),
    ("yield_stmt", fn("yield 1.0\n" + RET), "statement"),
    ("print_stmt", fn("print(obs.dist_key)\n" + RET), "statement"),
    ("assign_obs", fn("obs = 1.0\n" + RET), "assign"),
    ("assign_item", fn("x = next_obs.dist_key\nterms = 0.0\n" + RET), "assign"),
    ("module_code", "x = open('/tmp/x')\n" + fn(RET), "constant"),
    ("decorator", "import numpy as np\n@np.vectorize\ndef compute_reward(obs, action, next_obs):"
     "\n    " + RET + "\n", "signature"),
    # wrong signatures and return shapes
    ("two_params", "def compute_reward(obs, action):\n    " + RET + "\n", "signature"),
    ("default_param", "def compute_reward(obs, action, next_obs, info=None):\n    " + RET + "\n",
     "signature"),
    ("no_function", "x = 1.0\n", "no_code"),
    ("return_float", fn("return 1.0"), "return"),
    ("no_return", fn("x = 1.0"), "return"),
    ("key_not_literal", fn("k = 1.0\nreturn 0.0, {k: 0.0}"), "terms"),
    ("bad_term_name", fn('return 0.0, {"Bad Name": 0.0}'), "terms"),
    ("too_many_terms", fn("return 0.0, {" + ", ".join(f'"t{i}": 0.0' for i in range(9)) + "}"),
     "terms"),
    ("terms_differ", fn('if obs.dist_key > 1:\n    return 1.0, {"a": 1.0}\nreturn 0.0, '
                        '{"b": 0.0}'), "terms"),
    ("is_operator", fn("x = 1.0 if obs.dist_key is None else 0.0\n" + RET), "operator"),
    ("bitwise_op", fn("x = 1 << 1000\n" + RET), "operator"),
    ("syntax_error", fn("x = (1.0\n" + RET), "syntax"),
    ("too_long", fn("x = 1.0\n" * 250 + RET), "size"),
    ("no_code_block", "Here is my idea: reward moving to the key.", "no_code"),
    ("truncated_reply", "```python\ndef compute_reward(obs, action, next_obs):\n    x = ",
     "truncated"),
    # run-time failures (these pass the static checks and fail in the child)
    ("power_tower", fn("x = 10 ** 10 ** 10\n" + RET), "runtime"),
    ("index_scalar", fn("x = next_obs.dist_key[3]\n" + RET), "runtime"),
    ("nan_total", fn("d = obs.agent_x - obs.agent_x\nx = d / d\nreturn x, {\"a\": x}"),
     "nonfinite"),
    ("inf_total", fn('x = next_obs.agent_x / 0.0\nreturn x, {"a": x}'), "nonfinite"),
    ("overflow_exp", fn('x = math.exp(1000.0 * next_obs.agent_x)\nreturn x, {"a": x}'),
     "runtime"),
    ("huge_scale", fn('x = 1e8 * (next_obs.agent_x + 1.0)\nreturn x, {"a": x}'), "scale"),
    ("use_before_assign", fn('y = x + 1.0\nx = 1.0\nreturn y, {"a": y}'), "name"),
]


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 40
    assert len({c[0] for c in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize(("name", "program", "code"), CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus_rejected_with_reason(grid, name, program, code, monkeypatch):
    view, states = grid
    if code in STATIC_CODES:
        # Statically rejected programs must never reach the child process.
        def no_run(*args, **kwargs):
            raise AssertionError(f"{name} was executed")

        monkeypatch.setattr(checker_module, "dry_run", no_run)
    result = check_program(program, view, states)
    report = result.report
    assert not report.ok
    assert result.program is None
    codes = [i.code for i in report.issues]
    assert code in codes, report.reasons()
    assert report.executed == (code not in STATIC_CODES)
    for issue in report.issues:
        assert len(issue.message) > 25  # says what is wrong and what to do
    assert report.feedback().startswith("The reward program was rejected")


def test_power_tower_is_an_overflow_not_a_hang(grid):
    view, states = grid
    report = check_program(fn("x = 10 ** 10 ** 10\n" + RET), view, states).report
    assert "OverflowError" in report.issues[0].message


def test_slow_program_rejected(grid):
    view, states = grid
    body = "x = 0.0\nfor i in range(2000):\n    x = x + math.sin(next_obs.agent_x)\n" \
           'return x, {"a": x}'
    report = check_program(fn(body), view, states, limits=Limits(call_budget_s=1e-5)).report
    assert [i.code for i in report.issues] == ["slow"]


GOOD = [
    fn('W = 0.1\nkey = W * (obs.dist_key - next_obs.dist_key)\n'
       'door = 0.5 * (next_obs.door_open - obs.door_open)\n'
       'goal = 1.0 if next_obs.at_goal > 0 else 0\n'
       'return key + door + goal, {"key": key, "door": door, "goal": goal}'),
    fn('"""A docstring."""\nd: float = next_obs.subgoal_distance\n'
       'near = math.exp(-0.2 * d)\nturn = -0.01 if action < 2 else 0.0\n'
       'return near + turn, {"near": near, "turn": turn}'),
    fn('s = 0.0\nfor i in range(4):\n    s += 0.25 * np.tanh(next_obs.agent_x - i)\n'
       'if next_obs.carrying_key > obs.carrying_key:\n    return s + 1.0, {"s": s, "pick": 1.0}\n'
       'a, b = s, 0.0\nreturn a + b, {"pick": b, "s": a}'),
    fn('x = np.clip(next_obs.dist_goal / max(next_obs.max_steps, 1), 0, 1)\n'
       'y = np.sqrt(abs(obs.agent_x - next_obs.agent_x)) + math.pi * 0\n'
       'return float(y - x), {"goal": -x, "move": y}'),
]


@pytest.mark.parametrize("program", GOOD)
def test_good_programs_accepted_and_numba_equals_python(grid, program):
    view, states = grid
    result = check_program(program, view, states)
    assert result.report.ok, result.report.reasons()
    prog = result.program
    assert prog.backend == "numba", prog.note
    nb = prog(states.obs, states.actions, states.next_obs)
    py = prog.python(states.obs, states.actions, states.next_obs)
    np.testing.assert_allclose(nb[0], py[0], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(nb[1], py[1], rtol=1e-6, atol=1e-12)
    assert np.isfinite(nb[0]).all()


def test_degenerate_term_flagged_not_rejected(grid):
    view, states = grid
    report = check_program(fn('c = 0.5\nx = next_obs.step_count\nreturn x + c, '
                              '{"x": x, "const": c}'), view, states).report
    assert report.ok
    assert any("'const' is the same" in w for w in report.warnings)
    assert not any("'x' is the same" in w for w in report.warnings)


def test_locomotion_vector_features(tmp_path):
    env = gym.make("rewardgym/HalfCheetahBackward-v1")
    view = view_of(env)
    states = sample_states(env, 24, seed=1)
    program = fn('back = -next_obs.vel_x\nctrl = 0.1 * np.sum(action * action)\n'
                 'jv = np.linalg.norm(next_obs.joint_vel) * 0.001 + next_obs.joint_pos[2] * 0\n'
                 'return back - ctrl - jv, {"back": back, "ctrl": -ctrl, "jv": -jv}')
    result = check_program(program, view, states)
    assert result.report.ok, result.report.reasons()
    assert result.program.backend == "numba", result.program.note
    totals, _terms = result.program(states.obs, states.actions, states.next_obs)
    np.testing.assert_allclose(totals, -states.next_obs[:, view["vel_x"].start]
                               - 0.1 * (states.actions ** 2).sum(1)
                               - 0.001 * np.linalg.norm(
                                   states.next_obs[:, view["joint_vel"].start:
                                                   view["joint_vel"].start
                                                   + view["joint_vel"].size], axis=1),
                               rtol=1e-9)


# -- the OS layer on its own: real builtins, real numpy, and still nothing escapes --------------

def raw(body: str) -> str:
    return "def compute_reward(obs, action, next_obs, terms):\n" + textwrap.indent(
        textwrap.dedent(body).strip("\n"), "    ") + "\n    return 0.0\n"


def _run_raw(body: str, states: States, **limits) -> object:
    return dry_run(raw(body), States(states.obs[:2], states.actions[:2], states.next_obs[:2]),
                   1, Limits(**limits), full_builtins=True)


def test_sandbox_blocks_file_writes(grid, tmp_path):
    _, states = grid
    target = tmp_path / f"escape-{uuid.uuid4().hex}"
    run = _run_raw(f"open({str(target)!r}, 'w').write('x')", states)
    assert not run.ok
    assert not target.exists()
    run = _run_raw(f"import numpy\nnumpy.save({str(target)!r}, numpy.ones(3))", states)
    assert not run.ok
    assert not list(tmp_path.iterdir())


def test_sandbox_blocks_sockets(grid):
    _, states = grid
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    run = _run_raw(f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), 1)\n"
                   "s.sendall(b'escaped')", states)
    assert not run.ok
    with pytest.raises(TimeoutError):
        server.accept()
    server.close()
    if network_isolation():
        assert run.network_isolated


def test_sandbox_kills_endless_loop_and_stops_memory_bomb(grid):
    _, states = grid
    run = _run_raw("while True:\n    pass", states, child_cpu_s=1, child_wall_s=20.0)
    assert not run.ok
    assert run.killed is not None
    run = _run_raw("x = bytearray(8 * 1024 ** 3)", states)
    assert not run.ok
    assert run.error_type == "MemoryError"


def test_parent_unharmed(grid):
    _, states = grid
    cwd = os.getcwd()
    real_sum = np.sum
    run = _run_raw("import os, numpy\nos.chdir('/')\nnumpy.sum = None\nos.environ['X'] = '1'",
                   states)
    assert run.ok  # it ran, in its own process
    assert os.getcwd() == cwd
    assert np.sum is real_sum
    assert "X" not in os.environ or os.environ["X"] != "1"
    assert Path(cwd).exists()
