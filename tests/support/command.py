"""Running the `keras-lr` command: in the test's own process, or as the
real command in a fresh one."""

import subprocess
import sys

import keras_lr_cli
from tests.support.paths import ROOT


def run_main(argv, capsys):
    """`(exit status, stdout, stderr)` of `keras-lr argv` in this process.

    Keras is started first as the command starts it, and what that prints
    is dropped: TensorFlow probes its devices once per process, and where
    this process imported TensorFlow before (the test module did), the
    probe's failed-cuInit line comes alone, which the command's start-up
    keeps (it hides it only beside the no-driver line of the import). So
    what a test captures is the command's output alone, whether or not an
    earlier test in the process probed the devices.
    """
    from keras_lr.demo import startup

    startup.start_keras()
    capsys.readouterr()
    try:
        status = keras_lr_cli.main(argv)
    except SystemExit as exit:
        status = exit.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def run_command(argv, module="keras_lr_cli", env=None):
    """The real command in a fresh process, from this source tree."""
    return subprocess.run(
        [sys.executable, "-m", module, *argv],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=env,
    )
