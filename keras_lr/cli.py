"""The `keras-lr` commands: list, plot, demo, compare, find and gallery.

The command line's front, `keras_lr_cli` (beside this package, so that
`--help` need not import Keras), parses the command line, refuses what it
can see alone (an unknown option, a number out of bounds, a config file that
cannot be read, an output path that cannot be written), and imports this
module to run the command: `run(args)`. Everything that needs keras_lr is
answered here, by keras_lr itself: the schedules `list` shows and `plot`
builds are those `keras_lr.schedules.get` builds by name, and its own checks
refuse a bad argument or config; the runs of `demo` are `keras_lr.demo.RUNS`.

A bad argument raises `UsageError` and a command that cannot do its work
`CommandFailed`; the front prints either as one line, with exit status 2 or
1. Only what building a schedule from the user's arguments raises becomes a
`UsageError`: an error anywhere else is a bug, and shows as one.

    python -m keras_lr plot cosine_annealing initial_learning_rate=0.1 decay_steps=1000
"""

import difflib
import inspect
import os
import re
import sys

import keras
import numpy as np

from keras_lr import schedules
from keras_lr.plot import plot_schedule

# What building or evaluating a schedule from the user's arguments raises
# when the arguments are wrong: reported as one line, exit status 2.
_BAD_ARGUMENT_ERRORS = (
    ValueError, TypeError, OverflowError, ArithmeticError, RecursionError,
)


class UsageError(Exception):
    """A bad name, value, file or path: one line and exit status 2."""


class CommandFailed(Exception):
    """The command could not do its work (e.g. no data): exit status 1."""


def run(args):
    """Run the command line `args`, parsed and checked by `keras_lr_cli`."""
    if getattr(args, "out", None) is not None and args.command not in ("demo", "compare"):
        _check_image_path(args.out)
    return {
        "list": _list, "plot": _plot, "demo": _demo, "compare": _compare,
        "find": _find,
        "gallery": _gallery,
    }[args.command](args)


def _check_image_path(path):
    """Refuse, before any work, an image name whose extension matplotlib
    cannot write (the front has checked the name and the folder)."""
    from matplotlib.backend_bases import FigureCanvasBase

    supported = sorted(FigureCanvasBase.get_supported_filetypes())
    extension = os.path.splitext(path)[1][1:].lower()
    if extension not in supported:
        what = f"an unsupported extension .{extension}" if extension else "no extension"
        formats = ", ".join("." + name for name in supported)
        raise UsageError(f"argument -o/--out: {path!r} has {what}; matplotlib writes {formats}")


# --- names: what the user meant ----------------------------------------------


def _either(words):
    words = [f"`{word}`" for word in words]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _close_names(text, names):
    """The names `text` was probably meant to be, best first."""
    key = text.strip().replace("-", "_")
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower()
    if snake in names:
        return [snake]
    contained = [name for name in names if len(snake) >= 3 and snake in name]
    close = difflib.get_close_matches(snake, names, n=3, cutoff=0.6)
    return list(dict.fromkeys(contained + close))[:3]


def _did_you_mean(text, names):
    close = _close_names(text, list(names))
    return f"; did you mean {_either(close)}?" if close else ""


def _parameters(cls):
    """`cls`'s constructor arguments, as `inspect.Parameter`s."""
    return [
        p for name, p in inspect.signature(cls.__init__).parameters.items()
        if name != "self"
    ]


# --- list ---------------------------------------------------------------------


def _format_list():
    # `get`'s own table of names: keras_lr has a drop-in for each of Keras's
    # names, so every name is keras_lr's class.
    lines = ["keras_lr schedules:"]
    for name, cls in schedules.by_name().items():
        parameters = _parameters(cls)
        required = [p.name for p in parameters if p.default is p.empty]
        optional = [f"{p.name}={p.default!r}" for p in parameters
                    if p.default is not p.empty]
        lines.append(f"  {name} ({cls.__name__})")
        lines.append(f"      {inspect.getdoc(cls).splitlines()[0]}")
        lines.append(f"      required: {', '.join(required) or '-'}")
        if optional:
            lines.append(f"      optional: {', '.join(optional)}")
    lines.append("")
    lines.append("Give the arguments as key=value; values are JSON (0.1, [50, 100], true):")
    lines.append("  keras-lr plot cosine_annealing initial_learning_rate=0.1 decay_steps=1000")
    return "\n".join(lines)


def _list(args):
    try:
        print(_format_list())
        sys.stdout.flush()
    except BrokenPipeError:  # `keras-lr list | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


# --- plot ---------------------------------------------------------------------


def _plot(args):
    source = args.schedule
    # `get`'s own table of names: it refuses any other name too, but the
    # command names the ones the user probably meant.
    names = schedules.by_name()
    if isinstance(args.identifier, str) and args.identifier not in names:
        raise UsageError(
            f"unknown schedule {args.identifier!r}"
            f"{_did_you_mean(args.identifier, names)} (`keras-lr list` shows "
            "every name and its arguments)"
        )
    try:
        schedule = schedules.get(args.identifier, **args.kwargs)
    except _BAD_ARGUMENT_ERRORS as error:
        raise UsageError(f"{source}: {error}{_argument_hint(args)}") from None
    steps = np.arange(args.steps)
    try:
        rates = schedules.evaluate(schedule, steps)
    except _BAD_ARGUMENT_ERRORS as error:
        raise UsageError(
            f"{source}: cannot evaluate {_describe(schedule)}: {error}"
        ) from None
    bad = np.flatnonzero(~np.isfinite(rates))
    if bad.size:
        raise UsageError(
            f"{source}: the learning rate is {rates[bad[0]]} at step {bad[0]} "
            f"({bad.size:,} of {rates.size:,} steps are not finite): "
            f"{_describe(schedule)}"
        )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = plot_schedule(schedule, steps, log_scale=args.log)
    ax.set_title(_describe(schedule), fontsize=8, wrap=True)
    ax.figure.tight_layout()
    _save(ax.figure, args.out)
    plt.close(ax.figure)
    print(_describe(schedule))
    shown = sorted({0, args.steps // 4, args.steps // 2, 3 * args.steps // 4,
                    args.steps - 1})
    for step in shown:
        print(f"  step {step:>8d}: {rates[step]:.6g}")
    print(f"Wrote {args.out}")
    return 0


def _argument_hint(args):
    """For an argument the named schedule does not take (which `get` has
    just refused), the arguments it was probably meant to be."""
    if not isinstance(args.identifier, str):
        return ""
    taken = [p.name for p in _parameters(schedules.by_name()[args.identifier])]
    unknown = [key for key in args.kwargs if key not in taken]
    return _did_you_mean(unknown[0], taken) if unknown else ""


def _describe(schedule):
    """`repr` for keras_lr's schedules; class and config for any other."""
    if isinstance(schedule, schedules.Schedule):
        return repr(schedule)
    arguments = ", ".join(f"{k}={v!r}" for k, v in schedule.get_config().items())
    return f"{type(schedule).__name__}({arguments})"


def _save(figure, path, dpi=110):
    """`savefig` to exactly `path`, in the format its extension names."""
    extension = os.path.splitext(path)[1][1:].lower()
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        figure.savefig(path, dpi=dpi, format=extension)
    except OSError as error:
        raise UsageError(
            f"-o {path!r}: cannot write there ({error.strerror or error})"
        ) from None


# --- demo and find ------------------------------------------------------------


def _demo(args):
    from keras_lr import demo

    for name in (name for group in args.schedules or () for name in group):
        if name not in demo.RUNS:
            raise UsageError(
                f"--schedules: unknown schedule {name!r}"
                f"{_did_you_mean(name, demo.RUNS)} (choose from "
                f"{', '.join(demo.RUNS)})"
            )
    seeds = demo.DEFAULT_SEEDS if args.seeds is None else args.seeds
    # The seeds NumPy's legacy `np.random.seed` (and so
    # `keras.utils.set_random_seed`) accepts.
    largest = int(np.iinfo(np.uint32).max)
    if args.seed + seeds - 1 > largest:
        raise UsageError(
            f"--seed {args.seed} with --seeds {seeds} goes past the largest "
            f"seed, {largest}"
        )
    try:
        plan = demo.plan_from_arguments(args)
    except demo.DataUnavailable as error:
        raise CommandFailed(error) from None
    except (ValueError, TypeError) as error:  # e.g. --resume with other settings
        raise UsageError(error) from None
    return _execute(plan)


def _resolve(reference, option):
    """The object `module:name` names; a bad one is a `UsageError`."""
    import importlib

    module_name, _, attribute = reference.partition(":")
    # As `python -m` does: the current directory's packages are importable.
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise UsageError(
                f"{option} {reference}: no module named {error.name!r} (from "
                f"{os.getcwd()})"
            ) from None
        raise UsageError(f"{option} {reference}: importing {module_name} raised "
                         f"{type(error).__name__}: {error}") from None
    except Exception as error:  # the user's module failed to import
        raise UsageError(f"{option} {reference}: importing {module_name} raised "
                         f"{type(error).__name__}: {error}") from None
    if not hasattr(module, attribute):
        raise UsageError(
            f"{option} {reference}: module {module_name!r} has no {attribute!r}"
            f"{_did_you_mean(attribute, [n for n in vars(module) if not n.startswith('_')])}"
        )
    return getattr(module, attribute)


def _function(reference, option):
    value = _resolve(reference, option)
    if not callable(value):
        raise UsageError(
            f"{option} {reference}: not a function (an {type(value).__name__})"
            if type(value).__name__[0] in "aeiou" else
            f"{option} {reference}: not a function (a {type(value).__name__})"
        )
    return value


def _compare_runs(args):
    from keras_lr import comparison

    runs = []
    for name in (name for group in args.runs or [["cosine", "one_cycle"]]
                 for name in group):
        if ":" in name:
            value = _resolve(name, "--runs")
            values = value if isinstance(value, (list, tuple)) else [value]
            if not all(isinstance(v, comparison.Run) for v in values):
                raise UsageError(
                    f"--runs {name}: must be a keras_lr.comparison.Run or a list of "
                    f"them, got {type(value).__name__}"
                )
            runs.extend(values)
        elif name not in comparison.RUNS:
            raise UsageError(
                f"--runs: unknown run {name!r}{_did_you_mean(name, comparison.RUNS)} "
                f"(choose from {', '.join(comparison.RUNS)}, or give module:name "
                "of a keras_lr.comparison.Run)"
            )
        else:
            runs.append(name)
    return runs


def _compare(args):
    from keras_lr.comparison import experiment

    build_model = _function(args.model, "model")
    data = _function(args.data, "--data")
    runs = _compare_runs(args)
    try:
        plan = experiment.prepare(
            build_model, data, runs, seeds=args.seeds, first_seed=args.seed,
            epochs=args.epochs, out=args.out, loss=args.loss,
            batch_size=args.batch_size, validation_split=args.validation_split,
            peaks=args.peaks, resume=args.resume, jobs=args.jobs,
            engine=args.engine, address=args.address,
            gpus_per_run=args.gpus_per_run, verbose=args.verbose,
        )
    except (ValueError, TypeError, ImportError) as error:
        raise UsageError(error) from None
    return _execute(plan)


def _execute(plan):
    """Train a prepared comparison (`demo`'s or `compare`'s)."""
    from keras_lr.comparison import experiment
    from keras_lr.comparison import ray_engine

    try:
        experiment.execute(plan)
    except ray_engine.Unreachable as error:  # --address, before any training
        raise UsageError(error) from None
    except RuntimeError as error:  # the baseline failed with every seed
        raise CommandFailed(error) from None
    return 0


def _find(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_lr import demo
    from keras_lr.finder import find_learning_rate

    # The test trains on the quick sample of MNIST.
    if args.batch_size > demo.QUICK_TRAIN:
        raise UsageError(
            f"--batch-size {args.batch_size:,} is more than the "
            f"{demo.QUICK_TRAIN:,} images the test trains on"
        )
    try:
        (x, y), _, description = demo.load_mnist(args.data, args.seed, quick=True)
    except demo.DataUnavailable as error:
        raise CommandFailed(error) from None
    print(f"{description}; {args.model}, SGD momentum 0.9, batch {args.batch_size}")
    keras.utils.set_random_seed(args.seed)
    model = demo.build_model(args.model)
    model.compile(
        optimizer=keras.optimizers.SGD(momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    result = find_learning_rate(
        model, x, y, batch_size=args.batch_size, num_steps=args.num_steps,
        start_lr=args.start_lr, end_lr=args.end_lr, seed=args.seed,
    )
    suggestion = result.suggestion()
    ax = result.plot()
    ax.set_title(f"LR range test: MNIST, {args.model}, SGD momentum 0.9")
    _save(ax.figure, args.out)
    plt.close(ax.figure)
    print(
        f"Suggested learning rate: {suggestion:.3g} (where the smoothed loss "
        "falls fastest)"
    )
    print(f"Wrote {args.out}")
    return 0


# --- gallery -----------------------------------------------------------------


def _gallery_schedules():
    """A panel title and an example for every schedule class: the gallery's
    panels, and the figure on each schedule's page of the documentation."""
    total = 1000
    cyclical = schedules.CyclicalLearningRate(
        0.01, 0.1, step_size=125, mode="triangular2"
    )
    one_cycle = schedules.OneCycle(0.1, total_steps=total)
    return {
        "Constant": schedules.Constant(0.05),
        "PiecewiseConstant": schedules.PiecewiseConstant(
            [250, 500, 750], [0.1, 0.05, 0.01, 0.005]
        ),
        "PiecewiseLinear": schedules.PiecewiseLinear(
            [0, 100, 600, 1000], [0.0, 0.1, 0.02, 0.0]
        ),
        "StepDecay": schedules.StepDecay(0.1, step_size=300, gamma=0.5),
        "MultiStepDecay": schedules.MultiStepDecay(0.1, [400, 800], gamma=0.3),
        "ExponentialDecay": schedules.ExponentialDecay(
            0.1, decay_rate=0.5, decay_steps=250, min_learning_rate=0.01
        ),
        "InverseTimeDecay": schedules.InverseTimeDecay(
            0.1, decay_rate=1.0, decay_steps=100
        ),
        "PolynomialDecay": schedules.PolynomialDecay(0.1, total, power=2.0),
        "CosineAnnealing": schedules.CosineAnnealing(0.1, total, 0.001),
        "CosineRestarts": schedules.CosineRestarts(
            0.1, first_decay_steps=150, t_mul=2.0, m_mul=0.8
        ),
        "CyclicalLearningRate": cyclical,
        "CyclicalMomentum (its momentum_schedule())":
            cyclical.momentum_schedule(),
        "OneCycle": one_cycle,
        "OneCycleMomentum (its momentum_schedule())":
            one_cycle.momentum_schedule(),
        "WarmupStableDecay": schedules.WarmupStableDecay(
            0.1, total, warmup_steps=100, decay_steps=200, decay_shape="1-sqrt"
        ),
        "Cooldown(Warmup(Constant)), 1-sqrt": schedules.Cooldown(
            schedules.Warmup(schedules.Constant(0.1), 50), start_step=700,
            decay_steps=300,
        ),
        "Warmup(InverseSqrtDecay)": schedules.Warmup(
            schedules.InverseSqrtDecay(0.1, timescale=100), warmup_steps=100
        ),
        "PowerDecay": schedules.PowerDecay(0.1, power=-0.5),
        "PowerAndLinearDecay": schedules.PowerAndLinearDecay(
            0.1, total_decay_steps=total, power=-0.5, linear_decay_fraction=0.2
        ),
        "Warmup(CosineAnnealing)": schedules.Warmup(
            schedules.CosineAnnealing(0.1, total - 100), warmup_steps=100
        ),
        "Warmup(CosineAnnealing(exponent=2)), polynomial overlay": schedules.Warmup(
            schedules.CosineAnnealing(0.1, total, exponent=2.0), warmup_steps=100,
            shape="polynomial", power=2.0, overlay=True,
        ),
        "Offset(StepDecay)": schedules.Offset(
            schedules.StepDecay(0.1, step_size=200, gamma=0.5), offset=200
        ),
        "Sequential(Constant, CosineAnnealing)": schedules.Sequential(
            [schedules.Constant(0.1), schedules.CosineAnnealing(0.1, 600)],
            boundaries=[400],
        ),
        "Epochs(StepDecay), 100 steps/epoch": schedules.Epochs(
            schedules.StepDecay(0.1, step_size=3, gamma=0.5), steps_per_epoch=100
        ),
        # Keras's names, as drop-ins.
        "PiecewiseConstantDecay": schedules.PiecewiseConstantDecay(
            [250, 500, 750], [0.1, 0.05, 0.01, 0.005]
        ),
        "CosineDecay, warmup_target=0.1": schedules.CosineDecay(
            0.0, total - 100, alpha=0.01, warmup_target=0.1, warmup_steps=100
        ),
        "CosineDecayRestarts": schedules.CosineDecayRestarts(
            0.1, first_decay_steps=150, t_mul=2.0, m_mul=0.8, alpha=0.01
        ),
    }


def gallery(out, steps=1000):
    """Write one image with a panel per schedule; returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    named = _gallery_schedules()
    columns = 4
    rows = -(-len(named) // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(4.2 * columns, 2.8 * rows), squeeze=False
    )
    for ax, (name, schedule) in zip(axes.flat, named.items()):
        plot_schedule(schedule, steps, ax=ax)
        ax.set_title(name, fontsize=10)
    for ax in list(axes.flat)[len(named):]:
        ax.axis("off")
    figure.tight_layout()
    _save(figure, out)
    plt.close(figure)
    return out


def _gallery(args):
    print(f"Wrote the schedule gallery to {gallery(args.out)}")
    return 0

