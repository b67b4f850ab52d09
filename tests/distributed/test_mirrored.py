"""`tf.distribute.MirroredStrategy` on one CPU split into two logical
devices (one worker process, `mirrored_worker.py`): schedules, the logger
(one writer, exact rates read back by TensorBoard), plateau, the scheduler
callbacks, `CyclicLR`, per-group rates and the range test."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_lr import schedules as S
from tests.support.tensorboard import read_scalars

WORKER = os.path.join(os.path.dirname(__file__), "mirrored_worker.py")
EPOCHS, BATCHES = 3, 5
STEPS = EPOCHS * BATCHES
STEP = np.arange(STEPS)
EPOCH = STEP // BATCHES


@pytest.fixture(scope="module")
def mirrored_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("mirrored")
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    process = subprocess.run(
        [sys.executable, WORKER, str(root)], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=180,
    )
    assert process.returncode == 0, process.stdout[-3000:]
    return root, json.loads((root / "result.json").read_text())


def test_two_replicas_on_two_logical_cpus(mirrored_run):
    _, result = mirrored_run
    assert result["replicas"] == 2
    assert [d.rsplit(":", 2)[-2:] for d in result["devices"]] == [
        ["CPU", "0"], ["CPU", "1"]]


EXPECTED = {
    "schedule": S.Warmup(S.CosineAnnealing(0.1, decay_steps=12), 3).numpy(STEP),
    # patience 1 on a score that worsens every epoch: halved after epoch 1.
    "plateau_on_schedule": (
        S.CosineAnnealing(0.1, decay_steps=20).numpy(STEP)
        * np.array([1.0, 1.0, 0.5])[EPOCH]),
    "plateau_on_float": 0.1 * np.array([1.0, 1.0, 0.5])[EPOCH],
    "scheduler_per_step": 0.01 * (STEP + 1),
    "scheduler_per_epoch": 0.1 * 0.5 ** (EPOCH + 1),
    "cyclic": S.CyclicalLearningRate(0.01, 0.1, step_size=3).numpy(STEP),
}


@pytest.mark.parametrize("scenario", list(EXPECTED))
def test_rates_applied_and_logged_by_one_writer(scenario, mirrored_run):
    root, result = mirrored_run
    run = result[scenario]
    assert run["iterations"] == STEPS
    trace = np.array(run["trace"])
    # The rate each update used, recorded inside the replicated step.
    np.testing.assert_allclose(trace[:STEPS], EXPECTED[scenario], rtol=1e-6)
    assert not trace[STEPS:].any()
    assert len(run["files"]) == 1 and run["files"][0].startswith("train/")
    steps, values = read_scalars(str(root / scenario))
    np.testing.assert_array_equal(steps, STEP)
    np.testing.assert_allclose(values, trace[:STEPS], rtol=1e-6)
    np.testing.assert_allclose(run["learning_rate"], trace[BATCHES - 1 : STEPS : BATCHES],
                               rtol=1e-6)


def test_every_group_of_a_multi_optimizer_reduced_and_logged(mirrored_run):
    root, result = mirrored_run
    run = result["groups"]
    assert list(run["groups"]) == ["default", run["head"]]
    for (name, group), multiplier in zip(run["groups"].items(), [1.0, 0.5]):
        assert group["iterations"] == STEPS
        trace = np.array(group["trace"])
        np.testing.assert_allclose(
            trace[:STEPS], multiplier * EXPECTED["plateau_on_schedule"], rtol=1e-6)
        assert not trace[STEPS:].any()
        steps, values = read_scalars(str(root / "groups"), tag=f"learning_rate/{name}")
        np.testing.assert_array_equal(steps, STEP)
        np.testing.assert_allclose(values, trace[:STEPS], rtol=1e-6)
        np.testing.assert_allclose(
            group["learning_rate"], trace[BATCHES - 1 : STEPS : BATCHES], rtol=1e-6)


def test_keras_gradient_accumulation_is_refused_under_the_strategy(mirrored_run):
    """The limit docs/pages/limits.md states (a TensorFlow limit, not keras_lr's)."""
    _, result = mirrored_run
    assert "merge_call" in result["accumulation_error"]


def test_range_test_on_a_fresh_model_then_an_identical_fit(mirrored_run):
    _, result = mirrored_run
    found = result["finder"]
    np.testing.assert_allclose(
        found["learning_rates"], 1e-4 * 1e4 ** (np.arange(12) / 11), rtol=1e-12)
    assert np.isfinite(found["losses"]).all() and len(found["losses"]) == 12
    assert found["restored"]
    # Built inside the strategy's scope, as `fit` builds it.
    assert found["mirrored"]
    # Bit for bit: the model's and the optimizer's variables after 2 epochs.
    assert found["state_after_fit"] == found["state_without_test"]


def test_range_test_in_another_strategys_scope_is_refused_untouched(mirrored_run):
    _, result = mirrored_run
    refused = result["refused"]
    assert refused["error"].startswith(
        "find_learning_rate must run under the distribution strategy")
    assert not refused["optimizer_built"]
    assert refused["state_after_fit"] == result["finder"]["state_without_test"]
