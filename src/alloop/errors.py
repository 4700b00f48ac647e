"""The two exception types: bad input a user can fix, and a broken invariant (a bug in alloop)."""


class AlloopError(Exception):
    """Bad input or environment. The CLI prints its message on one line and exits with code 2.

    The message names the problem and the fix, so it must stand on its own without a traceback.
    """


class AlloopBug(RuntimeError):
    """An invariant of alloop itself broke (e.g. a strategy picked an item already labelled).

    No input can cause it, so it is not an ``AlloopError``: it keeps its traceback, to be reported.
    """

    def __init__(self, message: str):
        super().__init__(f"{message} (this is a bug in alloop; please report it with the traceback)")
