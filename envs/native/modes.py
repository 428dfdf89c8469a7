"""Autoreset as the kernels and cores see it: three ints (module-level ints are numba constants).

Kept apart from :mod:`~rewardgym.envs.native.shell` (which re-exports them) so that modules which
need only these codes, such as the single shell and the core protocol, do not import the shell's
compile machinery: the cache guard follows imports, and a family with no kernels (shopping) that
reaches the shells through them should not make the wrappers' kernels depend on that machinery.
"""

NO_AUTORESET, NEXT_STEP, SAME_STEP = 0, 1, 2

__all__ = ["NEXT_STEP", "NO_AUTORESET", "SAME_STEP"]
