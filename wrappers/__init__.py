"""Reward wrappers for any Gymnasium env (potential shaping, infraction penalties, ...).

``WRAPPERS`` maps each public wrapper's name to a one-line summary (``rewardgym list`` prints it).
"""

from rewardgym.envs.native.cache_guard import invalidate_if_sources_changed

# Before any kernel module is imported: drop cached kernels compiled from older sources.
invalidate_if_sources_changed(__name__)

from rewardgym.wrappers.black_death import BlackDeathParallel  # noqa: E402
from rewardgym.wrappers.infractions import (  # noqa: E402
    CARL_TABLE,
    InfractionPenalty,
    InfractionPenaltyParallel,
    InfractionPenaltyVector,
    InfractionRule,
)
from rewardgym.wrappers.potential import (  # noqa: E402
    BUILTIN_POTENTIALS,
    PotentialShaping,
    PotentialShapingParallel,
    PotentialShapingVector,
)
from rewardgym.wrappers.terms import RecordRewardTerms, RecordRewardTermsVector  # noqa: E402

WRAPPERS: dict[str, str] = {
    "PotentialShaping / PotentialShapingVector / PotentialShapingParallel": (
        "r + scale*(gamma*Phi(s') - Phi(s)), Phi(s'):=0 on termination (Ng et al. 1999)"),
    "InfractionPenalty / InfractionPenaltyVector / InfractionPenaltyParallel": (
        "progress * prod(infraction factors) + terminal rewards; CaRL's table as CARL_TABLE"),
    "LLMReward / LLMRewardVector / LLMRewardParallel (rewardgym.wrappers.llm)": (
        "a checked, numba-compiled LLM-written compute_reward(obs, action, next_obs) program"),
    "ShopR1Reward (rewardgym.wrappers.shop_r1)": (
        "WebShop: Shop-R1's per-action reward vs the oracle's next action (not potential-based)"),
    "RecordRewardTerms / RecordRewardTermsVector": (
        "per-episode totals of each info['reward_terms'] entry in info['episode']['terms']"),
    "BlackDeathParallel": (
        "PettingZoo: every agent stays until all are done (zeros after its end), for SuperSuit"),
}

__all__ = [
    "BUILTIN_POTENTIALS",
    "CARL_TABLE",
    "WRAPPERS",
    "BlackDeathParallel",
    "InfractionPenalty",
    "InfractionPenaltyParallel",
    "InfractionPenaltyVector",
    "InfractionRule",
    "PotentialShaping",
    "PotentialShapingParallel",
    "PotentialShapingVector",
    "RecordRewardTerms",
    "RecordRewardTermsVector",
]
