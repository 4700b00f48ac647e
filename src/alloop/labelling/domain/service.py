"""The live loop behind the API: hand out items, take labels, report progress and agreement.

Handlers call this from a thread pool. Hand-outs and label writes are serialised by one lock,
so an item is never handed to two annotators at once; each write is committed before the call
returns. The model lives in the ``Trainer`` thread; this class only reads its latest snapshot.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from alloop.errors import AlloopError, ConflictError, NotFoundError
from alloop.labelling.config import LabelConfig
from alloop.labelling.domain import history
from alloop.labelling.domain.acceptance import Acceptance
from alloop.labelling.domain.agreement import disagreements, fleiss_from_rows, pairwise_cohen
from alloop.labelling.domain.queue import Snapshot, in_overlap, permutation, pick, queue_length
from alloop.labelling.domain.review import (
    OpenItem,
    annotator_view,
    describe,
    review_queue,
    with_decisions,
)
from alloop.labelling.domain.tally import PersonCounts, Tally
from alloop.labelling.domain.trainer import Trainer, stored_progress
from alloop.labelling.domain.tree import LabelTree, partial_counts
from alloop.labelling.domain.trust import TRUST_KEY
from alloop.labelling.storage import flags as flag_store
from alloop.labelling.storage.store import Annotator, Items, LabelRow, LabelStore, now_iso

LEASE_SECONDS = 20 * 60
"""An item handed out is held for its annotator this long; then another may get it."""
MAX_DISAGREEMENTS = 50


def shorten(value: str, limit: int = 64) -> str:
    """A client's value as quoted back in an error: cut to ``limit`` characters, so a 10 KB id
    is not echoed back whole."""
    return repr(value) if len(value) <= limit else repr(value[:limit]) + f"... ({len(value):,} characters)"


@dataclass(frozen=True)
class Answer:
    """What an annotator sends: a class, or a skip, or an unsure."""

    item_id: str
    label: str | None = None
    skip: bool = False
    unsure: bool = False
    source: str = "queue"
    """how the annotator found the item: handed out (``queue``) or by the page's search box"""
    also: tuple[str, ...] = ()
    """near-duplicates offered with the item that the annotator ticked: they get the same label"""


class LabelService:
    def __init__(self, store: LabelStore, config: LabelConfig, items: Items, train: bool = True):
        self.store = store
        self.config = config
        self.items = items
        self.position = {item_id: pos for pos, item_id in enumerate(items.ids)}
        self.label_set = frozenset(config.labels)
        self.tree = LabelTree.of(config.labels)
        """the category tree of a label set of paths (None: flat); its inner nodes are partial labels"""
        self.overlap = np.array([in_overlap(i, config.seed, config.overlap) for i in items.ids], dtype=bool)
        self.fallback = permutation(len(items), config.seed)
        self._fallback_rank = np.argsort(self.fallback)
        self._fallback_from = 0
        """no item before this index of ``fallback`` is unlabelled: the walk starts here"""
        rows = store.label_rows()
        self.tally = Tally(
            rows, items.gold, self.label_set, self.overlap, config.overlap_raters, store.adjudications()
        )
        self.acceptance = Acceptance(rows)
        self.shown = store.shown() if config.show else None
        """the --show columns' values by position"""
        self._agreement: tuple[int, dict[int, str], dict[str, Any]] | None = None
        self._lock = threading.Lock()
        self._offered: dict[tuple[int, int], frozenset[int]] = {}
        """(annotator, item) -> the near-duplicates offered with it: the only ones a label may cover"""
        progress = stored_progress(store)  # until the first round: the last model's version, not 0
        self._snapshot = Snapshot(
            tuple(int(p) for p in self.fallback[: queue_length(config.query_size)]),
            "random",
            progress.version,
            progress.trained_on,
        )
        self.trainer = Trainer(config, store, items, self._publish) if train else None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> LabelService:
        if self.trainer is not None:
            self.trainer.start()
        return self

    def close(self) -> None:
        if self.trainer is not None:
            self.trainer.stop()
        self.store.close()

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def _publish(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot  # one reference swap: readers see the old queue or the new
        if snapshot.version:  # what `alloop label-stats` shows when no server runs
            estimate = snapshot.estimate
            self.store.put_meta(
                "last_model",
                {
                    "version": snapshot.version,
                    "trained_on": snapshot.n_trained,
                    "macro_f1": estimate.macro_f1 if estimate else None,
                    "estimate": estimate.method if estimate else None,
                    "estimate_n": estimate.n if estimate else 0,
                    "at": now_iso(),
                },
            )
            history.record(self.store, snapshot)  # the page's quality chart
            if snapshot.trust is not None:
                self.store.put_meta(TRUST_KEY, snapshot.trust)

    def authenticate(self, token: str) -> Annotator | None:
        return self.store.annotator_for_token(token) if token else None

    # -- handing out --------------------------------------------------------------------------
    def next_item(self, annotator: Annotator) -> dict[str, Any] | None:
        """The item this annotator holds, or a newly handed one; None when nothing is left."""
        with self._lock:
            since = time.time() - LEASE_SECONDS
            held = self.store.assignment_of(annotator.id, since)
            if held is not None and self.store.label_of(held, annotator.id) is None:
                item = self._item(held, "held", None, self._handed_suggestion(held, annotator))
                return self._with_similar(item, held, annotator, since)
            tally = self.tally
            mine = tally.answered_by(annotator.id)
            taken = {p for p, a in self.store.active_assignments(since).items() if a != annotator.id}
            while self._fallback_from < len(self.fallback) and tally.n_labels(
                int(self.fallback[self._fallback_from])
            ):
                self._fallback_from += 1
            snapshot = self._snapshot
            reopened = snapshot.reopened  # partially labelled: handed out again for the leaf

            def wants_leaf(p: int) -> bool:
                return p in reopened and tally.n_class_labels(p) == 0

            def still_open(p: int) -> bool:
                return tally.n_labels(p) == 0 or wants_leaf(p)

            chosen = pick(
                needs_another=tally.needs_another,
                queue=snapshot.queue,
                fallback=self.fallback[self._fallback_from :],
                available=lambda p: p not in taken and (p not in mine or wants_leaf(p)),
                unlabelled=lambda p: tally.n_labels(p) == 0,
                queue_source=snapshot.source,
                open_in_queue=still_open if reopened else None,
            )
            if chosen is None:
                return None
            offer = self._suggestion(snapshot, chosen.pos)
            suggested, p = offer if offer is not None else (None, None)
            self.store.assign(chosen.pos, annotator.id, suggestion=suggested, suggestion_p=p)
            return self._with_similar(
                self._item(chosen.pos, chosen.source, chosen.rank, offer), chosen.pos, annotator, since
            )

    def _suggestion(self, snapshot: Snapshot, pos: int) -> tuple[str, float] | None:
        """The snapshot model's label for ``pos`` and its probability, when suggestions are on."""
        if not self.config.suggest or snapshot.suggestions is None:
            return None
        return snapshot.suggestions.at(pos, self.config.labels)

    def _handed_suggestion(self, pos: int, annotator: Annotator) -> tuple[str, float] | None:
        """The suggestion recorded when ``pos`` was handed out: a held item shows the same one."""
        handed = self.store.handed(pos, annotator.id) if self.config.suggest else None
        if handed is None or handed[0] is None or handed[1] is None:
            return None
        return handed[0], handed[1]

    def _item(
        self, pos: int, source: str, rank: int | None, suggestion: tuple[str, float] | None = None
    ) -> dict[str, Any]:
        item = {
            "item_id": self.items.ids[pos],
            "text": self.items.texts[pos],
            "fields": self.items.fields[pos],
            "shown": self.shown[pos] if self.shown is not None else {},
            "source": source,
            "rank": rank,
            "model_version": self._snapshot.version,
        }
        if suggestion is not None:
            item["suggestion"] = {"label": suggestion[0], "p": suggestion[1]}
        if self.tree is not None:
            item.update(self._tree_fields(pos))
        return item

    def _tree_fields(self, pos: int) -> dict[str, Any]:
        """A tree page's extras: the model's top paths, and the partial label the item already has
        (the page starts browsing there)."""
        assert self.tree is not None
        suggestions = self._snapshot.suggestions
        top = suggestions.top_at(pos, self.config.labels) if self.config.suggest and suggestions else []
        vote = self.tally.vote(pos).label
        return {"top": top, "partial": vote if self.tree.is_partial(vote) else None}

    def _with_similar(
        self, item: dict[str, Any], pos: int, annotator: Annotator, since: float
    ) -> dict[str, Any]:
        """Add the item's near-duplicates that are still open to this annotator (no label yet,
        not held by someone else) as ``similar``, and remember them as offered. Call under the lock."""
        group = self._snapshot.similar.get(pos, ())
        if group:
            held = self.store.active_assignments(since)
            open_ = [
                p for p in group if self.tally.n_labels(p) == 0 and held.get(p, annotator.id) == annotator.id
            ]
        else:
            open_ = []
        self._offered[(annotator.id, pos)] = frozenset(open_)
        item["similar"] = [{"item_id": self.items.ids[p], "text": self.items.texts[p]} for p in open_]
        return item

    # -- answers ------------------------------------------------------------------------------
    def submit(self, annotator: Annotator, answer: Answer) -> dict[str, Any]:
        """Record an answer; returns only after it is committed. Answering again (a retry, or a
        change from the recent list) replaces this annotator's previous answer on the item."""
        pos = self.position.get(answer.item_id)
        if pos is None:
            raise NotFoundError(f"unknown item_id {shorten(answer.item_id)}")
        if sum([answer.label is not None, answer.skip, answer.unsure]) != 1:
            raise AlloopError('send exactly one of "label", "skip": true or "unsure": true')
        if answer.label is not None and not self.accepts(answer.label):
            raise AlloopError(f"label {shorten(answer.label)} is not in the label set: {self._known()}")
        status = "skip" if answer.skip else "unsure" if answer.unsure else "label"
        with self._lock:
            holder = self.store.active_assignments(time.time() - LEASE_SECONDS).get(pos)
            if holder not in (None, annotator.id) and self.store.label_of(pos, annotator.id) is None:
                raise ConflictError(f"item {shorten(answer.item_id)} is being labelled by another annotator")
            suggested, p = self._shown_with(pos, annotator)
            row = self.store.put_label(
                pos,
                annotator.id,
                status,
                answer.label,
                source=answer.source,
                suggestion=suggested,
                suggestion_p=p,
            )
            self._record(row.pos, annotator.id, row)
            applied = self._label_group(pos, annotator, answer) if status == "label" else []
            n_labels = self.tally.totals["label"]
            changes = n_labels + len(self.tally.adjudications)
        if self.trainer is not None:
            self.trainer.notify(changes)
        return {
            "ok": True,
            "item_id": answer.item_id,
            "status": row.status,
            "label": row.label,
            "updated_at": row.updated_at,
            "labels_total": n_labels,
            "also_labelled": applied,
        }

    def _label_group(self, pos: int, annotator: Annotator, answer: Answer) -> list[str]:
        """The same label on each ticked near-duplicate that was offered with the item and is still
        open (no label from this annotator, not held by another), recorded with source ``group``;
        anything else ticked is left alone. Returns the ids labelled. Call under the lock."""
        if not answer.also:
            return []
        offered = self._offered.get((annotator.id, pos), frozenset())
        held = self.store.active_assignments(time.time() - LEASE_SECONDS)
        applied = []
        for item_id in dict.fromkeys(answer.also):
            other = self.position.get(item_id)
            if other is None or other not in offered or other == pos:
                continue
            if (
                self.store.label_of(other, annotator.id) is not None
                or held.get(other, annotator.id) != annotator.id
            ):
                continue
            row = self.store.put_label(other, annotator.id, "label", answer.label, source="group")
            self._record(row.pos, annotator.id, row)
            applied.append(item_id)
        return applied

    def accepts(self, label: str) -> bool:
        """A class of the label set, or in a tree a category above the leaves (a partial label)."""
        return label in self.label_set or (self.tree is not None and self.tree.accepts(label))

    def _known(self, limit: int = 20) -> str:
        labels = self.config.labels
        more = f" ... ({len(labels):,} in all)" if len(labels) > limit else ""
        tree = " or a category above them (a partial label)" if self.tree is not None else ""
        return ", ".join(labels[:limit]) + more + tree

    def _shown_with(self, pos: int, annotator: Annotator) -> tuple[str | None, float | None]:
        """The suggestion to store with an answer: the one recorded at hand-out (never what the
        client says), or, for a change of an earlier answer, the one stored with it."""
        handed = self.store.handed(pos, annotator.id)
        if handed is not None:
            return handed if self.config.suggest else (None, None)
        previous = self.store.label_of(pos, annotator.id)
        return (previous.suggestion, previous.suggestion_p) if previous is not None else (None, None)

    def undo(self, annotator: Annotator) -> dict[str, Any] | None:
        """Take back this annotator's latest answer; the item becomes their next one again."""
        with self._lock:
            row = self.store.undo_last(annotator.id)
            if row is not None:
                self._record(row.pos, annotator.id, None)
        if row is None:
            return None
        return {"ok": True, "item_id": self.items.ids[row.pos], "status": row.status, "label": row.label}

    def _record(self, pos: int, annotator: int, row: LabelRow | None) -> None:
        """Apply a committed write to the tally (under the lock); an item that lost its last
        label goes back into the fallback walk."""
        if row is None:
            self.tally.remove(pos, annotator)
            self.acceptance.remove(pos, annotator)
        else:
            self.tally.apply(row)
            self.acceptance.apply(row)
        if self.tally.n_labels(pos) == 0:
            self._fallback_from = min(self._fallback_from, int(self._fallback_rank[pos]))

    def recent(self, annotator: Annotator, limit: int = 10) -> list[dict[str, Any]]:
        return [
            {
                "item_id": self.items.ids[r.pos],
                "text": self.items.texts[r.pos],
                "status": r.status,
                "label": r.label,
                "updated_at": r.updated_at,
            }
            for r in self.store.recent(annotator.id, limit)
        ]

    # -- review (what needs it and what an annotator may see: alloop.labelling.domain.review) --------------
    def _review_queue(self) -> list[OpenItem]:
        """The review queue: contested items from the tally, suspected label errors from the
        trainer's open flags. Call under the lock."""
        flagged = flag_store.open_flags(self.store)
        rows = self.tally.contested_rows()
        contested = {r.pos for r in rows}
        rows += self.tally.rows_of(p for p in flagged if p not in contested)
        return review_queue(rows, self.tally.adjudications, flagged)

    def review_next(self) -> dict[str, Any]:
        """The first item of the review queue with every answer and its annotator's name."""
        names = {a.id: a.name for a in self.store.annotators()}
        with self._lock:
            queue = self._review_queue()
        if not queue:
            return {"item_id": None, "done": True, "remaining": 0, "message": "nothing to review"}
        return describe(queue[0], self.items, names, len(queue))

    def adjudicate(self, reviewer: Annotator, item_id: str, label: str) -> dict[str, Any]:
        """Record a reviewer's final label for an item in the review queue (committed before
        returning); answers with the next item to review. Refused, writing nothing, for an
        unknown item or label (422) and an item that does not need review (404)."""
        pos = self.position.get(item_id)
        if pos is None:
            raise AlloopError(f"unknown item_id {shorten(item_id)}")
        if not self.accepts(label):
            raise AlloopError(f"label {shorten(label)} is not in the label set: {self._known()}")
        with self._lock:
            queue = self._review_queue()
            if all(item.pos != pos for item in queue):
                why = (
                    "a reviewer already decided it"
                    if pos in self.tally.adjudications
                    else "it has no tie, unsure answer, disagreement or suspected label error"
                )
                raise NotFoundError(f"item {shorten(item_id)} does not need review: {why}")
            decision = self.store.adjudicate(pos, reviewer.id, label)
            self.tally.adjudicate(decision)
            flag_store.clear(self.store, pos, label, reviewer.id)  # a decision is final
            changes = self.tally.totals["label"] + len(self.tally.adjudications)
        if self.trainer is not None:
            self.trainer.notify(changes)
        return {
            "ok": True,
            "decided": {"item_id": item_id, "label": label, "decided_at": decision.decided_at},
            "next": self.review_next(),
        }

    # -- progress -----------------------------------------------------------------------------
    def stats(self, annotator: Annotator | None = None) -> dict[str, Any]:
        """Everything for a reviewer (and ``label-stats``); an annotator's own counts and the
        aggregates only."""
        names = {a.id: a.name for a in self.store.annotators()}
        with self._lock:
            stats = summarise(self, names, annotator)
        if annotator is None or annotator.role == "reviewer":
            return stats
        return annotator_view(stats, annotator)

    def agreement(self, names: dict[int, str]) -> dict[str, Any]:
        """Kappas and disagreements, from the items with 2+ labels only; recomputed only when one
        of those changed (or an annotator joined). Call under the lock."""
        cached = self._agreement
        if cached is not None and cached[0] == self.tally.multi_version and cached[1] == names:
            return with_decisions(cached[2], self.tally.adjudications, self.position)
        rows = self.tally.multi_rows()
        items, config = self.items, self.config
        fleiss, fleiss_items, fleiss_raters = fleiss_from_rows(rows, config.labels)
        disagree = disagreements(rows, names)
        result = {
            "pairs": [
                {"a": p.a, "b": p.b, "n_items": p.n_items, "kappa": p.kappa}
                for p in pairwise_cohen(rows, names)
            ],
            "fleiss": (
                {"kappa": fleiss, "n_items": fleiss_items, "n_annotators": fleiss_raters}
                if fleiss_raters >= 3
                else None
            ),
            "n_disagreements": len(disagree),
            "disagreements": [
                {
                    "item_id": items.ids[d.pos],
                    "text": items.texts[d.pos],
                    "labels": d.labels,
                    "majority": d.vote.label,
                    "tie": d.vote.tie,
                }
                for d in disagree[:MAX_DISAGREEMENTS]
            ],
        }
        self._agreement = (self.tally.multi_version, dict(names), result)
        return with_decisions(result, self.tally.adjudications, self.position)


def class_counts(service: LabelService) -> dict[str, Any]:
    """Final labels per class and the classes with none. A tree sends only the classes that have
    labels, the partial labels per node and a count of the classes with none: the page groups
    them by branch (a list of 1,000 names helps nobody)."""
    labels, counts, tree = service.config.labels, service.tally.per_class, service.tree
    if tree is None:
        return {
            "per_class": {label: counts.get(label, 0) for label in labels},
            "missing_classes": [label for label in labels if not counts.get(label, 0)],
        }
    per_class = {label: counts[label] for label in labels if counts.get(label, 0)}
    partial = partial_counts(counts, tree)
    return {
        "per_class": per_class,
        "n_missing_classes": len(labels) - len(per_class),
        "partial": partial,
        "partial_labels": sum(partial.values()),
        "branches": tree.summary(per_class, partial),
    }


def summarise(service: LabelService, names: dict[int, str], you: Annotator | None) -> dict[str, Any]:
    """The numbers the page, ``GET /api/stats`` and ``alloop label-stats`` show, read from the
    service's tally: their cost does not grow with the number of labels."""
    config, items, tally = service.config, service.items, service.tally
    snapshot = service.snapshot
    since = time.time() - LEASE_SECONDS
    held = set(service.store.active_assignments(since))
    per_annotator = []
    for aid, name in names.items():
        person = tally.people.get(aid, PersonCounts())
        per_annotator.append(
            {
                "name": name,
                "labels": person.labels,
                "skips": person.skips,
                "unsure": person.unsure,
                "gold_accuracy": person.gold_accuracy,
            }
        )
    trainer = service.trainer
    estimate = snapshot.estimate
    return {
        "items": len(items),
        "labelled_items": tally.labelled_items,
        "labels": tally.totals["label"],
        "skips": tally.totals["skip"],
        "unsure": tally.totals["unsure"],
        "ties": tally.ties,
        **class_counts(service),
        "queue": sum(tally.n_labels(p) == 0 and p not in held for p in snapshot.queue),
        "you": (
            {"name": you.name, "labels": tally.people[you.id].labels if you.id in tally.people else 0}
            if you
            else None
        ),
        "annotators": per_annotator,
        "model": {
            "classifier": config.classifier,
            "strategy": config.strategy_name,
            "query_size": config.query_size,
            "version": snapshot.version,
            "queue_source": snapshot.source,
            "trained_on": snapshot.n_trained,
            "macro_f1": estimate.macro_f1 if estimate else None,
            "estimate": estimate.method if estimate else None,
            "estimate_n": estimate.n if estimate else 0,
            "train_seconds": round(snapshot.seconds, 3),
            "training": bool(trainer and trainer.busy),
            "phase": trainer.phase if trainer else "off",
            "error": trainer.error if trainer else None,
        },
        "agreement": service.agreement(names),
        "suggestions": {"enabled": config.suggest, **service.acceptance.summary()},
        "trust": trust_summary(service),
    }


def trust_summary(service: LabelService) -> dict[str, Any] | None:
    """The latest model's auto-labelling at the default target precision (from the live snapshot,
    else as the last server left it) and the suspected label errors still open."""
    trust = service.snapshot.trust or service.store.get_meta(TRUST_KEY)
    open_flags = flag_store.open_flags(service.store)
    undecided = [f for p, f in open_flags.items() if p not in service.tally.adjudications]
    if trust is None and not undecided:
        return None
    items = service.items
    suspects = [
        {
            "item_id": items.ids[f.pos],
            "text": items.texts[f.pos],
            "given": f.given,
            "predicted": f.predicted,
            "confidence": f.confidence,
        }
        for f in sorted(undecided, key=lambda f: -f.confidence)[:MAX_DISAGREEMENTS]
    ]
    return {**(trust or {}), "suspected_errors": len(undecided), "suspects": suspects}
