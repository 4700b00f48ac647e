"""The one exception type a user sees: bad input they can fix."""


class AlloopError(Exception):
    """Bad input or environment. The CLI prints its message on one line and exits with code 2.

    The message names the problem and the fix, so it must stand on its own without a traceback.
    """
