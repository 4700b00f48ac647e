"""The ``alloop`` command: ``app`` (the Typer app, ``run``, ``report``, ``version``), ``label``
(the labelling commands), ``options`` (options shared by commands, their defaults read from the
configs), ``progress`` (progress bars and plain lines). The CLI turns domain errors into one line
and exit status 2; it is the only layer that names command-line flags."""


def main() -> None:
    """The ``alloop`` command's entry point (``alloop.cli:main``, as installed scripts name it)."""
    from alloop.cli.app import main as run

    run()
