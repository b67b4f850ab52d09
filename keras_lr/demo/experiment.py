"""`keras-lr demo`: `keras_lr.compare` on the embedded MNIST default."""

import functools
import os

from keras_lr.comparison import experiment as engine
from keras_lr.comparison.experiment import Comparison as Experiment  # noqa: F401
from keras_lr.demo import data as data_lib
from keras_lr.demo.runs import BASELINE
from keras_lr.demo.runs import RUNS
from keras_lr.demo.runs import build_model

DEFAULT_EPOCHS = 20
QUICK_EPOCHS = 3
DEFAULT_SEEDS = 3
BATCH_SIZE = 64
OUT = os.path.join("runs", "mnist")


def _mnist(source, seed, quick):
    """The demo's data for the workers: MNIST from `source`, as arrays."""
    loaded, _, _ = data_lib.load(source, seed, quick, notice=lambda _: None)
    return loaded


def _heading(description, model, epochs, seeds):
    if len(seeds) > 1:
        return (
            f"{description}; {model}, batch {BATCH_SIZE}, {epochs} epochs; SGD with "
            "momentum 0.9 (cycled for one_cycle; AdamW and ScheduleFreeAdamW where "
            f"named); seeds {seeds[0]}-{seeds[-1]}: mean ± standard deviation."
        )
    return f"{description}; {model}, batch {BATCH_SIZE}, {epochs} epochs; seed {seeds[0]}."


def plan(
    names=tuple(RUNS), epochs=DEFAULT_EPOCHS, out=OUT, data="auto", model="mlp",
    seeds=DEFAULT_SEEDS, first_seed=0, quick=False, jobs=None, verbose=False,
    report=None, peaks=None, resume=False,
):
    """The demo's comparison, checked and ready for `keras_lr.comparison.experiment.execute`."""
    import keras

    _, description, source_used = data_lib.load(
        data, first_seed, quick,
        notice=report or functools.partial(print, flush=True),
    )
    return engine.prepare(
        functools.partial(build_model, model),
        functools.partial(_mnist, source_used, first_seed, quick),
        list(dict.fromkeys(names)), seeds=seeds, first_seed=first_seed,
        epochs=epochs, out=out, name=model,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        batch_size=BATCH_SIZE, peaks=peaks, resume=resume, jobs=jobs,
        engine="processes", verbose=verbose, report=report, baseline=BASELINE,
        suffix="_quick" if quick else "",
        extra_settings={"data": source_used, "data_description": description,
                        "quick": quick},
        heading=_heading(description, model, epochs,
                         list(range(first_seed, first_seed + seeds))),
    )


def compare(
    names=tuple(RUNS), epochs=DEFAULT_EPOCHS, out=OUT, data="auto", model="mlp",
    seeds=DEFAULT_SEEDS, first_seed=0, quick=False, jobs=None, verbose=False,
    report=None, peaks=None, resume=False,
):
    """Train every schedule with several seeds and compare it with the baseline.

    Args:
        names: runs from `RUNS`; the baseline (`"constant"`) is added first
            when missing.
        epochs: epochs per run.
        out: the parent directory; each call writes a new experiment
            directory in it and points `<out>/latest` to it.
        data: `"auto"`, `"keras"` or `"subset"` (see `load_mnist`).
        model: `"mlp"` or `"cnn"`.
        seeds: seeds per schedule (`first_seed`, `first_seed + 1`, ...):
            each sets the initial weights and the batch order, the same
            for every schedule. The data split is that of `first_seed`.
        first_seed: the first seed.
        quick: at most 4,000 / 1,000 images (for smoke tests).
        jobs: runs trained at once, each in a process of its own
            (default: one per core, at most 4).
        verbose: also a line per epoch of every run.
        report: called with each line of progress and the table.
        peaks: a grid of peak factors per run (see `keras_lr.compare`).
        resume: continue `<out>/latest`, training only its missing runs.

    Returns:
        A `keras_lr.comparison.Comparison`.
    """
    return engine.execute(plan(
        names, epochs, out, data, model, seeds, first_seed, quick, jobs, verbose,
        report, peaks, resume,
    ))
