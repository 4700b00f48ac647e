"""Reports: statistics across seeds, figures, and a self-contained HTML page."""

from alloop.report.html import render_report, summary_table
from alloop.report.stats import aulc, labels_to_reach, mean_sd_ci, paired_wilcoxon, per_run, summary

__all__ = [
    "aulc",
    "labels_to_reach",
    "mean_sd_ci",
    "paired_wilcoxon",
    "per_run",
    "render_report",
    "summary",
    "summary_table",
]
