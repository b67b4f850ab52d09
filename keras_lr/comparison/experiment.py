"""One comparison: its checks, its directory, its runs, its outputs.

`prepare` checks everything that can be checked before training (the runs,
the data, a model built and called on a few samples) and picks the
directory; `execute` trains what is missing and writes the outputs. The
engine knows nothing of MNIST: `keras-lr demo` is `prepare` and `execute`
on the demo's model and data.
"""

import dataclasses
import datetime
import functools
import json
import math
import os
import pickle
import platform
import re
import shlex
import shutil
import sys
import tempfile
import time

import numpy as np

from keras_lr import _validation
from keras_lr.comparison import data as data_lib
from keras_lr.comparison import report as report_lib
from keras_lr.comparison import stats
from keras_lr.comparison import tensorboard
from keras_lr.comparison import training
from keras_lr.comparison.runs import BASELINE
from keras_lr.comparison.runs import RUNS
from keras_lr.comparison.runs import Run
from keras_lr.comparison.runs import bind

LATEST = "latest"
#: The tag `LearningRateLogger` writes the rate of every update under.
TAG = "learning_rate"
ENGINES = ("auto", "processes", "inline", "ray")
#: Settings a resumed comparison must share with the one it resumes.
_RESUMED = ("schedules", "epochs", "seeds", "batch_size", "steps_per_epoch",
            "peaks", "model", "data_description")


@dataclasses.dataclass
class ScheduleResult:
    """A schedule's runs: one history and one logged rate curve per seed.

    A failed run has None for its history and its error in `errors`.
    """

    name: str
    steps_per_epoch: int
    seeds: list
    histories: list
    #: Per seed, `(steps, rates)` as `LearningRateLogger` logged them.
    rates: list
    run_dirs: list
    wall_times: list
    errors: list = dataclasses.field(default_factory=list)
    #: The factor of the `peaks` grid it trained at (1.0 without a grid).
    scale: float = 1.0
    peak_learning_rate: float = None


@dataclasses.dataclass
class Comparison:
    """What `keras_lr.compare` returns: where it wrote, and what it found.

    `summary` (one dict per run, the numbers of `summary.csv`) and `runs`
    (one dict per training, `runs.csv`) are plain lists; `table` is the
    table as printed; `results` and `summaries` hold the histories and the
    statistics behind them.
    """

    directory: str
    settings: dict
    results: dict
    summaries: dict
    summary: list = dataclasses.field(default_factory=list)
    runs: list = dataclasses.field(default_factory=list)
    table: str = ""
    #: `{run: {scale: final validation accuracy}}` of the peak search.
    peak_search: dict = dataclasses.field(default_factory=dict)

    @property
    def figure(self):
        """The path of `comparison.png`."""
        return os.path.join(self.directory, "comparison.png")

    def _repr_markdown_(self):  # a notebook shows the table
        with open(os.path.join(self.directory, "summary.md")) as file:
            return file.read()


#: The demo's name for it.
Experiment = Comparison


@dataclasses.dataclass
class Plan:
    """A checked comparison, ready to `execute`."""

    spec: training.Spec
    names: list
    seeds: list
    scales: list
    directory: str
    out: str
    settings: dict
    steps_per_epoch: int
    #: Trainings at once; for "ray", None where the cluster decides.
    jobs: int
    engine: str
    report: object
    heading: str
    resumed: bool
    cleanup: list
    #: The Ray cluster's address ("ray"; None: this process's Ray, or a
    #: local one).
    address: str = None
    #: GPUs each Ray task asks for.
    gpus_per_run: float = 0


def _count(number, noun):
    return f"{number} {noun}{'s' * (number != 1)}"


def _versions():
    from importlib import metadata

    import keras

    versions = {"python": platform.python_version(), "keras": keras.__version__}
    versions["backend"] = keras.backend.backend()
    for package in ("keras_lr", "tensorflow", "jax", "torch", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return versions


def _experiment_dir(out, label, epochs, seeds, suffix):
    """A new directory `<out>/<date-time>_<label>_<epochs>ep_<seeds>seeds`."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}_{label}_{epochs}ep_{_count(seeds, 'seed').replace(' ', '')}{suffix}"
    for attempt in range(1, 1000):
        name = base if attempt == 1 else f"{base}-{attempt}"
        path = os.path.join(out, name)
        try:
            os.makedirs(path)  # never an existing one: no run is mixed in
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"{base}-* exist up to 999 in {out}")


def _point_latest(out, directory):
    """`<out>/latest` -> the experiment (a symlink, or `latest.txt` without)."""
    link = os.path.join(out, LATEST)
    target = os.path.basename(directory)
    if os.path.realpath(os.path.dirname(directory)) != os.path.realpath(out):
        return
    temporary = f"{link}.{os.getpid()}"
    try:
        os.symlink(target, temporary, target_is_directory=True)
        os.replace(temporary, link)
    except OSError:  # no symlinks here (Windows without the privilege)
        with open(os.path.join(out, "latest.txt"), "w") as file:
            file.write(target + "\n")


def _resumed_dir(out):
    """The experiment `resume` continues: `out` itself, or `<out>/latest`."""
    for candidate in (out, os.path.join(out, LATEST)):
        if os.path.isfile(os.path.join(candidate, "experiment.json")):
            return os.path.realpath(candidate)
    text = os.path.join(out, "latest.txt")
    if os.path.isfile(text):
        with open(text) as file:
            candidate = os.path.join(out, file.read().strip())
        if os.path.isfile(os.path.join(candidate, "experiment.json")):
            return candidate
    return None


def tensorboard_command(directory):
    """A command that starts TensorBoard on `directory`, as it can be pasted."""
    binary = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    if os.path.exists(binary):
        relative = os.path.relpath(binary)
        command = [relative if not relative.startswith("..") else binary]
    else:
        command = [sys.executable, "-m", "tensorboard.main"]
    # Every point of every run: TensorBoard otherwise samples 1,000 per tag.
    return shlex.join([*command, "--logdir", directory, "--samples_per_plugin",
                       "scalars=0"])


def peak_scales(peaks):
    """The factors of a `peaks` grid: None -> [1.0]; `n` -> n factors on a log
    scale over one decade around 1 (3 -> 0.316, 1, 3.16); a list as given."""
    if peaks is None:
        return [1.0]
    if isinstance(peaks, bool):
        raise TypeError(f"Argument `peaks` must be an int or a list. Received: peaks={peaks!r}")
    if isinstance(peaks, int):
        if peaks < 2:
            raise ValueError(
                f"Argument `peaks` must be at least 2 (or None). Received: peaks={peaks}"
            )
        return [float(f"{v:.4g}") for v in 10 ** np.linspace(-0.5, 0.5, peaks)]
    scales = [float(v) for v in peaks]
    if len(scales) < 2 or not all(v > 0 and math.isfinite(v) for v in scales):
        raise ValueError(
            "Argument `peaks` must hold at least 2 positive factors. "
            f"Received: peaks={peaks!r}"
        )
    return sorted(set(scales))


def _run_names(runs, baseline, report):
    """`{name: name of RUNS or Run}`, the baseline first."""
    if isinstance(runs, (str, Run)):
        runs = [runs]
    table = {}
    for run in runs:
        if isinstance(run, str):
            if run not in RUNS:
                raise ValueError(
                    f"Argument `runs` must hold names of {', '.join(RUNS)} or "
                    f"`keras_lr.comparison.Run`s. Received: {run!r}"
                )
            name = run
        elif isinstance(run, Run):
            name = run.name
            if name == baseline:
                raise ValueError(
                    f"Argument `runs`: the name {name!r} is the baseline's; "
                    f"give your run another name. Received: {run!r}"
                )
        else:
            raise TypeError(
                "Argument `runs` must hold run names or `keras_lr.comparison.Run`s. "
                f"Received: {run!r}"
            )
        if name in table and table[name] is not run and run != name:
            raise ValueError(f"Argument `runs` names {name!r} twice. Received: {runs!r}")
        table[name] = run
    if baseline not in table:
        report(f"Adding {baseline!r}: every run is compared with it.")
    return {baseline: baseline, **{k: v for k, v in table.items() if k != baseline}}


def _whole(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(
            f"Argument `{name}` must be an integer >= {minimum}. Received: {name}={value!r}"
        )
    return int(value)


def _importable(value):
    """Whether a fresh worker process can unpickle `value`."""
    try:
        pickle.dumps(value)
    except Exception:
        return False
    main = sys.modules.get("__main__")
    functions = [value, getattr(value, "func", None)]
    for function in functions:
        module = getattr(function, "__module__", None)
        if module == "__main__" and not getattr(main, "__file__", None):
            return False  # a notebook's or a REPL's function
    return True


def _check_model(spec, data, seed):
    """Build the model once and run its loss on two samples: a builder that
    raises, or data the model does not take, is one error before training."""
    import keras

    keras.utils.set_random_seed(seed)
    try:
        model, loss = training.build(spec)
    except (TypeError, ValueError) as error:
        if "build_model" in str(error) or "`loss`" in str(error):
            raise
        raise ValueError(
            f"Argument `build_model` raised {type(error).__name__}: {error}"
        ) from error
    except Exception as error:
        raise ValueError(
            f"Argument `build_model` raised {type(error).__name__}: {error}"
        ) from error
    x, y = data.sample(2)
    try:
        prediction = model(x)
        keras.losses.get(loss)(y, prediction) if not callable(loss) else loss(
            y, prediction
        )
    except Exception as error:
        first = " ".join(str(error).split())[:400]
        raise ValueError(
            "Argument `data` does not fit the model of `build_model`: "
            f"{type(error).__name__}: {first}"
        ) from error


def prepare(
    build_model, data, runs, *, seeds=3, first_seed=0, epochs=10, out=None,
    name=None, loss=None, metrics=(), batch_size=32, validation_split=0.2,
    peaks=None, resume=False, jobs=None, engine="auto", address=None,
    gpus_per_run=0, verbose=False, report=None, baseline=BASELINE, suffix="",
    extra_settings=None, heading=None,
):
    """Check a comparison and choose its directory; returns a `Plan`.

    See `keras_lr.compare` for the arguments. Raises `ValueError` or
    `TypeError` for anything that would fail in every run.
    """
    report = report or functools.partial(print, flush=True)
    if not callable(build_model):
        raise TypeError(
            "Argument `build_model` must be a function returning a Keras model. "
            f"Received: build_model={build_model!r}"
        )
    if engine not in ENGINES:
        raise ValueError(
            f"Argument `engine` must be one of {', '.join(ENGINES)}. "
            f"Received: engine={engine!r}"
        )
    if engine == "ray":
        from keras_lr.comparison import ray_engine

        ray_engine.import_ray(address)  # only here: the others need no Ray
    elif address is not None:
        raise ValueError(
            "Argument `address` is the Ray cluster of engine='ray'. Received: "
            f"address={address!r} with engine={engine!r}"
        )
    _validation.check_number("gpus_per_run", gpus_per_run, minimum=0)
    if gpus_per_run and engine != "ray":
        raise ValueError(
            "Argument `gpus_per_run` is what each Ray task of engine='ray' asks "
            f"for. Received: gpus_per_run={gpus_per_run!r} with engine={engine!r}"
        )
    seeds = _whole(seeds, "seeds")
    epochs = _whole(epochs, "epochs")
    batch_size = _whole(batch_size, "batch_size")
    first_seed = _whole(first_seed, "first_seed", 0)
    if first_seed + seeds - 1 > np.iinfo(np.uint32).max:
        raise ValueError(
            "Arguments `first_seed` and `seeds` must stay within the seeds NumPy "
            f"takes (up to 2**32 - 1). Received: first_seed={first_seed}, seeds={seeds}"
        )
    scales = peak_scales(peaks)
    table = _run_names(runs, baseline, report)
    metrics = tuple(dict.fromkeys(["accuracy", *metrics]))
    prepared = data_lib.prepare(data, validation_split, first_seed)
    spec = training.Spec(
        build_model, prepared, table, loss, metrics, batch_size, epochs,
        validation_split, first_seed, verbose,
    )
    _check_model(spec, prepared, first_seed)
    steps_per_epoch = prepared.steps_per_epoch(batch_size)
    cleanup = []
    # What the workers get: the user's function, or arrays in a file.
    shipped = data if callable(data) and not data_lib._is_dataset(data) else None
    if engine == "ray" and shipped is None and prepared.arrays:
        # No filesystem shared with the workers: the arrays themselves,
        # put once in Ray's object store with the rest of the spec.
        shipped = functools.partial(_given_arrays, prepared.train, prepared.validation)
    elif engine != "inline" and shipped is None and prepared.arrays:
        folder = tempfile.mkdtemp(prefix="keras_lr_compare_")
        cleanup.append(folder)
        path = os.path.join(folder, "data.npz")
        (x, y), (x_val, y_val) = prepared.train, prepared.validation
        np.savez(path, x=np.asarray(x), y=np.asarray(y), x_val=np.asarray(x_val),
                 y_val=np.asarray(y_val))
        shipped = functools.partial(_load_arrays, path)
    payload = dataclasses.replace(spec, data=shipped)
    if engine == "ray":
        if shipped is None or not _serializable(payload):
            raise ValueError(
                "Argument `engine`: Ray cannot send the model, the data or a "
                "run to its workers (a dataset object, something cloudpickle "
                "cannot pickle); give the data as arrays or a function "
                "returning them, or use engine='inline'. "
                f"Received: engine={engine!r}"
            )
        spec = payload
    portable = engine != "ray" and shipped is not None and _importable(payload)
    if engine == "processes" and not portable:
        raise ValueError(
            "Argument `engine`: worker processes cannot import the model, the "
            "data or a run (a lambda, a notebook's function, a dataset object); "
            "use engine='inline' or functions defined in a module. "
            f"Received: engine={engine!r}"
        )
    if engine == "auto":
        engine = "processes" if portable else "inline"
        if engine == "inline":
            report("Training in this process, one run at a time: worker processes "
                   "cannot import the model, the data or a run.")
    if engine == "processes":
        spec = payload
    elif callable(data) and not data_lib._is_dataset(data):
        # Called again in `training`: a dataset for each training, after
        # the seed is set.
        spec = dataclasses.replace(spec, data=data)
    label = name or getattr(build_model, "__name__", None) or type(build_model).__name__
    label = re.sub(r"[^\w.-]+", "_", label).strip("_") or "model"
    out = out if out is not None else os.path.join("runs", "compare")
    seed_list = list(range(first_seed, first_seed + seeds))
    settings = {
        "schedules": list(table),
        "model": label,
        "epochs": epochs,
        "seeds": seed_list,
        "data": "arrays" if prepared.arrays else "datasets",
        "data_description": prepared.description,
        "data_seed": first_seed,
        "batch_size": batch_size,
        "steps_per_epoch": steps_per_epoch,
        "peaks": None if peaks is None else scales,
        "baseline": baseline,
        "engine": engine,
        "command": shlex.join(sys.argv),
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "versions": _versions(),
        "runs": {
            key: RUNS[key] if isinstance(run, str) else repr(run)
            for key, run in table.items()
        },
        **(extra_settings or {}),
    }
    directory = _resumed_dir(out) if resume else None
    resumed = directory is not None
    if resumed:
        with open(os.path.join(directory, "experiment.json")) as file:
            recorded = json.load(file)
        for key in _RESUMED:
            if recorded.get(key) != settings.get(key):
                raise ValueError(
                    f"Argument `resume`: {directory} compares with {key}="
                    f"{recorded.get(key)!r}, not {settings.get(key)!r}; give "
                    "another `out` for a new comparison"
                )
        settings["started"] = recorded.get("started")
        settings["resumed"] = [*recorded.get("resumed", []),
                               datetime.datetime.now().isoformat(timespec="seconds")]
    else:
        if resume:
            report(f"Nothing to resume in {out}: a new comparison.")
        directory = _experiment_dir(out, label, epochs, seeds, suffix)
    if engine != "ray":
        jobs = jobs or training.default_jobs()
    return Plan(
        spec, list(table), seed_list, scales, directory, out, settings,
        steps_per_epoch, jobs, engine, report,
        heading or _default_heading(settings), resumed, cleanup, address,
        gpus_per_run,
    )


def _given_arrays(train, validation):
    return train, validation


def _serializable(value):
    """Whether Ray can send `value` to a worker (with cloudpickle: a lambda
    or a notebook's function goes by value, a module's by name)."""
    from ray import cloudpickle

    try:
        cloudpickle.dumps(value)
    except Exception:
        return False
    return True


def _load_arrays(path):
    with np.load(path) as arrays:
        return (arrays["x"], arrays["y"]), (arrays["x_val"], arrays["y_val"])


def _run_dir(directory, name, seed, scale, search):
    if search:
        return os.path.join(directory, name, "peaks", f"x{scale:.4g}", f"seed-{seed}")
    return os.path.join(directory, name, f"seed-{seed}")


def _train(plan, tasks, phase, clock):
    """Train `tasks` not yet finished with `clock["train_all"]` (the
    engine's); reports a line per finished run, with the time left.

    Returns `{task: record}` for every task, finished before or now.
    """
    records, missing = {}, []
    for task in tasks:
        record = training.read_record(task.run_dir)
        if record is not None and record["status"] == "ok":
            records[task] = record
        else:
            # Killed half-way or failed before: start it again from nothing
            # (its TensorBoard events too).
            shutil.rmtree(task.run_dir, ignore_errors=True)
            missing.append(task)
    if records and missing:
        plan.report(f"{phase}: {len(records)} of {len(tasks)} runs already "
                    f"finished in {plan.directory}; training the other {len(missing)}.")
    elif records:
        plan.report(f"{phase}: all {len(tasks)} runs already finished.")
    # Runs finished before count as done, but not in the mean time per run.
    clock["done"] += len(records)
    for trained in clock["train_all"](missing):
        record, task = trained.record, trained.task
        # The runs left, `at_once` at a time, each as long as the mean so
        # far (the workers' start-up is behind us).
        clock["seconds"] += record["wall_time_s"]
        clock["trained"] += 1
        clock["done"] += 1
        left_runs = clock["total"] - clock["done"]
        left = (clock["seconds"] / clock["trained"]
                * math.ceil(left_runs / clock["at_once"]))
        if trained.failed:
            what = f"FAILED: {record['error']}"
        else:
            history = record["history"]
            what = (f"val acc {100 * history['val_accuracy'][-1]:.2f} %  "
                    f"loss {history['loss'][-1]:.4f}")
        plan.report(
            f"[{clock['done']:{len(str(clock['total']))}d}/{clock['total']}] "
            f"{task.label:20s} seed {task.seed}  {what}  {record['wall_time_s']:5.1f} s"
            + (f"  about {report_lib.duration(left)} left" if left_runs else "")
        )
        records[task] = record
    return records


def _final_accuracy(record):
    if record is None or record["status"] != "ok":
        return -math.inf
    return record["history"]["val_accuracy"][-1]


def execute(plan):
    """Train what `plan` lacks and write every output; returns a `Comparison`."""
    if plan.engine != "ray":
        at_once = plan.jobs if plan.engine == "processes" else 1
        return _execute(plan, functools.partial(
            training.train_all, spec=plan.spec, jobs=plan.jobs, engine=plan.engine,
        ), at_once, f"{at_once} at a time")
    from keras_lr.comparison import ray_engine

    cluster = ray_engine.connect(plan.address, plan.gpus_per_run)
    try:
        at_once = min(plan.jobs or cluster.slots, cluster.slots)
        gpus = f" and {plan.gpus_per_run:g} GPU" if plan.gpus_per_run else ""
        where = (f"Ray tasks of 1 CPU{gpus} on {cluster.cpus:g} CPUs and "
                 f"{cluster.gpus:g} GPUs, {at_once} at a time")
        return _execute(plan, functools.partial(
            ray_engine.train_all, spec=plan.spec, jobs=plan.jobs, cluster=cluster,
            gpus_per_run=plan.gpus_per_run,
        ), at_once, where)
    finally:
        cluster.close()


def _execute(plan, train_all, at_once, where):
    started = time.perf_counter()
    settings, directory = plan.settings, plan.directory
    os.makedirs(plan.out, exist_ok=True)
    training.write_json(os.path.join(directory, "experiment.json"), settings)
    _point_latest(plan.out, directory)
    first = plan.seeds[0]
    search = len(plan.scales) > 1
    # Every run of the grid with the first seed, then the others at the best.
    search_tasks = [
        training.Task(name, first, _run_dir(directory, name, first, scale, True), scale)
        for name in plan.names for scale in plan.scales
    ] if search else []
    total = len(search_tasks) + len(plan.names) * (len(plan.seeds) - search)
    plan.report(
        f"{settings['data_description']}; {settings['model']}, batch "
        f"{settings['batch_size']}, {settings['epochs']} epochs of "
        f"{plan.steps_per_epoch} steps; {_count(len(plan.names), 'run')} x "
        f"{_count(len(plan.seeds), 'seed')}"
        + (f" after a search of {len(plan.scales)} peaks with seed {first}"
           if search else "")
        + f" = {_count(total, 'training')}, {where}, into {directory}"
    )
    clock = {"seconds": 0.0, "done": 0, "trained": 0, "total": total, "at_once": at_once,
             "train_all": train_all}
    searched = _train(plan, search_tasks, "Peak search", clock) if search else {}
    chosen, peak_search = {}, {}
    for name in plan.names:
        if not search:
            chosen[name] = 1.0
            continue
        scores = {task.scale: _final_accuracy(record)
                  for task, record in searched.items() if task.name == name}
        peak_search[name] = scores
        # Ties go to the smaller factor: the first best of the sorted grid.
        chosen[name] = max(plan.scales, key=lambda scale: (scores[scale], -scale))
    if search:
        training.write_json(os.path.join(directory, "peaks.json"), {
            "scales": plan.scales, "chosen": chosen,
            "final_val_accuracy": {
                name: {f"{s:g}": (None if v == -math.inf else v) for s, v in scores.items()}
                for name, scores in peak_search.items()
            },
        })
    final_tasks = [
        training.Task(name, seed, _run_dir(directory, name, seed, chosen[name], False),
                      chosen[name])
        for seed in plan.seeds for name in plan.names
        if not (search and seed == first)
    ]
    trained = _train(plan, final_tasks, "Runs", clock)
    for task, record in searched.items():
        if task.scale == chosen[task.name]:
            trained[task] = record
    try:
        comparison = _outputs(plan, trained, chosen, peak_search)
    finally:
        for folder in plan.cleanup:
            shutil.rmtree(folder, ignore_errors=True)
    plan.report(f"Done in {report_lib.duration(time.perf_counter() - started)}.")
    return comparison


def _outputs(plan, trained, chosen, peak_search):
    settings, directory = plan.settings, plan.directory
    baseline = settings["baseline"]
    by_run = {(task.name, task.seed): (task, record) for task, record in trained.items()}
    results = {}
    for name in plan.names:
        pairs = [by_run[(name, seed)] for seed in plan.seeds]
        records = [record for _, record in pairs]
        ok = [record["status"] == "ok" for record in records]
        run_dirs = [task.run_dir for task, _ in pairs]
        results[name] = ScheduleResult(
            name, plan.steps_per_epoch, list(plan.seeds),
            [r["history"] if good else None for r, good in zip(records, ok)],
            [
                tensorboard.read_scalars(os.path.join(run_dir, "train"), TAG)
                if good else (np.array([], np.int64), np.array([]))
                for run_dir, good in zip(run_dirs, ok)
            ],
            run_dirs, [r.get("wall_time_s") for r in records],
            [None if good else r["error"] for r, good in zip(records, ok)],
            chosen[name],
            next((r.get("peak_learning_rate") for r in records
                  if r.get("peak_learning_rate") is not None), None),
        )
    if not any(h is not None for h in results[baseline].histories):
        errors = "; ".join(sorted(set(results[baseline].errors)))
        raise RuntimeError(
            f"The baseline {baseline!r} failed with every seed, so nothing can be "
            f"compared: {errors}"
        )
    summaries = stats.summarize(
        {name: dict(zip(r.seeds, r.histories)) for name, r in results.items()},
        baseline,
    )
    peaks = ({name: r.peak_learning_rate for name, r in results.items()}
             if len(plan.scales) > 1 else None)
    summary = report_lib.summary_records(
        summaries, baseline, {name: r.wall_times for name, r in results.items()}, peaks,
    )
    runs = _run_records(plan, results, summaries, trained)
    _write_tensorboard(plan, results, summaries)
    table = _write_files(plan, results, summaries, summary, runs)
    return Comparison(directory, settings, results, summaries, summary, runs,
                      table, peak_search)


def _run_records(plan, results, summaries, trained):
    rows = []
    for task, record in sorted(trained.items(), key=lambda item: (
            item[0].seed, plan.names.index(item[0].name))):
        history = record.get("history") if record["status"] == "ok" else None
        summary = summaries[task.name]
        reached = None
        if history is not None and task.seed in summary.paired_seeds:
            reached = summary.epochs_to_baseline[summary.paired_seeds.index(task.seed)]
        rows.append({
            "schedule": task.name, "seed": task.seed,
            "final_val_accuracy": history["val_accuracy"][-1] if history else None,
            "best_val_accuracy": max(history["val_accuracy"]) if history else None,
            "final_loss": history["loss"][-1] if history else None,
            "epochs_to_baseline": reached,
            "wall_time_s": record.get("wall_time_s"),
            "run_dir": os.path.relpath(task.run_dir, plan.directory),
            "status": record["status"], "error": record.get("error"),
            "peak_learning_rate": record.get("peak_learning_rate"),
            "phase": "search" if os.sep + "peaks" + os.sep in task.run_dir else "seeds",
        })
    return rows


def _write_tensorboard(plan, results, summaries):
    settings = plan.settings
    runs = []
    for name in plan.names:
        result, summary = results[name], summaries[name]
        run = bind(plan.spec.runs[name], plan.steps_per_epoch, settings["epochs"],
                   result.scale)
        schedule_class, schedule_config = run.schedule_config()
        for seed, history, run_dir in zip(result.seeds, result.histories, result.run_dirs):
            if history is None or seed not in summary.paired_seeds:
                continue
            index = summary.paired_seeds.index(seed)
            values = {
                "schedule": name,
                "optimizer": run.optimizer_name,
                "peak_learning_rate": result.peak_learning_rate,
                "model": settings["model"],
                "epochs": settings["epochs"],
                "seed": seed,
                "data": settings["data"],
                "batch_size": settings["batch_size"],
                "schedule_class": schedule_class,
                "schedule_config": schedule_config,
            }
            metrics = {
                "final_val_accuracy": summary.final_val_accuracy[index],
                "best_val_accuracy": summary.best_val_accuracy[index],
                "final_loss": summary.final_loss[index],
                "epochs_to_baseline": summary.epochs_to_baseline[index],
            }
            runs.append((run_dir, values, metrics))
    tensorboard.write_hparams(settings, plan.names, runs)


def _write_files(plan, results, summaries, summary, runs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_lr.plot import plot_comparison

    settings, directory, report = plan.settings, plan.directory, plan.report
    baseline = settings["baseline"]
    seeds = len(settings["seeds"])
    header = report_lib.headers(baseline, seeds)
    body = report_lib.rows(summaries, baseline)
    if settings.get("peaks"):
        header.append("peak rate")
        for row, name in zip(body, summaries):
            peak = results[name].peak_learning_rate
            row.append("–" if peak is None else
                       f"{peak:.3g} (x{results[name].scale:.3g})")
    report_lib.write_csv(os.path.join(directory, "summary.csv"), summary)
    report_lib.write_runs_csv(os.path.join(directory, "runs.csv"), runs)
    failures = [
        f"{row['schedule']} seed {row['seed']}: {row['error']}"
        for row in runs if row["status"] != "ok"
    ]
    failed_text = ("Failed runs (left out of the pairs):\n" + "\n".join(
        f"- {line}" for line in failures)) if failures else ""
    text = f"{plan.heading}\n\n{report_lib.markdown_table(header, body)}\n\n{_reading(settings)}\n"
    if failed_text:
        text += f"\n{failed_text}\n"
    with open(os.path.join(directory, "summary.md"), "w") as file:
        file.write(text)
    # The figure: the runs and seeds that finished.
    shown = {}
    for name, result in results.items():
        keep = [i for i, h in enumerate(result.histories) if h is not None]
        if keep:
            shown[name] = dataclasses.replace(
                result, seeds=[result.seeds[i] for i in keep],
                histories=[result.histories[i] for i in keep],
                rates=[result.rates[i] for i in keep],
            )
    figure = plot_comparison(
        shown, {name: summaries[name] for name in shown if summaries[name].seeds},
        baseline=baseline,
    )
    figure.savefig(os.path.join(directory, "comparison.png"), dpi=80)
    plt.close(figure)
    table = report_lib.format_table(header, body)
    report("")
    report(plan.heading)
    report(table)
    report(_reading(settings))
    if failed_text:
        report(failed_text)
    report("")
    report(f"Wrote {directory}: summary.md, summary.csv, runs.csv, comparison.png, "
           "experiment.json and one TensorBoard run per schedule and seed.")
    report(f"TensorBoard: {tensorboard_command(directory)}")
    return table


def _default_heading(settings):
    seeds = settings["seeds"]
    return (
        f"{settings['data_description']}; {settings['model']}, batch "
        f"{settings['batch_size']}, {settings['epochs']} epochs; "
        + (f"seeds {seeds[0]}-{seeds[-1]}: mean ± standard deviation."
           if len(seeds) > 1 else f"seed {seeds[0]}.")
    )


def _reading(settings):
    seeds = len(settings["seeds"])
    baseline = settings["baseline"]
    columns = (
        f"base = {baseline}. epochs to base: the first epoch at {baseline}'s "
        "best validation accuracy with the same seed ((k/n): k of n seeds got "
        f"there); speed-up: {baseline}'s epochs to that over the schedule's."
    )
    if settings.get("peaks"):
        columns += (
            f" peak rate: the best of the factors {settings['peaks']} of each "
            f"run's rate, by final validation accuracy with seed {settings['seeds'][0]}."
        )
    if seeds < 2:
        return (
            f"{columns} One seed: no estimate of seed noise, so no difference "
            "can be called real; use --seeds 3 or more."
        )
    return (
        f"{columns} Mean ± sd over {seeds} seeds. The last two columns are "
        "paired (each seed: the same initial weights and batch order for "
        f"every schedule): the mean difference from {baseline} (accuracy) or "
        f"ratio to it (final training loss) with its {stats.CONFIDENCE:.0%} "
        f"t interval ({seeds - 1} degrees of freedom); 'noise' where the "
        "interval holds no difference."
    )
