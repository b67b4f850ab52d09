"""Keras's `ModelParallel` with a `LayoutMap` (JAX, one CPU split into two
devices, `model_parallel_worker.py` in a subprocess): every slot of
keras_lr's optimizers (a scheduled momentum's included, and those of a
`MultiOptimizer`'s groups) is sharded as its variable is, keras_lr's own
variables are replicated (also where a LayoutMap key fits their names), and
`ReduceLROnPlateau`, `CooldownOnTrigger` and `LearningRateLogger` give the
exact rates, momenta and weight decays."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_lr import schedules as S
from tests.support.paths import ROOT
from tests.support.tensorboard import read_scalars

WORKER = os.path.join(os.path.dirname(__file__), "model_parallel_worker.py")
RATE = S.Warmup(S.CosineAnnealing(0.1, decay_steps=12), warmup_steps=3)
MOMENTUM = S.PiecewiseConstant([4], [0.9, 0.5])
BETA_1 = S.PiecewiseConstant([6], [0.9, 0.8])
BATCHES, EPOCHS = 4, 3
STEPS = np.arange(BATCHES * EPOCHS)
# min_delta=10, patience 0: halved after epochs 1 and 2, the last one
# after the last update.
SCALE = np.repeat([1.0, 1.0, 0.5], BATCHES)
BOTH = ["cpu:0", "cpu:1"]
SHARDED = {
    "body/kernel": "P(None, 'model')",
    "body/bias": "P('model',)",
    "norm/scale": "P('model',)",
    "head/kernel": "P('model', None)",
    "head/bias": "P(None,)",
}
SLOTS = {
    "SGD": ["momentum"],
    "Adam": ["momentum", "velocity"],
    "AdamW": ["momentum", "velocity"],
    "Nadam": ["momentum", "velocity"],
    "Adamax": ["momentum", "norm"],
    "Lion": ["momentum"],
    "Lamb": ["momentum", "velocity"],
}


@pytest.fixture(scope="module")
def model_parallel_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("model_parallel")
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "XLA_FLAGS")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["PYTHONPATH"] = os.pathsep.join([ROOT, env.get("PYTHONPATH", "")])
    process = subprocess.run(
        [sys.executable, WORKER, str(root)], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=180,
    )
    assert process.returncode == 0, process.stdout[-3000:]
    return root, json.loads((root / "result.json").read_text())


def _slot_names(table):
    return {path: sorted(s.rsplit("_", 1)[-1] for s in row["slots"]) for path, row in table.items()}


def _assert_slots_follow_their_variables(table, slots):
    assert _slot_names(table) == {path: sorted(names) for path, names in slots.items()}
    for path, row in table.items():
        assert row["variable"] == [SHARDED[path], BOTH], path
        for slot, sharding in row["slots"].items():
            assert sharding == row["variable"], (path, slot)


def test_every_slot_is_sharded_as_its_variable(model_parallel_run):
    _, result = model_parallel_run
    assert result["devices"] == BOTH
    _assert_slots_follow_their_variables(
        result["sgd"]["shardings"], dict.fromkeys(SHARDED, ["momentum"])
    )
    # The body trains with the SGD group, the head with the default Adam.
    _assert_slots_follow_their_variables(result["groups"]["shardings"], {
        "body/kernel": ["momentum"], "body/bias": ["momentum"],
        "norm/scale": ["momentum", "velocity"],
        "head/kernel": ["momentum", "velocity"], "head/bias": ["momentum", "velocity"],
    })
    assert sorted(result["built"]) == sorted(SLOTS)
    for name, slots in SLOTS.items():
        _assert_slots_follow_their_variables(
            result["built"][name], dict.fromkeys(SHARDED, slots)
        )


def test_keras_lr_variables_are_replicated(model_parallel_run):
    _, result = model_parallel_run
    # The plateau's live scale and floor, one pair per driven optimizer, and
    # the cooldown's start and ends: replicated, though the LayoutMap's key
    # `.*scale` (for the norm) fits `keras_lr_scale` too.
    assert sorted(result["sgd"]["keras_lr_variables"]) == [
        "sgd:keras_lr_floor", "sgd:keras_lr_min_learning_rate",
        "sgd:keras_lr_peak", "sgd:keras_lr_scale", "sgd:keras_lr_start_step",
    ]
    assert len(result["groups"]["keras_lr_variables"]) == 4
    for run in ("sgd", "groups"):
        for name, sharding in result[run]["keras_lr_variables"].items():
            assert sharding == ["P()", BOTH], name


def _assert_logged(root, run, tag, expected, history):
    steps, values = read_scalars(str(root / run), tag)
    np.testing.assert_array_equal(steps, STEPS)
    np.testing.assert_allclose(values, expected, rtol=1e-6, err_msg=tag)
    # History: each epoch's last update.
    np.testing.assert_allclose(
        history[tag], expected[BATCHES - 1 :: BATCHES], rtol=1e-6, err_msg=tag
    )


def test_sgd_rates_momenta_and_weight_decay_are_exact(model_parallel_run):
    root, result = model_parallel_run
    run = result["sgd"]
    assert run["iterations"] == len(STEPS)
    history = run["history"]
    # The linear cooldown from step 8 (after epoch 1) over 4 steps, beneath
    # the plateau's scale.
    cooled = RATE.numpy(8) * np.clip((12 - STEPS) / 4, 0.0, 1.0)
    rates = np.where(STEPS < 8, RATE.numpy(STEPS), cooled) * SCALE
    _assert_logged(root, "sgd", "learning_rate", rates, history)
    _assert_logged(root, "sgd", "momentum", MOMENTUM.numpy(STEPS), history)
    _assert_logged(root, "sgd", "weight_decay", np.full(len(STEPS), 1e-3), history)


def test_each_group_rate_is_exact(model_parallel_run):
    root, result = model_parallel_run
    run = result["groups"]
    assert run["iterations"] == len(STEPS)
    history = run["history"]
    base = RATE.numpy(STEPS)
    _assert_logged(root, "groups", "learning_rate/default", base * SCALE, history)
    # The body group: half the rate, reduced onto its floor min(0.02, rate).
    body = np.maximum(0.5 * base * SCALE, np.minimum(0.02, 0.5 * base))
    _assert_logged(root, "groups", "learning_rate/body/.*", body, history)
    assert (body > 0.5 * base * SCALE).any()  # the floor is reached
    _assert_logged(root, "groups", "beta_1/default", BETA_1.numpy(STEPS), history)
    _assert_logged(root, "groups", "momentum/body/.*", MOMENTUM.numpy(STEPS), history)
