"""LLM-written dense rewards: reward programs, their checker, compiled runtime and wrappers.

A model writes ``compute_reward(obs, action, next_obs)`` against an env family's named reward
view; :func:`check_program` checks it (static allowlist, dry run in a limited child process,
finiteness, determinism, time, scale, degenerate terms) and compiles it with numba (Python
fallback, checked to agree). Backends (:mod:`.backends`, :mod:`.server`), prompt cards
(:mod:`.cards`), the refine loop (:mod:`.refine`) and the ONI option (:mod:`.oni`,
:mod:`.oni_rank`) build on it.
DESIGN.md §6 and research notes ``llm_rewards.md`` describe the design.
"""

from rewardgym.envs.native.cache_guard import invalidate_if_sources_changed

# Before any kernel module is imported: runtime.py caches compiled helpers (guard_rows, ...)
# in this package's own __pycache__, which the wrappers package's guard does not cover.
invalidate_if_sources_changed(__name__)

from rewardgym.wrappers.llm.checker import (  # noqa: E402
    CheckResult,
    ValidationReport,
    check_program,
    sample_states,
)
from rewardgym.wrappers.llm.oni import (  # noqa: E402
    AnnotationService,
    MLPClassifier,
    NgramClassifier,
    ONIReward,
    ONIRewardVector,
)
from rewardgym.wrappers.llm.oni_rank import BradleyTerryRanker, RankingService  # noqa: E402
from rewardgym.wrappers.llm.program import Issue, Limits, ProgramRejected, extract_code  # noqa: E402
from rewardgym.wrappers.llm.runtime import CompiledProgram  # noqa: E402
from rewardgym.wrappers.llm.sandbox import States  # noqa: E402
from rewardgym.wrappers.llm.views import RewardView, view_of  # noqa: E402
from rewardgym.wrappers.llm.wrapper import LLMReward, LLMRewardParallel, LLMRewardVector  # noqa: E402

__all__ = [
    "AnnotationService",
    "BradleyTerryRanker",
    "CheckResult",
    "CompiledProgram",
    "Issue",
    "LLMReward",
    "LLMRewardParallel",
    "LLMRewardVector",
    "Limits",
    "MLPClassifier",
    "NgramClassifier",
    "ONIReward",
    "ONIRewardVector",
    "ProgramRejected",
    "RankingService",
    "RewardView",
    "States",
    "ValidationReport",
    "check_program",
    "extract_code",
    "sample_states",
    "view_of",
]
