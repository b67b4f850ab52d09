"""Running the `keras-lr` command in the test's own process."""

import keras_lr_cli


def run_main(argv, capsys):
    """`(exit status, stdout, stderr)` of `keras-lr argv` in this process."""
    try:
        status = keras_lr_cli.main(argv)
    except SystemExit as exit:
        status = exit.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err
