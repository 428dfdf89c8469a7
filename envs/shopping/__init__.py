"""WebShop-style text shopping: offline catalogue, BM25 search, WebShop's pages and reward.

After Yao et al., "WebShop: Towards Scalable Real-World Web Interaction with Grounded Language
Agents" (NeurIPS 2022), rebuilt to be self-contained and deterministic: a seeded procedural
catalogue (or the real WebShop JSON files, loaded locally), an in-repo numpy BM25 with
Anserini's defaults, and WebShop's reward with thefuzz semantics through rapidfuzz.

:func:`features` / :func:`features_batch` return the named reward view
(``rewardgym.envs.shopping.view``) that reward code reads. Shop-R1's action reward is a reward
wrapper: ``rewardgym.wrappers.shop_r1.ShopR1Reward``.
"""

from rewardgym.envs.shopping.discrete import WebShopDiscrete, WebShopDiscreteEnv
from rewardgym.envs.shopping.env import WebShopConfig, WebShopTextEnv, parse_action
from rewardgym.envs.shopping.oracle import first_result_action, oracle_action, play
from rewardgym.envs.shopping.potential import view_score_potential
from rewardgym.envs.shopping.reward import RewardInfo, compute_reward
from rewardgym.envs.shopping.view import ShopFeatureView, features, features_batch

__all__ = [
    "RewardInfo",
    "ShopFeatureView",
    "WebShopConfig",
    "WebShopDiscrete",
    "WebShopDiscreteEnv",
    "WebShopTextEnv",
    "compute_reward",
    "features",
    "features_batch",
    "first_result_action",
    "oracle_action",
    "parse_action",
    "play",
    "view_score_potential",
]
