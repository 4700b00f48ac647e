"""``alloop backup``: a copy of a labelling project's ``label.db``, safe while the server runs."""

from __future__ import annotations

from typing import Annotated

import typer

from alloop.cli.label import ProjectOption


def backup(
    project: ProjectOption,
    out: Annotated[
        str,
        typer.Option(
            help="The copy to write, e.g. shop-2026-12-05.db (a new name, or an earlier backup alloop "
            "wrote and nobody changed).",
            show_default=False,
        ),
    ],
) -> None:
    """Copy the project's label.db with SQLite's online backup API: a consistent snapshot, taken
    while `alloop label` keeps serving, checked with SQLite's integrity check. Restore: stop the
    server, move label.db, label.db-wal and label.db-shm aside, copy the backup to DIR/label.db."""
    from alloop.errors import AlloopError
    from alloop.labelling.storage.backup import backup_database
    from alloop.labelling.storage.store import DB_NAME
    from alloop.outputs import out_path

    source = project / DB_NAME
    target = out_path(out, "--out", [project])
    if not source.exists():
        raise AlloopError(f"no {DB_NAME} in {project}; give the folder of a labelling project")
    from alloop.checks import check_output_file, check_sqlite

    check_sqlite(source, "`alloop label`")
    check_output_file(target, "--out")
    made = backup_database(source, target)
    print(
        f"backed up {project} ({made.labels:,} answers, {made.annotators:,} annotators) to {made.path}; "
        "SQLite's integrity check: ok"
    )


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
