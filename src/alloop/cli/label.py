"""The labelling commands, added to ``alloop`` by ``register(app)``: ``label``, ``annotators add``,
``label-stats``, ``export`` and ``predict``."""

from __future__ import annotations

import ipaddress
import json
import socket
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from alloop.cli.options import (
    STRATEGY_HELP,
    CacheDirOption,
    CacheOption,
    ClassifierOption,
    DeviceOption,
    GraphWeightOption,
    IdOption,
    MaxLengthOption,
    ModelOption,
    NearDuplicateThresholdOption,
    NearLabelledOption,
    PoolSubsampleOption,
    PrecisionOption,
    QuerySizeOption,
    SeedOption,
    TextOption,
    given_on_command_line,
)
from alloop.errors import AlloopError
from alloop.labelling.config import COLD_STARTS, FLAT_STRATEGY, TREE_STRATEGY, LabelConfig, parse_labels
from alloop.loop.autolabel import DEFAULT_CONFIDENCE
from alloop.models import ModelConfig

MinPrecisionOption = Annotated[
    float | None,
    typer.Option(
        help="Add auto_accepted: whether each prediction may stand without a person, its confidence "
        "clearing the threshold that out-of-fold predictions on the project's labels show to reach "
        "this precision (e.g. 0.95).",
        show_default=False,
    ),
]
PrecisionConfidenceOption = Annotated[
    float,
    typer.Option(
        help="With --min-precision: how sure the threshold must be of reaching it (a one-sided "
        "Clopper-Pearson bound on the labelled items above it)."
    ),
]
ProjectOption = Annotated[
    Path, typer.Option("--project", help="The project folder (holds label.db).", show_default=False)
]
SKLEARN_FEW_LABELS = "The number of unique classes is greater than 50% of the number of samples"
ROLE_HELP = (
    "annotator: labels, and sees only their own answers; "
    "reviewer: also sees everyone's answers and settles ties, unsure answers and disagreements."
)


def label(
    ctx: typer.Context,
    project: ProjectOption,
    data: Annotated[
        str | None, typer.Option(help="A .parquet/.csv/.jsonl file or folder; needed to create the project.")
    ] = None,
    text: TextOption = None,
    labels: Annotated[str | None, typer.Option(help="The label set, comma-separated: a,b,c.")] = None,
    labels_file: Annotated[
        Path | None,
        typer.Option(
            help="The label set, one label per line (labels may hold commas). Lines that are paths "
            "(Electronics > Audio > Headphones) make a category tree: its leaves are the labels, and "
            "the page offers search, the model's top 3 paths, browsing by branch and partial labels."
        ),
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option(
            metavar="COLUMN",
            help="Columns of known category paths, one per level top-down (repeat: --label category "
            "--label sub_category), or one path column with --label-sep. Their values are the gold "
            "labels; without --labels-file the label set is the tree they form.",
            show_default=False,
        ),
    ] = None,
    label_sep: Annotated[
        str | None,
        typer.Option(
            help="The separator between levels in a path column (--label) or in --labels-file lines "
            "[default: ' > ' in --labels-file]",
            show_default=False,
        ),
    ] = None,
    gold: Annotated[
        str | None, typer.Option(help="Column of known labels, to measure annotators and the model (demos).")
    ] = None,
    id_column: IdOption = None,
    strategy: Annotated[
        str | None,
        typer.Option(
            help=f"{STRATEGY_HELP} [default: {FLAT_STRATEGY}; {TREE_STRATEGY} for a category tree]",
            show_default=False,
        ),
    ] = None,
    classifier: ClassifierOption = ModelConfig.classifier,
    query_size: QuerySizeOption = LabelConfig.query_size,
    overlap: Annotated[
        float, typer.Option(help="Share of items also sent to other annotators, to measure agreement.")
    ] = LabelConfig.overlap,
    overlap_raters: Annotated[
        int, typer.Option(help="Annotators per overlap item.")
    ] = LabelConfig.overlap_raters,
    cold_start: Annotated[
        str,
        typer.Option(
            help=f"First items before any model ({', '.join(COLD_STARTS)}): label-names takes, class "
            "by class, the items most like each class name, so the first labels reach every class; "
            "kmeans one item per cluster of the pool. New projects default to label-names."
        ),
    ] = LabelConfig.cold_start,
    seed: SeedOption = LabelConfig.seed,
    near_duplicate_threshold: NearDuplicateThresholdOption = LabelConfig.near_duplicate_threshold,
    pool_subsample: PoolSubsampleOption = None,
    near_labelled_subsample: NearLabelledOption = None,
    model: ModelOption = None,
    max_length: MaxLengthOption = ModelConfig.max_length,
    device: DeviceOption = None,
    precision: PrecisionOption = ModelConfig.precision,
    graph_weight: GraphWeightOption = ModelConfig.graph_weight,
    cache: CacheOption = ModelConfig.cache,
    cache_dir: CacheDirOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8000,
    suggest: Annotated[
        str,
        typer.Option(
            metavar="on|off",
            help="Show the model's predicted label with each item, pre-selected (Enter accepts it); "
            "off for teams that fear anchoring.",
        ),
    ] = "on",
    show: Annotated[
        list[str] | None,
        typer.Option(
            metavar="COLUMN",
            help="A column to show under the text (brand, price, bullet points), never given to the "
            "model; repeatable. Given again, it replaces the list (--show '' clears it).",
            show_default=False,
        ),
    ] = None,
    guidelines: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="A Markdown file of labelling guidelines, shown on the page; kept in the project.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Label items in the browser while a model picks the most useful next item.

    The first run creates the project from --data and the label set; later runs need only
    --project and resume it, with the queue rebuilt from the labels on disk. Loop and model
    options given again replace the stored ones; those left out keep their stored values."""
    import uvicorn

    # Early rounds of a large label set (a category tree) have fewer labels than twice the classes
    # seen; scikit-learn then warns that y "could represent a regression problem". It cannot here.
    warnings.filterwarnings("ignore", message=SKLEARN_FEW_LABELS, category=UserWarning)
    from alloop.labelling.api.app import create_app
    from alloop.labelling.domain.guidelines import KEY as GUIDELINES
    from alloop.labelling.domain.guidelines import read_guidelines
    from alloop.labelling.domain.service import LabelService
    from alloop.labelling.domain.suggest import parse_switch
    from alloop.labelling.domain.trainer import cold_start_note
    from alloop.labelling.storage.project import open_project
    from alloop.labelling.storage.shown import clean_columns

    ignored = {"project", "labels_file", "host", "port", "guidelines", "label", "label_sep"}
    typed = set(given_on_command_line(ctx)) - ignored
    given: dict[str, Any] = {name: ctx.params[name] for name in typed}
    given["labels"] = parse_labels(labels, labels_file, label_sep)
    given.update(tree_columns(label, label_sep, gold))
    if "text" in given:
        given["text"] = tuple(text or ())
    if "suggest" in given:
        given["suggest"] = parse_switch(suggest)
    if "show" in given:
        given["show"] = clean_columns(show or ())
    guide = read_guidelines(guidelines) if guidelines is not None else None
    sock = _listen(host, port)  # before loading anything: a busy port fails at once
    store, config, items = open_project(project, given)
    if guide is not None:
        store.put_meta(GUIDELINES, guide)
    out = Console(highlight=False)
    out.print(
        f"[bold]project[/] {project}: {len(items):,} items, {len(config.labels)} labels, "
        f"classifier {config.classifier}, strategy {config.strategy_name}, retrain every {config.query_size}"
    )
    for note in config.notes:
        out.print(f"  [yellow]note[/]: {note}")
    if cold_note := cold_start_note(config):
        out.print(f"  [yellow]note[/]: {cold_note}")
    if store.upgrade_backup is not None:
        out.print(
            f"  [yellow]note[/]: label.db was made by an older alloop and is upgraded; the copy from "
            f"before is {store.upgrade_backup}"
        )
    shows = f"; showing {', '.join(config.show)}" if config.show else ""
    rules = f"; guidelines from {guide['file']}" if guide else ""
    out.print(f"model suggestions {'on' if config.suggest else 'off'}{shows}{rules}")
    names = [a.name for a in store.annotators()]
    if names:
        out.print(f"annotators: {', '.join(names)}")
    else:
        out.print(f"no annotators yet: run `alloop annotators add NAME --project {project}`")
    if not _is_loopback(host):
        out.print("[yellow]warning[/]: listening beyond this machine; tokens cross the network unencrypted")
    bound_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"labelling at http://{shown}:{bound_port}/  (paste a token, or append #token=TOKEN)", flush=True)
    service = LabelService(store, config, items).start()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(service), log_level="warning", access_log=False, timeout_graceful_shutdown=3
        )
    )
    try:
        server.run(sockets=[sock])
    finally:
        service.close()


def tree_columns(label: list[str] | None, label_sep: str | None, gold: str | None) -> dict[str, Any]:
    """``--label`` (and ``--label-sep``) as the config's gold settings: one column, or one per level."""
    if not label:
        return {}
    if gold is not None:
        raise AlloopError("give either --gold or --label, not both (--label is the gold of a category tree)")
    if len(set(label)) != len(label):
        raise AlloopError("a column is given twice in --label")
    if label_sep is not None and len(label) > 1:
        raise AlloopError("--label-sep splits one path column; give a single --label with it")
    if label_sep is not None and not label_sep.strip():
        raise AlloopError("--label-sep is empty; give the separator between levels, e.g. ' > '")
    if len(label) > 1:
        return {"gold": label[0], "gold_levels": tuple(label)}
    return {"gold": label[0], "label_sep": label_sep}


def _listen(host: str, port: int) -> socket.socket:
    if not 0 <= port <= 65535:
        raise AlloopError(f"--port must be between 0 and 65535, got {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on such sockets, and without it each
    # answer waits ~40 ms for a delayed ACK (Nagle), measured here as 44 ms per request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise AlloopError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; check --host, or try another --port"
        ) from None
    sock.set_inheritable(True)
    return sock


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def annotators_add(
    name: Annotated[str, typer.Argument(help="The annotator's name, as shown in stats and exports.")],
    project: ProjectOption,
    role: Annotated[str, typer.Option(help=ROLE_HELP)] = "annotator",
) -> None:
    """Add an annotator and print their token (on the last line, alone). Works while the
    server runs. The token is shown once: only its hash is stored."""
    from alloop.labelling.storage.store import LabelStore, check_annotator_name, check_role

    check_annotator_name(name)  # before the project folder is made
    check_role(role)
    store = LabelStore.open(project, create=True)
    try:
        token = store.add_annotator(name, role)
    finally:
        store.close()
    print(f"added {role} {name.strip()!r} to {project}")
    print("open the page and paste this token, or append #token=TOKEN to the page's URL:")
    print(token)


def annotators_list(project: ProjectOption) -> None:
    """List the project's annotators, one per line: name, a tab, role (tokens cannot be shown:
    only their hashes are stored)."""
    from alloop.labelling.storage.store import LabelStore

    store = LabelStore.open(project)
    try:
        for annotator in store.annotators():
            print(f"{annotator.name}\t{annotator.role}")
    finally:
        store.close()


def annotators_set_role(
    name: Annotated[str, typer.Argument(help="The annotator's name.")],
    role: Annotated[str, typer.Option(help=ROLE_HELP, show_default=False)],
    project: ProjectOption,
) -> None:
    """Make an annotator a reviewer, or a reviewer an annotator again. Works while the server
    runs: it applies from the person's next request; their token stays the same."""
    from alloop.labelling.storage.store import LabelStore, check_role

    check_role(role)
    store = LabelStore.open(project)
    try:
        store.set_role(name, role)
    finally:
        store.close()
    print(f"{name.strip()!r} is now a {role} in {project}")


def label_stats(
    project: ProjectOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stats as JSON.")] = False,
) -> None:
    """Counts, labels per class, agreement (Cohen's and Fleiss' kappa) and disagreements."""
    from alloop.labelling.domain.service import LabelService
    from alloop.labelling.storage.store import LabelStore

    store = LabelStore.open(project)
    try:
        config = store.config()
        if config is None:
            raise AlloopError(f"{project} has no data yet; start it with `alloop label --data ...`")
        stats = LabelService(store, config, store.items(), train=False).stats()
        stats["model"] = store.get_meta("last_model")
    finally:
        store.close()
    if as_json:
        print(json.dumps(stats, indent=2))
        return
    _print_stats(stats, Console(highlight=False))


def suggestion_line(s: dict[str, Any]) -> str:
    """``label-stats``' line on the model's suggestions: how often people took them."""
    state = "on" if s["enabled"] else "off"
    if not s["with_suggestion"]:
        return f"model suggestions {state}: no answer had one yet"
    recent = ""
    if s["recent_n"] < s["with_suggestion"]:
        recent = f"; last {s['recent_n']}: {s['recent_rate']:.1%}"
    return (
        f"model suggestions {state}: accepted {s['accepted']:,} of {s['with_suggestion']:,} answers "
        f"that had one ({s['rate']:.1%}{recent}), the model's accuracy on the items people saw"
    )


def _kappa(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _print_stats(stats: dict[str, Any], out: Console) -> None:
    out.print(
        f"[bold]{stats['labelled_items']:,}[/] of {stats['items']:,} items labelled "
        f"({stats['labels']:,} labels, {stats['skips']} skips, {stats['unsure']} unsure, "
        f"{stats['ties']} ties to review)"
    )
    model = stats["model"]
    if model and model.get("macro_f1") is not None:
        out.print(
            f"last model: v{model['version']} on {model['trained_on']} labels, macro-F1 "
            f"{model['macro_f1']:.3f} ({model['estimate']}, {model['estimate_n']} items)"
        )
    out.print(suggestion_line(stats["suggestions"]))
    _print_trust(stats.get("trust"), out)
    if "branches" in stats:
        _print_branches(stats, out)
    else:
        classes = Table(title="labels per class")
        classes.add_column("label")
        classes.add_column("items", justify="right")
        for name, n in stats["per_class"].items():
            classes.add_row(name, str(n))
        out.print(classes)
        missing = stats.get("missing_classes", [])
        out.print(
            f"[yellow]classes with no label yet ({len(missing)})[/]: {', '.join(missing)}"
            if missing
            else "every class has a label"
        )
    people = Table(title="annotators")
    for column in ("name", "labels", "skips", "unsure", "gold accuracy"):
        people.add_column(column, justify="left" if column == "name" else "right")
    for a in stats["annotators"]:
        accuracy = "-" if a["gold_accuracy"] is None else f"{a['gold_accuracy']:.3f}"
        people.add_row(a["name"], str(a["labels"]), str(a["skips"]), str(a["unsure"]), accuracy)
    out.print(people)
    agreement = stats["agreement"]
    pairs = Table(title="agreement (Cohen's kappa)")
    for column in ("annotator", "annotator", "shared items", "kappa"):
        pairs.add_column(column)
    for p in agreement["pairs"]:
        pairs.add_row(p["a"], p["b"], str(p["n_items"]), _kappa(p["kappa"]))
    out.print(pairs if agreement["pairs"] else "no item labelled by two annotators yet")
    fleiss = agreement["fleiss"]
    if fleiss:
        out.print(
            f"Fleiss' kappa {_kappa(fleiss['kappa'])} over {fleiss['n_items']} items, "
            f"{fleiss['n_annotators']} annotators"
        )
    if agreement["disagreements"]:
        table = Table(title=f"disagreements ({agreement['n_disagreements']})")
        for column in ("item", "text", "labels", "final"):
            table.add_column(column, overflow="fold")
        for d in agreement["disagreements"]:
            labels = ", ".join(f"{k}: {v}" for k, v in d["labels"].items())
            final = "[red]tie: review[/]" if d["tie"] else d["majority"]
            if d.get("decided"):
                final = f"{d['decided']} (reviewer)"
            table.add_row(d["item_id"], d["text"].split("\n")[0][:80], labels, final)
        out.print(table)


def _print_trust(trust: dict[str, Any] | None, out: Console) -> None:
    """Auto-labelling at the default target precision and the suspected label errors."""
    from rich.markup import escape

    if not trust:
        out.print("auto-labelled: no out-of-fold estimate yet (the model needs 10 labels and a round)")
        return
    if "line" in trust:
        out.print(escape(trust["line"]))
    n = trust.get("suspected_errors", 0)
    if not n:
        out.print("suspected label errors: none open")
        return
    table = Table(title=f"suspected label errors ({n}): the model strongly disagrees; in the review queue")
    for column in ("item", "text", "label", "model says", "confidence"):
        table.add_column(column, overflow="fold")
    for s in trust.get("suspects", [])[:20]:
        text = s["text"].split("\n")[0][:80]
        values = (s["item_id"], text, s["given"], s["predicted"])
        table.add_row(*(escape(str(v)) for v in values), f"{s['confidence']:.2f}")
    out.print(table)


def _print_branches(stats: dict[str, Any], out: Console) -> None:
    """A category tree's counts by top-level branch, and its partial labels by node."""
    table = Table(title="labels per top-level branch")
    for column in ("branch", "labels", "partial", "leaves", "leaves with no label"):
        table.add_column(column, justify="left" if column == "branch" else "right")
    for row in stats["branches"]:
        table.add_row(row["branch"], *(str(row[k]) for k in ("labels", "partial", "leaves", "missing")))
    out.print(table)
    partial = stats.get("partial", {})
    if partial:
        shown = ", ".join(f"{node}: {n}" for node, n in list(partial.items())[:20])
        more = f" (and {len(partial) - 20} more nodes)" if len(partial) > 20 else ""
        out.print(f"partial labels ({stats['partial_labels']}), waiting for their leaf: {shown}{more}")
    n = stats["n_missing_classes"]
    out.print(f"[yellow]{n} leaves have no label yet[/]" if n else "every leaf has a label")


def export(
    project: ProjectOption,
    out: Annotated[
        str,
        typer.Option(
            help="Where to write: a .parquet, .csv or .jsonl table, a .json file of Label Studio tasks "
            "(with FILE.label_config.xml beside it), or a folder for a Hugging Face dataset.",
            show_default=False,
        ),
    ],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="parquet, csv, jsonl, hf or label-studio. [default: from --out's suffix; a folder: hf]",
        ),
    ] = None,
    min_precision: Annotated[
        float | None,
        typer.Option(
            help="Tables: add every item without a final label, labelled by the model where its "
            "prediction is auto-accepted at this precision (decided_by model), with predicted_label, "
            "confidence and auto_accepted (see predict --min-precision).",
            show_default=False,
        ),
    ] = None,
    precision_confidence: PrecisionConfidenceOption = DEFAULT_CONFIDENCE,
) -> None:
    """Write every item's final label (a reviewer's decision, else the majority vote), who decided
    it and when. Tables add each annotator's answers; the Hugging Face dataset holds the items with
    a final label; Label Studio tasks hold every item, the answers as annotations, a reviewer's
    decision as ground truth, and the saved model's predictions."""
    from alloop.labelling.interop.exporting import export_project
    from alloop.outputs import out_path

    result = export_project(
        project, out_path(out, "--out", [project]), fmt, min_precision, precision_confidence
    )
    what = "tasks" if result.fmt == "label-studio" else "items"
    print(f"wrote {result.n:,} {what} to {' and '.join(map(str, result.written))} ({result.fmt})")
    for line in result.said:
        print(line)
    for note in result.notes:
        _warn(note)


def _warn(message: str) -> None:
    from rich.markup import escape

    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[yellow]warning:[/] {escape(message)}")


def predict(
    project: ProjectOption,
    data: Annotated[
        str | None,
        typer.Option(
            help="Products to classify (.parquet/.csv/.jsonl). [default: the project's items that have "
            "no final label yet]",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option(
            help="Where to write them with predicted_label and confidence (.parquet or .csv). "
            "[default: DIR/predictions.parquet]",
            show_default=False,
        ),
    ] = None,
    min_precision: MinPrecisionOption = None,
    precision_confidence: PrecisionConfidenceOption = DEFAULT_CONFIDENCE,
) -> None:
    """Classify with the project's model, trained on all its final labels and saved in DIR/model/;
    later calls reuse it until a final label changes."""
    from alloop.labelling.interop.exporting import auto_line, model_line
    from alloop.labelling.interop.exporting import predict as run_predict
    from alloop.outputs import out_path

    target = out_path(out, "--out", [project]) if out is not None else None
    result = run_predict(
        project,
        data,
        target,
        warn=_warn,
        min_precision=min_precision,
        precision_confidence=precision_confidence,
    )
    print(model_line(project, result.model))
    if result.auto is not None:
        print(auto_line(result.auto))
    print(f"wrote {len(result.frame):,} predictions to {result.out}")


def import_labels(
    project: ProjectOption,
    file: Annotated[
        Path,
        typer.Option(
            help="Labels to import: .csv, .parquet or .jsonl (one row per item), or .json (a Label "
            "Studio export; each task's label is its ground-truth annotation, else the majority).",
            show_default=False,
        ),
    ],
    id_column: Annotated[
        str,
        typer.Option(
            "--id",
            help="The column of item ids, as the project knows them (Label Studio: the key in each "
            "task's data, item_id in alloop's own export).",
            show_default=False,
        ),
    ],
    label_column: Annotated[
        str,
        typer.Option(
            "--label",
            help="The column of labels (Label Studio: the name of the Choices control, label in "
            "alloop's own export).",
            show_default=False,
        ),
    ],
    annotator: Annotated[
        str, typer.Option(help="Whose answers they become (created if new; nobody logs in as it).")
    ] = "import",
) -> None:
    """Seed a project with labels people already have. Every row is checked first: one bad row
    (unknown id, label outside the label set, empty, or an id given twice with different labels)
    refuses the file and nothing is imported. Importing the same file again changes nothing."""
    from alloop.labelling.interop.importing import ImportRefused
    from alloop.labelling.interop.importing import import_labels as run_import

    try:
        result = run_import(project, file, id_column, label_column, annotator)
    except ImportRefused as refused:
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        for line in refused.lines:
            err.print(line, markup=False)
        raise
    who = f"new annotator {result.annotator!r}" if result.new_annotator else repr(result.annotator)
    print(
        f"imported {result.added:,} labels as {who} ({result.changed:,} changed, "
        f"{result.unchanged:,} already there)"
    )
    if result.left_out:
        reasons = ", ".join(f"{n:,} with {why}" for why, n in sorted(result.left_out.items()))
        print(f"left out Label Studio tasks without a label: {reasons}")
    print("if `alloop label` serves this project now, restart it so its queue and counts include them")


def register(app: typer.Typer) -> None:
    """Add the labelling commands to the ``alloop`` app."""
    app.command("label")(label)
    annotators = typer.Typer(help="Manage a labelling project's annotators.", no_args_is_help=True)
    annotators.command("add")(annotators_add)
    annotators.command("list")(annotators_list)
    annotators.command("set-role")(annotators_set_role)
    app.add_typer(annotators, name="annotators")
    app.command("label-stats")(label_stats)
    app.command("export")(export)
    app.command("predict")(predict)
    app.command("import-labels")(import_labels)
