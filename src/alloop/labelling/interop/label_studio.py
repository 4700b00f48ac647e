"""Label Studio's JSON task format, both ways: tasks to move a project to Label Studio, and the
labels read back from a Label Studio export.

Follows the documented "Basic Label Studio JSON format" (labelstud.io/guide/tasks and
/guide/task_format): a list of tasks ``{"id", "data", "annotations", "predictions"}``, each
answer a ``choices`` result of the ``<Choices name="label" toName="text">`` control that the
labelling config written beside the file declares.

Two choices made for a clean import into Label Studio:
- Every annotation sets ``ground_truth`` explicitly: Label Studio's importer treats an
  annotation without it as ground truth. Only a reviewer's adjudication is ground truth.
- ``completed_by`` is written only for annotators whose name is an e-mail address, as
  ``{"email": ...}``: Label Studio's importer refuses the whole file when ``completed_by`` is
  neither the id of one of its users nor an e-mail of one. Other answers import as the
  importing user's; the annotator's name stays in the task's ``meta``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import quoteattr

from alloop.labelling.domain.agreement import majority
from alloop.labelling.domain.final import Final
from alloop.labelling.storage.store import Adjudication, Items, LabelRow

FROM_NAME = "label"
"""The ``name`` of the Choices control: what ``--label`` names when importing our own export."""
TO_NAME = "text"
"""The ``name`` of the Text object tag, reading ``$text`` from each task's data."""
ID_KEY = "item_id"
"""The key of ``data`` that holds the item's id: what ``--id`` names when importing it back."""
PATH_SEP = " > "
"""How a tree project writes a path (``alloop.data.taxonomy.DISPLAY_SEP``)."""
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def choice(label: str, tree: bool = False) -> list[dict[str, Any]]:
    """One answer as a ``result`` list: the chosen class of the Choices control, or for a category
    tree the chosen node of the Taxonomy control, as its path from the top (Label Studio's
    ``{"taxonomy": [[level 1, level 2, ...]]}``; a partial label is a shorter path)."""
    if tree:
        path = label.split(PATH_SEP)
        value: dict[str, Any] = {"taxonomy": [path]}
        return [{"from_name": FROM_NAME, "to_name": TO_NAME, "type": "taxonomy", "value": value}]
    return [{"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices", "value": {"choices": [label]}}]


def taxonomy_config(labels: Sequence[str]) -> str:
    """The labelling config of a tree project: a ``<Taxonomy>`` of nested ``<Choice>`` tags (any
    node may be chosen, so a partial label moves too; the full path is shown)."""
    root: dict[str, dict] = {}
    for label in labels:
        node = root
        for name in label.split(PATH_SEP):
            node = node.setdefault(name, {})
    lines: list[str] = []

    def emit(children: dict[str, dict], indent: int) -> None:
        for name, below in children.items():
            pad = " " * indent
            if below:
                lines.append(f"{pad}<Choice value={quoteattr(name)}>")
                emit(below, indent + 2)
                lines.append(f"{pad}</Choice>")
            else:
                lines.append(f"{pad}<Choice value={quoteattr(name)}/>")

    emit(root, 4)
    body = "\n".join(lines)
    return (
        "<View>\n"
        f'  <Text name="{TO_NAME}" value="${TO_NAME}"/>\n'
        f'  <Taxonomy name="{FROM_NAME}" toName="{TO_NAME}" showFullPath="true" pathSeparator="{PATH_SEP}" '
        'maxUsages="1">\n'
        f"{body}\n"
        "  </Taxonomy>\n"
        "</View>\n"
    )


def label_config(labels: Sequence[str]) -> str:
    """The labelling config (XML) for the exported tasks: the text and one single choice, or the
    Taxonomy of a tree project (labels that are paths)."""
    if any(PATH_SEP in label for label in labels):
        return taxonomy_config(labels)
    choices = "\n".join(f"    <Choice value={quoteattr(label)}/>" for label in labels)
    return (
        "<View>\n"
        f'  <Text name="{TO_NAME}" value="${TO_NAME}"/>\n'
        f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="single" showInline="false">\n'
        f"{choices}\n"
        "  </Choices>\n"
        "</View>\n"
    )


def tasks(
    items: Items,
    rows: Sequence[LabelRow],
    adjudications: dict[int, Adjudication],
    finals: dict[int, Final],
    names: dict[int, str],
    predictions: dict[int, tuple[str, float]] | None = None,
    model_version: str = "",
    tree: bool = False,
) -> list[dict[str, Any]]:
    """One task per item, in item order (unlabelled items too: a team goes on labelling them in
    Label Studio, with the model's prediction as a pre-annotation). Each annotator's class answer
    is an annotation, a skip is a cancelled one, and a reviewer's adjudication is the one
    ground-truth annotation; ``meta`` keeps alloop's final label and who decided it."""
    by_item: dict[int, list[LabelRow]] = {}
    for row in rows:
        by_item.setdefault(row.pos, []).append(row)
    out = []
    for pos in range(len(items)):
        answers = sorted(by_item.get(pos, []), key=lambda r: r.seq)
        annotations = [_annotation(r, names, tree) for r in answers if r.status in ("label", "skip")]
        decided = adjudications.get(pos)
        if decided is not None:
            reviewer = names.get(decided.reviewer, "")
            annotations.append(
                {
                    "result": choice(decided.label, tree),
                    "ground_truth": True,
                    "was_cancelled": False,
                    "created_at": decided.decided_at,
                    "updated_at": decided.decided_at,
                    **_completed_by(reviewer),
                }
            )
        final = finals.get(pos)
        task: dict[str, Any] = {
            "id": pos + 1,
            "data": {**items.fields[pos], TO_NAME: items.texts[pos], ID_KEY: items.ids[pos]},
            "annotations": annotations,
            "predictions": [],
            "meta": {
                "final_label": final.label if final else None,
                "decided_by": final.decided_by if final else "none",
                "reviewer": names.get(final.reviewer) if final and final.reviewer is not None else None,
                "annotators": [names.get(r.annotator, "") for r in answers if r.status in ("label", "skip")],
            },
        }
        if predictions is not None and pos in predictions:
            label, score = predictions[pos]
            task["predictions"].append(
                {
                    "model_version": model_version,
                    "score": round(float(score), 6),
                    "result": choice(label, tree),
                }
            )
        out.append(task)
    return out


def _annotation(row: LabelRow, names: dict[int, str], tree: bool = False) -> dict[str, Any]:
    skipped = row.status == "skip"
    return {
        "result": [] if skipped or row.label is None else choice(row.label, tree),
        "ground_truth": False,
        "was_cancelled": skipped,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        **_completed_by(names.get(row.annotator, "")),
    }


def _completed_by(name: str) -> dict[str, Any]:
    return {"completed_by": {"email": name}} if EMAIL.fullmatch(name) else {}


# -- reading a Label Studio export ----------------------------------------------------------------
@dataclass(frozen=True)
class TaskLabel:
    """What one task says: its id, its label (None when it has none) and why it has none."""

    item_id: object
    label: str | None
    problem: str | None = None
    """a reason the task is wrong (refused); None for a good task, with or without a label"""
    note: str | None = None
    """why a good task gives no label (no answer, or tied answers), counted, not refused"""


def task_label(task: object, id_key: str, from_name: str) -> TaskLabel:
    """The label of one exported task: its ground-truth annotation if it has one, else the
    majority of its answered annotations (skipped ones do not count). A tie gives no label, like
    alloop's own final labels; so does a task nobody answered."""
    if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
        return TaskLabel(None, None, 'not a task: expected {"data": {...}, "annotations": [...]}')
    data = task["data"]
    if id_key not in data:
        keys = ", ".join(sorted(map(str, data))[:8])
        return TaskLabel(None, None, f"its data has no {id_key!r} (it has {keys}); pass `id_column` KEY")
    item_id = data[id_key]
    annotations = task.get("annotations") or task.get("completions") or []
    if not isinstance(annotations, list):
        return TaskLabel(item_id, None, '"annotations" is not a list')
    truth: list[str] = []
    votes: list[str] = []
    for annotation in annotations:
        if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
            continue
        labels, problem = _choices(annotation.get("result"), from_name)
        if problem:
            return TaskLabel(item_id, None, problem)
        if not labels:
            continue
        if len(labels) > 1:
            return TaskLabel(item_id, None, f"an annotation chose {len(labels)} labels; one is expected")
        (truth if annotation.get("ground_truth") else votes).append(labels[0])
    if truth:
        if len(set(truth)) > 1:
            return TaskLabel(item_id, None, f"its ground-truth annotations disagree ({', '.join(truth)})")
        return TaskLabel(item_id, truth[0])
    if not votes:
        return TaskLabel(item_id, None, note="no answer")
    vote = majority(votes)
    if vote.label is None:
        return TaskLabel(item_id, None, note="tied answers")
    return TaskLabel(item_id, vote.label)


def _choices(result: object, from_name: str) -> tuple[list[str], str | None]:
    if result is None:
        return [], None
    if not isinstance(result, list):
        return [], '"result" is not a list'
    found: list[str] = []
    others: set[str] = set()
    for region in result:
        kind = region.get("type") if isinstance(region, dict) else None
        if kind not in ("choices", "taxonomy"):
            continue
        if region.get("from_name") != from_name:
            others.add(str(region.get("from_name")))
            continue
        value = region.get("value")
        chosen = value.get(kind) if isinstance(value, dict) else None
        if not isinstance(chosen, list):
            return [], f"a {kind} result without value.{kind}"
        if kind == "taxonomy":  # each choice is a path from the top: a list of names
            if not all(isinstance(path, list) and path for path in chosen):
                return [], "a taxonomy result whose value.taxonomy is not a list of paths"
            found.extend(PATH_SEP.join(str(name) for name in path) for path in chosen)
        else:
            found.extend(str(c) for c in chosen)
    if not found and others:
        return (
            [],
            f"no choices named {from_name!r} (found {', '.join(sorted(others))}); pass `label_column` NAME",
        )
    return found, None
