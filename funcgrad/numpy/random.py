"""``funcgrad.numpy.random`` is NumPy's random module (random numbers are not differentiated)."""

from numpy.random import *  # noqa: F401,F403
from numpy.random import default_rng, seed  # noqa: F401
