"""``routedrive_intersection_v1``: RouteDrive's multi-agent junction in PettingZoo's module form.

PettingZoo's environment modules (Terry et al., NeurIPS 2021; e.g.
``pettingzoo.butterfly.pistonball_v6``) expose ``parallel_env``, ``env`` (the AEC form with the
usual wrappers) and ``raw_env`` (the AEC form without them).  The env is natively parallel
(:class:`~rewardgym.envs.driving.multi_agent.RouteDriveParallelEnv`), so the AEC forms are
PettingZoo's ``parallel_to_aec`` conversion of it.  ``rewardgym.make_parallel(
"rewardgym/RouteDriveIntersection-v1")`` reaches :func:`parallel_env` through
:data:`rewardgym.envs.PARALLEL_ENVS`.

Example:
    >>> from rewardgym.envs.driving import routedrive_intersection_v1
    >>> aec = routedrive_intersection_v1.env(num_egos=2, num_npcs=0)
    >>> aec.reset(seed=0)
    >>> aec.agent_selection
    'car_0'
"""

from __future__ import annotations

from typing import Any

from pettingzoo.utils.conversions import parallel_to_aec_wrapper
from pettingzoo.utils.env import AECEnv
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from rewardgym.envs.driving.multi_agent import RouteDriveParallelEnv


def parallel_env(**kwargs: Any) -> RouteDriveParallelEnv:
    """The parallel env; ``kwargs`` go to :class:`RouteDriveParallelEnv`."""
    return RouteDriveParallelEnv(**kwargs)


def raw_env(**kwargs: Any) -> AECEnv:
    """The AEC form without wrappers (PettingZoo's ``parallel_to_aec_wrapper``)."""
    return parallel_to_aec_wrapper(parallel_env(**kwargs))


def env(**kwargs: Any) -> AECEnv:
    """The AEC form with the wrappers that apply.

    Only ``OrderEnforcingWrapper`` (what ``parallel_to_aec`` adds): the bounds wrappers do not
    apply, since the env itself follows the suite's action policy (``metadata["action_policy"]``,
    ``envs/action_policy.py``): it clips finite continuous actions to ``[-1, 1]`` and rejects
    non-finite, misshapen or out-of-range discrete actions with a ``ValueError`` naming the
    agent (``AssertOutOfBoundsWrapper`` would turn that into a bare ``AssertionError``).
    """
    return OrderEnforcingWrapper(raw_env(**kwargs))


__all__ = ["env", "parallel_env", "raw_env"]
