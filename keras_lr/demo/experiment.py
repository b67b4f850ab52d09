"""One invocation of the comparison: its directory, its runs, its outputs."""

import dataclasses
import datetime
import functools
import json
import math
import os
import platform
import shlex
import sys
import time

from keras_lr.demo import data as data_lib
from keras_lr.demo import report as report_lib
from keras_lr.demo import stats
from keras_lr.demo import tensorboard
from keras_lr.demo import training
from keras_lr.demo.runs import BASELINE
from keras_lr.demo.runs import RUNS
from keras_lr.demo.runs import make_run

DEFAULT_EPOCHS = 20
QUICK_EPOCHS = 3
DEFAULT_SEEDS = 3
OUT = os.path.join("runs", "mnist")
LATEST = "latest"
#: The tag `LearningRateLogger` writes the rate of every update under.
TAG = "learning_rate"


@dataclasses.dataclass
class ScheduleResult:
    """A schedule's runs: one history and one logged rate curve per seed."""

    name: str
    steps_per_epoch: int
    seeds: list
    histories: list
    #: Per seed, `(steps, rates)` as `LearningRateLogger` logged them.
    rates: list
    run_dirs: list
    wall_times: list


@dataclasses.dataclass
class Experiment:
    """What `compare` returns: where it wrote, and what it found."""

    directory: str
    settings: dict
    results: dict
    summaries: dict


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


def _experiment_dir(out, model, epochs, seeds, quick):
    """A new directory `<out>/<date-time>_<model>_<epochs>ep_<seeds>seeds`."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}_{model}_{epochs}ep_{_count(seeds, 'seed').replace(' ', '')}"
    base += "_quick" if quick else ""
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
    temporary = f"{link}.{os.getpid()}"
    try:
        os.symlink(target, temporary, target_is_directory=True)
        os.replace(temporary, link)
    except OSError:  # no symlinks here (Windows without the privilege)
        with open(os.path.join(out, "latest.txt"), "w") as file:
            file.write(target + "\n")


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


def compare(
    names=tuple(RUNS),
    epochs=DEFAULT_EPOCHS,
    out=OUT,
    data="auto",
    model="mlp",
    seeds=DEFAULT_SEEDS,
    first_seed=0,
    quick=False,
    jobs=None,
    verbose=False,
    report=None,
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

    Returns:
        An `Experiment`.
    """
    started = time.perf_counter()
    # Flushed: a line per run is the progress, also piped into a file.
    report = report or functools.partial(print, flush=True)
    names = list(dict.fromkeys(names))
    if BASELINE not in names:
        report(f"Adding {BASELINE!r}: every schedule is compared with it.")
    names = [BASELINE, *(name for name in names if name != BASELINE)]
    loaded, description, source_used = data_lib.load(
        data, first_seed, quick, notice=report
    )
    (x_train, _), _ = loaded
    steps_per_epoch = -(-len(x_train) // training.BATCH_SIZE)
    seed_list = list(range(first_seed, first_seed + seeds))
    directory = _experiment_dir(out, model, epochs, seeds, quick)
    settings = {
        "schedules": names,
        "model": model,
        "epochs": epochs,
        "seeds": seed_list,
        "data": source_used,
        "data_description": description,
        "data_seed": first_seed,
        "quick": quick,
        "batch_size": training.BATCH_SIZE,
        "steps_per_epoch": steps_per_epoch,
        "command": shlex.join(sys.argv),
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "versions": _versions(),
        "runs": {name: RUNS[name] for name in names},
    }
    with open(os.path.join(directory, "experiment.json"), "w") as file:
        json.dump(settings, file, indent=2)
    _point_latest(out, directory)
    jobs = jobs or training.default_jobs()
    tasks = [
        training.Task(
            name, seed, os.path.join(directory, name, f"seed-{seed}"),
            source_used, first_seed, quick, model, epochs, verbose,
        )
        for seed in seed_list
        for name in names
    ]
    report(
        f"{description}; {model}, batch {training.BATCH_SIZE}, {epochs} epochs "
        f"of {steps_per_epoch} steps; {_count(len(names), 'schedule')} x "
        f"{_count(seeds, 'seed')} = {_count(len(tasks), 'run')}, {jobs} at a "
        f"time, into {directory}"
    )
    trained_seconds = 0.0
    width = len(str(len(tasks)))
    for done, run in enumerate(training.train_all(tasks, jobs), start=1):
        # The runs left, `jobs` at a time, each as long as the mean so far
        # (the workers' start-up is behind us).
        trained_seconds += run.wall_time
        left = trained_seconds / done * math.ceil((len(tasks) - done) / jobs)
        history = run.history
        report(
            f"[{done:{width}d}/{len(tasks)}] {run.task.name:20s} seed {run.task.seed}  "
            f"val acc {100 * history['val_accuracy'][-1]:.2f} %  "
            f"loss {history['loss'][-1]:.4f}  {run.wall_time:5.1f} s"
            + (f"  about {report_lib.duration(left)} left" if done < len(tasks) else "")
        )
    # Read back from what the runs wrote: the same results as a later
    # `load_results` of this directory.
    _, results = load_results(directory)
    summaries = stats.summarize(
        {name: dict(zip(seed_list, r.histories)) for name, r in results.items()},
        BASELINE,
    )
    _write_tensorboard(settings, names, results, summaries, steps_per_epoch)
    _write_outputs(directory, settings, results, summaries, report)
    report(f"Done in {report_lib.duration(time.perf_counter() - started)}.")
    return Experiment(directory, settings, results, summaries)


def load_results(directory):
    """The `{schedule: ScheduleResult}` of a finished experiment directory."""
    with open(os.path.join(directory, "experiment.json")) as file:
        settings = json.load(file)
    results = {}
    for name in settings["schedules"]:
        run_dirs = [os.path.join(directory, name, f"seed-{seed}")
                    for seed in settings["seeds"]]
        records = []
        for run_dir in run_dirs:
            with open(os.path.join(run_dir, "history.json")) as file:
                records.append(json.load(file))
        results[name] = ScheduleResult(
            name, settings["steps_per_epoch"], settings["seeds"],
            [r["history"] for r in records],
            [
                tensorboard.read_scalars(os.path.join(run_dir, "train"), TAG)
                for run_dir in run_dirs
            ],
            run_dirs, [r["wall_time_s"] for r in records],
        )
    return settings, results


def _write_tensorboard(settings, names, results, summaries, steps_per_epoch):
    total = steps_per_epoch * settings["epochs"]
    runs = []
    for name in names:
        run = make_run(name, steps_per_epoch, settings["epochs"])
        schedule_class, schedule_config = run.schedule_config()
        peak = run.peak_learning_rate(total)
        summary = summaries[name]
        for index, seed in enumerate(settings["seeds"]):
            values = {
                "schedule": name,
                "optimizer": run.optimizer,
                "peak_learning_rate": peak,
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
            runs.append((results[name].run_dirs[index], values, metrics))
    tensorboard.write_hparams(settings, names, runs)


def _write_outputs(directory, settings, results, summaries, report):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_lr.plot import plot_comparison

    seeds = len(settings["seeds"])
    header = report_lib.headers(BASELINE, seeds)
    body = report_lib.rows(summaries, BASELINE)
    report_lib.write_csv(
        os.path.join(directory, "summary.csv"), summaries, BASELINE,
        {name: result.wall_times for name, result in results.items()},
    )
    report_lib.write_runs_csv(
        os.path.join(directory, "runs.csv"),
        [
            (
                name, seed, f"{summaries[name].final_val_accuracy[i]:.6g}",
                f"{summaries[name].best_val_accuracy[i]:.6g}",
                f"{summaries[name].final_loss[i]:.6g}",
                "" if summaries[name].epochs_to_baseline[i] is None
                else summaries[name].epochs_to_baseline[i],
                f"{result.wall_times[i]:.2f}",
                os.path.relpath(result.run_dirs[i], directory),
            )
            for name, result in results.items()
            for i, seed in enumerate(result.seeds)
        ],
    )
    heading = _heading(settings)
    with open(os.path.join(directory, "summary.md"), "w") as file:
        file.write(f"{heading}\n\n{report_lib.markdown_table(header, body)}\n\n"
                   f"{_reading(settings)}\n")
    figure = plot_comparison(results, summaries, baseline=BASELINE)
    figure.savefig(os.path.join(directory, "comparison.png"), dpi=80)
    plt.close(figure)
    report("")
    report(heading)
    report(report_lib.format_table(header, body))
    report(_reading(settings))
    report("")
    report(f"Wrote {directory}: summary.md, summary.csv, runs.csv, comparison.png, "
           "experiment.json and one TensorBoard run per schedule and seed.")
    report(f"TensorBoard: {tensorboard_command(directory)}")


def _heading(settings):
    seeds = settings["seeds"]
    return (
        f"{settings['data_description']}; {settings['model']}, batch "
        f"{settings['batch_size']}, {settings['epochs']} epochs; SGD with "
        "momentum 0.9 (cycled for one_cycle; AdamW and ScheduleFreeAdamW where "
        f"named); seeds {seeds[0]}-{seeds[-1]}: mean ± standard deviation."
        if len(seeds) > 1 else
        f"{settings['data_description']}; {settings['model']}, batch "
        f"{settings['batch_size']}, {settings['epochs']} epochs; seed {seeds[0]}."
    )


def _reading(settings):
    seeds = len(settings["seeds"])
    columns = (
        f"base = {BASELINE}. epochs to base: the first epoch at {BASELINE}'s "
        "best validation accuracy with the same seed ((k/n): k of n seeds got "
        f"there); speed-up: {BASELINE}'s epochs to that over the schedule's."
    )
    if seeds < 2:
        return (
            f"{columns} One seed: no estimate of seed noise, so no difference "
            "can be called real; use --seeds 3 or more."
        )
    return (
        f"{columns} Mean ± sd over {seeds} seeds. The last two columns are "
        "paired (each seed: the same initial weights and batch order for "
        f"every schedule): the mean difference from {BASELINE} (accuracy) or "
        f"ratio to it (final training loss) with its {stats.CONFIDENCE:.0%} "
        f"t interval ({seeds - 1} degrees of freedom); 'noise' where the "
        "interval holds no difference."
    )
