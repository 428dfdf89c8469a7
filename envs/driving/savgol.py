"""Savitzky–Golay filters of CaRL's comfort check as fixed coefficient vectors.

CaRL (``CARLA/team_code/reward/simple_reward.py``, ``SimpleReward.compute_comfort_penalty``,
jkli-2/CaRL @ 829e7eeb, lines ≈347–456) keeps the last 15 frames of the ego's longitudinal,
lateral and total acceleration and of its (unwrapped) yaw, and from the 8th frame on evaluates
``scipy.signal.savgol_filter`` (mode ``"interp"``) on them, as nuPlan's comfort metrics do:

* accelerations: window ``min(8, n)``, order 2 (smoothing);
* jerk and longitudinal jerk: the smoothed total / longitudinal acceleration, filtered again
  with window ``min(15, n)``, order 2, first derivative;
* yaw rate: window ``min(5, n)``, order 2, first derivative; yaw acceleration: window
  ``min(5, n)``, order 3, second derivative;

and compares the *last* value of each with its bound.  Every filter is linear, so the last value
is a dot product of the history with a coefficient vector that depends only on the history
length ``n`` (8..15).  This module computes those vectors once, in numpy (polynomial least
squares, the same construction as ``scipy.signal.savgol_coeffs`` with scipy's edge handling),
so the numba kernels do a few dot products per step and never allocate; a test checks them
against ``scipy.signal.savgol_filter`` itself.  Derivative coefficients are for a sample spacing
of 1: divide by ``dt`` (``dt**2``) in the kernel.
"""

from __future__ import annotations

import math

import numpy as np

HISTORY = 15  # frames kept (CaRL's deque maxlen)
MIN_FRAMES = 8  # the check starts at this history length
SMOOTH_WINDOW = 8
JERK_WINDOW = 15
YAW_WINDOW = 5


def _fit_row(window: int, polyorder: int, deriv: int, at: float) -> np.ndarray:
    """Coefficients of a least-squares polynomial's ``deriv``-th derivative at ``at``.

    The polynomial has order ``polyorder`` and is fitted to ``window`` samples at positions
    ``0 .. window - 1``.
    """
    positions = np.arange(window, dtype=np.float64)
    vander = positions[:, None] ** np.arange(polyorder + 1)[None, :]  # (window, order + 1)
    basis = np.linalg.pinv(vander)  # polynomial coefficients = basis @ samples
    weights = np.zeros(polyorder + 1)
    for power in range(deriv, polyorder + 1):
        weights[power] = math.factorial(power) / math.factorial(power - deriv) * (
            at ** (power - deriv))
    return weights @ basis


def filter_matrix(n: int, window: int, polyorder: int, deriv: int = 0) -> np.ndarray:
    """The ``(n, n)`` matrix of ``savgol_filter(x, window, polyorder, deriv, mode="interp")``.

    The first and last ``window // 2`` outputs come from one polynomial fitted to the first
    (last) ``window`` samples; every other output ``i`` is the fit over the window centred on it
    (for an even window scipy's coefficients evaluate the fit at the window's middle,
    ``(window - 1) / 2``, and its convolution places that window on samples
    ``i - (window - 1) // 2 ..``: half a sample after ``i``; a test pins this against scipy).
    """
    if window > n:
        raise ValueError(f"filter_matrix: window {window} > length {n}")
    half = window // 2
    out = np.zeros((n, n))
    for i in range(n):
        if i < half:
            start, at = 0, float(i)
        elif i >= n - half:
            start, at = n - window, float(i - (n - window))
        else:
            start, at = i - (window - 1) // 2, 0.5 * (window - 1)
        out[i, start:start + window] = _fit_row(window, polyorder, deriv, at)
    return out


def last_value_tables() -> dict[str, np.ndarray]:
    """Coefficients (oldest sample first) of the last filtered value, per history length.

    Returns ``smooth`` ``(HISTORY + 1, HISTORY)``, ``jerk`` (smoothing then first derivative,
    same shape; used for both jerk and longitudinal jerk), ``yaw_rate`` and ``yaw_accel``
    (same shape); row ``n`` holds the ``n`` coefficients of a history of length ``n`` (rows
    below ``MIN_FRAMES`` are zero: the check has not started).
    """
    tables = {name: np.zeros((HISTORY + 1, HISTORY))
              for name in ("smooth", "jerk", "yaw_rate", "yaw_accel")}
    for n in range(MIN_FRAMES, HISTORY + 1):
        smooth = filter_matrix(n, min(SMOOTH_WINDOW, n), 2)
        tables["smooth"][n, :n] = smooth[-1]
        tables["jerk"][n, :n] = (filter_matrix(n, min(JERK_WINDOW, n), 2, 1) @ smooth)[-1]
        tables["yaw_rate"][n, :n] = filter_matrix(n, min(YAW_WINDOW, n), 2, 1)[-1]
        tables["yaw_accel"][n, :n] = filter_matrix(n, min(YAW_WINDOW, n), 3, 2)[-1]
    for table in tables.values():
        table.setflags(write=False)
    return tables
