"""Labelling with people: a web page and JSON API in front of a live active-learning loop.

- ``api/``: the HTTP layer (FastAPI app, token check, one router per resource, the static page,
  errors mapped to status codes in one place). May import ``domain``, ``storage``, ``config``.
- ``domain/``: the rules (answers and final labels, agreement, tally, review, suggestions, the
  queue, the background trainer, the service the API calls). May import ``storage``, ``config``
  and the engine (``alloop.loop``, ``alloop.models``, ``alloop.strategies``); never ``api``.
- ``storage/``: label.db, the saved model, the search index, opening and migrating projects.
  May import ``config`` and ``alloop.models``; never ``domain`` or ``api``, except the saved
  model, which trains through the domain's training set.
- ``interop/``: import, export, ``predict`` and Label Studio. May import everything above but ``api``.
- ``config``: a project's settings (``LabelConfig``).

The engine steps (query, cold start, fit on a pool, evaluation) are the engine's own; this front
end calls them and never re-implements one.
"""
