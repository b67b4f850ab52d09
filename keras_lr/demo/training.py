"""Training the runs, each in a worker process with one thread.

A run trains in a process of its own pool, never in the caller's: with one
compute thread per process a run's numbers do not depend on how many runs
train beside it (TensorFlow's reductions round differently with another
thread count), so `--jobs 1` and `--jobs 4` write the same histories, and
two cores train two runs at once.
"""

import concurrent.futures
import dataclasses
import functools
import json
import math
import multiprocessing
import os
import runpy
import time

from keras_lr.demo import startup

BATCH_SIZE = 64

#: One compute thread per worker, for every backend.
_ONE_THREAD = {
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
_XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


@dataclasses.dataclass(frozen=True)
class Task:
    """One training run: what a worker needs, as plain values."""

    name: str
    seed: int
    run_dir: str
    source: str
    data_seed: int
    quick: bool
    model: str
    epochs: int
    verbose: bool = False


@dataclasses.dataclass
class Trained:
    """What a worker sends back: Keras's history and the wall time of `fit`."""

    task: Task
    history: dict
    wall_time: float


@functools.lru_cache(maxsize=2)
def _data(source, data_seed, quick):
    from keras_lr.demo import data

    loaded, _, _ = data.load(source, data_seed, quick, notice=lambda _: None)
    return loaded


def _epoch_lines(task):
    import keras

    class EpochLines(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            print(
                f"{task.name} seed {task.seed}: epoch {epoch + 1}/{task.epochs}  "
                f"loss {logs['loss']:.4f}  val_accuracy {logs['val_accuracy']:.4f}  "
                f"learning_rate {logs['learning_rate']:.3g}",
                flush=True,
            )

    return EpochLines()


def train(task):
    """Train `task` into `task.run_dir`; returns its `Trained`.

    The run's TensorBoard events go to `<run_dir>/train`, one TensorBoard
    run: the learning rate of every update (`LearningRateLogger`) and, once
    `fit` ends, the epoch metrics at the step each epoch ended on.
    """
    import keras

    from keras_lr.callbacks import LearningRateLogger
    from keras_lr.demo.runs import build_model
    from keras_lr.demo.runs import make_run
    from keras_lr.demo.tensorboard import write_epoch_metrics

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        # A worker builds a model per run, so TensorFlow traces a new train
        # function for each and warns about "retracing": expected here.
        tf.get_logger().setLevel("ERROR")
    (x_train, y_train), validation = _data(task.source, task.data_seed, task.quick)
    steps_per_epoch = math.ceil(len(x_train) / BATCH_SIZE)
    run = make_run(task.name, steps_per_epoch, task.epochs)
    # The same initial weights and batch order for every run of a seed.
    keras.utils.set_random_seed(task.seed)
    model = build_model(task.model)
    model.compile(
        optimizer=run.build_optimizer(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        # One call per epoch: the per-batch Python overhead was half of a
        # run's time. The logger is exact with it (it evaluates the steps
        # of the epoch on the host).
        steps_per_execution=steps_per_epoch,
    )
    callbacks = [
        *run.callbacks,
        # After the plateau callback, so `logs["learning_rate"]` is the
        # rate the epoch used, not the reduced one for the next.
        LearningRateLogger(task.run_dir),
    ]
    if task.verbose:
        callbacks.append(_epoch_lines(task))
    start = time.perf_counter()
    history = model.fit(
        x_train, y_train, batch_size=BATCH_SIZE, epochs=task.epochs,
        validation_data=validation, callbacks=callbacks, verbose=0,
    ).history
    wall_time = time.perf_counter() - start
    history = {key: [float(v) for v in values] for key, values in history.items()}
    write_epoch_metrics(task.run_dir, history, steps_per_epoch)
    with open(os.path.join(task.run_dir, "history.json"), "w") as file:
        json.dump({"wall_time_s": wall_time, "history": history}, file)
    return Trained(task, history, wall_time)


def default_jobs():
    """Runs trained at once by default: one per core, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


def train_all(tasks, jobs):
    """Train `tasks` in `jobs` worker processes; yields each `Trained` as it ends.

    Workers are started with "spawn" (TensorFlow is not fork-safe) and with
    one compute thread each. An error in a run cancels the runs not yet
    started and is raised here.
    """
    environment = dict(_ONE_THREAD)
    environment["XLA_FLAGS"] = (
        f"{os.environ.get('XLA_FLAGS', '')} {_XLA_ONE_THREAD}".strip()
    )
    # A worker must set its environment and hide TensorFlow's start-up
    # lines before it imports Keras, and unpickling any function of
    # keras_lr imports Keras (in keras_lr/__init__.py). So the initializer
    # is the standard library's `runpy.run_path`, running `startup.py` from
    # its file before the first task, and so Keras, is unpickled.
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=min(jobs, len(tasks)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=runpy.run_path,
        initargs=(
            startup.__file__, {"worker_environment": environment}, startup.WORKER,
        ),
    )
    try:
        futures = [pool.submit(train, task) for task in tasks]
        for future in concurrent.futures.as_completed(futures):
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
