"""Two real processes training data-parallel (JAX distribution API, gloo
collectives on 127.0.0.1): only process 0 writes TensorBoard events, both
agree on the step, the plateau reductions, the cooldown's trigger and the
learning rate, and on a `MultiOptimizer` on each group's reductions, floor
and rate."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from keras_lr import schedules as S
from tests.support.paths import ROOT
from tests.support.tensorboard import read_scalars

WORKER = os.path.join(os.path.dirname(__file__), "multiprocess_worker.py")


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("multiprocess")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["PYTHONPATH"] = os.pathsep.join([ROOT, env.get("PYTHONPATH", "")])
    processes = [
        subprocess.Popen(
            [sys.executable, WORKER, str(port), str(i), str(root / f"logs{i}"),
             str(root / f"result{i}.json")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=180)[0])
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output[-3000:]
    results = [json.loads((root / f"result{i}.json").read_text()) for i in range(2)]
    return root, results


def test_both_processes_train_together(two_process_run):
    _, (first, second) = two_process_run
    assert [first["process_index"], second["process_index"]] == [0, 1]
    assert first["process_count"] == second["process_count"] == 2
    assert first["iterations"] == second["iterations"] > 0
    np.testing.assert_allclose(first["loss"], second["loss"], rtol=1e-6)
    np.testing.assert_allclose(first["kernel"], second["kernel"], rtol=1e-6)


SCHEDULE = S.Warmup(S.CosineAnnealing(0.1, decay_steps=12), warmup_steps=3)
GROUP_SCHEDULE = S.Warmup(S.CosineAnnealing(0.1, decay_steps=40), warmup_steps=3)
BATCHES = 4  # 32 samples a process, batches of 8


def test_both_processes_take_the_same_plateau_and_cooldown_decisions(two_process_run):
    _, (first, second) = two_process_run
    # Epoch 1 is the first plateau: the scale halves after it (patience 0)
    # and the cooldown starts with the next update, step 8 (patience 1).
    assert first["decisions"] == second["decisions"] == {
        "scale": [1.0, 0.5, 0.5], "cooldown_start": [None, 8, 8],
    }


def test_only_process_zero_writes_and_its_rates_are_exact(two_process_run):
    root, (first, second) = two_process_run
    assert not (root / "logs1").exists()
    assert not (root / "logs1_groups").exists()
    steps, values = read_scalars(str(root / "logs0"))
    np.testing.assert_array_equal(steps, np.arange(first["iterations"]))

    # The linear cooldown from step 8 over 4 steps, beneath the plateau's
    # scale (halved for epoch 2).
    start = 8
    cooled = SCHEDULE.numpy(start) * np.clip((start + 4 - steps) / 4, 0.0, 1.0)
    scale = np.repeat([1.0, 1.0, 0.5], BATCHES)
    expected = np.where(steps < start, SCHEDULE.numpy(steps), cooled) * scale
    np.testing.assert_allclose(values, expected, rtol=1e-6)
    # History on both processes: each epoch's last update.
    np.testing.assert_allclose(first["learning_rate"], expected[BATCHES - 1 :: BATCHES], rtol=1e-6)
    np.testing.assert_allclose(second["learning_rate"], first["learning_rate"], rtol=1e-6)


def _group_rates(steps, scales):
    """Each group's rate at `steps`, given the plateau's scale there (the
    default group's schedule; `body/kernel`'s float, halved once onto its
    `min_lr` 0.03 and then refused; `body/bias` outside `groups`)."""
    base = GROUP_SCHEDULE.numpy(steps)
    reduced = scales < 1.0
    return {
        "default": base * scales,
        "body/kernel": np.where(reduced, np.float32(0.03), np.float32(0.05)).astype(np.float64),
        "body/bias": 0.5 * base,
    }


def test_both_processes_reduce_each_group_alike_at_the_same_epochs(two_process_run):
    root, (first, second) = two_process_run
    grouped, other = first["groups"], second["groups"]
    assert grouped["iterations"] == other["iterations"] == 5 * BATCHES
    np.testing.assert_allclose(grouped["history"]["loss"], other["history"]["loss"], rtol=1e-6)
    np.testing.assert_allclose(grouped["kernel"], other["kernel"], rtol=1e-6)
    # patience 0 and cooldown 2: reductions after epochs 1 and 3, the same
    # bookkeeping and the same next rates in both processes.
    assert grouped["decisions"] == other["decisions"]
    assert grouped["decisions"]["cooldown_counter"] == [0, 2, 1, 2, 1]
    assert grouped["decisions"]["wait"] == [0] * 5
    next_steps = BATCHES * np.arange(1, 6)
    expected = _group_rates(next_steps, np.array([1.0, 0.5, 0.5, 0.25, 0.25]))
    for name, rates in expected.items():
        read = [epoch[name] for epoch in grouped["decisions"]["rates"]]
        np.testing.assert_allclose(read, rates, rtol=1e-6, err_msg=name)

    steps = np.arange(5 * BATCHES)
    expected = _group_rates(steps, np.repeat([1.0, 1.0, 0.5, 0.5, 0.25], BATCHES))
    for name, rates in expected.items():
        tag = f"learning_rate/{name}"
        logged_steps, values = read_scalars(str(root / "logs0_groups"), tag)
        np.testing.assert_array_equal(logged_steps, steps)
        np.testing.assert_allclose(values, rates, rtol=1e-6, err_msg=name)
        for history in (grouped["history"], other["history"]):
            np.testing.assert_allclose(
                history[tag], rates[BATCHES - 1 :: BATCHES], rtol=1e-6, err_msg=name
            )
