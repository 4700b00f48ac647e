"""Moving labels in and out of a project: ``importing`` (import-labels), ``exporting`` (export
and predict) and ``label_studio`` (Label Studio's task format)."""
