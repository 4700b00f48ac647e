"""Comparing strategies in simulation: ``plan`` (the run's config and the (strategy, seed) grid
with the steps both executors share), ``serial`` and ``ray`` (the two executors of that grid),
``experiment`` (``run_experiment``: picks the executor) and ``store`` (results.db, the source of
truth the report reads). Imports the engine (``alloop.loop``), ``alloop.models``,
``alloop.strategies``, ``alloop.data`` and ``alloop.report``; nothing imports it but the CLI and
the package's API."""
