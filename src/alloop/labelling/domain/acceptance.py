"""How often people take the model's suggestion: a live estimate of its accuracy on exactly the
items people see (not a held-out set), read from the suggestion stored with each answer.

Kept up to date per committed answer like the tally, so ``/api/stats`` does not reread labels.
Only class answers count (a skip or an unsure says nothing about the suggestion); an answer
changed later is compared with the suggestion shown when the item was first answered.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from itertools import islice
from typing import Any

from alloop.labelling.storage.store import LabelRow

RECENT = 100
"""the recent rate is over this many latest answers that had a suggestion"""


class Acceptance:
    """Answers that had a suggestion, by (item, annotator), oldest first."""

    def __init__(self, rows: Iterable[LabelRow] = (), recent: int = RECENT):
        self.recent = recent
        self._taken: OrderedDict[tuple[int, int], bool] = OrderedDict()
        self.accepted = 0
        for row in sorted(rows, key=lambda r: r.seq):
            self.apply(row)

    def apply(self, row: LabelRow) -> None:
        """Insert or replace ``row.annotator``'s answer on ``row.pos`` (call after the commit)."""
        self.remove(row.pos, row.annotator)
        if row.status == "label" and row.suggestion is not None:
            taken = row.label == row.suggestion
            self._taken[(row.pos, row.annotator)] = taken
            self.accepted += taken

    def remove(self, pos: int, annotator: int) -> None:
        self.accepted -= self._taken.pop((pos, annotator), False)

    def summary(self) -> dict[str, Any]:
        """``with_suggestion`` answers, ``accepted`` of them, their share ``rate``, and the
        same over the latest ``recent_n`` (the model improves, so the overall rate lags)."""
        n = len(self._taken)
        latest = list(islice(reversed(self._taken.values()), self.recent))
        return {
            "with_suggestion": n,
            "accepted": self.accepted,
            "rate": self.accepted / n if n else None,
            "recent_n": len(latest),
            "recent_rate": sum(latest) / len(latest) if latest else None,
        }
