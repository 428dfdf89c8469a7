"""THE reset-mask helper: which envs a vector ``reset(options=...)`` resets.

One rule for the native vector envs and the vector wrappers alike (the wrappers import this
module only, so an edit elsewhere in the kit does not recompile their kernels).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def reset_mask(options: dict[str, Any] | None, num_envs: int, name: str) -> np.ndarray:
    """The envs to reset: ``options["reset_mask"]`` (validated) or all of them.

    Example:
        >>> reset_mask({"reset_mask": np.array([True, False])}, 2, "MyVectorEnv").tolist()
        [True, False]
        >>> reset_mask(None, 2, "MyVectorEnv").tolist()
        [True, True]

    Raises:
        ValueError: naming ``name`` unless the mask is a bool array of shape ``(num_envs,)``
            with at least one True (Gymnasium's rule for ``SyncVectorEnv``).
    """
    if options is None or "reset_mask" not in options:
        return np.ones(num_envs, dtype=np.bool_)
    mask = np.asarray(options["reset_mask"])
    if mask.dtype != np.bool_ or mask.shape != (num_envs,) or not mask.any():
        raise ValueError(f"{name}: options['reset_mask'] must be a bool array of shape "
                         f"({num_envs},) with at least one True, got {mask!r}")
    return mask
