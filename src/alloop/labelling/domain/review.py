"""Review and roles: what a reviewer must settle, and what an annotator may see.

An item needs review when ``final.final_labels`` says so (a tie, or an ``unsure`` answer, with no
adjudication yet), when its annotators disagree although a majority exists (two against one may
still be wrong, and a reviewer wants to see it), and when the model strongly disagrees with its
final label (a suspected label error, ``domain/trust.py``; the evidence comes with it). A
reviewer's adjudication settles it: it becomes the final label the model trains on and every
export writes, and a flagged item is not flagged again.

Annotators label independently: seeing who labelled what, or how a colleague answered, would
anchor them. So an annotator's view of the stats keeps their own counts and the aggregates
(labels per class, ties, number of disagreements, Fleiss' kappa) and drops every other name and
every other person's answer; a reviewer sees everything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from alloop.labelling.domain.final import final_labels
from alloop.labelling.storage.flags import Flag
from alloop.labelling.storage.store import Adjudication, Annotator, Items, LabelRow

REASONS = ("tie", "unsure", "disagreement", "model")
"""Why an item is in the review queue, in the order the queue serves them: a tie has no final
label at all (the model cannot train on it), an unsure answer flags doubt, a disagreement has a
majority that a reviewer may still overturn, and ``model``: the model strongly disagrees with the
final label (a suspected label error)."""
MODEL_DISAGREES = "the model strongly disagrees"
HIDDEN = "shown to reviewers only"


@dataclass(frozen=True)
class OpenItem:
    """An item waiting for a reviewer."""

    pos: int
    reason: str
    answers: tuple[LabelRow, ...]
    """every answer on the item, oldest first"""
    current: str | None
    """the final label it has without review (the majority vote); None for a tie, or when the
    only answers are unsure"""
    flag: Flag | None = None
    """the model's evidence when it strongly disagrees with the final label"""


def review_queue(
    rows: Iterable[LabelRow],
    adjudications: Mapping[int, Adjudication],
    flagged: Mapping[int, Flag] | None = None,
) -> list[OpenItem]:
    """Every item that needs a reviewer, in the order they are served: ties, then unsure answers,
    then disagreements, then suspected label errors (``flagged``: open flags, whose items' rows
    must be in ``rows``); within each, the one whose latest answer is oldest first. ``rows`` may
    be only the rows of the items that can need review (``Tally.contested_rows``): each item is
    judged on its own answers alone. A decided item is never in the queue."""
    flagged = flagged or {}
    by_item: dict[int, list[LabelRow]] = defaultdict(list)
    for row in rows:
        by_item[row.pos].append(row)
    decided = {pos: a for pos, a in adjudications.items() if pos in by_item}
    final = final_labels([r for answers in by_item.values() for r in answers], decided)
    queue: list[tuple[int, int, OpenItem]] = []
    for pos, answers in by_item.items():
        decision = final[pos]
        if decision.decided_by == "adjudication":
            continue
        classes = {r.label for r in answers if r.status == "label"}
        flag = flagged.get(pos)
        if flag is not None and flag.given != decision.label:
            flag = None  # the label it disagreed with has changed since: the next model judges again
        if not (decision.needs_review or len(classes) >= 2 or flag is not None):
            continue
        if decision.label is None and decision.n_labels:
            reason = "tie"
        elif any(r.status == "unsure" for r in answers):
            reason = "unsure"
        elif len(classes) >= 2:
            reason = "disagreement"
        else:
            reason = "model"
        ordered = tuple(sorted(answers, key=lambda r: r.seq))
        item = OpenItem(pos, reason, ordered, decision.label, flag)
        queue.append((REASONS.index(reason), ordered[-1].seq, item))
    return [item for _, _, item in sorted(queue, key=lambda t: (t[0], t[1], t[2].pos))]


def describe(item: OpenItem, items: Items, names: Mapping[int, str], remaining: int) -> dict[str, Any]:
    """``GET /api/review``'s answer for one item: the item, why it is here, every answer with its
    annotator's name, and for a suspected label error the model's evidence (``model``)."""
    flag = item.flag
    return {
        "item_id": items.ids[item.pos],
        "text": items.texts[item.pos],
        "fields": items.fields[item.pos],
        "reason": item.reason,
        "current": item.current,
        "answers": [
            {
                "annotator": names.get(r.annotator, str(r.annotator)),
                "status": r.status,
                "label": r.label,
                "updated_at": r.updated_at,
            }
            for r in item.answers
        ],
        "model": (
            {
                "why": MODEL_DISAGREES,
                "given": flag.given,
                "predicted": flag.predicted,
                "confidence": flag.confidence,
            }
            if flag is not None
            else None
        ),
        "remaining": remaining,
        "done": False,
    }


def annotator_view(stats: dict[str, Any], you: Annotator) -> dict[str, Any]:
    """The stats as an annotator may see them: their own line of the per-annotator table, and
    agreement as aggregates only (no pairs of names, no list of who answered what)."""
    agreement = stats["agreement"]
    trust = stats.get("trust")
    return {
        **stats,
        "trust": {**trust, "suspects": []} if trust else trust,  # given labels are others' answers
        "annotators": [a for a in stats["annotators"] if a["name"] == you.name],
        "agreement": {
            "pairs": [],
            "fleiss": agreement["fleiss"],
            "n_disagreements": agreement["n_disagreements"],
            "disagreements": [],
            "hidden": HIDDEN,
        },
    }


def with_decisions(
    agreement: dict[str, Any], adjudications: Mapping[int, Adjudication], position: Mapping[str, int]
) -> dict[str, Any]:
    """The listed disagreements with the reviewer's final label where one was set (``decided``,
    else None). Looked up on each call: the cached agreement changes only with answers, and
    the list is at most ``MAX_DISAGREEMENTS`` long."""
    listed = []
    for entry in agreement["disagreements"]:
        decided = adjudications.get(position[entry["item_id"]])
        listed.append({**entry, "decided": decided.label if decided is not None else None})
    return {**agreement, "disagreements": listed}
