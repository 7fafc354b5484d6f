"""``treffpunkt.WandbLogger.v1``: the spaCy training logger every shipped config names in ``[training.logger]``.

It prints what spaCy's console logger prints and logs each evaluation step (score, epoch, ``dev/<score>``,
losses; names from :func:`treffpunkt.core.tracking.step_metrics`) to wandb. Inside our training loop the step
goes into the command's run (``treffpunkt train``: the run that also holds the dataset, final scores and model
artifact), or nowhere when the command tracks nothing (``--no-track``, learning curves, benchmarks). Under a plain
``spacy train`` the logger starts its own run in the current directory's workspace with the same rules:
offline without a key, online with one, nothing with ``WANDB_MODE=disabled``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from spacy.language import Language
from spacy.training.loggers import console_logger
from spacy.util import registry

from treffpunkt.core.tracking import sanitize, scoped_tracker, start_run, step_metrics
from treffpunkt.core.workspace import Workspace

LogStep = Callable[[dict[str, Any] | None], None]


@registry.loggers("treffpunkt.WandbLogger.v1")
def wandb_logger(
    progress_bar: bool = False, console_output: bool = True
) -> Callable[[Language, IO, IO], tuple[LogStep, Callable[[], None]]]:
    console = console_logger(progress_bar=progress_bar, console_output=console_output, output_file=None)

    def setup(nlp: Language, stdout: IO, stderr: IO) -> tuple[LogStep, Callable[[], None]]:
        console_step, console_finalize = console(nlp, stdout, stderr)
        tracker = scoped_tracker()
        own = None
        if tracker is None:  # plain `spacy train`: this logger's own run
            own = tracker = start_run(
                Workspace(Path.cwd()), job_type="train", config=sanitize(nlp.config.interpolate())
            )

        def log_step(info: dict[str, Any] | None) -> None:
            console_step(info)
            if info is not None:
                tracker.log(step_metrics(info), step=info["step"])

        def finalize() -> None:
            console_finalize()
            if own is not None:
                own.finish()

        return log_step, finalize

    return setup
