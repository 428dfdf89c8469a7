"""The dry-run child: runs a checked reward program on sampled states under OS limits.

Started by :mod:`rewardgym.wrappers.llm.sandbox` as ``python -I <this file>`` (isolated mode: no
user site, no current directory on ``sys.path``), under ``unshare --net`` where the OS allows. It
imports only the standard library and numpy, reads one JSON request from stdin, THEN lowers its
limits (CPU seconds, address space, file size 0, no new file descriptors, so no file or socket
can be opened, no core dumps), runs the program with facades of the allowlisted functions and a
tiny builtins dict, and writes one JSON reply to stdout. It never imports rewardgym.
"""

import contextlib
import json
import math
import resource
import sys
import time
import traceback
import types

import numpy as np


def _limit(name, value):
    kind = getattr(resource, name, None)
    if kind is None:
        return
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(kind, (value, value))


def _scalar(value):
    if isinstance(value, bool | int | float | np.floating | np.integer | np.bool_):
        return float(value)
    if isinstance(value, np.ndarray) and value.shape == ():
        return float(value)
    raise TypeError(f"expected a float, got {type(value).__name__}"
                    + (f" of shape {value.shape}" if isinstance(value, np.ndarray) else ""))


def main():
    request = json.loads(sys.stdin.read())
    # Whatever the program tries next, it cannot open a file or socket, write a byte to disk,
    # fork a core dump, or use more CPU and memory than allowed.
    _limit("RLIMIT_CPU", int(request["cpu_s"]))
    _limit("RLIMIT_AS", int(request["memory_bytes"]))
    _limit("RLIMIT_FSIZE", 0)
    _limit("RLIMIT_CORE", 0)
    _limit("RLIMIT_NOFILE", 3)
    np_facade = types.SimpleNamespace(**{n: getattr(np, n) for n in request["np_names"]},
                                      linalg=types.SimpleNamespace(norm=np.linalg.norm))
    math_facade = types.SimpleNamespace(**{n: getattr(math, n) for n in request["math_names"]})
    if request.get("full_builtins"):  # tests only: proves the OS limits hold on their own
        import builtins

        env = {"__builtins__": builtins, "np": np, "math": math}
    else:
        env = {"__builtins__": {"abs": abs, "min": min, "max": max, "float": float, "int": int,
                                "range": range, "len": len},
               "np": np_facade, "math": math_facade}
    env["_clip"] = lambda a, lo, hi: np.minimum(np.maximum(a, lo), hi)
    env["_norm"] = lambda x: np.sqrt(np.sum(np.asarray(x) * np.asarray(x)))
    obs = np.asarray(request["obs"], dtype=np.float64)
    next_obs = np.asarray(request["next_obs"], dtype=np.float64)
    actions = np.asarray(request["actions"], dtype=np.float64)
    n_terms = int(request["n_terms"])
    reply = {"ok": True, "error": None, "index": None}
    try:
        exec(compile(request["code"], "<reward-program>", "exec"), env)
        fn = env["compute_reward"]
        runs = []
        times = []
        for _ in range(2):  # twice, for the determinism check
            totals, terms = [], []
            for i in range(obs.shape[0]):
                reply["index"] = i
                row_terms = np.zeros(n_terms)
                start = time.perf_counter()
                total = fn(obs[i].copy(), actions[i].copy() if actions.ndim > 1 else
                           float(actions[i]), next_obs[i].copy(), row_terms)
                times.append(time.perf_counter() - start)
                totals.append(_scalar(total))
                terms.append([float(v) for v in row_terms])
            runs.append((totals, terms))
        reply.update(totals=runs[0][0], terms=runs[0][1], totals_again=runs[1][0],
                     terms_again=runs[1][1], times=times)
    except BaseException as err:
        reply["ok"] = False
        tb = traceback.format_exception(type(err), err, err.__traceback__)
        # Keep the frames of the program only (the child's own frames say nothing useful).
        lines = [t for t in tb if "_sandbox_child.py" not in t]
        reply["error"] = "".join(lines)[-4000:]
        reply["error_type"] = type(err).__name__
    sys.stdout.write(json.dumps(reply))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
