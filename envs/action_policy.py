"""What every rewardgym env does with an action outside its action space: one policy per kind.

Each env states its policy in ``metadata["action_policy"]`` (single, vector and PettingZoo
shells alike) and the registry contract (``tests/envs/test_registry_contract.py``) checks both
the statement and the behaviour for every registered env:

==================  ===============  ==========================================================
action space        policy           what happens
==================  ===============  ==========================================================
``Box``             ``"clip"``       finite values outside ``[low, high]`` are clipped to it
                                     (Gymnasium's MuJoCo convention, and what SB3 does before
                                     ``env.step``); NaN/inf, a wrong shape or a non-numeric
                                     action raise ``ValueError`` naming the env
``Discrete``        ``"raise"``      anything but an integer in ``[0, n)`` (out of range,
                                     float, bool, array, string) raises ``ValueError``
``MultiDiscrete``   ``"raise"``      as ``Discrete``, per component
``Text``            ``"noop"``       any string is taken; one that is not a valid command on
                                     the current page is a no-op flagged ``info["invalid"]``
                                     (WebShop's rule); a non-string raises ``ValueError``
==================  ===============  ==========================================================

Clipping rather than refusing finite Box actions is deliberate: Gaussian policies emit them
routinely, scaled squashed actions can leave the box by a rounding error, and the env then
computes its reward from the clipped action the dynamics saw. Every ``ValueError`` is raised
before any state changes.
"""

from __future__ import annotations

from gymnasium import spaces

#: The policy of each action-space kind (the ``metadata["action_policy"]`` value).
ACTION_POLICIES: dict[type[spaces.Space], str] = {
    spaces.Box: "clip",
    spaces.Discrete: "raise",
    spaces.MultiDiscrete: "raise",
    spaces.Text: "noop",
}


def action_policy(space: spaces.Space) -> str:
    """The policy for actions outside ``space`` (see the module docstring).

    Example:
        >>> from gymnasium import spaces
        >>> action_policy(spaces.Discrete(3)), action_policy(spaces.Box(-1, 1, (2,)))
        ('raise', 'clip')

    Raises:
        ValueError: for a space kind without a policy.
    """
    for kind, policy in ACTION_POLICIES.items():
        if type(space) is kind:
            return policy
    raise ValueError(f"no action policy for {type(space).__name__} spaces; known: "
                     f"{[kind.__name__ for kind in ACTION_POLICIES]}")


__all__ = ["ACTION_POLICIES", "action_policy"]
