"""The `keras-lr` command line.

Most checks call `keras_lr.cli.main` in this process; a few run the real
command in a subprocess to see its exit status and that no traceback
reaches the user.
"""

import importlib.metadata
import inspect
import json
import math
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_lr import cli
from keras_lr import schedules


def run_main(argv, capsys):
    """`(exit status, stdout, stderr)` of `keras-lr argv` in this process."""
    try:
        status = cli.main(argv)
    except SystemExit as exit:
        status = exit.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def printed_rates(out):
    """`{step: rate}` from the lines `  step N: rate` that `plot` prints."""
    rates = {}
    for line in out.splitlines():
        if line.strip().startswith("step "):
            step, rate = line.split("step", 1)[1].split(":")
            rates[int(step)] = float(rate)
    return rates


def test_console_script_points_at_main():
    (script,) = [
        entry
        for entry in importlib.metadata.entry_points(group="console_scripts")
        if entry.name == "keras-lr"
    ]
    assert script.value == "keras_lr.cli:main"


def test_list_names_every_schedule_with_its_parameters(capsys):
    status, out, _ = run_main(["list"], capsys)
    assert status == 0
    lines = out.splitlines()
    for cls in schedules.ALL_SCHEDULES:
        name = schedules.snake_case(cls.__name__)
        parameters = list(inspect.signature(cls.__init__).parameters)[1:]
        (index,) = [i for i, line in enumerate(lines) if line.startswith(name + " ")]
        assert lines[index].endswith("(" + ", ".join(parameters) + ")")
        # The description under it is the docstring's first line.
        assert lines[index + 1].strip() == cls.__doc__.strip().splitlines()[0]


@pytest.mark.parametrize("command", [[], ["list"], ["plot"], ["demo"], ["find"],
                                     ["gallery"]])
def test_help_everywhere(command, capsys):
    status, out, _ = run_main([*command, "--help"], capsys)
    assert status == 0
    assert out.startswith("usage: keras-lr")


def test_plot_by_name_writes_the_png_and_prints_the_rates(tmp_path, capsys):
    out_png = tmp_path / "lr.png"
    status, out, _ = run_main(
        ["plot", "cosine_annealing", "initial_learning_rate=0.1",
         "decay_steps=100", "--steps", "101", "-o", str(out_png)],
        capsys,
    )
    assert status == 0
    rates = printed_rates(out)
    assert sorted(rates) == [0, 25, 50, 75, 100]
    for step, rate in rates.items():
        assert rate == pytest.approx(0.05 * (1 + math.cos(math.pi * step / 100)),
                                     rel=1e-5, abs=1e-12)
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_parses_list_values(tmp_path, capsys):
    status, out, _ = run_main(
        ["plot", "piecewise_constant", "boundaries=[50, 100]",
         "values=[0.1, 0.01, 0.001]", "--steps", "200",
         "-o", str(tmp_path / "p.png")],
        capsys,
    )
    assert status == 0
    assert printed_rates(out) == {0: 0.1, 50: 0.01, 100: 0.001, 150: 0.001,
                                  199: 0.001}


def test_plot_from_a_serialized_config_file(tmp_path, capsys):
    schedule = schedules.Warmup(schedules.CosineAnnealing(0.1, 90), warmup_steps=10)
    config = tmp_path / "schedule.json"
    config.write_text(json.dumps(keras.saving.serialize_keras_object(schedule)))
    status, out, _ = run_main(
        ["plot", str(config), "--steps", "100", "-o", str(tmp_path / "w.png")],
        capsys,
    )
    assert status == 0
    rates = printed_rates(out)
    expected = schedule.numpy(sorted(rates))
    np.testing.assert_allclose([rates[s] for s in sorted(rates)], expected, rtol=1e-5)
    assert rates[0] == 0.0 and rates[25] == pytest.approx(0.1 * math.cos(
        math.pi * 15 / 180) ** 2, rel=1e-5)


@pytest.mark.parametrize(
    "argv, names",
    [
        (["plot", "nope"], "identifier"),
        (["plot", "cosine_annealing", "initial_learning_rate=0.1",
          "decay_steps=0"], "decay_steps"),
        (["plot", "cosine_annealing", "decay_steps"], "key=value"),
        (["plot", "step_decay", "initial_learning_rate=0.1"], "step_size"),
        (["plot", "constant", "learning_rate=0.1", "--steps", "0"], "--steps"),
        (["demo", "--schedules", "cosine,nope"], "'nope'"),
        (["demo", "--epochs", "0"], "--epochs"),
        (["demo", "--epochs", "-3"], "--epochs"),
        (["demo", "--data", "imagenet"], "--data"),
        (["find", "--start-lr", "1", "--end-lr", "0.1"], "--start-lr"),
        (["find", "--num-steps", "2"], "--num-steps"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(argv, names, capsys):
    status, out, err = run_main(argv, capsys)
    assert status == 2
    assert names in err
    assert len(err.strip().splitlines()) == 1
    assert out == ""


def test_unwritable_output_directory_fails_before_training(tmp_path, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("")
    status, out, err = run_main(["demo", "--out", str(a_file / "runs")], capsys)
    assert status == 2
    assert "--out" in err and len(err.strip().splitlines()) == 1
    assert out == ""


@pytest.mark.parametrize(
    "argv, names",
    [
        (["demo", "--quick", "--schedules", "nope"], "'nope'"),
        (["plot", "cosine_annealing", "initial_learning_rate=0.1",
          "decay_steps=-1"], "decay_steps"),
    ],
)
def test_the_real_command_exits_2_without_a_traceback(argv, names):
    result = subprocess.run(
        [sys.executable, "-m", "keras_lr.cli", *argv],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    (line,) = [
        line for line in result.stderr.splitlines()
        if line.startswith("keras-lr ")
    ]
    assert names in line


def test_find_writes_the_plot_and_suggests_a_rate_in_range(tmp_path, capsys):
    out_png = tmp_path / "find.png"
    status, out, _ = run_main(
        ["find", "--data", "subset", "-o", str(out_png)], capsys
    )
    assert status == 0
    (line,) = [line for line in out.splitlines() if line.startswith("Suggested")]
    suggestion = float(line.split(":")[1].split()[0])
    assert 1e-3 <= suggestion <= 1.0
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
