"""Two real processes (JAX distribution API, gloo collectives on 127.0.0.1,
each process's CPU split into two devices), one run of
`multiprocess_worker.py` in each.

Under `DataParallel`: only process 0 writes TensorBoard events, both agree
on the step, the plateau reductions, the cooldown's trigger and the
learning rate, and on a `MultiOptimizer` on each group's reductions, floor
and rate. Under `ModelParallel` with a `LayoutMap` (weights across each
process's two devices): every slot of keras_lr's optimizers (a scheduled
momentum's included, and those of a `MultiOptimizer`'s groups) is sharded
as its variable is, keras_lr's own variables are replicated (also where a
LayoutMap key fits their names), and `ReduceLROnPlateau`,
`CooldownOnTrigger` and `LearningRateLogger` give the exact rates, momenta
and weight decays."""

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
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "XLA_FLAGS")}
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


# ModelParallel ---------------------------------------------------------------

MOMENTUM = S.PiecewiseConstant([4], [0.9, 0.5])
BETA_1 = S.PiecewiseConstant([6], [0.9, 0.8])
STEPS = np.arange(3 * BATCHES)
# min_delta=10, patience 0: halved after epochs 1 and 2, the last one
# after the last update.
SCALE = np.repeat([1.0, 1.0, 0.5], BATCHES)
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


def _slot_names(table):
    return {path: sorted(s.rsplit("_", 1)[-1] for s in row["slots"]) for path, row in table.items()}


def _devices(results):
    """The four devices, process 0's two first (the rows of the mesh)."""
    devices = results[0]["model_parallel"]["devices"]
    assert len(devices) == 4
    assert results[1]["model_parallel"]["devices"] == devices
    return sorted(devices)


def _assert_slots_follow_their_variables(table, slots, devices):
    assert _slot_names(table) == {path: sorted(names) for path, names in slots.items()}
    for path, row in table.items():
        assert row["variable"]["spec"] == SHARDED[path], path
        assert row["variable"]["devices"] == devices, path
        for slot, layout in row["slots"].items():
            assert layout == row["variable"], (path, slot)


def test_every_slot_is_sharded_as_its_variable(two_process_run):
    _, results = two_process_run
    devices = _devices(results)
    for result in results:
        result = result["model_parallel"]
        _assert_slots_follow_their_variables(
            result["sgd"]["layouts"], dict.fromkeys(SHARDED, ["momentum"]), devices
        )
        # The body trains with the SGD group, the rest with the default Adam.
        _assert_slots_follow_their_variables(result["sharded_groups"]["layouts"], {
            "body/kernel": ["momentum"], "body/bias": ["momentum"],
            "norm/scale": ["momentum", "velocity"],
            "head/kernel": ["momentum", "velocity"], "head/bias": ["momentum", "velocity"],
        }, devices)
        assert sorted(result["built"]) == sorted(SLOTS)
        for name, slots in SLOTS.items():
            _assert_slots_follow_their_variables(
                result["built"][name], dict.fromkeys(SHARDED, slots), devices
            )
    # Each process's two devices hold the two halves of the kernel.
    halves = [f"(slice(None, None, None), slice({a}, {b}, None))" for a, b in [(0, 2), (2, 4)]]
    for index, result in enumerate(results):
        shards = result["model_parallel"]["sgd"]["layouts"]["body/kernel"]["variable"]["shards"]
        assert shards == [list(pair) for pair in zip(devices[2 * index : 2 * index + 2], halves)]


def _own_names(run):
    return sorted(name.split(":keras_lr_")[1] for name in run["keras_lr_variables"])


def test_keras_lr_variables_are_replicated(two_process_run):
    _, results = two_process_run
    devices = _devices(results)
    for result in results:
        result = result["model_parallel"]
        # The plateau's live scale and floor, one pair per driven optimizer,
        # and the cooldown's start and ends: replicated, though the
        # LayoutMap's key `.*scale` (for the norm) fits `keras_lr_scale` too.
        assert _own_names(result["sgd"]) == [
            "floor", "min_learning_rate", "peak", "scale", "start_step",
        ]
        assert _own_names(result["sharded_groups"]) == sorted(2 * ["min_learning_rate", "scale"])
        for run in ("sgd", "sharded_groups"):
            for name, layout in result[run]["keras_lr_variables"].items():
                assert layout["spec"] == "P()", name
                assert layout["devices"] == devices, name


def _assert_logged(root, run, tag, expected, histories):
    steps, values = read_scalars(str(root / f"logs0_{run}"), tag)
    np.testing.assert_array_equal(steps, STEPS)
    np.testing.assert_allclose(values, expected, rtol=1e-6, err_msg=tag)
    # History, in both processes: each epoch's last update.
    for history in histories:
        np.testing.assert_allclose(
            history[tag], expected[BATCHES - 1 :: BATCHES], rtol=1e-6, err_msg=tag
        )


def _sharded(results, run):
    first, second = (r["model_parallel"][run] for r in results)
    assert first["iterations"] == second["iterations"] == len(STEPS)
    np.testing.assert_allclose(first["history"]["loss"], second["history"]["loss"], rtol=1e-6)
    return first["history"], second["history"]


def test_sharded_sgd_rates_momenta_and_weight_decay_are_exact(two_process_run):
    root, results = two_process_run
    assert not (root / "logs1_sgd").exists()
    histories = _sharded(results, "sgd")
    # The linear cooldown from step 8 (after epoch 1) over 4 steps, beneath
    # the plateau's scale.
    cooled = SCHEDULE.numpy(8) * np.clip((12 - STEPS) / 4, 0.0, 1.0)
    rates = np.where(STEPS < 8, SCHEDULE.numpy(STEPS), cooled) * SCALE
    _assert_logged(root, "sgd", "learning_rate", rates, histories)
    _assert_logged(root, "sgd", "momentum", MOMENTUM.numpy(STEPS), histories)
    _assert_logged(root, "sgd", "weight_decay", np.full(len(STEPS), 1e-3), histories)


def test_each_sharded_group_rate_is_exact(two_process_run):
    root, results = two_process_run
    histories = _sharded(results, "sharded_groups")
    base = SCHEDULE.numpy(STEPS)
    _assert_logged(root, "sharded_groups", "learning_rate/default", base * SCALE, histories)
    # The body group: half the rate, reduced onto its floor min(0.02, rate).
    body = np.maximum(0.5 * base * SCALE, np.minimum(0.02, 0.5 * base))
    assert (body > 0.5 * base * SCALE).any()  # the floor is reached
    _assert_logged(root, "sharded_groups", "learning_rate/body/.*", body, histories)
    _assert_logged(root, "sharded_groups", "beta_1/default", BETA_1.numpy(STEPS), histories)
    _assert_logged(root, "sharded_groups", "momentum/body/.*", MOMENTUM.numpy(STEPS), histories)
