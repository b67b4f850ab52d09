"""Starting Keras in a process, with TensorFlow's start-up lines hidden.

TensorFlow's C++ start-up writes a few lines to stderr before its logging is
set up, so `TF_CPP_MIN_LOG_LEVEL` cannot silence them: CUDA probing on a
machine without a GPU, and notes on CPU instructions. They say nothing about
the work; `start_keras` hides them and passes every other line through.

This module imports only the standard library until `start_keras` imports
keras_lr, because it runs before Keras is imported: importing it by name
would run `keras_lr/__init__.py`, and so import Keras, first. So it is run
from its file, by the `keras-lr` command (`keras_lr_cli`) before it imports
keras_lr, and by each worker process of the demo (`training.train_all`),
which also sets its one-thread environment here, before Keras starts.
"""

import contextlib
import os
import re
import sys
import tempfile

#: The `run_name` under which `training.train_all` runs this file as the
#: initializer of a worker (with `runpy.run_path`).
WORKER = "keras_lr_demo_worker"

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
def startup_lines_hidden():
    """Capture file descriptor 2 (C++ writes there, not to `sys.stderr`)
    and pass on everything but TensorFlow's start-up lines."""
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


def start_keras(environment=None):
    """Set `environment`, import keras_lr and start the Keras backend
    (TensorFlow probes its devices there), with TensorFlow's start-up lines
    hidden."""
    os.environ.update(environment or {})
    with startup_lines_hidden():
        import keras

        import keras_lr  # noqa: F401 (registers the schedules with Keras)

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.list_physical_devices()


if __name__ == WORKER:
    # Run from its file as a worker's initializer, with `worker_environment`
    # given in `init_globals` (see `training.train_all`).
    start_keras(globals()["worker_environment"])
