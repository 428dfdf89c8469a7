"""rewardgym: Gymnasium environments and reward-shaping wrappers for reward research.

Importing the package registers every environment with Gymnasium (ids ``rewardgym/<Name>-v<N>``).
Multi-agent (PettingZoo) envs are built with :func:`make_parallel` (ids in
``rewardgym.envs.PARALLEL_ENVS``).

Example:
    >>> import gymnasium as gym
    >>> import rewardgym
    >>> env = gym.make("rewardgym/DoorKey-5x5-v0")
    >>> obs, info = env.reset(seed=0)
    >>> sorted(obs)
    ['direction', 'image']
"""

from importlib.metadata import PackageNotFoundError, version

from rewardgym.envs import make_parallel, register_envs

try:
    __version__ = version("rewardgym")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

register_envs()

__all__ = ["__version__", "make_parallel", "register_envs"]
