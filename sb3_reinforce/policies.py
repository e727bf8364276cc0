"""
Policy aliases: REINFORCE uses SB3's actor-critic policies under the names SB3 and sb3-contrib give them. The actor
is trained by the policy-gradient step; the critic (the value head) only with ``baseline="value"``, and is built but
never used with any other baseline.
"""

from stable_baselines3.common.policies import ActorCriticCnnPolicy, ActorCriticPolicy, MultiInputActorCriticPolicy

#: Vector observations (Box, Discrete, MultiDiscrete, MultiBinary): SB3's ``ActorCriticPolicy``, an MLP actor and critic
MlpPolicy = ActorCriticPolicy
#: Image observations (Box): SB3's ``ActorCriticCnnPolicy``, NatureCNN features shared by the actor and the critic
CnnPolicy = ActorCriticCnnPolicy
#: Flat Dict observations: SB3's ``MultiInputActorCriticPolicy``, a CombinedExtractor (a CNN for each image, flatten
#: for the rest)
MultiInputPolicy = MultiInputActorCriticPolicy
