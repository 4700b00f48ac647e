"""The option vocabulary ``alloop run`` and ``alloop label`` share: one definition (name, type,
help) per option, as typer ``Annotated`` aliases. Defaults come from the config dataclasses
(``ModelConfig``, ``LabelConfig``, ``RunConfig``), and validation lives with them, so each rule
exists once whichever command reads the option.
"""

from __future__ import annotations

from typing import Annotated

import typer

from alloop.models import CLASSIFIERS
from alloop.strategies import DEDUP_SUFFIX, STRATEGIES

STRATEGY_HELP = (
    f"One of: {', '.join(STRATEGIES)}; NAME{DEDUP_SUFFIX} adds the near-duplicate guard to one strategy."
)

TextOption = Annotated[
    list[str] | None,
    typer.Option(help="Text column; repeat to join several (list columns are joined too). [default: title]"),
]
IdOption = Annotated[
    str | None, typer.Option("--id", help="Column of unique item ids. [default: row number]")
]
ClassifierOption = Annotated[str, typer.Option(help=f"One of: {', '.join(CLASSIFIERS)}.")]
QuerySizeOption = Annotated[
    int, typer.Option(help="Items queried per cycle (alloop label: retrain after this many new labels).")
]
SeedOption = Annotated[
    int, typer.Option(help="Seeds the split (run), the initial set or cold start, tie-breaks and training.")
]
NearDuplicateThresholdOption = Annotated[
    float,
    typer.Option(
        help=f"Cosine threshold of the near-duplicate guard (NAME{DEDUP_SUFFIX}, --no-near-duplicates)."
    ),
]
PoolSubsampleOption = Annotated[
    int | None,
    typer.Option(
        help="Score only this many unlabelled items per query, drawn at random (for bert on big pools)."
    ),
]
NearLabelledOption = Annotated[
    int | None,
    typer.Option(
        help="Score only the unlabelled nearest neighbours of the labelled items plus this many random "
        "others per query (SEALS; for big pools)."
    ),
]
ModelOption = Annotated[
    str | None,
    typer.Option(
        help="Hub id or local folder of a BERT-family encoder. [default: all-MiniLM-L6-v2, offline]"
    ),
]
MaxLengthOption = Annotated[int, typer.Option(help="Tokens kept per text (bert, bert-frozen, hybrid).")]
DeviceOption = Annotated[
    str | None, typer.Option(help="torch device. [default: cuda when present, else cpu]")
]
PrecisionOption = Annotated[
    str,
    typer.Option(
        help="fp32; bf16: bfloat16 autocast for the encoder (1.5-1.8x faster measured on a CPU "
        "with AVX512-BF16; accuracy cost in bench/README.md; fp32, with a note, where the device "
        "has no native bfloat16); or int8: frozen embeddings from an "
        "int8-quantised ONNX Runtime export (2x faster measured on CPU; needs alloop[onnx]; "
        "fine-tuning stays fp32)."
    ),
]
GraphWeightOption = Annotated[
    float,
    typer.Option(
        help="hybrid: share of the class probabilities that comes from spreading the labels over "
        "the pool's nearest-neighbour graph (unlabelled titles carry their neighbours' labels); "
        "0 uses the linear head alone.",
    ),
]
CacheOption = Annotated[
    bool,
    typer.Option(
        help="Keep frozen embeddings on disk, keyed by model and text, so each title is embedded once "
        "across runs and labelling sessions."
    ),
]
CacheDirOption = Annotated[
    str | None,
    typer.Option(help="Embedding cache folder. [default: $ALLOOP_CACHE_DIR or ~/.cache/alloop]"),
]


def given_on_command_line(ctx: typer.Context) -> list[str]:
    """The parameters the user typed (not defaults, not from a config file)."""
    return [name for name in ctx.params if str(ctx.get_parameter_source(name)).endswith("COMMANDLINE")]
