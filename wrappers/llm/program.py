"""Reward programs: the format a model writes, the static checker, and the rewrite to arrays.

A reward program is Python source with ONE function (research notes ``llm_rewards.md`` §8.1)::

    import numpy as np
    import math

    W_FWD = 1.0                      # module-level numeric constants ("temperatures", weights)

    def compute_reward(obs, action, next_obs):
        fwd = W_FWD * next_obs.vel_x
        ctrl = 0.1 * np.sum(action * action)
        return fwd - ctrl, {"forward": fwd, "ctrl": -ctrl}

``obs`` and ``next_obs`` are the env family's reward view before and after the step (features by
name, see :mod:`rewardgym.wrappers.llm.views`), ``action`` the action taken (a float for
discrete actions, a float vector for boxes). It returns the total and a dict literal of named
terms. The program is data until :func:`static_check` passes it: an allowlist of AST nodes, names
and attributes (no imports but ``numpy as np`` and ``math``, which are replaced by facades of
pure functions; no dunders, no ``getattr``, no ``while``, ``for`` only over a bounded
``range``), size limits; then :func:`rewrite` turns it into the "specific" program
(Text2Reward's general/specific split, done on the AST rather than by string replacement): feature
reads become fixed indices (``next_obs[9]``), int literals become floats (so ``10 ** 10 ** 10``
overflows at once instead of hanging in big-int arithmetic), annotations and docstrings go, and
``return total, {...}`` becomes writes into a preallocated ``terms`` array, which is what numba
compiles. Every rejection says what to change.
"""

from __future__ import annotations

import ast
import hashlib
import math
import re
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rewardgym.wrappers.llm.views import RewardView

ENTRY = "compute_reward"
PARAMS = ("obs", "action", "next_obs")
TERM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

# The numpy and math functions a program may call (pure, no IO, numba-compilable on scalars and
# 1-D arrays). The facades below expose exactly these; the modules themselves never reach a program.
NP_FUNCS = ("abs", "sqrt", "exp", "log", "log1p", "expm1", "tanh", "sin", "cos", "tan", "arctan",
            "arctan2", "arcsin", "arccos", "clip", "minimum", "maximum", "sum", "mean", "max",
            "min", "dot", "square", "sign", "hypot", "floor", "ceil", "fabs", "prod", "cosh",
            "sinh", "isfinite")
NP_CONSTS = ("pi", "e")
MATH_FUNCS = ("sqrt", "exp", "log", "log1p", "expm1", "tanh", "sin", "cos", "tan", "atan",
              "atan2", "asin", "acos", "fabs", "hypot", "floor", "ceil", "copysign", "cosh",
              "sinh", "isfinite")
MATH_CONSTS = ("pi", "e")
BUILTINS = ("abs", "min", "max", "float", "int", "range", "len")
RESERVED = {*PARAMS, "np", "math", *BUILTINS, "terms", "True", "False", "None"}

_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
_UNARY = (ast.USub, ast.UAdd, ast.Not)
_CMPOPS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)


@dataclass(frozen=True)
class Limits:
    """Size and run-time limits of the checker (defaults sized for reward programs).

    Example:
        >>> Limits().max_terms, Limits(max_lines=50).max_lines
        (8, 50)
    """

    max_chars: int = 12_000
    max_lines: int = 200
    max_nodes: int = 3_000
    max_terms: int = 8
    max_loop_iterations: int = 10_000
    max_abs_constant: float = 1e9
    call_budget_s: float = 0.002  # median time of one Python call in the dry run
    max_abs_total: float = 1e4  # p99 of |total| over the validation states
    child_cpu_s: int = 20
    child_memory_bytes: int = 2 * 1024**3
    child_wall_s: float = 60.0
    parity_rtol: float = 1e-6
    parity_atol: float = 1e-9

    def __post_init__(self) -> None:
        for name in ("max_chars", "max_lines", "max_nodes", "max_terms", "max_loop_iterations",
                     "child_cpu_s", "child_memory_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"Limits.{name} must be a positive int, got {value!r}")
        for name in ("call_budget_s", "max_abs_total", "child_wall_s", "max_abs_constant"):
            value = getattr(self, name)
            if not (isinstance(value, float | int) and value > 0 and math.isfinite(value)):
                raise ValueError(f"Limits.{name} must be a positive finite number, got {value!r}")


@dataclass(frozen=True)
class Issue:
    """One reason a program is rejected: a code, a message that says what to change, a line."""

    code: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"[{self.code}] {where}{self.message}"


class ProgramRejected(ValueError):
    """A program failed the checker; ``issues`` lists every reason."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(str(i) for i in issues))
        self.issues = issues


def source_hash(text: str) -> str:
    """SHA-256 of a program text (the identity used in caches and artefacts)."""
    return hashlib.sha256(text.encode()).hexdigest()


_FENCE = re.compile(r"```(?:python|py|Python)?[ \t]*\n(.*?)```", re.DOTALL)
_OPEN_FENCE = re.compile(r"```(?:python|py|Python)?[ \t]*\n(.*)$", re.DOTALL)


def extract_code(reply: str) -> str:
    """The program in a model reply: the first fenced code block holding ``compute_reward``.

    Falls back to the first fenced block, then to the bare reply if it defines the function.

    Raises:
        ProgramRejected: no code block (``no_code``), or a block that was never closed
            (``truncated``).
    """
    blocks = _FENCE.findall(reply)
    for block in blocks:
        if f"def {ENTRY}" in block:
            return block.strip("\n")
    if blocks:
        return blocks[0].strip("\n")
    if _OPEN_FENCE.search(reply):
        raise ProgramRejected([Issue("truncated", "the code block is not closed (the reply was cut "
                                     "off?); write a shorter program and close it with ```")])
    if f"def {ENTRY}" in reply:
        return reply.strip("\n")
    raise ProgramRejected([Issue("no_code", f"no ```python code block with def {ENTRY}(obs, "
                                 "action, next_obs) found; reply with exactly one such block")])


@dataclass
class StaticResult:
    """What :func:`static_check` learned: the issues, the term names, the parsed tree."""

    issues: list[Issue] = field(default_factory=list)
    terms: tuple[str, ...] = ()
    tree: ast.Module | None = None
    constants: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when there are no issues."""
        return not self.issues


class _Checker:
    """One pass over the tree collecting every issue (never executes anything)."""

    def __init__(self, view: RewardView, limits: Limits) -> None:
        self.view = view
        self.limits = limits
        self.issues: list[Issue] = []
        self.constants: list[str] = []
        self.locals: set[str] = set()
        self.terms: tuple[str, ...] | None = None

    def add(self, code: str, node: ast.AST | None, message: str) -> None:
        line = getattr(node, "lineno", None) if node is not None else None
        issue = Issue(code, message, line)
        if issue not in self.issues:
            self.issues.append(issue)

    # -- module level ------------------------------------------------------------------------
    def module(self, tree: ast.Module) -> None:
        functions = []
        for node in tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if (alias.name, alias.asname) not in (("numpy", "np"), ("math", None)):
                        self.add("import", node, f"`import {alias.name}` is not allowed; only "
                                 "`import numpy as np` and `import math` (and only their pure "
                                 "math functions)")
            elif isinstance(node, ast.ImportFrom):
                self.add("import", node, f"`from {node.module} import ...` is not allowed; use "
                         "`import numpy as np` / `import math` and call np.<fn> / math.<fn>")
            elif isinstance(node, ast.FunctionDef):
                functions.append(node)
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                self.module_constant(node)
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and \
                    isinstance(node.value.value, str):
                continue  # a module docstring
            else:
                self.add("statement", node, f"`{type(node).__name__}` is not allowed at module "
                         f"level; keep only imports, numeric constants and def {ENTRY}")
        names = [f.name for f in functions]
        if names.count(ENTRY) != 1 or len(functions) != 1:
            self.add("signature", functions[0] if functions else None,
                     f"define exactly one function, `def {ENTRY}(obs, action, next_obs)`, and "
                     f"no other functions (found: {names or 'none'}); inline helpers")
        for f in functions:
            if f.name == ENTRY:
                self.function(f)

    def module_constant(self, node: ast.Assign | ast.AnnAssign) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            self.add("constant", node, "module-level assignments must be `NAME = <number>`")
            return
        name = targets[0].id
        self.name_ok(name, targets[0], store=True)
        if node.value is None or not _is_number(node.value):
            self.add("constant", node, f"module constant {name} must be a plain number "
                     "(e.g. `W_SPEED = 0.5`); compute other values inside compute_reward")
        else:
            self.number(node.value)
        self.constants.append(name)

    # -- the function ------------------------------------------------------------------------
    def function(self, f: ast.FunctionDef) -> None:
        a = f.args
        got = [x.arg for x in a.posonlyargs + a.args]
        if got != list(PARAMS) or a.vararg or a.kwarg or a.kwonlyargs or a.defaults \
                or a.kw_defaults:
            self.add("signature", f, f"the signature must be exactly `def {ENTRY}(obs, action, "
                     f"next_obs)` (got `{ENTRY}({ast.unparse(a)})`)")
        if f.decorator_list:
            self.add("signature", f, f"remove the decorators from {ENTRY}")
        body = f.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]
        if not body or not isinstance(body[-1], ast.Return):
            self.add("return", f, f"end {ENTRY} with `return total, {{\"name\": value, ...}}`")
        self.statements(body, loop_budget=1)

    def statements(self, body: list[ast.stmt], loop_budget: int) -> None:
        for node in body:
            self.statement(node, loop_budget)

    def statement(self, node: ast.stmt, loop_budget: int) -> None:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self.target(target)
            if isinstance(node.value, ast.Tuple) and all(isinstance(t, ast.Tuple)
                                                         for t in node.targets):
                for elt in node.value.elts:
                    self.expr(elt)
            else:
                self.expr(node.value)
        elif isinstance(node, ast.AnnAssign):
            self.target(node.target)
            if node.value is None:
                self.add("statement", node, "an annotation without a value does nothing; "
                         "remove it")
            else:
                self.expr(node.value)
        elif isinstance(node, ast.AugAssign):
            self.target(node.target)
            if not isinstance(node.op, _BINOPS):
                self.add("operator", node, f"operator {type(node.op).__name__} is not allowed; "
                         "use + - * / // % **")
            self.expr(node.value)
        elif isinstance(node, ast.If):
            self.expr(node.test)
            self.statements(node.body, loop_budget)
            self.statements(node.orelse, loop_budget)
        elif isinstance(node, ast.For):
            self.for_loop(node, loop_budget)
        elif isinstance(node, ast.Return):
            self.returns(node)
        elif isinstance(node, ast.Pass | ast.Break | ast.Continue):
            return
        elif isinstance(node, ast.While):
            self.add("loop", node, "`while` loops are not allowed (they may never end); use "
                     "`for i in range(N)` with a literal N or len(obs.<vector feature>)")
        elif isinstance(node, ast.Expr):
            self.add("statement", node, "a bare expression does nothing here (and calls with "
                     "side effects are not allowed); assign it or remove it")
            self.expr(node.value)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            self.add("statement", node, "nested functions are not allowed; inline the helper")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            self.add("import", node, "imports inside the function are not allowed; use np.<fn> "
                     "and math.<fn> (already imported)")
        else:
            self.add("statement", node, f"`{type(node).__name__}` statements are not allowed "
                     "(allowed: assignments, if/else, bounded for, return)")

    def target(self, node: ast.expr) -> None:
        if isinstance(node, ast.Name):
            self.name_ok(node.id, node, store=True)
            self.locals.add(node.id)
        elif isinstance(node, ast.Tuple):
            for elt in node.elts:
                self.target(elt)
        else:
            self.add("assign", node, "assign only to plain local names (obs, next_obs and action "
                     "are read-only; attributes and items cannot be assigned)")

    def for_loop(self, node: ast.For, loop_budget: int) -> None:
        if node.orelse:
            self.add("loop", node, "remove the `else:` of the for loop")
        if not isinstance(node.target, ast.Name):
            self.add("loop", node, "loop over one name: `for i in range(N)`")
        else:
            self.target(node.target)
        trips = self.range_trips(node.iter)
        if trips is None:
            self.add("loop", node, "loop only over `range(N)` with a literal N (or "
                     "len(obs.<vector feature>) / len(action)), e.g. `for j in range(8)`")
            trips = 1
        budget = loop_budget * max(trips, 1)
        if budget > self.limits.max_loop_iterations:
            self.add("loop", node, f"loops run {budget} iterations in all, more than "
                     f"{self.limits.max_loop_iterations}; use fewer or vectorised np calls")
        self.statements(node.body, budget)

    def range_trips(self, node: ast.expr) -> int | None:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "range" and 1 <= len(node.args) <= 3 and not node.keywords):
            return None
        values = []
        for arg in node.args:
            value = self.bound(arg)
            if value is None:
                return None
            values.append(value)
        r = range(*values) if values[-1] != 0 or len(values) < 3 else None
        return None if r is None else len(r)

    def bound(self, node: ast.expr) -> int | None:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self.bound(node.operand)
            return None if inner is None else -inner
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id == "len" and len(node.args) == 1:
            arg = node.args[0]
            if isinstance(arg, ast.Name) and arg.id == "action":
                return self.view.action_size
            feature = self.feature_of(arg)
            if feature is not None:
                return feature.size
        return None

    def returns(self, node: ast.Return) -> None:
        value = node.value
        if not (isinstance(value, ast.Tuple) and len(value.elts) == 2
                and isinstance(value.elts[1], ast.Dict)):
            self.add("return", node, "return exactly `total, {\"term_name\": value, ...}` (a "
                     "float and a dict literal of named terms)")
            if value is not None:
                self.expr(value)
            return
        total, terms = value.elts
        self.expr(total)
        keys = []
        for key, item in zip(terms.keys, terms.values, strict=True):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                self.add("terms", node, "term names must be string literals, e.g. "
                         "{\"forward\": fwd}")
                continue
            if not TERM_NAME.match(key.value):
                self.add("terms", node, f"term name {key.value!r} must match "
                         "[a-z][a-z0-9_]* (at most 32 characters)")
            keys.append(key.value)
            self.expr(item)
        if len(set(keys)) != len(keys):
            self.add("terms", node, f"term names repeat: {keys}; give each term its own name")
        if not 1 <= len(keys) <= self.limits.max_terms:
            self.add("terms", node, f"return between 1 and {self.limits.max_terms} named terms "
                     f"(got {len(keys)})")
        if self.terms is None:
            self.terms = tuple(keys)
        elif set(self.terms) != set(keys):
            self.add("terms", node, f"every return must name the same terms; this one has "
                     f"{keys}, the first had {list(self.terms)}")

    # -- expressions -------------------------------------------------------------------------
    def expr(self, node: ast.expr) -> None:
        if isinstance(node, ast.Constant):
            self.constant(node)
        elif isinstance(node, ast.Name):
            self.load_name(node)
        elif isinstance(node, ast.Attribute):
            self.attribute(node)
        elif isinstance(node, ast.BinOp):
            if not isinstance(node.op, _BINOPS):
                self.add("operator", node, f"operator {type(node.op).__name__} is not allowed; "
                         "use + - * / // % **")
            self.expr(node.left)
            self.expr(node.right)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, _UNARY):
                self.add("operator", node, "only unary -, + and `not` are allowed")
            self.expr(node.operand)
        elif isinstance(node, ast.BoolOp):
            for v in node.values:
                self.expr(v)
        elif isinstance(node, ast.Compare):
            for op in node.ops:
                if not isinstance(op, _CMPOPS):
                    self.add("operator", node, f"comparison {type(op).__name__} is not "
                             "allowed; use == != < <= > >=")
            self.expr(node.left)
            for v in node.comparators:
                self.expr(v)
        elif isinstance(node, ast.IfExp):
            self.expr(node.test)
            self.expr(node.body)
            self.expr(node.orelse)
        elif isinstance(node, ast.Call):
            self.call(node)
        elif isinstance(node, ast.Subscript):
            if isinstance(node.slice, ast.Slice):
                for part in (node.slice.lower, node.slice.upper, node.slice.step):
                    if part is not None:
                        self.expr(part)
            else:
                self.expr(node.slice)
            self.expr(node.value)
        elif isinstance(node, ast.Tuple):
            self.add("expression", node, "tuples are allowed only in `return total, {...}` and "
                     "`a, b = x, y`")
            for elt in node.elts:
                self.expr(elt)
        elif isinstance(node, ast.JoinedStr):
            self.add("string", node, "f-strings are not allowed; rewards compute numbers only")
        else:
            self.add("expression", node, f"`{type(node).__name__}` is not allowed (no lambdas, "
                     "comprehensions, lists, sets, dicts outside the return, walrus or starred "
                     "expressions); write plain arithmetic")

    def constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, int | float):
            self.number(node)
            return
        kind = "strings" if isinstance(value, str) else f"{type(value).__name__} constants"
        self.add("string" if isinstance(value, str) else "constant", node,
                 f"{kind} are not allowed here (only term names in the returned dict are "
                 "strings); use numbers")

    def number(self, node: ast.expr) -> None:
        value = _number_value(node)
        if value is not None and abs(value) > self.limits.max_abs_constant:
            self.add("constant", node, f"the constant {value!r} is larger than "
                     f"{self.limits.max_abs_constant:g}; keep weights and scales moderate")

    def name_ok(self, name: str, node: ast.AST, *, store: bool) -> None:
        if name.startswith("_"):
            self.add("dunder", node, f"names starting with '_' ({name}) are not allowed; rename "
                     "it (dunders and private names are an escape route)")
        elif store and name in RESERVED:
            self.add("assign", node, f"do not assign to {name!r} (a parameter, module or "
                     "builtin); pick another name")

    def load_name(self, node: ast.Name) -> None:
        name = node.id
        self.name_ok(name, node, store=False)
        if name.startswith("_"):
            return
        if name in ("np", "math"):
            self.add("attribute", node, f"use {name} only as `{name}.<function>(...)`")
        elif name in BUILTINS:
            self.add("call", node, f"`{name}` may only be called, e.g. `{name}(x)`")
        elif name not in PARAMS and name not in self.locals and name not in self.constants:
            self.add("name", node, f"unknown name {name!r}: use obs/next_obs features, action, "
                     f"np.<fn>, math.<fn>, {', '.join(BUILTINS)}, module constants and your own "
                     "local variables (assigned before use)")

    def feature_of(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                node.value.id in ("obs", "next_obs") and node.attr in self.view:
            return self.view[node.attr]
        return None

    def attribute(self, node: ast.Attribute) -> None:
        if node.attr.startswith("_"):
            self.add("dunder", node, f"attribute {node.attr!r} is not allowed: no dunder or "
                     "private attributes")
            return
        base = node.value
        if isinstance(base, ast.Name) and base.id in ("obs", "next_obs"):
            if node.attr not in self.view:
                self.add("feature", node, f"{base.id}.{node.attr} is not a feature of the "
                         f"{self.view.family} view; use one of: {', '.join(self.view.names)}")
            return
        if isinstance(base, ast.Name) and base.id == "np":
            if node.attr not in NP_CONSTS:
                self.add("call" if node.attr in NP_FUNCS else "attribute", node,
                         f"np.{node.attr} is not allowed here; allowed: np.<fn>(...) for "
                         f"{', '.join(NP_FUNCS)}, np.linalg.norm(...), np.pi, np.e")
            return
        if isinstance(base, ast.Name) and base.id == "math":
            if node.attr not in MATH_CONSTS:
                self.add("call" if node.attr in MATH_FUNCS else "attribute", node,
                         f"math.{node.attr} is not allowed here; allowed: math.<fn>(...) for "
                         f"{', '.join(MATH_FUNCS)}, math.pi, math.e")
            return
        if isinstance(base, ast.Name) and base.id == "action":
            self.add("attribute", node, "action has no attributes; index it (action[0]) or "
                     "pass it to np.sum / np.dot")
            return
        self.add("attribute", node, f"attribute access `.{node.attr}` is allowed only as "
                 "obs.<feature>, next_obs.<feature>, np.<fn>, math.<fn>")
        self.expr(base)

    def call(self, node: ast.Call) -> None:
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            self.add("call", node, "pass arguments by position only (no keywords, no *args)")
        func = node.func
        ok = False
        if isinstance(func, ast.Name):
            if func.id == "range":
                self.add("call", node, "range(...) may only appear as `for i in range(N)`")
            elif func.id in BUILTINS:
                ok = True
            elif func.id == ENTRY:
                self.add("call", node, f"{ENTRY} may not call itself (no recursion); compute "
                         "the reward directly")
            elif func.id.startswith("_"):
                self.add("dunder", node, f"{func.id} is not allowed: no dunder or private names")
            else:
                self.add("call", node, f"calling {func.id}(...) is not allowed; callable: "
                         f"{', '.join(b for b in BUILTINS if b != 'range')}, np.<fn>, math.<fn>")
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            module, name = func.value.id, func.attr
            if (module == "np" and name in NP_FUNCS) or (module == "math" and name in MATH_FUNCS):
                ok = True
            elif module in ("np", "math"):
                allowed = NP_FUNCS if module == "np" else MATH_FUNCS
                self.add("call", node, f"{module}.{name} is not allowed (no IO, no memory or "
                         f"type tricks); allowed: {', '.join(allowed)}")
            else:
                self.add("call", node, f"{ast.unparse(func)}(...) is not callable; only np.<fn>, "
                         "math.<fn> and the allowed builtins are")
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute) and \
                ast.unparse(func) == "np.linalg.norm":
            ok = True
        else:
            self.add("call", node, f"{ast.unparse(func)}(...) is not callable; only np.<fn>, "
                     "math.<fn> and the allowed builtins are")
        if not ok and isinstance(func, ast.Attribute):
            self.expr_no_report(func)
        for arg in node.args:
            self.expr(arg.value if isinstance(arg, ast.Starred) else arg)
        for kw in node.keywords:
            self.expr(kw.value)

    def expr_no_report(self, node: ast.expr) -> None:
        # Walk a rejected callee only for dunders (an `x.__class__.__mro__` chain names its parts).
        for sub in ast.walk(node):
            if isinstance(sub, ast.Attribute) and sub.attr.startswith("_"):
                self.add("dunder", sub, f"attribute {sub.attr!r} is not allowed: no dunder or "
                         "private attributes")


def _is_number(node: ast.expr) -> bool:
    return _number_value(node) is not None


def _number_value(node: ast.expr) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and \
            not isinstance(node.value, bool):
        return float(node.value) if abs(node.value) < 1e300 else math.inf
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _number_value(node.operand)
        return None if inner is None else -inner if isinstance(node.op, ast.USub) else inner
    return None


def static_check(source: str, view: RewardView, limits: Limits | None = None) -> StaticResult:
    r"""Every static reason to reject ``source`` (nothing is executed).

    Example:
        >>> from rewardgym.envs.grid import GridEnv
        >>> from rewardgym.wrappers.llm.views import view_of
        >>> view = view_of(GridEnv(layout="door_key", size=5))
        >>> bad = "import os\ndef compute_reward(obs, action, next_obs):\n    return 0, {'a': 0}"
        >>> [i.code for i in static_check(bad, view).issues]
        ['import']
    """
    limits = Limits() if limits is None else limits
    result = StaticResult()
    if len(source) > limits.max_chars:
        result.issues.append(Issue("size", f"the program has {len(source)} characters, more "
                                   f"than {limits.max_chars}; write a shorter program"))
        return result
    lines = source.count("\n") + 1
    if lines > limits.max_lines:
        result.issues.append(Issue("size", f"the program has {lines} lines, more than "
                                   f"{limits.max_lines}; write a shorter program"))
        return result
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        result.issues.append(Issue("syntax", f"syntax error: {err.msg}; fix the Python syntax",
                                   err.lineno))
        return result
    except (ValueError, RecursionError, MemoryError) as err:
        result.issues.append(Issue("syntax", f"cannot parse the program ({type(err).__name__}); "
                                   "write plain, shallow Python"))
        return result
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > limits.max_nodes:
        result.issues.append(Issue("size", f"the program has {nodes} syntax nodes, more than "
                                   f"{limits.max_nodes}; write a shorter program"))
        return result
    checker = _Checker(view, limits)
    checker.module(tree)
    result.issues = checker.issues
    result.terms = checker.terms or ()
    result.tree = tree
    result.constants = tuple(checker.constants)
    return result


def features_read(tree: ast.Module, view: RewardView) -> tuple[str, ...]:
    r"""The view features a checked program reads (``obs.x`` / ``next_obs.x``), in row order.

    A bare ``obs`` or ``next_obs`` (the whole row, e.g. passed to a function) counts as
    reading every feature, so a caller that computes only these features never feeds the
    program a column it did not compute.

    Example:
        >>> from rewardgym.envs.grid import GridEnv
        >>> from rewardgym.wrappers.llm.views import view_of
        >>> view = view_of(GridEnv(layout="door_key", size=5))
        >>> tree = ast.parse("def compute_reward(obs, action, next_obs):\n"
        ...                  "    d = obs.dist_key - next_obs.dist_key\n    return d, {'d': d}")
        >>> features_read(tree, view)
        ('dist_key',)
    """
    named: set[str] = set()
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                node.value.id in ("obs", "next_obs") and node.attr in view:
            named.add(node.attr)
            inside.add(id(node.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in ("obs", "next_obs") and \
                isinstance(node.ctx, ast.Load) and id(node) not in inside:
            return view.names
    return tuple(name for name in view.names if name in named)


# -- rewrite to the specific (array) form -----------------------------------------------------

class _Rewriter(ast.NodeTransformer):
    def __init__(self, view: RewardView, terms: tuple[str, ...]) -> None:
        self.view = view
        self.terms = terms
        self.int_context = 0

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if type(node.value) is int and not self.int_context:
            return ast.copy_location(ast.Constant(float(node.value)), node)
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        node.value = self.visit(node.value)
        self.int_context += 1
        node.slice = self.visit(node.slice)
        self.int_context -= 1
        return node

    def visit_For(self, node: ast.For) -> ast.AST:
        self.int_context += 1
        node.iter = self.visit(node.iter)
        self.int_context -= 1
        node.body = [self.visit(s) for s in node.body]
        node.body = _flatten(node.body)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        # numba's np.clip takes arrays only (models clip scalars all the time) and its
        # np.linalg.norm needs scipy: both go to small helpers (the Euclidean norm of a vector).
        shim = {"np.clip": "_clip", "np.linalg.norm": "_norm"}.get(ast.unparse(node.func))
        if shim is not None:
            node.func = ast.copy_location(ast.Name(shim, ast.Load()), node.func)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if isinstance(node.value, ast.Name) and node.value.id in ("obs", "next_obs"):
            f = self.view[node.attr]
            index: ast.expr = ast.Constant(f.start) if f.scalar else ast.Slice(
                ast.Constant(f.start), ast.Constant(f.start + f.size))
            return ast.copy_location(ast.Subscript(ast.Name(node.value.id, ast.Load()), index,
                                                   ast.Load()), node)
        return self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        return ast.copy_location(ast.Assign([self.visit(node.target)], self.visit(node.value)),
                                 node)

    def visit_If(self, node: ast.If) -> ast.AST:
        node.test = self.visit(node.test)
        node.body = _flatten([self.visit(s) for s in node.body])
        node.orelse = _flatten([self.visit(s) for s in node.orelse])
        return node

    def visit_Return(self, node: ast.Return) -> Any:
        total, terms = node.value.elts  # checked: a (total, dict literal) tuple
        out: list[ast.stmt] = [ast.Assign([ast.Name("total_", ast.Store())], self.visit(total))]
        by_name = dict(zip((k.value for k in terms.keys), terms.values, strict=True))
        for j, name in enumerate(self.terms):
            out.append(ast.Assign([ast.Subscript(ast.Name("terms", ast.Load()), ast.Constant(j),
                                                 ast.Store())], self.visit(by_name[name])))
        out.append(ast.Return(ast.Name("total_", ast.Load())))
        return [ast.copy_location(s, node) for s in out]


def _flatten(stmts: list[Any]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for s in stmts:
        out.extend(s if isinstance(s, list) else [s])
    return out


def rewrite(static: StaticResult, view: RewardView) -> str:
    """The specific program: ``compute_reward(obs, action, next_obs, terms) -> total``.

    Features become fixed indices into float64 rows, int literals floats (except indices and
    ``range`` bounds), ``return total, {...}`` writes into ``terms`` in :attr:`StaticResult.terms`
    order; imports, docstrings and annotations are dropped. Only for programs that passed
    :func:`static_check`.
    """
    if static.tree is None or not static.ok:
        raise ValueError("rewrite: the program did not pass static_check")
    tree = ast.parse(ast.unparse(static.tree))  # a fresh copy to transform
    body: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            body.append(ast.Assign([target], ast.Constant(_number_value(node.value))))
        elif isinstance(node, ast.FunctionDef):
            stmts = node.body
            if stmts and isinstance(stmts[0], ast.Expr):
                stmts = stmts[1:]
            rw = _Rewriter(view, static.terms)
            new_body = _flatten([rw.visit(s) for s in stmts])
            args = ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in (*PARAMS, "terms")],
                                 kwonlyargs=[], kw_defaults=[], defaults=[])
            body.append(ast.FunctionDef(ENTRY, args, new_body, [], None, type_params=[]))
    module = ast.fix_missing_locations(ast.Module(body, []))
    return ast.unparse(module) + "\n"


def facades() -> dict[str, Any]:
    """The globals a specific program runs with: numpy/math facades and a tiny builtins dict.

    The facades hold only the allowlisted pure functions; the modules never reach the program.
    """
    np_facade = types.SimpleNamespace(**{n: getattr(np, n) for n in NP_FUNCS + NP_CONSTS},
                                      linalg=types.SimpleNamespace(norm=np.linalg.norm))
    math_facade = types.SimpleNamespace(**{n: getattr(math, n) for n in MATH_FUNCS + MATH_CONSTS})
    def clip(a: Any, lo: Any, hi: Any) -> Any:
        return np.minimum(np.maximum(a, lo), hi)

    def norm(x: Any) -> Any:
        return np.sqrt(np.sum(np.asarray(x) * np.asarray(x)))

    builtins = {"abs": abs, "min": min, "max": max, "float": float, "int": int, "range": range,
                "len": len}
    return {"__builtins__": builtins, "np": np_facade, "math": math_facade, "_clip": clip,
            "_norm": norm}
