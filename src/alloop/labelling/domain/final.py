"""The final label of each item: what the model trains on and what every export writes.

A reviewer's adjudication wins; otherwise the majority of the annotators' class answers. A tie
has no final label until a reviewer decides, and neither has an item whose only answers are
skips or unsures. One function, so training, ``export`` and the review queue agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from alloop.labelling.domain.agreement import majority
from alloop.labelling.storage.store import Adjudication, LabelRow


@dataclass(frozen=True)
class Final:
    label: str | None
    """None: no final label yet (a tie not yet reviewed, or only skips and unsures)"""
    decided_by: str
    """``adjudication`` (a reviewer set it), ``vote`` (majority of class answers) or ``none``"""
    reviewer: int | None
    """the reviewer's annotator id for an adjudication"""
    needs_review: bool
    """a tie or an ``unsure`` answer that no reviewer has settled"""
    n_labels: int


def final_labels(rows: Iterable[LabelRow], adjudications: dict[int, Adjudication]) -> dict[int, Final]:
    """Every item anyone answered or a reviewer decided -> its ``Final``."""
    by_item: dict[int, list[LabelRow]] = defaultdict(list)
    for row in rows:
        by_item[row.pos].append(row)
    out: dict[int, Final] = {}
    for pos in sorted(set(by_item) | set(adjudications)):
        answers = by_item.get(pos, [])
        vote = majority([r.label for r in answers if r.status == "label" and r.label is not None])
        decided = adjudications.get(pos)
        if decided is not None:
            out[pos] = Final(decided.label, "adjudication", decided.reviewer, False, vote.n_labels)
        else:
            unsure = any(r.status == "unsure" for r in answers)
            out[pos] = Final(
                vote.label,
                "vote" if vote.label is not None else "none",
                None,
                vote.tie or unsure,
                vote.n_labels,
            )
    return out
