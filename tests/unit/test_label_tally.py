"""The live counts kept per answer equal the counts recomputed from every label row."""

from __future__ import annotations

import contextlib
from collections import Counter

import numpy as np
import pandas as pd

from alloop.errors import AlloopError
from alloop.labelling.domain.agreement import disagreements, fleiss_from_rows, pairwise_cohen, votes
from alloop.labelling.domain.service import Answer, LabelService
from alloop.labelling.storage.project import open_project

LABELS = ("music", "clothing", "kitchen")


def _round(value: float | None) -> float | None:
    """Kappas summed in another row order differ in the last bits."""
    return None if value is None else round(value, 9)


def reference(service: LabelService) -> dict[str, object]:
    """What the stats were before the tally: everything recomputed from all rows."""
    rows = service.store.label_rows()
    names = {a.id: a.name for a in service.store.annotators()}
    final = votes(rows)
    n_labels = Counter(r.pos for r in rows if r.status == "label")
    people = []
    for aid, name in names.items():
        mine = [r for r in rows if r.annotator == aid]
        answered = [r for r in mine if r.status == "label"]
        scored = [r for r in answered if service.items.gold[r.pos] in service.label_set]
        right = sum(service.items.gold[r.pos] == r.label for r in scored)
        people.append(
            {
                "name": name,
                "labels": len(answered),
                "skips": sum(r.status == "skip" for r in mine),
                "unsure": sum(r.status == "unsure" for r in mine),
                "gold_accuracy": right / len(scored) if scored else None,
            }
        )
    fleiss, n_items, n_raters = fleiss_from_rows(rows, LABELS)
    return {
        "labelled_items": sum(v.label is not None for v in final.values()),
        "labels": sum(r.status == "label" for r in rows),
        "skips": sum(r.status == "skip" for r in rows),
        "unsure": sum(r.status == "unsure" for r in rows),
        "ties": sum(v.tie for v in final.values()),
        "per_class": {c: sum(v.label == c for v in final.values()) for c in LABELS},
        "annotators": people,
        "pairs": [(p.a, p.b, p.n_items, _round(p.kappa)) for p in pairwise_cohen(rows, names)],
        "fleiss": (_round(fleiss), n_items, n_raters) if n_raters >= 3 else None,
        "disagreements": [
            (service.items.ids[d.pos], d.labels, d.vote.tie) for d in disagreements(rows, names)
        ],
        "needs_another": {p for p, n in n_labels.items() if service.overlap[p] and n < 2},
    }


def observed(service: LabelService) -> dict[str, object]:
    stats = service.stats()
    agreement = stats["agreement"]
    fleiss = agreement["fleiss"]
    return {
        **{k: stats[k] for k in ("labelled_items", "labels", "skips", "unsure", "ties", "per_class")},
        "annotators": stats["annotators"],
        "pairs": [(p["a"], p["b"], p["n_items"], _round(p["kappa"])) for p in agreement["pairs"]],
        "fleiss": (_round(fleiss["kappa"]), fleiss["n_items"], fleiss["n_annotators"]) if fleiss else None,
        "disagreements": [(d["item_id"], d["labels"], d["tie"]) for d in agreement["disagreements"]],
        "needs_another": set(service.tally.needs_another),
    }


def test_tally_matches_a_full_recount_through_labels_changes_skips_and_undos(tmp_path):
    n = 30
    data = tmp_path / "items.csv"
    gold = [LABELS[i % 3] for i in range(n)]
    pd.DataFrame({"title": [f"item number {i}" for i in range(n)], "category": gold}).to_csv(
        data, index=False
    )
    given = {"data": str(data), "labels": LABELS, "gold": "category", "classifier": "tfidf", "overlap": 0.5}
    store, config, items = open_project(tmp_path / "p", given)
    ids = [store.add_annotator(name) for name in ("alice", "bob", "cat", "dan")]
    people = [store.annotator_for_token(token) for token in ids]
    service = LabelService(store, config, items, train=False)
    rng = np.random.default_rng(0)
    try:
        for step in range(300):
            who = people[int(rng.integers(len(people)))]
            item = str(int(rng.integers(n)))
            kind = rng.choice(["label", "label", "label", "skip", "unsure", "undo"])
            if kind == "undo":
                service.undo(who)
            else:
                label = str(rng.choice(LABELS)) if kind == "label" else None
                with contextlib.suppress(AlloopError):  # an item another annotator holds
                    service.submit(who, Answer(item, label, kind == "skip", kind == "unsure"))
            if step % 10 == 0 or step == 299:
                assert observed(service) == reference(service), step
        # a restart rebuilds the same counts from label.db
        again = LabelService(store, config, items, train=False)
        assert observed(again) == reference(service)
    finally:
        service.close()
