"""The AntGoal shaping potential: minus the distance to the goal (Ng et al., ICML 1999).

Read from the observation's last two entries (the goal in the torso's heading frame, whose norm
is the horizontal distance), so it works on single observations ``(d,)`` and batches ``(n, d)``
alike and needs no env internals. With :class:`~rewardgym.wrappers.PotentialShaping` the
terminal potential is 0 on arrival (the only termination of AntGoal), so shaping telescopes to
``gamma^T Phi(s_T) - Phi(s_0)`` and keeps the sparse task's optimal policy.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def goal_potential(obs: Any, info: dict[str, Any]) -> Any:
    """``-||goal - torso||`` in metres: a float for one observation, an array for a batch.

    Example:
        >>> import numpy as np
        >>> goal_potential(np.array([0.0, 3.0, 4.0]), {})
        -5.0
    """
    goal = np.asarray(obs, dtype=np.float64)[..., -2:]
    value = -np.sqrt(np.sum(goal * goal, axis=-1))
    return float(value) if value.ndim == 0 else value
