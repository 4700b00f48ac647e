"""The live counts behind ``/api/next`` and ``/api/stats``, kept in memory and updated per answer.

While the server runs, its service is the only writer of labels, so it reads every answer once at
start and then applies each committed write here. A request then reads counts (labels per item,
what this annotator answered, overlap items still waiting for a rater, final votes per class,
per-annotator totals) instead of every label row: its cost does not grow with the labels.
Agreement (kappas, disagreements) only involves items with two or more labels; their rows are
kept apart, and ``multi_version`` changes whenever one of them does, so a cached agreement can be
reused until then. A reviewer's adjudication is applied here too: the counts of final labels
(labels per class, items with a final label, ties still open) follow ``final.final_labels``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from alloop.labelling.domain.agreement import Vote, majority
from alloop.labelling.storage.store import Adjudication, LabelRow


@dataclass
class PersonCounts:
    labels: int = 0
    skips: int = 0
    unsure: int = 0
    gold_scored: int = 0
    gold_right: int = 0

    @property
    def gold_accuracy(self) -> float | None:
        return self.gold_right / self.gold_scored if self.gold_scored else None


class Tally:
    """Every answer by (item, annotator), and the counts derived from them."""

    def __init__(
        self,
        rows: Iterable[LabelRow],
        gold: Sequence[str | None],
        label_set: frozenset[str],
        overlap: np.ndarray,
        wanted: int,
        adjudications: Mapping[int, Adjudication] | None = None,
    ):
        self.gold = gold
        self.label_set = label_set
        self.overlap = overlap
        self.wanted = wanted
        self._answers: dict[int, dict[int, LabelRow]] = defaultdict(dict)
        self._mine: dict[int, set[int]] = defaultdict(set)
        self._labels_on: Counter[int] = Counter()
        self._classes_on: Counter[int] = Counter()
        """class answers that are a class of the label set, not a partial label (a tree's inner node)"""
        self.people: dict[int, PersonCounts] = defaultdict(PersonCounts)
        self.totals: Counter[str] = Counter()
        """answers by status: label, skip, unsure"""
        self.per_class: Counter[str] = Counter()
        """final labels (a reviewer's, else the majority) by class"""
        self.ties = 0
        """ties no reviewer has settled"""
        self.labelled_items = 0
        """items with a final label"""
        self.adjudications: dict[int, Adjudication] = {}
        self._unsure: set[int] = set()
        """items with at least one ``unsure`` answer"""
        self.needs_another: dict[int, None] = {}
        """overlap items with some but not yet ``wanted`` labels, in the order they got there"""
        self._multi: set[int] = set()
        self.multi_version = 0
        for row in sorted(rows, key=lambda r: r.seq):
            self.apply(row)
        for decision in (adjudications or {}).values():
            self.adjudicate(decision)

    # -- reads --------------------------------------------------------------------------------
    def n_labels(self, pos: int) -> int:
        """Class answers (not skips or unsures) on ``pos``."""
        return self._labels_on.get(pos, 0)

    def n_class_labels(self, pos: int) -> int:
        """Answers on ``pos`` that name a class; ``n_labels`` less the partial labels."""
        return self._classes_on.get(pos, 0)

    def answered_by(self, annotator: int) -> set[int]:
        """Items this annotator answered in any way (the live set: do not keep it across calls)."""
        return self._mine[annotator]

    def multi_rows(self) -> list[LabelRow]:
        """The rows of items with 2+ class answers: all that agreement is computed from."""
        return [row for pos in sorted(self._multi) for row in self._answers[pos].values()]

    def vote(self, pos: int) -> Vote:
        answers = self._answers.get(pos, {})
        return majority([r.label for r in answers.values() if r.status == "label" and r.label is not None])

    def rows_of(self, positions: Iterable[int]) -> list[LabelRow]:
        """Every answer on these items (the review queue reads a flagged item's answers here)."""
        return [row for pos in sorted(set(positions)) for row in self._answers.get(pos, {}).values()]

    def contested_rows(self) -> list[LabelRow]:
        """The rows of every item that may need a reviewer (2+ class answers, or an unsure),
        so the review queue reads these instead of every label."""
        return [row for pos in sorted(self._multi | self._unsure) for row in self._answers[pos].values()]

    def _decision(self, pos: int) -> Vote | None:
        """The item's final label as ``final_labels`` has it: a reviewer's adjudication, else the
        majority vote; None for an item with neither."""
        decided = self.adjudications.get(pos)
        if decided is not None:
            return Vote(decided.label, False, self.n_labels(pos))
        return self.vote(pos) if self.n_labels(pos) else None

    # -- writes (call under the service's lock, after the write is committed) -------------------
    def apply(self, row: LabelRow) -> None:
        """Insert or replace ``row.annotator``'s answer on ``row.pos``."""
        self._change(row.pos, row.annotator, row)

    def remove(self, pos: int, annotator: int) -> None:
        self._change(pos, annotator, None)

    def _change(self, pos: int, annotator: int, row: LabelRow | None) -> None:
        answers = self._answers[pos]
        old = answers.get(annotator)
        before = self._decision(pos)
        was_multi = pos in self._multi
        if old is not None:
            self._count(old, -1)
        if row is not None:
            answers[annotator] = row
            self._count(row, +1)
            self._mine[annotator].add(pos)
        else:
            answers.pop(annotator, None)
            self._mine[annotator].discard(pos)
        if not answers:
            del self._answers[pos]
        if any(r.status == "unsure" for r in answers.values()):
            self._unsure.add(pos)
        else:
            self._unsure.discard(pos)
        after = self._decision(pos)
        self._count_vote(before, -1)
        self._count_vote(after, +1)
        n = self.n_labels(pos)
        if n >= 2:
            self._multi.add(pos)
        else:
            self._multi.discard(pos)
        if was_multi or n >= 2:
            self.multi_version += 1
        if self.overlap[pos] and 0 < n < self.wanted:
            self.needs_another.setdefault(pos, None)
        else:
            self.needs_another.pop(pos, None)

    def adjudicate(self, decision: Adjudication) -> None:
        """Apply a committed adjudication: the item's final label becomes the reviewer's."""
        before = self._decision(decision.pos)
        self.adjudications[decision.pos] = decision
        self._count_vote(before, -1)
        self._count_vote(self._decision(decision.pos), +1)

    def _count(self, row: LabelRow, sign: int) -> None:
        self.totals[row.status] += sign
        person = self.people[row.annotator]
        if row.status == "label":
            person.labels += sign
            self._labels_on[row.pos] += sign
            if self._labels_on[row.pos] == 0:
                del self._labels_on[row.pos]
            if row.label in self.label_set:
                self._classes_on[row.pos] += sign
                if self._classes_on[row.pos] == 0:
                    del self._classes_on[row.pos]
            truth = self.gold[row.pos]
            if truth in self.label_set:
                person.gold_scored += sign
                person.gold_right += sign * (truth == row.label)
        elif row.status == "skip":
            person.skips += sign
        else:
            person.unsure += sign

    def _count_vote(self, vote: Vote | None, sign: int) -> None:
        if vote is None:
            return
        if vote.label is not None:
            self.per_class[vote.label] += sign
            self.labelled_items += sign
        self.ties += sign * vote.tie
