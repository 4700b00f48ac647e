"""The ``alloop`` command line. Bad input: one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import sqlite3
import sys
import tomllib
import unicodedata
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from alloop.checks import check_input_file, check_output_dir
from alloop.cli.backup import register as register_backup
from alloop.cli.config_file import check_value, expected_types
from alloop.cli.label import register as register_labelling
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
from alloop.cli.progress import PlainObserver, RichObserver, print_verdict, summary_rich_table
from alloop.cli.terms import cli_terms, flag_names, notes_in_cli_terms
from alloop.data import DEFAULT_DATA
from alloop.errors import AlloopError
from alloop.failures import explain_os_error
from alloop.loop.initial import INITIAL_STRATEGIES
from alloop.loop.stopping import LABEL_FREE_HELP
from alloop.models import ModelConfig
from alloop.outputs import out_path
from alloop.simulate.config import RunConfig
from alloop.strategies import SEED_STRATEGIES

try:  # typer >= 0.22 vendors click; older versions use click itself
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover
    from click.exceptions import ClickException  # type: ignore[assignment,no-redef]

app = typer.Typer(
    help="Active learning for text classification: compare query strategies on labelled data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


def _load_config_file(ctx: typer.Context, param: typer.CallbackParam, value: Path | None) -> Path | None:
    """``--config FILE.toml``: its keys are `alloop run` options (``query-size = 50``); options
    given on the command line win over the file."""
    if value is None:
        return None
    check_input_file(value, "--config")
    try:
        values = tomllib.loads(value.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AlloopError(f"cannot read config file {value}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AlloopError(f"config file {value} is not valid TOML: {str(exc).splitlines()[0]}") from None
    params = {p.name: p for p in ctx.command.params if p.name}
    expected = expected_types(run)
    defaults = {}
    for key, v in values.items():
        name = {"id": "id_column"}.get(key, key.replace("-", "_"))
        if name not in params or name in ("config", "resume"):
            raise AlloopError(
                f"unknown option {key!r} in {value}; use `alloop run` option names like query-size"
            )
        if name in expected:  # strategy = "margin" means ["margin"]; "1" is no integer
            v = check_value(key, v, *expected[name], value)
        defaults[name] = v
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return value


@app.command()
def run(
    ctx: typer.Context,
    data: Annotated[
        str,
        typer.Option(help="hub:NAME for a Hugging Face dataset, or a .parquet/.csv/.jsonl file or folder."),
    ] = DEFAULT_DATA,
    text: TextOption = None,
    label: Annotated[
        list[str] | None,
        typer.Option(
            help="Label column; repeat to name the levels of a category tree, top-down "
            "(--label category --label sub_category). [default: category]"
        ),
    ] = None,
    label_sep: Annotated[
        str | None,
        typer.Option(help="Split one path column into category levels on this separator, e.g. ' > '."),
    ] = RunConfig.label_sep,
    taxonomy: Annotated[
        str | None,
        typer.Option(
            help="File declaring the category tree, one path per line (levels joined with ' > ' or "
            "--label-sep), including categories no item has yet."
        ),
    ] = RunConfig.taxonomy,
    tree_heads: Annotated[
        str,
        typer.Option(
            help="With a category tree: leaf (one model on the leaves, parents summed) or levels "
            "(a top-level model sets each branch's share, the leaf model splits it)."
        ),
    ] = ModelConfig.tree_heads,
    oracle_partial: Annotated[
        float,
        typer.Option(
            help="With a category tree: the share of queried items the simulated annotator answers "
            "with the parent category only (seeded); such items train within their branch and may "
            "be asked again for the leaf."
        ),
    ] = RunConfig.oracle_partial,
    query_level: Annotated[
        int | None,
        typer.Option(
            help="Tree level (1 = top) that level-margin and balanced-branch-margin score. [default: 1]"
        ),
    ] = RunConfig.query_level,
    oracle_noise: Annotated[
        float,
        typer.Option(
            help="Share of items the simulated annotator answers wrong (0.1: one in ten), fixed per item "
            "by the seed so every strategy and a resumed run get the same answers; test scores stay "
            "on the true labels."
        ),
    ] = RunConfig.oracle_noise,
    oracle_noise_kind: Annotated[
        str,
        typer.Option(
            help="With --oracle-noise: uniform (a wrong answer names any other class) or confusion (a "
            "class the classifier confuses with the right one, from out-of-fold predictions on the pool)."
        ),
    ] = RunConfig.oracle_noise_kind,
    target_precision: Annotated[
        float,
        typer.Option(
            help="Auto-labelling: each cycle, choose from the labels alone (out-of-fold) the confidence "
            "threshold whose predictions reach this precision, and record the share of the pool it "
            "accepts and, on the test set, the precision it really reaches."
        ),
    ] = RunConfig.target_precision,
    precision_confidence: Annotated[
        float,
        typer.Option(
            help="Auto-labelling: how sure the threshold must be of reaching --target-precision "
            "(a one-sided Clopper-Pearson bound)."
        ),
    ] = RunConfig.precision_confidence,
    id_column: IdOption = None,
    test_size: Annotated[
        float, typer.Option(help="Test share held out when the data has no test split.")
    ] = RunConfig.test_size,
    balanced_test: Annotated[
        bool, typer.Option(help="Cap every test class at the size of the smallest, as the seed does.")
    ] = RunConfig.balanced_test,
    classifier: ClassifierOption = ModelConfig.classifier,
    strategy: Annotated[
        list[str] | None,
        typer.Option(help=f"Repeatable. {STRATEGY_HELP} [default: {', '.join(SEED_STRATEGIES)}]"),
    ] = None,
    initial: Annotated[
        float, typer.Option(help="Initial labelled set: a fraction of the pool (0.2) or a count (100).")
    ] = RunConfig.initial,
    initial_strategy: Annotated[
        str,
        typer.Option(
            help=f"One of: {', '.join(INITIAL_STRATEGIES)}. stratified uses the gold labels (as the seed); "
            "random, kmeans (items nearest the k-means centroids of the embeddings) and label-names "
            "(items most like each class name, a tree's leaves as 'PARENT > LEAF', its branches taking "
            "turns) use none."
        ),
    ] = RunConfig.initial_strategy,
    query_size: QuerySizeOption = RunConfig.query_size,
    cycles: Annotated[int | None, typer.Option(help="Stop after this many query rounds.")] = RunConfig.cycles,
    budget: Annotated[
        int | None, typer.Option(help="Stop when this many items are labelled, the initial set included.")
    ] = None,
    target_f1: Annotated[float | None, typer.Option(help="Stop when test macro-F1 reaches this.")] = None,
    stop: Annotated[
        list[str] | None,
        typer.Option(
            help=f"Repeatable label-free stop: {LABEL_FREE_HELP}. All three are recorded every cycle "
            "either way."
        ),
    ] = None,
    stop_set_size: Annotated[
        int, typer.Option(help="Size of the fixed unlabelled sample the stop signals are measured on.")
    ] = RunConfig.stop_set_size,
    no_near_duplicates: Annotated[
        bool,
        typer.Option(
            "--no-near-duplicates",
            help="Guard every strategy: no two items in one batch with embedding cosine above the threshold.",
        ),
    ] = False,
    near_duplicate_threshold: NearDuplicateThresholdOption = RunConfig.near_duplicate_threshold,
    seed: SeedOption = RunConfig.seed,
    seeds: Annotated[
        int,
        typer.Option(
            help="Repeat the grid for this many seeds (seed, seed+1, ...); each draws its own initial "
            "set, shared by the strategies. Three tell a trend from noise; a paired test needs 6 to "
            "reach p < 0.05."
        ),
    ] = RunConfig.seeds,
    ceiling: Annotated[
        bool,
        typer.Option(
            help="Train once on the whole pool (per seed only when the fit depends on the seed): the F1 "
            "ceiling the report compares to."
        ),
    ] = RunConfig.ceiling,
    model: ModelOption = None,
    max_length: MaxLengthOption = ModelConfig.max_length,
    epochs: Annotated[int, typer.Option(help="Fine-tuning epochs per cycle (bert).")] = ModelConfig.epochs,
    lr: Annotated[float, typer.Option(help="Encoder learning rate (bert).")] = ModelConfig.lr,
    head_lr: Annotated[
        float, typer.Option(help="Classification head learning rate (bert).")
    ] = ModelConfig.head_lr,
    batch_size: Annotated[int, typer.Option(help="Fine-tuning batch size (bert).")] = ModelConfig.batch_size,
    warm_start: Annotated[
        bool,
        typer.Option(
            help="bert: keep fine-tuning one model across cycles (the seed's way; cheaper, but early "
            "batches bias it) instead of retraining from the pretrained weights each cycle."
        ),
    ] = ModelConfig.warm_start,
    max_steps: Annotated[
        int | None, typer.Option(help="bert: cap optimiser steps per cycle (for smoke tests).")
    ] = None,
    device: DeviceOption = None,
    precision: PrecisionOption = ModelConfig.precision,
    graph_weight: GraphWeightOption = ModelConfig.graph_weight,
    cache: CacheOption = ModelConfig.cache,
    cache_dir: CacheDirOption = None,
    pool_subsample: PoolSubsampleOption = None,
    near_labelled_subsample: NearLabelledOption = None,
    threads: Annotated[
        int | None,
        typer.Option(help="torch CPU threads. [default: torch's choice, one per core]"),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Run this many (strategy, seed) pairs at once, and embed the pool in shards, on a Ray "
            "started for the run (pip install 'alloop\\[ray]'); results equal a serial run's. Default: 1, "
            "no Ray; with --ray-address, as many as the cluster's CPUs allow."
        ),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(
            envvar="RAY_ADDRESS",
            help="Join this running Ray cluster (HOST:PORT as `ray start --head` prints it, "
            "ray://HOST:PORT, or auto) instead of starting one.",
        ),
    ] = None,
    cpus_per_worker: Annotated[
        int | None,
        typer.Option(
            help="CPUs each Ray worker asks for; its torch threads follow. Default: this machine's "
            "cores shared out among --workers; 1 on a cluster."
        ),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option(help="Output folder: a new or empty one. [default: runs/<timestamp>]"),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="TOML file of options (keys as option names, e.g. query-size = 50); the command line wins.",
            is_eager=True,
            callback=_load_config_file,
        ),
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(help="Continue the interrupted run in this folder, with its saved config."),
    ] = None,
) -> None:
    """Simulate active learning on labelled data and compare query strategies."""
    from alloop.simulate.experiment import run_experiment
    from alloop.simulate.plan import default_out_dir, load_run_config

    if threads is not None:
        if threads < 1:
            raise AlloopError(f"--threads must be at least 1, got {threads}")
        import torch

        torch.set_num_threads(threads)
    if resume is not None:
        given = [
            name
            for name in given_on_command_line(ctx)
            if name not in ("resume", "threads", "workers", "ray_address", "cpus_per_worker")
        ]
        if given:
            raise AlloopError(
                f"--resume continues with the run's saved config; drop --{given[0].replace('_', '-')}"
            )
        run_config, out_dir = load_run_config(resume), resume
    else:
        run_config = RunConfig(
            data=data,
            text=tuple(text or ["title"]),
            label=tuple(label or RunConfig.label),
            label_sep=label_sep,
            taxonomy=taxonomy,
            query_level=query_level,
            oracle_partial=oracle_partial,
            oracle_noise=oracle_noise,
            oracle_noise_kind=oracle_noise_kind,
            target_precision=target_precision,
            precision_confidence=precision_confidence,
            id_column=id_column,
            test_size=test_size,
            balanced_test=balanced_test,
            strategies=tuple(strategy or SEED_STRATEGIES),
            initial=initial,
            initial_strategy=initial_strategy,
            query_size=query_size,
            cycles=cycles,
            budget=budget,
            target_f1=target_f1,
            seed=seed,
            seeds=seeds,
            ceiling=ceiling,
            stop=tuple(stop or ()),
            stop_set_size=stop_set_size,
            no_near_duplicates=no_near_duplicates,
            near_duplicate_threshold=near_duplicate_threshold,
            pool_subsample=pool_subsample,
            near_labelled_subsample=near_labelled_subsample,
            model=ModelConfig(
                classifier=classifier,
                model=model,
                max_length=max_length,
                epochs=epochs,
                lr=lr,
                head_lr=head_lr,
                batch_size=batch_size,
                warm_start=warm_start,
                max_steps=max_steps,
                device=device,
                precision=precision,
                graph_weight=graph_weight,
                tree_heads=tree_heads,
                cache=cache,
                cache_dir=cache_dir,
            ),
        ).validate()
        out_dir = out_path(out, "--out") if out is not None else default_out_dir()
        check_output_dir(out_dir, "--out")
    console = Console()
    parallel = (workers or 1) > 1 or ray_address is not None
    observer = RichObserver(run_config, console, parallel) if console.is_terminal else PlainObserver()
    with observer:
        report = run_experiment(
            run_config,
            out_dir,
            observer,
            resume=resume is not None,
            workers=workers,
            ray_address=ray_address,
            cpus_per_worker=cpus_per_worker,
        )
    console.print(summary_rich_table(out_dir))
    print_verdict(console, out_dir)
    console.print(
        f"[bold]wrote[/] {out_dir}/: results.db, report.html, verdict.txt, learning_curves.png, cycles.csv, "
        "queried.csv"
    )
    console.print(f"open {report}")


@app.command()
def report(run_dir: Annotated[Path, typer.Argument(help="A folder written by `alloop run`.")]) -> None:
    """Re-render report.html, the figures and the CSV exports from a run's results.db alone."""
    from alloop.report import render_report

    path = render_report(run_dir)
    console = Console()
    console.print(summary_rich_table(run_dir))
    print_verdict(console, run_dir)
    print(path)


@app.command()
def version() -> None:
    """Print the alloop version."""
    from alloop import __version__

    print(__version__)


register_labelling(app)  # label, annotators, label-stats, export, predict
register_backup(app)  # backup


def one_line(message: str) -> str:
    """``message`` safe to print as one line: a control character or line separator (a file name
    may hold one) is shown escaped, and square brackets are not read as rich markup."""
    from rich.markup import escape

    shown = "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in message
    )
    return escape(shown)


def _fail(message: str) -> NoReturn:
    shown = cli_terms(message, flag_names(typer.main.get_command(app)))
    err.print(f"[red]error:[/] {one_line(shown)}", highlight=False, soft_wrap=True)
    sys.exit(2)


def main() -> None:
    """Entry point: turns every user error into one line and exit code 2."""
    notes_in_cli_terms(lambda: flag_names(typer.main.get_command(app)))
    try:
        app(standalone_mode=False)
    except AlloopError as exc:
        _fail(str(exc))
    except ClickException as exc:
        message = exc.format_message()
        if not message:  # bare `alloop`: the help was shown
            sys.exit(0)
        ctx = getattr(exc, "ctx", None)
        hint = f" (see: {ctx.command_path} --help)" if ctx is not None else ""
        _fail(f"{message}{hint}")
    except OSError as exc:  # a read-only, full or forbidden place, a name too long: named, one line
        found = explain_os_error(exc)
        if found is None:
            raise
        _fail(str(found))
    except sqlite3.DatabaseError as exc:  # one alloop.failures.connect did not open: no name to give
        _fail(f"a database file cannot be used ({exc})")
    except (typer.Abort, KeyboardInterrupt):
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
