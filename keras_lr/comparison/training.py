"""Training the runs: each in a worker process with one thread, or inline.

With the "processes" engine a run trains in a process of its own pool,
never in the caller's: with one compute thread per process a run's numbers
do not depend on how many runs train beside it (TensorFlow's reductions
round differently with another thread count), so `jobs=1` and `jobs=4`
write the same histories, and two cores train two runs at once. The
"inline" engine trains in the calling process, one run after another: for
a model or data that a fresh process cannot import (a notebook's function,
a `tf.data.Dataset` object). The "ray" engine (`ray_engine.py`) trains
each run as a Ray task, with `train` and the same one-thread environment.

A run writes `history.json` last, atomically (a temporary file renamed):
a run directory with one is finished, whatever killed the comparison after.
A run that fails (an exception, a loss that is not finite) writes one too,
with `"status": "failed"` and the error, and the other runs go on.
"""

import concurrent.futures
import dataclasses
import json
import math
import multiprocessing
import os
import pickle
import runpy
import time
import traceback

HISTORY = "history.json"

#: One compute thread per worker, for every backend.
_ONE_THREAD = {
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
_XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
#: `keras_lr/demo/startup.py`, run from its file (see `train_all`); its
#: `WORKER` run name.
_STARTUP = os.path.join(os.path.dirname(os.path.dirname(__file__)), "demo", "startup.py")
_WORKER = "keras_lr_demo_worker"


@dataclasses.dataclass(frozen=True)
class Spec:
    """What every training of one comparison shares, as picklable values."""

    build_model: object
    #: A function returning the data (`keras_lr.comparison.data.prepare`
    #: takes its result), or a prepared `Data` (inline only).
    data: object
    #: `{name: name of RUNS or Run}`.
    runs: dict
    loss: object
    metrics: tuple
    batch_size: int
    epochs: int
    validation_split: float
    data_seed: int
    verbose: bool = False


@dataclasses.dataclass(frozen=True)
class Task:
    """One training run: a run of `Spec.runs`, a seed, a rate scale."""

    name: str
    seed: int
    run_dir: str
    scale: float = 1.0

    @property
    def label(self):
        return self.name if self.scale == 1.0 else f"{self.name} x{self.scale:.3g}"


@dataclasses.dataclass
class Trained:
    """What a training sends back: the record it wrote in `history.json`."""

    task: Task
    record: dict

    @property
    def failed(self):
        return self.record["status"] != "ok"


def write_json(path, value):
    """`value` as JSON in `path`, all or nothing (a kill leaves no half file)."""
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w") as file:
        json.dump(value, file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def read_record(run_dir):
    """A run's `history.json`, or None where it did not finish."""
    try:
        with open(os.path.join(run_dir, HISTORY)) as file:
            return json.load(file)
    except (FileNotFoundError, json.JSONDecodeError):
        return None


_DATA = {}


def _data(spec):
    """The prepared data: loaded once per process where it is arrays; a
    dataset from a function is made again for each training (after the
    seed is set), so that every run of a seed sees the same batches."""
    from keras_lr.comparison import data as data_lib

    if isinstance(spec.data, data_lib.Data):
        return spec.data
    try:
        key = pickle.dumps(spec.data)
    except Exception:  # a lambda or a notebook's function, inline
        key = ("id", id(spec.data))
    cached = _DATA.get(key)
    if cached is not None and cached.arrays:
        return cached
    _DATA.clear()
    _DATA[key] = data_lib.prepare(spec.data, spec.validation_split, spec.data_seed)
    return _DATA[key]


def build(spec):
    """`spec.build_model()` and the loss to compile it with: `spec.loss`,
    else the loss the builder compiled the model with."""
    import keras

    model = spec.build_model()
    if not isinstance(model, keras.Model):
        raise TypeError(
            "Argument `build_model` must return a Keras model. Received: "
            f"an object of type {type(model).__name__}"
        )
    loss = spec.loss
    if loss is None:
        loss = model.loss if getattr(model, "compiled", False) else None
    if loss is None:
        raise ValueError(
            "Argument `loss` is required when `build_model` returns a model "
            "that is not compiled. Received: loss=None"
        )
    return model, loss


def _callbacks(task, epochs, verbose):
    import keras

    class StopOnNonFiniteLoss(keras.callbacks.Callback):
        """At the end of an epoch (no batch hook: none would let Keras run
        an epoch in one call)."""

        bad_epoch = None

        def on_epoch_end(self, epoch, logs=None):
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(loss):
                self.bad_epoch = epoch + 1
                self.model.stop_training = True

    class EpochLines(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            print(
                f"{task.label} seed {task.seed}: epoch {epoch + 1}/{epochs}  "
                f"loss {logs.get('loss', math.nan):.4f}  "
                f"val_accuracy {logs.get('val_accuracy', math.nan):.4f}  "
                f"learning_rate {logs.get('learning_rate', math.nan):.3g}",
                flush=True,
            )

    return StopOnNonFiniteLoss(), [EpochLines()] if verbose else []


def one_line(error):
    """An error as one line of at most about 300 characters."""
    text = " ".join(str(error).split())
    if len(text) > 300:
        text = text[:300] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def train(task, spec):
    """Train `task` into `task.run_dir`; returns its `Trained`.

    The run's TensorBoard events go to `<run_dir>/train`, one TensorBoard
    run: the learning rate of every update (`LearningRateLogger`) and, once
    `fit` ends, the epoch metrics at the step each epoch ended on.
    """
    import keras

    from keras_lr.callbacks import LearningRateLogger
    from keras_lr.comparison import runs
    from keras_lr.comparison.tensorboard import write_epoch_metrics

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        # A worker builds a model per run, so TensorFlow traces a new train
        # function for each and warns about "retracing": expected here.
        tf.get_logger().setLevel("ERROR")
    os.makedirs(task.run_dir, exist_ok=True)
    start = time.perf_counter()
    record = {"status": "ok", "name": task.name, "seed": task.seed,
              "scale": task.scale}
    try:
        keras.utils.set_random_seed(task.seed)
        data = _data(spec)
        steps_per_epoch = data.steps_per_epoch(spec.batch_size)
        run = runs.bind(spec.runs[task.name], steps_per_epoch, spec.epochs, task.scale)
        record["peak_learning_rate"] = run.peak_learning_rate(
            steps_per_epoch * spec.epochs
        )
        # The same initial weights and batch order for every run of a seed.
        keras.utils.set_random_seed(task.seed)
        model, loss = build(spec)
        model.compile(
            optimizer=run.build_optimizer(), loss=loss, metrics=list(spec.metrics),
            # One call per epoch: the per-batch Python overhead was half of a
            # run's time. The logger is exact with it (it evaluates the steps
            # of the epoch on the host).
            steps_per_execution=steps_per_epoch,
        )
        stop, lines = _callbacks(task, spec.epochs, spec.verbose)
        callbacks = [
            *run.callbacks,
            stop,
            # After the plateau callback, so `logs["learning_rate"]` is the
            # rate the epoch used, not the reduced one for the next.
            LearningRateLogger(task.run_dir),
            *lines,
        ]
        fit_start = time.perf_counter()
        history = model.fit(
            **data.fit_arguments(spec.batch_size), epochs=spec.epochs,
            callbacks=callbacks, verbose=0,
        ).history
        record["wall_time_s"] = time.perf_counter() - fit_start
        history = {key: [float(v) for v in values] for key, values in history.items()}
        record["history"] = history
        if stop.bad_epoch is not None:
            raise FloatingPointError(
                f"the training loss is {history['loss'][-1]} at epoch {stop.bad_epoch}"
            )
        if "val_accuracy" not in history:
            raise ValueError(
                "the model has no validation accuracy: compare judges runs by "
                f"`val_accuracy` (its metrics: {', '.join(history)})"
            )
        write_epoch_metrics(task.run_dir, history, steps_per_epoch)
    except Exception as error:  # the run failed: recorded, the others go on
        record.update(
            status="failed", error=one_line(error),
            traceback=traceback.format_exc(),
        )
        record.setdefault("wall_time_s", time.perf_counter() - start)
    write_json(os.path.join(task.run_dir, HISTORY), record)
    return Trained(task, record)


def default_jobs():
    """Runs trained at once by default: one per core, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


def worker_environment():
    """The environment of a worker: one compute thread, for every backend."""
    environment = dict(_ONE_THREAD)
    environment["XLA_FLAGS"] = (
        f"{os.environ.get('XLA_FLAGS', '')} {_XLA_ONE_THREAD}".strip()
    )
    return environment


def train_all(tasks, spec, jobs, engine="processes"):
    """Train `tasks`; yields each `Trained` as it ends.

    "processes": in `jobs` worker processes, started with "spawn"
    (TensorFlow is not fork-safe) and with one compute thread each.
    "inline": here, one after another.
    """
    if not tasks:
        return
    if engine == "inline":
        for task in tasks:
            yield train(task, spec)
        return
    environment = worker_environment()
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
            _STARTUP, {"worker_environment": environment}, _WORKER,
        ),
    )
    try:
        futures = [pool.submit(train, task, spec) for task in tasks]
        for future in concurrent.futures.as_completed(futures):
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
