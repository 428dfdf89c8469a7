"""An example reward program for rewardgym/DoorKey-*: what a model is asked to write."""

import math

W_KEY = 0.1  # per BFS move towards the key
T_GOAL = 5.0  # temperature of the goal-distance term


def compute_reward(obs, action, next_obs):
    """Progress to the key, bonuses for picking it up and opening the door, then the goal."""
    key = W_KEY * (obs.dist_key - next_obs.dist_key)
    pick = 1.0 if next_obs.carrying_key > obs.carrying_key else 0.0
    door = 1.0 if next_obs.door_open > obs.door_open else 0.0
    goal = next_obs.door_open * math.exp(-next_obs.dist_goal / T_GOAL)
    return key + pick + door + goal, {"key": key, "pick": pick, "door": door, "goal": goal}
