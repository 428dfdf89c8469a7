"""LLM-written dense rewards: reward programs, their checker, compiled runtime and wrappers.

A model writes ``compute_reward(obs, action, next_obs)`` against an env family's named reward
view; :func:`check_program` checks it (static allowlist, dry run in a limited child process,
finiteness, determinism, time, scale, degenerate terms) and compiles it with numba (Python
fallback, checked to agree). Backends (:mod:`.backends`, :mod:`.server`), prompt cards
(:mod:`.cards`), the refine loop (:mod:`.refine`) and the ONI option (:mod:`.oni`) build on it.
DESIGN.md §6 and research notes ``llm_rewards.md`` describe the design.
"""

from rewardgym.wrappers.llm.checker import (
    CheckResult,
    ValidationReport,
    check_program,
    sample_states,
)
from rewardgym.wrappers.llm.oni import (
    AnnotationService,
    MLPClassifier,
    NgramClassifier,
    ONIReward,
    ONIRewardVector,
)
from rewardgym.wrappers.llm.program import Issue, Limits, ProgramRejected, extract_code
from rewardgym.wrappers.llm.runtime import CompiledProgram
from rewardgym.wrappers.llm.sandbox import States
from rewardgym.wrappers.llm.views import RewardView, view_of
from rewardgym.wrappers.llm.wrapper import LLMReward, LLMRewardParallel, LLMRewardVector

__all__ = [
    "AnnotationService",
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
    "RewardView",
    "States",
    "ValidationReport",
    "check_program",
    "extract_code",
    "sample_states",
    "view_of",
]
