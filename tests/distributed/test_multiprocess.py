"""Two real processes training data-parallel (JAX distribution API, gloo
collectives on 127.0.0.1): only process 0 writes TensorBoard events, both
agree on the step, the plateau reductions and the learning rate."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

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


def test_only_process_zero_writes_and_its_rates_are_exact(two_process_run):
    root, (first, second) = two_process_run
    assert not (root / "logs1").exists()
    steps, values = read_scalars(str(root / "logs0"))
    np.testing.assert_array_equal(steps, np.arange(first["iterations"]))

    import keras_lr

    schedule = keras_lr.schedules.Warmup(
        keras_lr.schedules.CosineAnnealing(0.1, decay_steps=12), warmup_steps=3
    )
    # min_delta=10: epoch 0 sets `best`, every later epoch is a plateau, so
    # (patience 0) the rate halves after epoch 1, for epoch 2.
    per_epoch = first["iterations"] // 3
    scale = np.repeat([1.0, 1.0, 0.5], per_epoch)
    expected = schedule.numpy(steps) * scale
    np.testing.assert_allclose(values, expected, rtol=1e-6)
    # History on both processes: each epoch's last update.
    np.testing.assert_allclose(first["learning_rate"], expected[per_epoch - 1 :: per_epoch], rtol=1e-6)
    np.testing.assert_allclose(second["learning_rate"], first["learning_rate"], rtol=1e-6)
