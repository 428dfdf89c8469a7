"""The static checker's corner cases and the feedback it gives (what a model reads when it refines).

Written against mutants of ``_Checker`` that the corpus in ``test_checker.py`` let survive
(``make mutation MODULES=llm_checker``): a tuple assigned to one name, and messages that must
point at the right fix.
"""

import textwrap

import pytest

from rewardgym.envs.grid import GridEnv
from rewardgym.wrappers.llm.program import BUILTINS, static_check
from rewardgym.wrappers.llm.views import view_of

RET = 'return 0.0, {"a": 0.0}'


@pytest.fixture(scope="module")
def view():
    return view_of(GridEnv(layout="door_key", size=5))


def _issues(view, body, head="import numpy as np\nimport math\n"):
    source = head + "def compute_reward(obs, action, next_obs):\n" + textwrap.indent(
        textwrap.dedent(body).strip("\n"), "    ") + "\n"
    return static_check(source, view).issues


def test_a_tuple_is_never_bound_to_one_name(view):
    issues = _issues(view, "x = 1.0, 2.0\n" + RET)
    assert [i.code for i in issues] == ["expression"]
    assert "tuples are allowed only" in issues[0].message
    # The elements of a refused tuple are still checked: the feedback names every problem.
    issues = _issues(view, "x = 1.0, os\n" + RET)
    assert [i.code for i in issues] == ["expression", "name"]
    # Unpacking a tuple into names is allowed; unpacking anything else is checked as a value.
    assert _issues(view, "a, b = 1.0, next_obs.dist_key\n" + RET) == []
    assert [i.code for i in _issues(view, "a, b = obs\n" + RET)] == []  # a plain name


def test_attribute_of_a_local_gets_the_general_message(view):
    for name in ("x", "a"):  # one name sorting after "action" (and "np"), one before
        issues = _issues(view, f"{name} = obs.dist_key\ny = {name}.real\n" + RET)
        assert [i.code for i in issues] == ["attribute"]
        assert "allowed only as obs.<feature>" in issues[0].message
        assert "action has no attributes" not in issues[0].message
    issues = _issues(view, "y = action.shape\n" + RET)
    assert "action has no attributes" in issues[0].message


def test_a_refused_call_lists_every_callable_builtin(view):
    issues = _issues(view, "x = sorted(obs.dist_key)\n" + RET)
    assert [i.code for i in issues] == ["call"]
    listed = issues[0].message.split("callable: ")[1]
    for name in BUILTINS:
        assert (name in listed) == (name != "range"), (name, listed)


def test_constant_messages_name_the_kind(view):
    issues = _issues(view, "x = 'fast'\n" + RET)
    assert [i.code for i in issues] == ["string"]
    assert issues[0].message.startswith("strings are not allowed")
    issues = _issues(view, "x = b'fast'\n" + RET)
    assert [i.code for i in issues] == ["constant"]
    assert issues[0].message.startswith("bytes constants are not allowed")


def test_none_and_booleans_are_allowed_constants(view):
    assert _issues(view, "x = None\ny = True\nz = False\n" + RET) == []


def test_only_np_linalg_norm_is_a_callable_attribute_chain(view):
    """``np.linalg.norm`` is the one two-level callee; chains sorting after it are refused."""
    assert _issues(view, "x = np.linalg.norm(obs.dist_key)\n" + RET) == []
    for callee in ("np.random.rand", "obs.dist_key.conjugate"):
        issues = _issues(view, f"x = {callee}()\n" + RET)
        assert [i.code for i in issues] == ["call"]
        assert issues[0].message.startswith(f"{callee}(...) is not callable")


@pytest.mark.parametrize("line", ["a, b = 1.0, os", "x = 1.0 and os", "x = 1.0 < 2.0 < os"])
def test_every_operand_is_checked(view, line):
    """The values of a tuple unpacking, every operand of and/or and every comparator."""
    issues = _issues(view, line + "\n" + RET)
    assert [(i.code, i.message.split(":")[0]) for i in issues] == [("name", "unknown name 'os'")]


def test_only_compute_reward_is_checked_when_a_helper_is_defined(view):
    """A second function is one ``signature`` issue; its body is not checked as the entry."""
    for helper in ("a", "z"):  # one name sorting before "compute_reward", one after
        source = (f"def {helper}(x):\n    return os\n"
                  "def compute_reward(obs, action, next_obs):\n    " + RET + "\n")
        issues = static_check(source, view).issues
        assert [i.code for i in issues] == ["signature"]
        assert issues[0].line == 1  # the first function


def test_exactly_one_function_named_compute_reward(view):
    misnamed = "x = 1.0\ndef reward(obs, action, next_obs):\n    " + RET + "\n"
    issues = static_check(misnamed, view).issues
    assert [i.code for i in issues] == ["signature"]
    assert issues[0].line == 2  # points at the function that is there
    assert "found: ['reward']" in issues[0].message
    issues = static_check("x = 1.0\n", view).issues  # no function at all (no line to point at)
    assert [(i.code, i.line) for i in issues] == [("signature", None)]


def test_call_messages_tell_recursion_from_other_names(view):
    issues = _issues(view, "return compute_reward(obs, action, next_obs)")
    assert any("no recursion" in i.message for i in issues), issues
    for name in ("vars", "dir"):  # sorting after and before compute_reward
        issues = _issues(view, f"x = {name}(obs)\n" + RET)
        assert [i.code for i in issues] == ["call"]
        assert issues[0].message.startswith(f"calling {name}(...) is not allowed")


def test_slice_bounds_are_checked_and_empty_ones_are_fine(view):
    assert _issues(view, "x = next_obs.dist_key[1:]\ny = obs.dist_key[:2:1]\n" + RET) == []
    issues = _issues(view, "x = next_obs.dist_key[__import__('os'):]\n" + RET)
    assert "dunder" in [i.code for i in issues]


def test_a_refused_module_function_lists_that_modules_functions(view):
    from rewardgym.wrappers.llm.program import MATH_FUNCS, NP_FUNCS

    for module, allowed in (("np", NP_FUNCS), ("math", MATH_FUNCS)):
        issues = _issues(view, f"x = {module}.load(1.0)\n" + RET)
        assert [i.code for i in issues] == ["call"]
        assert issues[0].message.endswith("allowed: " + ", ".join(allowed))


def test_module_docstring_is_skipped_not_the_end_of_the_module(view):
    source = ('"""Reward getting closer to the key."""\nimport numpy as np\n'
              "def compute_reward(obs, action, next_obs):\n    " + RET + "\n")
    assert static_check(source, view).issues == []


def test_methods_of_locals_are_not_numpy_functions(view):
    issues = _issues(view, "x = obs.dist_key\ny = x.sum(1.0)\n" + RET)
    assert "call" in [i.code for i in issues]


@pytest.mark.parametrize("local", ["d", "x"])  # names sorting before and after "math"
def test_methods_of_locals_are_not_math_functions(view, local):
    issues = _issues(view, f"{local} = obs.dist_key\ny = {local}.sqrt({local})\n" + RET)
    assert "call" in [i.code for i in issues]


def test_an_uncalled_numpy_name_says_call_it_or_not_allowed(view):
    assert [i.code for i in _issues(view, "x = np.sum\n" + RET)] == ["call"]
    assert [i.code for i in _issues(view, "x = np.random\n" + RET)] == ["attribute"]
    assert [i.code for i in _issues(view, "x = math.sqrt\n" + RET)] == ["call"]
    assert [i.code for i in _issues(view, "x = math.inf\n" + RET)] == ["attribute"]
