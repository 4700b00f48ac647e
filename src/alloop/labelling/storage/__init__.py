"""What a labelling project keeps on disk: ``store`` (label.db, SQLite), ``saved_model`` (the
model ``predict`` reuses), ``search`` (the word index), ``project`` (opening a project and
migrating older ones), ``shown`` (the extra columns the page shows)."""
