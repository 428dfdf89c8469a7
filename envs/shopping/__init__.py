"""WebShop-style text shopping: offline catalogue, BM25 search, WebShop's pages and reward.

After Yao et al., "WebShop: Towards Scalable Real-World Web Interaction with Grounded Language
Agents" (NeurIPS 2022), rebuilt to be self-contained and deterministic: a seeded procedural
catalogue (or the real WebShop JSON files, loaded locally), an in-repo numpy BM25 with
Anserini's defaults, and WebShop's reward with thefuzz semantics through rapidfuzz.
"""

from rewardgym.envs.shopping.discrete import WebShopDiscrete, WebShopDiscreteEnv
from rewardgym.envs.shopping.env import WebShopConfig, WebShopTextEnv, parse_action
from rewardgym.envs.shopping.oracle import first_result_action, oracle_action, play
from rewardgym.envs.shopping.reward import RewardInfo, compute_reward
from rewardgym.envs.shopping.shaping import ShopR1Reward, view_score_potential

__all__ = [
    "RewardInfo",
    "ShopR1Reward",
    "WebShopConfig",
    "WebShopDiscrete",
    "WebShopDiscreteEnv",
    "WebShopTextEnv",
    "compute_reward",
    "first_result_action",
    "oracle_action",
    "parse_action",
    "play",
    "view_score_potential",
]
