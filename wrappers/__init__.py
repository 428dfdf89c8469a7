"""Reward wrappers for any Gymnasium env (potential shaping, infraction penalties, ...).

``WRAPPERS`` maps each public wrapper's name to a one-line summary (``rewardgym list`` prints it).
"""

WRAPPERS: dict[str, str] = {}

__all__ = ["WRAPPERS"]
