"""alloop's exceptions, by domain. Each front end translates them at its edge, in one place: the
CLI prints the message on one line and exits 2; the HTTP API maps them to status codes
(``alloop.labelling.api.errors``). Messages speak in the library's terms; only the CLI names flags.

- ``AlloopError``: bad input or environment the user can fix (HTTP 422).
  - ``NotFoundError``: the thing asked for does not exist (HTTP 404).
  - ``ConflictError``: the request clashes with the current state, e.g. an item another
    annotator holds (HTTP 409).
  - ``EmptyPoolError``: nothing left to query or label.
  - ``NotFittedError``: a model asked to predict before it was trained.
  - ``StorageError``: a file alloop needs cannot be written or read: a read-only place,
    permission denied, no space left, a locked or a damaged database (HTTP 503).
- ``AlloopBug``: a broken invariant of alloop itself; no input can cause it (HTTP 500, traceback kept).
"""


class AlloopError(Exception):
    """Bad input or environment. The CLI prints its message on one line and exits with code 2.

    The message names the problem and the fix, so it must stand on its own without a traceback.
    """


class NotFoundError(AlloopError):
    """The item, annotator or file asked for does not exist."""


class ConflictError(AlloopError):
    """The request is valid but clashes with the current state (e.g. someone else holds the item)."""


class EmptyPoolError(AlloopError):
    """Nothing is left to query or label."""


class NotFittedError(AlloopError, RuntimeError):
    """A model was asked to predict before ``fit``: call ``fit`` first. Also a ``RuntimeError``,
    as it was before it had a type of its own."""


class StorageError(AlloopError):
    """A file or folder alloop reads or writes refuses: read-only, permission denied, full,
    locked or damaged (``alloop.failures`` names which)."""


class AlloopBug(RuntimeError):
    """An invariant of alloop itself broke (e.g. a strategy picked an item already labelled).

    No input can cause it, so it is not an ``AlloopError``: it keeps its traceback, to be reported.
    """

    def __init__(self, message: str):
        super().__init__(f"{message} (this is a bug in alloop; please report it with the traceback)")
