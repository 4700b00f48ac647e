"""``alloop run``'s grid by default: 100 -> 1,100 labels over three seeds, enough for the curves to
separate and for the verdict to tell a trend, in a few minutes with the hybrid on a CPU.

``RunConfig`` takes its defaults from here and the CLI shows them; this module imports nothing, so
the CLI can read them without importing the experiment (and torch).
"""

DEFAULT_QUERY_SIZE = 50
DEFAULT_CYCLES = 20
DEFAULT_SEEDS = 3
