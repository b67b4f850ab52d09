"""`keras_lr.compare`: which schedule, and by how much, for your model.

`compare` trains your model once per run and seed and compares every run
with the constant baseline seed by seed: within a seed every run starts
from the same initial weights and sees the same batch order, so the run is
the only difference (a paired comparison, `keras_lr.comparison.stats`).
It writes what `keras-lr demo` writes (the demo is `compare` on MNIST) and
returns it as a `Comparison`:

    experiment.json          settings, data, seeds, versions, command line
    summary.md, summary.csv  the table: mean ± sd, paired differences
    runs.csv                 one row per training run (failed ones too)
    comparison.png           each run's rate and validation accuracy
    <run>/seed-<k>/          one TensorBoard run (in its `train/`): the rate
                             of every update, epoch metrics, typed HParams,
                             and `history.json`, written last
    <run>/peaks/x<f>/seed-<k>/   with `peaks`: the search runs
"""

from __future__ import annotations

import os
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import keras

from keras_lr.comparison import experiment as _experiment
from keras_lr.comparison.experiment import Comparison
from keras_lr.comparison.experiment import ScheduleResult
from keras_lr.comparison.runs import BASELINE
from keras_lr.comparison.runs import RUNS
from keras_lr.comparison.runs import Run


def compare(
    build_model: Callable[[], keras.Model],
    data: Any,
    runs: Sequence[str | Run] = ("cosine", "one_cycle"),
    *,
    seeds: int = 3,
    epochs: int = 10,
    out: str | os.PathLike | None = None,
    loss: Any = None,
    metrics: Sequence[Any] = (),
    batch_size: int = 32,
    validation_split: float = 0.2,
    peaks: int | Sequence[float] | None = None,
    resume: bool = False,
    first_seed: int = 0,
    jobs: int | None = None,
    engine: str = "auto",
    address: str | None = None,
    gpus_per_run: float = 0,
    name: str | None = None,
    verbose: bool = False,
    report: Callable[[str], None] | None = None,
) -> Comparison:
    """Compare learning rate schedules on your model, seed by seed.

    Every run trains with `seeds` seeds; the constant baseline (`"constant"`,
    0.1 with SGD) always trains too. Within a seed every run starts from the
    same initial weights (the seed is set before `build_model`) and sees the
    same batches, and the result pairs each run with the baseline seed by
    seed: mean differences with their 95 % t intervals.

    Args:
        build_model: a function returning a new Keras model; compiled or not
            (`compare` compiles it with each run's optimizer, and with `loss`,
            else the loss it was compiled with). It must end in the outputs
            that `loss` and Keras's `"accuracy"` read: runs are judged by
            validation accuracy and training loss.
        data: `(x, y)` arrays (split by `validation_split`, shuffled with the
            first seed); `((x_train, y_train), (x_val, y_val))`; a pair of
            `tf.data.Dataset`s or `keras.utils.PyDataset`s (training,
            validation) yielding `(x, y)` batches; or a function returning
            any of these (called in each worker, and for datasets once per
            training, after the seed is set).
        runs: names of `keras_lr.comparison.RUNS` and `Run`s of your own.
        seeds: seeds per run: `first_seed`, `first_seed + 1`, ...
        epochs: epochs per training.
        out: the parent folder (default `runs/compare`): each call writes a
            new directory in it and points `<out>/latest` to it.
        loss: the loss to compile with (default: the builder's).
        metrics: more metrics beside `"accuracy"`.
        batch_size: for arrays.
        validation_split: the part of `(x, y)` held out for validation.
        peaks: None, or a grid of factors of each run's rates: an int `n`
            (`n` factors on a log scale over a decade, 3: 0.316, 1, 3.16) or
            a list. Each run trains at every factor with the first seed, the
            best by final validation accuracy is kept, and every seed trains
            at it; the tables show the chosen peak rate.
        resume: continue `out` (an experiment directory, or `<out>/latest`):
            keep every finished run, train the missing and failed ones.
        first_seed: the first seed.
        jobs: trainings at once, one worker process each (default: one per
            core, at most 4; with `"ray"`: as many as the cluster holds).
        engine: `"processes"` (worker processes, one thread each: the same
            numbers with any `jobs`), `"inline"` (this process, one run at a
            time; for lambdas, a notebook's functions, dataset objects),
            `"ray"` (each training a Ray task of one CPU and `gpus_per_run`
            GPUs, on a cluster: the numbers of `"processes"`; needs the
            `keras_lr[ray]` extra) or `"auto"`: processes where the workers
            can import everything.
        address: with `"ray"`, the cluster's address (`ray.init`'s); None:
            the Ray this process is connected to, else a local one.
        gpus_per_run: with `"ray"`, the GPUs each training asks for.
        name: the model's name in the directory and tables (default: the
            builder's `__name__`).
        verbose: also a line per epoch of every training.
        report: called with each line of progress and the table (default
            `print`).

    Returns:
        A `Comparison`: `summary` (one dict per run), `runs` (one dict per
        training), `table`, `directory`, `figure`, `results`, `summaries`.

    Raises:
        ValueError, TypeError: before any training, for bad arguments, a
            builder that raises, or data the model does not take. A run that
            fails later (an exception, a loss that is not finite) is
            recorded as failed, and the others go on.

    Example:

    ```python
    import keras, numpy as np, keras_lr

    def build_model():
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])

    x = np.random.rand(600, 4).astype("float32"); y = x.argmax(axis=1) % 3
    result = keras_lr.compare(
        build_model, (x, y), ["cosine", "one_cycle"], seeds=2, epochs=3,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    print(result.table)
    ```

    The runs it knows by name (the baseline always trains), and a run of
    your own:

    >>> import keras_lr
    >>> keras_lr.comparison.BASELINE, list(keras_lr.comparison.RUNS)[:4]
    ('constant', ['constant', 'piecewise', 'step', 'exponential'])
    >>> keras_lr.comparison.Run("mine", learning_rate=0.05)
    Run(name='mine', learning_rate=0.05, optimizer='SGD', callbacks=(), momentum=0.9)
    """
    plan = _experiment.prepare(
        build_model, data, runs, seeds=seeds, first_seed=first_seed,
        epochs=epochs, out=out, name=name, loss=loss, metrics=metrics,
        batch_size=batch_size, validation_split=validation_split, peaks=peaks,
        resume=resume, jobs=jobs, engine=engine, address=address,
        gpus_per_run=gpus_per_run, verbose=verbose, report=report,
    )
    return _experiment.execute(plan)


__all__ = [
    "BASELINE",
    "Comparison",
    "RUNS",
    "Run",
    "ScheduleResult",
    "compare",
]
