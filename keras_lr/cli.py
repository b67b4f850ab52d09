"""The `keras-lr` commands that need Keras: plot, demo, find and gallery.

The command line itself (parsing, `--help`, `list` and every check of a
name, value, file or path) is `keras_lr_cli`, which imports no Keras and
imports this module only once the arguments are known to be good. See
`keras_lr_cli` for the usage.

    python -m keras_lr.cli plot cosine_annealing initial_learning_rate=0.1 decay_steps=1000
"""

import inspect
import os
import pprint
import sys

import keras
import numpy as np

from keras_lr import schedules
from keras_lr.plot import plot_schedule
from keras_lr_cli import ArgumentParser  # noqa: F401 (the examples' parser)
from keras_lr_cli import CommandFailed
from keras_lr_cli import UsageError
from keras_lr_cli import main

# What building or evaluating a schedule from the user's arguments raises
# when the arguments are wrong: reported as one line, exit status 2.
_BAD_ARGUMENT_ERRORS = (
    ValueError, TypeError, OverflowError, ArithmeticError, RecursionError,
)


def start_backend():
    """Start the Keras backend now (TensorFlow probes its devices here)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.list_physical_devices()


def run(args):
    """Run the checked command line `args` (from `keras_lr_cli.main`)."""
    return {"plot": _plot, "demo": _demo, "find": _find, "gallery": _gallery}[
        args.command
    ](args)


# --- the static tables of keras_lr_cli --------------------------------------


def _rows(classes, package):
    rows = []
    for cls in classes:
        parameters = tuple(
            (name, None if p.default is p.empty else repr(p.default))
            for name, p in inspect.signature(cls.__init__).parameters.items()
            if name != "self"
        )
        summary = inspect.getdoc(cls).splitlines()[0]
        rows.append(
            (schedules.snake_case(cls.__name__), cls.__name__, package, summary,
             parameters)
        )
    return rows


def schedule_table():
    """`keras_lr_cli.SCHEDULES`, computed from the schedule classes."""
    ours = _rows(schedules.ALL_SCHEDULES, "keras_lr")
    taken = {row[0] for row in ours}
    theirs = [
        row for row in _rows(schedules._KERAS_SCHEDULES, "keras")
        if row[0] not in taken
    ]
    return tuple(ours + theirs)


def keras_class_table():
    """`keras_lr_cli.KERAS_CLASSES`, computed from Keras's schedule classes."""
    return {row[1]: row[4] for row in _rows(schedules._KERAS_SCHEDULES, "keras")}


def schedule_table_source():
    """The Python source of both tables, to paste into `keras_lr_cli.py`."""
    rows = ",\n".join(
        "    " + pprint.pformat(row, width=84).replace("\n", "\n    ")
        for row in schedule_table()
    )
    classes = ",\n".join(
        f"    {name!r}: "
        + pprint.pformat(parameters, width=80 - len(name)).replace(
            "\n", "\n" + " " * (len(name) + 8)
        )
        for name, parameters in keras_class_table().items()
    )
    return f"SCHEDULES = (\n{rows},\n)\n\nKERAS_CLASSES = {{\n{classes},\n}}\n"


# --- plot ---------------------------------------------------------------------


def _plot(args):
    source = args.schedule
    try:
        schedule = schedules.get(args.identifier, **args.kwargs)
    except _BAD_ARGUMENT_ERRORS as error:
        raise UsageError(f"{source}: {error}") from None
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
        figure.savefig(path, dpi=dpi, format=extension)
    except OSError as error:
        raise UsageError(
            f"-o {path!r}: cannot write there ({error.strerror or error})"
        ) from None


# --- demo and find ------------------------------------------------------------


def _demo(args):
    from keras_lr import demo

    try:
        demo.run_from_arguments(args)
    except demo.DataUnavailable as error:
        raise CommandFailed(error) from None
    return 0


def _find(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_lr import demo
    from keras_lr.finder import find_learning_rate

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
    total = 1000
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
        "CyclicalLearningRate": schedules.CyclicalLearningRate(
            0.01, 0.1, step_size=125, mode="triangular2"
        ),
        "OneCycle": schedules.OneCycle(0.1, total_steps=total),
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
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    _save(figure, out)
    plt.close(figure)
    return out


def _gallery(args):
    print(f"Wrote the schedule gallery to {gallery(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
