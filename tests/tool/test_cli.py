"""The `keras-lr` command line (its front `keras_lr_cli`, with the commands
in `keras_lr.cli`).

Most checks call `keras_lr_cli.main` in this process; the rest run the real
command in a subprocess, to see its exit status, its whole stderr, and
which modules it imported.
"""

import argparse
import ast
import inspect
import json
import math
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_lr_cli
from keras_lr import demo
from keras_lr import schedules
from keras_lr.demo import startup
from tests.support.command import run_command
from tests.support.command import run_main
from tests.support.paths import ROOT


def printed_rates(out):
    """`{step: rate}` from the lines `  step N: rate` that `plot` prints."""
    rates = {}
    for line in out.splitlines():
        if line.strip().startswith("step "):
            step, rate = line.split("step", 1)[1].split(":")
            rates[int(step)] = float(rate)
    return rates


# --- the demo's options ----------------------------------------------------------


def test_every_demo_option_reaches_the_plan(monkeypatch):
    # Every option reaches the demo's `plan` with its parsed value.
    received = []
    monkeypatch.setattr(
        "keras_lr.demo.plan", lambda *args, **kwargs: received.append((args, kwargs))
    )
    parser = argparse.ArgumentParser()
    keras_lr_cli._add_demo_arguments(parser)
    args = parser.parse_args([
        "--schedules", "cosine,constant", "linear", "--epochs", "7", "--out", "o",
        "--data", "subset", "--model", "cnn", "--seeds", "4", "--seed", "9",
        "--jobs", "3", "--quick", "--verbose", "--peaks", "0.5", "2", "--resume",
    ])
    keras_lr_cli._check_peaks(args)
    demo.plan_from_arguments(args)
    assert received == [(
        (["cosine", "constant", "linear"], 7, "o", "subset", "cnn", 4, 9, True, 3,
         True),
        {"peaks": [0.5, 2.0], "resume": True},
    )]
    received.clear()
    args = parser.parse_args(["--quick", "--peaks", "3"])
    keras_lr_cli._check_peaks(args)
    demo.plan_from_arguments(args)
    assert received == [(
        (list(demo.RUNS), demo.QUICK_EPOCHS, os.path.join("runs", "mnist"), "auto",
         "mlp", demo.DEFAULT_SEEDS, 0, True, None, False),
        {"peaks": 3, "resume": False},
    )]


# --- list and help -------------------------------------------------------------


def test_list_shows_every_argument_its_default_and_what_is_required(capsys):
    status, out, _ = run_main(["list"], capsys)
    assert status == 0
    lines = out.splitlines()
    for name, cls in schedules.by_name().items():
        (index,) = [
            i for i, line in enumerate(lines)
            if line == f"  {name} ({cls.__name__})"
        ]
        assert lines[index + 1].strip() == inspect.getdoc(cls).splitlines()[0]
        parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
        required = [p.name for p in parameters if p.default is p.empty]
        optional = [f"{p.name}={p.default!r}" for p in parameters
                    if p.default is not p.empty]
        assert lines[index + 2] == f"      required: {', '.join(required)}"
        if optional:
            assert lines[index + 3] == f"      optional: {', '.join(optional)}"
        else:
            assert not lines[index + 3].startswith("      optional")


def test_list_shows_keras_lr_defaults(capsys):
    _, out, _ = run_main(["list"], capsys)
    lines = out.splitlines()
    # No empty section: every heading is followed by an entry.
    for i, line in enumerate(lines):
        if line.endswith(":") and not line.startswith(" "):
            assert lines[i + 1].startswith("  "), line
    index = lines.index("  one_cycle (OneCycle)")
    assert lines[index + 2] == "      required: maximal_learning_rate, total_steps"
    assert lines[index + 3] == (
        "      optional: pct_start=0.3, anneal_strategy='cos', div_factor=25.0, "
        "final_div_factor=10000.0, three_phase=False"
    )


@pytest.mark.parametrize("command", [[], ["list"], ["plot"], ["demo"], ["find"],
                                     ["gallery"]])
def test_help_everywhere(command, capsys):
    status, out, _ = run_main([*command, "--help"], capsys)
    assert status == 0
    assert out.startswith("usage: keras-lr")


def test_help_states_the_bounds(capsys):
    _, out, _ = run_main(["plot", "--help"], capsys)
    assert "at most 10,000,000" in " ".join(out.split())
    _, out, _ = run_main(["find", "--help"], capsys)
    assert "3 to 10,000" in " ".join(out.split())
    assert "0 to 4294967295" in out


# What must answer without importing Keras, or anything heavy: in a fresh
# process, the modules imported say so (a wall time would be flaky on a
# loaded machine).
_LIGHT = """
import contextlib, io, json, sys
import keras_lr_cli
results = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            status = keras_lr_cli.main(argv)
        except SystemExit as exit:
            status = exit.code
    heavy = sorted({m.split(".")[0] for m in sys.modules} & {
        "keras", "keras_lr", "tensorflow", "jax", "torch", "numpy", "matplotlib"})
    results.append([status, err.getvalue(), heavy])
print(json.dumps(results))
"""


def run_light(argvs):
    result = subprocess.run(
        [sys.executable, "-c", _LIGHT, json.dumps(argvs)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_help_and_version_import_no_keras():
    argvs = [["--help"], ["--version"], ["list", "--help"], ["plot", "--help"],
             ["demo", "--help"], ["find", "--help"], ["gallery", "--help"]]
    for argv, (status, err, heavy) in zip(argvs, run_light(argvs)):
        assert (status, err, heavy) == (0, "", []), argv


def test_version_is_keras_lr_s(capsys):
    import keras_lr

    status, out, _ = run_main(["--version"], capsys)
    assert status == 0
    assert out == f"keras-lr {keras_lr.__version__}\n"


# --- plot ------------------------------------------------------------------------


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


def test_plot_a_keras_builtin_by_name_gives_keras_rates(tmp_path, capsys):
    status, out, _ = run_main(
        ["plot", "cosine_decay", "initial_learning_rate=0.1", "decay_steps=100",
         "warmup_target=0.2", "warmup_steps=20", "--steps", "200",
         "-o", str(tmp_path / "k.png")],
        capsys,
    )
    assert status == 0
    reference = keras.optimizers.schedules.CosineDecay(
        0.1, 100, warmup_target=0.2, warmup_steps=20
    )
    rates = printed_rates(out)
    assert sorted(rates) == [0, 50, 100, 150, 199]
    for step, rate in rates.items():
        assert rate == pytest.approx(float(reference(step)), rel=1e-5, abs=1e-9)
    assert out.splitlines()[0].startswith("CosineDecay(initial_learning_rate=0.1,")


@pytest.mark.parametrize(
    "name, magic",
    [("lr.png", b"\x89PNG"), ("lr.svg", b"<?xml"), ("lr.pdf", b"%PDF"),
     ("lr.jpg", b"\xff\xd8\xff"), ("my.lr.v2.PNG", b"\x89PNG")],
)
def test_out_writes_exactly_the_path_given(name, magic, tmp_path, capsys):
    out_file = tmp_path / "sub" / name
    status, out, _ = run_main(
        ["plot", "constant", "learning_rate=0.1", "--steps", "10",
         "-o", str(out_file)],
        capsys,
    )
    assert status == 0
    assert out.splitlines()[-1] == f"Wrote {out_file}"
    assert os.listdir(out_file.parent) == [name]
    assert out_file.read_bytes().startswith(magic)


# --- every bad input: one line, exit status 2, before any work -------------------

# (id, argv, a fragment of the one line, whether it is refused before Keras
# is imported: what the parser sees alone is; what needs keras_lr's classes
# or the demo's runs is refused by them, after the import). `{tmp}` is a
# fresh directory; `{out}` a file in it that must not exist afterwards;
# `{long}` a 300-character name.
_O = ["-o", "{out}"]
FUZZ = [
    ("unknown name", ["plot", "cosine", *_O],
     "did you mean `cosine_annealing`", False),
    ("class name", ["plot", "CosineAnnealing", *_O],
     "did you mean `cosine_annealing`?", False),
    ("nothing close", ["plot", "nope", *_O], "unknown schedule 'nope'", False),
    ("missing config", ["plot", "missing.json", *_O],
     "no such file: 'missing.json'", True),
    ("missing config path", ["plot", "{tmp}/nope/s.json", *_O], "no such file", True),
    ("300-character config name", ["plot", "{long}.json", *_O], "no such file", True),
    ("300-character name", ["plot", "{long}", *_O], "unknown schedule", False),
    ("config is a directory", ["plot", "{tmp}", *_O], "is a directory", True),
    ("1e400", ["plot", "cosine_annealing", "initial_learning_rate=1e400",
               "decay_steps=10", *_O], "must be a non-negative finite number", False),
    ("10**400", ["plot", "cosine_annealing", "initial_learning_rate=1" + "0" * 400,
                 "decay_steps=10", *_O], "must be a non-negative finite number",
     False),
    ("NaN value", ["plot", "constant", "learning_rate=NaN", *_O],
     "learning_rate=nan", False),
    ("text rate", ["plot", "cosine_annealing", "initial_learning_rate=abc",
                   "decay_steps=10", *_O], "initial_learning_rate", False),
    ("zero decay steps", ["plot", "cosine_annealing", "initial_learning_rate=0.1",
                          "decay_steps=0", *_O], "decay_steps", False),
    ("negative decay steps", ["plot", "cosine_annealing",
                              "initial_learning_rate=0.1", "decay_steps=-1", *_O],
     "decay_steps", False),
    ("unknown argument", ["plot", "cosine_annealing", "initial_learning_rate=0.1",
                          "decay_step=10", *_O], "did you mean `decay_steps`?", False),
    ("missing argument", ["plot", "step_decay", "initial_learning_rate=0.1", *_O],
     "Argument `step_size` of StepDecay is required", False),
    ("argument twice", ["plot", "constant", "learning_rate=0.1",
                        "learning_rate=0.2", *_O], "given twice", True),
    ("not key=value", ["plot", "cosine_annealing", "decay_steps", *_O],
     "key=value", True),
    ("keras name, text rate", ["plot", "cosine_decay", "initial_learning_rate=abc",
                               "decay_steps=10", *_O],
     "Argument `initial_learning_rate` must be", False),
    ("--steps 400000000", ["plot", "constant", "learning_rate=0.1", "--steps",
                           "400000000", *_O], "--steps", True),
    ("--steps 1e400", ["plot", "constant", "learning_rate=0.1", "--steps", "1e400",
                       *_O], "--steps", True),
    ("--steps 0", ["plot", "constant", "learning_rate=0.1", "--steps", "0", *_O],
     "--steps", True),
    ("-o lr.xyz", ["plot", "constant", "learning_rate=0.1", "-o", "{tmp}/lr.xyz"],
     "unsupported extension .xyz; matplotlib writes .avif, .eps", False),
    ("-o no extension", ["plot", "constant", "learning_rate=0.1", "-o", "{tmp}/lr"],
     "has no extension", False),
    ("-o directory", ["plot", "constant", "learning_rate=0.1", "-o", "{tmp}"],
     "is a directory", True),
    ("-o ''", ["plot", "constant", "learning_rate=0.1", "-o", ""],
     "got an empty name", True),
    ("-o 300 characters", ["plot", "constant", "learning_rate=0.1", "-o",
                           "{tmp}/{long}.png"], "File name too long", True),
    ("-o under a file", ["plot", "constant", "learning_rate=0.1", "-o",
                         "{tmp}/text.txt/lr.png"], "cannot write there", True),
    ("string rate config", ["plot", "{tmp}/string_rate.json", *_O],
     "initial_learning_rate", False),
    ("keras string rate config", ["plot", "{tmp}/keras_string_rate.json", *_O],
     "Argument `initial_learning_rate` must be a finite number", False),
    ("deeply nested config", ["plot", "{tmp}/deep.json", *_O], "nests deeper", True),
    ("config nested past 64", ["plot", "{tmp}/deep_32_warmups.json", *_O],
     "nested at most 64 levels deep", False),
    ("deeply nested JSON", ["plot", "{tmp}/deep_list.json", *_O],
     "nests deeper", True),
    ('"registered_name": 3', ["plot", "{tmp}/registered_name.json", *_O],
     "`identifier['registered_name']` must be a string or None", False),
    ('"config": "x"', ["plot", "{tmp}/config_text.json", *_O],
     "`identifier['config']` must be a dict", False),
    ("keras NaN rate", ["plot", "{tmp}/keras_nan.json", *_O],
     "initial_learning_rate=nan", False),
    ("keras inf rate", ["plot", "{tmp}/keras_inf.json", *_O],
     "initial_learning_rate=inf", False),
    ("keras rate growing to inf", ["plot", "{tmp}/keras_growing.json", *_O],
     "the learning rate is inf at step", False),
    ("10**400 in a config", ["plot", "{tmp}/big_int.json", *_O],
     "must be a non-negative finite number", False),
    ("foreign class", ["plot", "{tmp}/foreign.json", *_O],
     "Only keras_lr and Keras built-in", False),
    ("not JSON", ["plot", "{tmp}/not_json.json", *_O], "not valid JSON", True),
    ("not text", ["plot", "{tmp}/binary.json", *_O], "not UTF-8 text", True),
    ("not a config", ["plot", "{tmp}/list.json", *_O],
     "must be a schedule name, a config dict", False),
    ("config and key=value", ["plot", "{tmp}/list.json", "gamma=0.1", *_O],
     "only go with a schedule name", True),
    ("find --seed -1", ["find", "--seed", "-1", *_O], "--seed", True),
    ("find --seed 99999999999", ["find", "--seed", "99999999999", *_O],
     "0 to 4294967295", True),
    ("find --num-steps 1e9", ["find", "--num-steps", "1e9", *_O], "--num-steps", True),
    ("find --num-steps 2", ["find", "--num-steps", "2", *_O], "--num-steps", True),
    ("find --batch-size 2**40", ["find", "--batch-size", str(2**40), *_O],
     "--batch-size", False),
    ("find --batch-size 0", ["find", "--batch-size", "0", *_O], "--batch-size", True),
    ("find rates reversed", ["find", "--start-lr", "1", "--end-lr", "0.1", *_O],
     "--start-lr", True),
    ("find --end-lr inf", ["find", "--end-lr", "inf", *_O], "--end-lr", True),
    ("find -o directory", ["find", "-o", "{tmp}"], "is a directory", True),
    ("demo --seed -1", ["demo", "--seed", "-1", "--out", "{out}"], "--seed", True),
    ("demo --seed 99999999999", ["demo", "--seed", "99999999999", "--out", "{out}"],
     "--seed", True),
    ("demo --epochs 0", ["demo", "--epochs", "0", "--out", "{out}"], "--epochs", True),
    ("demo --epochs -3", ["demo", "--epochs", "-3", "--out", "{out}"],
     "--epochs", True),
    ("demo --epochs 1e9", ["demo", "--epochs", "1e9", "--out", "{out}"],
     "--epochs", True),
    ("demo unknown run", ["demo", "--schedules", "cosine,nope", "--out", "{out}"],
     "'nope'", False),
    ("demo misspelt run", ["demo", "--schedules", "one-cycle", "--out", "{out}"],
     "did you mean `one_cycle`?", False),
    ("demo --data", ["demo", "--data", "imagenet", "--out", "{out}"], "--data", True),
    ("demo --seeds 0", ["demo", "--seeds", "0", "--out", "{out}"], "--seeds", True),
    ("demo --seeds 1000", ["demo", "--seeds", "1000", "--out", "{out}"],
     "--seeds", True),
    ("demo --jobs 0", ["demo", "--jobs", "0", "--out", "{out}"], "--jobs", True),
    ("demo seeds past the largest",
     ["demo", "--seed", "4294967295", "--seeds", "2", "--out", "{out}"],
     "largest seed", False),
    ("demo default seeds past the largest",
     ["demo", "--seed", "4294967295", "--out", "{out}"], "largest seed", False),
    ("demo --out in a new directory, then a bad run",
     ["demo", "--schedules", "nope", "--out", "{out}/runs"], "'nope'", False),
    ("demo --out under a file", ["demo", "--out", "{tmp}/text.txt/runs"],
     "--out", True),
    ("gallery -o lr.xyz", ["gallery", "-o", "{tmp}/g.xyz"], ".xyz", False),
]


def _write_fuzz_files(tmp):
    def write(name, text):
        path = os.path.join(tmp, name)
        with open(path, "wb" if isinstance(text, bytes) else "w") as file:
            file.write(text)

    keras_cosine = ('{"module": "keras.optimizers.schedules", "class_name": '
                    '"CosineDecay", "registered_name": null, "config": ')
    write("string_rate.json", json.dumps({"class_name": "CosineAnnealing", "config": {
        "initial_learning_rate": "0.1", "decay_steps": 100}}))
    write("keras_string_rate.json",
          keras_cosine + '{"initial_learning_rate": "0.1", "decay_steps": 100}}')
    write("keras_nan.json",
          keras_cosine + '{"initial_learning_rate": NaN, "decay_steps": 100}}')
    write("keras_inf.json",
          keras_cosine + '{"initial_learning_rate": 1e400, "decay_steps": 100}}')
    write("keras_growing.json", json.dumps({
        "module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
        "registered_name": None, "config": {
            "initial_learning_rate": 0.1, "decay_steps": 1, "decay_rate": 1e10}}))
    nested = '{"class_name": "Constant", "config": {"learning_rate": 0.1}}'
    for count in range(3000):
        if count == 32:  # each Warmup is two dicts: 66 levels
            write("deep_32_warmups.json", nested)
        nested = ('{"class_name": "Warmup", "config": {"schedule": '
                  f'{nested}, "warmup_steps": 1}}}}')
    write("deep.json", nested)
    write("deep_list.json", "[" * 100_000 + "]" * 100_000)
    write("registered_name.json", json.dumps(
        {"class_name": "CosineAnnealing", "registered_name": 3, "config": {}}))
    write("config_text.json", json.dumps({"class_name": "Warmup", "config": "x"}))
    write("big_int.json", '{"class_name": "CosineAnnealing", "config": '
          '{"initial_learning_rate": 1' + "0" * 400 + ', "decay_steps": 10}}')
    write("foreign.json", json.dumps({"class_name": "os.system", "config": {}}))
    write("not_json.json", "{not json")
    write("binary.json", b"\xff\xfe\x00\x01")
    write("list.json", "[1, 2]")
    write("text.txt", "")


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("fuzz"))
    _write_fuzz_files(tmp)
    return tmp


def _argv(argv, tmp):
    out = os.path.join(tmp, "out.png")
    return [a.format(tmp=tmp, out=out, long="a" * 300) for a in argv], out


@pytest.mark.parametrize("argv, fragment, light", [row[1:] for row in FUZZ],
                         ids=[row[0] for row in FUZZ])
def test_bad_input_is_one_line_and_exit_status_2(argv, fragment, light, fuzz_dir,
                                                 capsys):
    argv, out = _argv(argv, fuzz_dir)
    status, printed, err = run_main(argv, capsys)
    assert status == 2
    assert printed == ""
    assert "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.startswith(f"keras-lr {argv[0]}: error: ")
    assert fragment in line
    assert not os.path.exists(out)


def test_bad_input_found_before_keras_is_imported(fuzz_dir):
    rows = [row for row in FUZZ if row[3]]
    results = run_light([_argv(row[1], fuzz_dir)[0] for row in rows])
    for row, (status, err, heavy) in zip(rows, results):
        assert status == 2, row[0]
        assert row[2] in err, row[0]
        assert heavy == [], row[0]


def test_the_real_command_prints_just_the_one_line(fuzz_dir):
    # A row refused only once Keras is imported: TensorFlow has started.
    (argv,) = [r[1] for r in FUZZ if r[0] == "string rate config"]
    argv, _ = _argv(argv, fuzz_dir)
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = run_command(argv, env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("keras-lr plot: error: ")


def test_python_m_keras_lr_runs_the_command():
    result = run_command(["--help"], module="keras_lr")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: keras-lr")


def test_the_library_never_imports_the_command_line():
    # Only `python -m keras_lr` enters the front; the front imports
    # keras_lr only to run a command, so there is no circle.
    package = os.path.join(ROOT, "keras_lr")
    importers = []
    for folder, _, files in os.walk(package):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as file:
                tree = ast.parse(file.read())
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    modules = [node.module or ""]
                else:
                    continue
                if any(m.split(".")[0] == "keras_lr_cli" for m in modules):
                    importers.append(os.path.relpath(path, ROOT))
    assert importers == [os.path.join("keras_lr", "__main__.py")]


# --- TensorFlow's start-up lines -------------------------------------------------

# What TensorFlow 2.21 printed here on start-up (2-core VM, no GPU).
_STARTUP = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1795469383.693556    8774 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
I0000 00:00:1795469383.754645    8774 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use available CPU instructions in performance-critical operations.
To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.
E0000 00:00:1795469431.523133    8931 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)
"""
_NODEDEF = (
    "E0000 00:00:1795469431.697947    8931 node_def_util.cc:682] NodeDef "
    "mentions attribute use_unbounded_threadpool which is not in the op "
    "definition\n"
)


def test_startup_lines_are_dropped_and_nothing_else():
    assert startup.without_startup_lines(_STARTUP) == ""
    other = "UserWarning: something real\n"
    lines = _STARTUP.splitlines(keepends=True)
    text = "".join(lines[:2] + [other] + lines[2:]) + _NODEDEF
    assert startup.without_startup_lines(text) == other + _NODEDEF


def test_a_failed_cuinit_stays_when_tensorflow_found_a_driver():
    cuinit = _STARTUP.splitlines(keepends=True)[-1]
    assert startup.without_startup_lines(cuinit) == cuinit


# --- find ------------------------------------------------------------------------


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
