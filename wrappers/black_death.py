"""Black death for PettingZoo parallel envs: a fixed agent set until the whole episode ends.

Parameter-shared training through PettingZoo → SuperSuit → SB3 (``pettingzoo_env_to_vec_env_v1``
then ``concat_vec_envs_v1``) maps each agent to a fixed slot of a vector env, so it needs every
agent in every step. Envs whose agents finish at different times (PettingZoo's agent death, e.g.
``RouteDriveIntersection``) break it, and SuperSuit 3.11's own ``black_death_v3`` does not fix
that: it ends the episode only when every acting agent is terminated *and* truncated in the same
step (``(terminations & truncations).all()``), which never happens, so the wrapped env runs out of
agents and the next ``step`` fails (``ResetNeeded``), and it reports ``False`` for every agent's
own termination.

:class:`BlackDeathParallel` keeps ``agents == possible_agents`` until the last live agent finishes.
A finished agent then sees a zero observation and earns 0 while its actions are ignored (the
"black death" of SuperSuit's documentation and of MAPPO's death masking); its ``infos`` say
``{"black_death": True}``. The step in which the last live agent finishes reports every agent
done: the agents finishing in that step with their own ``terminated``/``truncated``, the agents
that finished before as ``terminated``; then ``agents`` empties and the env wants a reset.

So, for a learner, an agent's episode runs until the whole env's episode ends, and the padded
steps after its own end are a zero-reward absorbing state (its value is 0, so the learned values
equal those of ending the agent's episode at its own end). Episode returns (SB3's ``VecMonitor``)
are the agent's own returns. ``rewardgym.agents.multi_agent`` trains on the env directly instead
and ends each agent's episode at its own end.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from pettingzoo.utils.wrappers import BaseParallelWrapper


class BlackDeathParallel(BaseParallelWrapper):
    """Keep every agent in ``agents`` until all are done; finished ones get zeros (see module).

    Observation spaces must be ``Box`` (the padding observation is their zero array).

    Example:
        >>> import rewardgym
        >>> env = BlackDeathParallel(rewardgym.make_parallel(
        ...     "rewardgym/RouteDriveIntersection-v1", num_egos=2, num_npcs=0))
        >>> obs, infos = env.reset(seed=0)
        >>> env.agents == env.possible_agents
        True
    """

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        for agent in env.possible_agents:
            space = env.observation_space(agent)
            if not isinstance(space, gym.spaces.Box):
                raise ValueError(f"BlackDeathParallel: observation spaces must be Box (the padding "
                                 f"observation is zeros), agent {agent!r} has {space}")
        self._zeros = {a: np.zeros(env.observation_space(a).shape,
                                   env.observation_space(a).dtype) for a in env.possible_agents}
        self.agents: list[Any] = []

    def reset(self, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        """Reset the env; every possible agent takes part."""
        obs, infos = self.env.reset(seed=seed, options=options)
        self.agents = list(self.env.possible_agents)
        obs = {a: obs[a] if a in obs else self._zeros[a].copy() for a in self.agents}
        return obs, {a: infos.get(a, {}) for a in self.agents}

    def step(self, actions: dict) -> tuple[dict, dict, dict, dict, dict]:
        """Step the live agents; pad the finished ones; end everyone together."""
        if not self.agents:
            raise gym.error.ResetNeeded("BlackDeathParallel: the episode is over; call reset()")
        live = list(self.env.agents)
        missing = [a for a in live if a not in actions]
        if missing:
            raise ValueError(f"BlackDeathParallel: no action for live agent(s) {missing}")
        obs, rewards, terms, truncs, infos = self.env.step({a: actions[a] for a in live})
        over = not self.env.agents
        out = ({}, {}, {}, {}, {})
        for agent in self.agents:
            if agent in rewards:  # acted this step
                finished = terms[agent] or truncs[agent]
                out[0][agent] = self._zeros[agent].copy() if finished and not over else obs[agent]
                out[1][agent] = rewards[agent]
                out[2][agent] = bool(terms[agent]) if over else False
                out[3][agent] = bool(truncs[agent]) if over else False
                out[4][agent] = {**infos.get(agent, {}), "black_death": finished and not over}
            else:  # finished before: padding
                out[0][agent] = self._zeros[agent].copy()
                out[1][agent] = 0.0
                out[2][agent] = over
                out[3][agent] = False
                out[4][agent] = {"black_death": True}
        if over:
            self.agents = []
        return out
