"""What a run shows while it goes: progress bars and a table per strategy in a terminal
(``RichObserver``), one plain line per finished cycle for a log or a pipe (``PlainObserver``),
and the verdict and summary table at the end."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

if TYPE_CHECKING:
    from collections.abc import Callable

    from alloop.data import TextDataset
    from alloop.loop import CycleResult
    from alloop.loop.evaluation import Scores
    from alloop.simulate.config import RunConfig


class RichObserver:
    """One progress bar over the whole strategy x seed grid, with an ETA and the current
    strategy, seed and cycle; a per-cycle table as the cycles finish."""

    def __init__(self, config: RunConfig, console: Console, parallel: bool = False):
        self.config = config
        self.console = console
        self.parallel = parallel  # pairs run side by side on Ray: every line names its pair
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
        )
        self.overall: int | None = None
        self.per_pair = 0

    def __enter__(self) -> RichObserver:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def loaded(self, data: TextDataset) -> None:
        self.console.print(f"[bold]data[/]: {data.summary()}")
        for note in data.notes:
            self.console.print(f"  [yellow]note[/]: {note}")
        self.per_pair = self._cycles_per_pair(len(data.pool_texts))
        total = self.per_pair * len(self.config.strategies) * self.config.seeds
        self.overall = self.progress.add_task("starting", total=total)
        if self.parallel:  # one table for every pair, its lines in the order cycles finish
            self.console.print(
                f"{'strategy':>16} {'seed':>4} {'cycle':>5} {'labels':>7} {'macro-F1':>9} {'accuracy':>9}"
                f" {'fit s':>7} {'score s':>8}"
            )

    def _cycles_per_pair(self, pool_size: int) -> int:
        """Cycles one (strategy, seed) runs at most: the bar's unit of work."""
        c = self.config
        initial = c.initial if c.initial >= 1 else round(c.initial * pool_size)
        limit = min(c.budget, pool_size) if c.budget is not None else pool_size
        bound = math.ceil(max(0, limit - initial) / c.query_size) + 1
        return min(bound, c.cycles + 1) if c.cycles is not None else bound

    def task(self, description: str, total: int) -> Callable[[int], None]:
        task_id = self.progress.add_task(description, total=total)

        def advance(n: int) -> None:
            self.progress.advance(task_id, n)
            if self.progress.tasks[task_id].finished:
                self.progress.remove_task(task_id)

        return advance

    def ceiling_done(self, seed: int, scores: Scores, seconds: float) -> None:
        self.console.print(
            f"seed {seed}: full-pool ceiling macro-F1 [bold]{scores.macro_f1:.4f}[/] ({seconds:.1f} s)"
        )

    def retrying(self, what: str, next_cycle: int, reason: str) -> None:
        self.console.print(f"[yellow]worker lost[/] ({reason}); {what} runs again from cycle {next_cycle}")

    def strategy_started(self, strategy: str, seed: int, done_cycles: int) -> None:
        if self.overall is not None and done_cycles:
            self.progress.advance(self.overall, min(done_cycles, self.per_pair))
        if done_cycles:
            self.console.print(f"[dim]{strategy} (seed {seed}): {done_cycles} cycles already stored[/]")
        if self.parallel:
            return
        self.console.rule(f"[bold]{strategy}[/] (seed {seed})")
        self.console.print(
            f"{'cycle':>5} {'labels':>7} {'macro-F1':>9} {'accuracy':>9} {'fit s':>7} {'score s':>8}"
        )
        self._describe(strategy, seed, done_cycles)

    def _describe(self, strategy: str, seed: int, cycle: int) -> None:
        if self.overall is not None:
            self.progress.update(self.overall, description=f"{strategy} · seed {seed} · cycle {cycle}")

    def cycle_done(self, strategy: str, seed: int, r: CycleResult) -> None:
        line = (
            f"{r.cycle:>5} {r.n_labelled:>7} {r.scores.macro_f1:>9.4f} {r.scores.accuracy:>9.4f}"
            f" {r.fit_seconds:>7.2f} {r.score_seconds:>8.2f}"
        )
        if r.stop_reason:
            line += f"  [dim]stop: {r.stop_reason}[/]"
        if self.parallel:
            line = f"{strategy:>16} {seed:>4} " + line
        self.console.print(line)
        self._describe(strategy, seed, r.cycle + 1)
        if self.overall is not None:
            self.progress.advance(self.overall)
            if r.stop_reason and self.per_pair > r.cycle + 1:  # stopped early: drop its unused cycles
                task = self.progress.tasks[self.overall]
                self.progress.update(self.overall, total=(task.total or 0) - (self.per_pair - r.cycle - 1))


def print_verdict(console: Console, run_dir: Path) -> None:
    """The report's plain-language verdict, one paragraph per line."""
    for line in (run_dir / "verdict.txt").read_text(encoding="utf-8").splitlines():
        console.print(line, highlight=False, soft_wrap=True)


class PlainObserver:
    """For a log file or a pipe (`make run > log`): no progress bars, one plain line per finished
    cycle, flushed at once, so the log shows progress while the run goes on."""

    def __enter__(self) -> PlainObserver:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def _say(self, line: str) -> None:
        print(line, flush=True)

    def loaded(self, data: TextDataset) -> None:
        self._say(f"data: {data.summary()}")
        for note in data.notes:
            self._say(f"  note: {note}")

    def task(self, description: str, total: int) -> Callable[[int], None]:
        self._say(f"{description}: {total:,} items")
        return lambda n: None

    def ceiling_done(self, seed: int, scores: Scores, seconds: float) -> None:
        self._say(f"seed {seed}: full-pool ceiling macro-F1 {scores.macro_f1:.4f} ({seconds:.1f} s)")

    def strategy_started(self, strategy: str, seed: int, done_cycles: int) -> None:
        if done_cycles:
            self._say(f"{strategy} seed {seed}: {done_cycles} cycles already stored")

    def cycle_done(self, strategy: str, seed: int, r: CycleResult) -> None:
        stop = f", stop: {r.stop_reason}" if r.stop_reason else ""
        scores = f"macro-F1 {r.scores.macro_f1:.4f}, accuracy {r.scores.accuracy:.4f}"
        seconds = f"fit {r.fit_seconds:.2f} s, score {r.score_seconds:.2f} s"
        self._say(f"{strategy} seed {seed} cycle {r.cycle}: {r.n_labelled} labels, {scores}, {seconds}{stop}")


def summary_rich_table(run_dir: Path) -> Table:
    import pandas as pd

    from alloop.report import summary_table

    frame = summary_table(pd.read_csv(run_dir / "summary.csv"))
    frame = frame.drop(columns=["AULC 95% interval", "labels to 90% of ceiling"])
    table = Table(title="strategies compared")
    for column in frame.columns:
        table.add_column(column, justify="left" if column == "strategy" else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*map(str, row))
    return table
