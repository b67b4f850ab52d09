"""The peers' own published test values, checked against keras_lr's schedules.

Values, not code: each test below takes the expected rates of one test in a
peer's suite (named in its comment as `file: test name`), builds the
keras_lr schedule a migrating user would write, and checks it on the host
(`schedule.numpy(steps)`) and in the graph (`schedule(tensor)` through
`keras.ops`). Where keras_lr deliberately differs from the peer, the test
asserts what keras_lr's documentation says instead and names the difference.

The peers' files:

- PyTorch `test/optim/test_lrscheduler.py` (`TestLRScheduler`);
- Keras `keras/src/optimizers/schedules/learning_rate_schedule_test.py`;
- tensorflow-addons `tensorflow_addons/optimizers/tests/
  cyclical_learning_rate_test.py`;
- tf-models `official/modeling/optimization/lr_schedule_test.py` and the
  schedule tests of `official/modeling/optimization/optimizer_factory_test.py`.

Steps: PyTorch reads the rate before the first `scheduler.step()` as epoch
0 and steps its epoch schedulers once per epoch (`CyclicLR` and
`OneCycleLR` once per batch); a keras_lr schedule receives the optimizer
step before the update, so the first update uses step 0. PyTorch's rate at
epoch `e` is therefore keras_lr's at step `e`, and, wrapped in
`Epochs(schedule, steps_per_epoch=n)`, at every step of epoch `e`
(`e * n .. e * n + n - 1`). Keras, tensorflow-addons and tf-models call
their schedules with the optimizer step, as keras_lr does.
"""

import math

import keras
import numpy as np
import pytest
from keras import ops

from keras_lr import schedules as S

pytestmark = pytest.mark.backend_neutral

# Tolerances, from each peer's own assertion:
# - PyTorch compares with atol=1e-5, rtol=0, which cannot tell its smallest
#   targets (5e-8) from 0. We hold both evaluators to keras_lr's documented
#   host/graph agreement, 1e-6 relative, which is tighter than the peer at
#   every one of its targets (the atol only absorbs exact zeros).
TORCH = dict(rtol=1e-6, atol=1e-12)
# - Keras: `assertAllClose(x, y, 1e-6)`, i.e. atol=1e-6 and rtol=1e-6; we
#   keep the rtol and drop the atol, which would hide a 0.1 % error in a
#   rate of 1e-3 (the atol left only absorbs exact zeros).
KERAS = dict(rtol=1e-6, atol=1e-12)
# - tensorflow-addons: `np.testing.assert_allclose(actual, expected, 1e-6)`.
TFA = dict(rtol=1e-6, atol=0.0)
# - tf-models: `assertAlmostEqual(actual, expected)`, 7 places, i.e. atol
#   5e-8. Its targets are printed to 8 digits (0.08535534, 0.04999999), so
#   an absolute tolerance is the right one; near 1 it is below float32's
#   resolution (one ulp of 0.99 is 6e-8), where keras_lr's documented 1e-6
#   relative applies.
TF_MODELS = dict(rtol=1e-6, atol=5e-8)


def assert_rates(schedule, steps, expected, tolerance, graph_tolerance=None):
    """`schedule` gives `expected` at `steps` on the host and in the graph.

    `graph_tolerance`, when given, replaces `tolerance` for the graph.
    """
    steps = np.asarray(steps)
    expected = np.asarray(expected, dtype="float64")
    host = schedule.numpy(steps)
    # The graph sees the steps padded to a power of two (at least 256): on
    # JAX every op compiles once per shape, and few shapes keep this fast.
    flat = steps.reshape(-1)
    size = max(256, 1 << (flat.size - 1).bit_length())
    padded = np.concatenate([flat, np.full(size - flat.size, flat[-1])])
    graph = ops.convert_to_numpy(schedule(ops.convert_to_tensor(padded)))
    graph = graph[: flat.size].reshape(steps.shape)
    np.testing.assert_allclose(
        host, expected, err_msg="host: schedule.numpy(steps)", **tolerance
    )
    np.testing.assert_allclose(
        graph.astype("float64"),
        expected,
        err_msg="graph: schedule(tensor) through keras.ops",
        **(graph_tolerance or tolerance),
    )


def float32_graph():
    """Whether schedules compute in float32 in the graph (JAX without x64)."""
    if keras.backend.backend() != "jax":
        return False
    import jax

    return not jax.config.jax_enable_x64


def cosine(fraction):
    """Half a cosine from 1 to 0 as `fraction` goes from 0 to 1."""
    return 0.5 * (1.0 + math.cos(math.pi * fraction))


# ---------------------------------------------------------------------------
# PyTorch. How a PyTorch scheduler reads in keras_lr: these helpers are the
# README's PyTorch migration table, as code.


def exponential_lr(lr, gamma):
    """`ExponentialLR(gamma)`: Keras's `ExponentialDecay` with one-step periods."""
    return S.ExponentialDecay(lr, 1, gamma)


def constant_lr(lr, factor, total_iters):
    """`ConstantLR(factor, total_iters)`: `factor * lr`, then `lr`."""
    return S.PiecewiseConstant([total_iters], [factor * lr, lr])


def linear_lr(lr, start_factor, end_factor, total_iters):
    """`LinearLR(start_factor, end_factor, total_iters)`: a line, then flat."""
    return S.PiecewiseLinear(
        [0, total_iters], [start_factor * lr, end_factor * lr]
    )


# Schedulers PyTorch steps once per epoch: (schedule for a base rate, the
# base rates the peer checks, the targets for the first base rate). The
# peer's targets for a second parameter group are those of the first scaled
# by its base rate (`[x * epochs for x in single_targets]`, 0.5 / 0.05).
# PyTorch checks only the first `epochs` targets of a list; so do we.
TORCH_EPOCH_CASES = {
    # test_step_lr (also test_chained_lr1: one StepLR in a ChainedScheduler)
    "test_step_lr": (
        lambda lr: S.StepDecay(lr, 3, gamma=0.1),
        (0.05, 0.5),
        [0.05] * 3 + [0.005] * 3 + [0.0005] * 3 + [0.00005],
    ),
    # test_get_last_lr_step_lr
    "test_get_last_lr_step_lr": (
        lambda lr: S.StepDecay(lr, 3, gamma=0.1),
        (0.1,),
        [0.1] * 3 + [0.01] * 3 + [0.001] * 3 + [0.0001],
    ),
    # test_multi_step_lr (also test_multi_step_lr_with_epoch,
    # test_get_last_lr_multi_step_lr)
    "test_multi_step_lr": (
        lambda lr: S.MultiStepDecay(lr, [2, 5, 9], gamma=0.1),
        (0.05, 0.5),
        [0.05] * 2 + [0.005] * 3 + [0.0005] * 4 + [0.00005],
    ),
    # test_constantlr (also test_constantlr_with_epoch,
    # test_get_last_lr_constantlr)
    "test_constantlr": (
        lambda lr: constant_lr(lr, 0.5, 5),
        (0.05, 0.5),
        [0.025] * 5 + [0.05] * 5,
    ),
    # test_linearlr (also test_linearlr_with_epoch), as LinearLR reads
    "test_linearlr": (
        lambda lr: linear_lr(lr, 0.5, 1.0, 4),
        (0.05, 0.5),
        [0.025, 0.03125, 0.0375, 0.04375] + [0.05] * 6,
    ),
    # test_linearlr again, as keras_lr's own warmup: `Warmup`'s docstring
    # says its linear shape is `LinearLR(start_factor=initial / target)`.
    "test_linearlr[Warmup]": (
        lambda lr: S.Warmup(S.Constant(lr), 4, initial_learning_rate=lr / 2),
        (0.05, 0.5),
        [0.025, 0.03125, 0.0375, 0.04375] + [0.05] * 6,
    ),
    # test_get_last_lr_linearlr: start_factor=1/4, end_factor=3/5
    "test_get_last_lr_linearlr": (
        lambda lr: linear_lr(lr, 1.0 / 4, 3.0 / 5, 4),
        (0.05, 0.5),
        [0.0125, 0.016875, 0.02125, 0.025625] + [0.03] * 6,
    ),
    # test_exp_lr
    "test_exp_lr": (
        lambda lr: exponential_lr(lr, 0.9),
        (0.05, 0.5),
        [0.05 * 0.9**x for x in range(10)],
    ),
    # test_poly_lr: PolynomialLR decays to 0 (Keras's default end rate is
    # 1e-4, so the migration spells out end_learning_rate=0.0)
    "test_poly_lr": (
        lambda lr: S.PolynomialDecay(lr, 5, end_learning_rate=0.0, power=0.9),
        (0.05, 0.5),
        [(1.0 - x / 5) ** 0.9 * 0.05 for x in range(5)] + [0.0] * 5,
    ),
    # test_cos_anneal_lr: T_max=10, eta_min=1e-10
    "test_cos_anneal_lr": (
        lambda lr: S.CosineAnnealing(lr, 10, min_learning_rate=1e-10),
        (0.05,),
        [1e-10 + (0.05 - 1e-10) * cosine(x / 10) for x in range(10)],
    ),
    # test_lambda_lr and test_multiplicative_lr, first group:
    # lambda epoch: 0.9 ** epoch (and a constant factor 0.9 per epoch)
    "test_lambda_lr[group0]": (
        lambda lr: exponential_lr(lr, 0.9),
        (0.05,),
        [0.05 * 0.9**x for x in range(10)],
    ),
    # test_lambda_lr and test_multiplicative_lr, second group (lr 0.4, 0.8)
    "test_lambda_lr[group1]": (
        lambda lr: exponential_lr(lr, 0.8),
        (0.4,),
        [0.4 * 0.8**x for x in range(10)],
    ),
    # test_sequentiallr1: ExponentialLR(0.8), then StepLR(4) from epoch 3
    "test_sequentiallr1": (
        lambda lr: S.Sequential(
            [exponential_lr(lr, 0.8), S.StepDecay(lr, 4, gamma=0.1)], [3]
        ),
        (0.05,),
        [0.05, 0.04, 0.032]
        + [0.05] * 4
        + [0.005] * 4
        + [0.0005] * 4
        + [0.00005] * 4,
    ),
    # test_sequentiallr2: ConstantLR(0.1, 3), then ExponentialLR(0.9)
    "test_sequentiallr2": (
        lambda lr: S.Sequential(
            [constant_lr(lr, 0.1, 3), exponential_lr(lr, 0.9)], [3]
        ),
        (0.05,),
        [0.005] * 3 + [0.05 * 0.9**x for x in range(10)],
    ),
    # test_sequentiallr3 (and test_get_last_lr_sequentiallr, which also
    # checks the second group): ConstantLR, ExponentialLR, StepLR
    "test_sequentiallr3": (
        lambda lr: S.Sequential(
            [
                constant_lr(lr, 0.1, 3),
                exponential_lr(lr, 0.8),
                S.StepDecay(lr, 2, gamma=0.1),
            ],
            [3, 6],
        ),
        (0.05, 0.5),
        [0.005] * 3
        + [0.05, 0.04, 0.032]
        + [0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005],
    ),
    # test_sequentiallr5: ChainedScheduler([LinearLR(0.1, 5), ConstantLR(0.1,
    # 5)]), then ConstantLR(0.5, 5). The chained product is a linear ramp
    # from 0.1 * 0.1 * lr to 0.1 * lr: a warmup to a constant.
    "test_sequentiallr5": (
        lambda lr: S.Sequential(
            [
                S.Warmup(
                    S.Constant(0.1 * lr), 5, initial_learning_rate=0.01 * lr
                ),
                constant_lr(lr, 0.5, 5),
            ],
            [5],
        ),
        (0.05,),
        [0.0005, 0.0014, 0.0023, 0.0032, 0.0041] + [0.025] * 5,
    ),
    # test_sequentiallr_does_not_alias_lr_and_initial_lr: lr=2.0, LinearLR up
    # then LinearLR down
    "test_sequentiallr_does_not_alias_lr_and_initial_lr": (
        lambda lr: S.Sequential(
            [linear_lr(lr, 0.1, 0.8, 4), linear_lr(lr, 0.8, 0.1, 4)], [4]
        ),
        (2.0,),
        [0.2, 0.55, 0.9, 1.25, 1.6, 1.25, 0.9, 0.55],
    ),
    # test_chained_lr2: ChainedScheduler([LinearLR(start_factor=0.4, 3)])
    "test_chained_lr2": (
        lambda lr: S.Warmup(S.Constant(lr), 3, initial_learning_rate=0.4 * lr),
        (0.05,),
        [0.02, 0.03, 0.04] + [0.05] * 7,
    ),
    # test_chained_lr3: LinearLR(0.4, 3) times MultiStepLR([4, 8, 10]). The
    # warmup ends before the first milestone, so it is a warmup in front of
    # MultiStepDecay, whose milestones then count from the end of warmup.
    "test_chained_lr3": (
        lambda lr: S.Warmup(
            S.MultiStepDecay(lr, [4 - 3, 8 - 3, 10 - 3], gamma=0.1),
            3,
            initial_learning_rate=0.4 * lr,
        ),
        (0.05,),
        [0.02, 0.03, 0.04, 0.05] + [0.005] * 4 + [0.0005] * 2,
    ),
    # test_chained_lr5: PolynomialLR(5, 0.9) times ConstantLR(0.1) (5
    # epochs). PolynomialLR is 0 when ConstantLR ends, so the product is one
    # polynomial decay from 0.1 * lr.
    "test_chained_lr5": (
        lambda lr: S.PolynomialDecay(
            0.1 * lr, 5, end_learning_rate=0.0, power=0.9
        ),
        (0.05, 0.5),
        [0.1 * 0.05 * (1.0 - x / 5) ** 0.9 for x in range(5)] + [0.0] * 5,
    ),
    # test_compound_step_and_constantlr: StepLR(3) and ConstantLR(0.4, 4) on
    # one optimizer: a product of two step functions is a step function.
    "test_compound_step_and_constantlr": (
        lambda lr: S.PiecewiseConstant(
            [3, 4, 6, 9],
            [0.4 * lr, 0.04 * lr, 0.1 * lr, 0.01 * lr, 0.001 * lr],
        ),
        (0.05, 0.5),
        [0.05 * 0.4] * 3 + [0.005 * 0.4] + [0.005] * 2 + [0.0005] * 3
        + [0.00005],
    ),
    # test_compound_step_and_multistep_lr: StepLR(3) and MultiStepLR([2, 5,
    # 9]) on one optimizer, i.e. two decays at epoch 9. MultiStepDecay
    # refuses the repeated milestone (test below); PiecewiseConstant says it.
    "test_compound_step_and_multistep_lr": (
        lambda lr: S.PiecewiseConstant(
            [2, 3, 5, 6, 9],
            [lr, 0.1 * lr, 0.01 * lr, 1e-3 * lr, 1e-4 * lr, 1e-6 * lr],
        ),
        (0.05,),
        [0.05] * 2 + [0.005] + [5e-4] * 2 + [5e-5] + [5e-6] * 3 + [5e-8],
    ),
}

# SWALR: a scheduler, then SWALR's anneal to a fixed swa_lr from epoch
# swa_start=5 on; the peer writes each group's targets out, since swa_lr
# does not scale with the group's rate.
TORCH_SWALR_CASES = {
    # test_swalr_no_anneal: swa_start=5, swa_lr=0.01 for both groups,
    # anneal_epochs=1: each group's rate until epoch 5, then swa_lr.
    "test_swalr_no_anneal": [
        (
            lambda lr, swa: S.Sequential([S.Constant(lr), S.Constant(swa)], [6]),
            lr,
            0.01,
            [lr] * 6 + [0.01] * 4,
        )
        for lr in (0.05, 0.5)
    ],
    # test_swalr_cosine_anneal_after_multiplicative: MultiplicativeLR(0.9)
    # until swa_start=5, then SWALR's cosine anneal to swa_lr=0.01 over 5
    # epochs. SWALR's anneal at epoch 6 + t is the cosine's value at t + 1,
    # so the cosine takes over at epoch 5, from the rate reached there.
    "test_swalr_cosine_anneal_after_multiplicative": [
        (
            lambda lr, swa: S.Sequential(
                [exponential_lr(lr, 0.9), S.CosineAnnealing(lr * 0.9**5, 5, swa)],
                [5],
            ),
            lr,
            0.01,
            [lr * 0.9**i for i in range(6)]
            + [
                lr * 0.9**5 * (cosine((t + 1) / 5) if t + 1 < 5 else 0.0)
                + 0.01 * (1.0 - (cosine((t + 1) / 5) if t + 1 < 5 else 0.0))
                for t in range(9)
            ],
        )
        for lr in (0.05, 0.5)
    ],
    # test_swalr_linear_anneal_after_multiplicative: the same with a linear
    # anneal over 4 epochs, and one swa_lr per group (0.01, 0.02).
    "test_swalr_linear_anneal_after_multiplicative": [
        (
            lambda lr, swa: S.Sequential(
                [
                    exponential_lr(lr, 0.9),
                    S.PiecewiseLinear([0, 4], [lr * 0.9**5, swa]),
                ],
                [5],
            ),
            lr,
            swa,
            [lr * 0.9**i for i in range(6)]
            + [
                lr * 0.9**5 * max(1 - (t + 1) / 4, 0.0)
                + swa * (1.0 - max(1 - (t + 1) / 4, 0.0))
                for t in range(9)
            ],
        )
        for lr, swa in ((0.05, 0.01), (0.5, 0.02))
    ],
}


def _per_epoch(schedule, targets, steps_per_epoch):
    """The schedule, steps and targets for `steps_per_epoch` steps an epoch."""
    if steps_per_epoch == 1:
        return schedule, np.arange(len(targets)), targets
    steps = np.arange(len(targets) * steps_per_epoch)
    return (
        S.Epochs(schedule, steps_per_epoch=steps_per_epoch),
        steps,
        np.repeat(targets, steps_per_epoch),
    )


@pytest.mark.parametrize("steps_per_epoch", [1, 7], ids=["step", "Epochs7"])
@pytest.mark.parametrize("case", sorted(TORCH_EPOCH_CASES))
def test_torch_epoch_schedulers(case, steps_per_epoch):
    # test/optim/test_lrscheduler.py: the test named by `case` (see
    # TORCH_EPOCH_CASES). Epoch e is step e, or steps 7e .. 7e + 6 in Epochs.
    build, rates, targets = TORCH_EPOCH_CASES[case]
    for lr in rates:
        expected = np.asarray(targets) * (lr / rates[0])
        assert_rates(*_per_epoch(build(lr), expected, steps_per_epoch), TORCH)


@pytest.mark.parametrize("steps_per_epoch", [1, 7], ids=["step", "Epochs7"])
@pytest.mark.parametrize("case", sorted(TORCH_SWALR_CASES))
def test_torch_swalr(case, steps_per_epoch):
    # test/optim/test_lrscheduler.py: the test named by `case`; both groups.
    for build, lr, swa_lr, targets in TORCH_SWALR_CASES[case]:
        assert_rates(
            *_per_epoch(build(lr, swa_lr), targets, steps_per_epoch), TORCH
        )


def test_torch_cos_anneal_holds_the_minimum_after_t_max():
    # test/optim/test_lrscheduler.py: test_closed_form_cos_anneal_lr
    # (T_max=5, eta_min=1e-10, 20 epochs). PyTorch's closed form
    # eta_min + (lr - eta_min) * (1 + cos(pi * e / T_max)) / 2 climbs back
    # to lr at e = 10. Documented difference (README, "Deliberate
    # differences"; CosineAnnealing's docstring): keras_lr equals it up to
    # T_max and holds the minimum after.
    eta_min, epochs = 1e-10, np.arange(20)
    torch_closed_form = [eta_min + (0.05 - eta_min) * cosine(e / 5) for e in epochs]
    ours = [
        value if e <= 5 else eta_min for e, value in zip(epochs, torch_closed_form)
    ]
    schedule = S.CosineAnnealing(0.05, 5, min_learning_rate=eta_min)
    assert_rates(schedule, epochs, ours, TORCH)


def test_torch_repeated_milestones_are_refused():
    # test/optim/test_lrscheduler.py: test_compound_step_and_multistep_lr
    # stacks StepLR(3) on MultiStepLR([2, 5, 9]): PyTorch's MultiStepLR with
    # milestones [2, 3, 5, 6, 9, 9], applying gamma twice at 9. Documented
    # difference (README; MultiStepDecay's docstring): keras_lr refuses a
    # repeated milestone, naming the argument (the rates themselves are
    # checked through PiecewiseConstant above).
    with pytest.raises(ValueError, match="`milestones`"):
        S.MultiStepDecay(0.05, [2, 3, 5, 6, 9, 9], gamma=0.1)


# PyTorch schedulers stepped once per batch: (schedule, targets).
TORCH_BATCH_CASES = {
    # test_cycle_lr_triangular_mode_one_lr (also ..._no_momentum,
    # test_cycle_lr_with_momentumless_optimizer, and the first group of
    # test_cycle_lr_triangular_mode)
    "test_cycle_lr_triangular_mode_one_lr": (
        lambda: S.CyclicalLearningRate(1.0, 5.0, 4),
        [1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 3],
    ),
    # test_cycle_lr_triangular_mode, second group: base_lr=2, max_lr=6
    "test_cycle_lr_triangular_mode[group1]": (
        lambda: S.CyclicalLearningRate(2.0, 6.0, 4),
        [2, 3, 4, 5, 6, 5, 4, 3, 2, 3, 4],
    ),
    # test_cycle_lr_triangular2_mode_one_lr (and the first group of
    # test_cycle_lr_triangular2_mode)
    "test_cycle_lr_triangular2_mode_one_lr": (
        lambda: S.CyclicalLearningRate(1.0, 5.0, 4, mode="triangular2"),
        [1, 2, 3, 4, 5, 4, 3, 2, 1, 1.5, 2.0, 2.5, 3.0, 2.5, 2.0, 1.5, 1,
         1.25, 1.50, 1.75, 2.00, 1.75],
    ),
    # test_cycle_lr_triangular2_mode, second group: base_lr=3, max_lr=7
    "test_cycle_lr_triangular2_mode[group1]": (
        lambda: S.CyclicalLearningRate(3.0, 7.0, 4, mode="triangular2"),
        [x + 2 for x in [1, 2, 3, 4, 5, 4, 3, 2, 1, 1.5, 2.0, 2.5, 3.0, 2.5,
                         2.0, 1.5, 1, 1.25, 1.50, 1.75, 2.00, 1.75]],
    ),
    # test_cycle_lr_exp_range_mode_one_lr (and the first group of
    # test_cycle_lr_exp_range_mode): gamma=0.9
    "test_cycle_lr_exp_range_mode_one_lr": (
        lambda: S.CyclicalLearningRate(1.0, 5.0, 4, mode="exp_range", gamma=0.9),
        [1 + x * 4 * 0.9**i for i, x in enumerate(
            [0, 0.25, 0.5, 0.75, 1, 0.75, 0.50, 0.25, 0, 0.25, 0.5, 0.75, 1])],
    ),
    # test_cycle_lr_exp_range_mode, second group: base_lr=5, max_lr=12
    "test_cycle_lr_exp_range_mode[group1]": (
        lambda: S.CyclicalLearningRate(5.0, 12.0, 4, mode="exp_range", gamma=0.9),
        [5 + x * 7 * 0.9**i for i, x in enumerate(
            [0, 0.25, 0.5, 0.75, 1, 0.75, 0.50, 0.25, 0, 0.25, 0.5, 0.75, 1])],
    ),
    # test_cycle_lr_triangular_mode_step_size_up_down: up 4, down 6
    "test_cycle_lr_triangular_mode_step_size_up_down": (
        lambda: S.CyclicalLearningRate(1.0, 5.0, 4, step_size_down=6),
        [1.0, 2.0, 3.0, 4.0, 5.0, 13.0 / 3, 11.0 / 3, 9.0 / 3, 7.0 / 3,
         5.0 / 3, 1.0],
    ),
    # test_cycle_lr_triangular2_mode_step_size_up_down, both groups (base
    # rates 1 and 3): up 2, down 6
    **{
        f"test_cycle_lr_triangular2_mode_step_size_up_down[group{i}]": (
            lambda delta=delta: S.CyclicalLearningRate(
                1.0 + delta, 5.0 + delta, 2, step_size_down=6, mode="triangular2"
            ),
            [x + delta for x in [
                1.0, 3.0, 5.0, 13.0 / 3, 11.0 / 3, 9.0 / 3, 7.0 / 3, 5.0 / 3,
                1.0, 2.0, 3.0, 8.0 / 3, 7.0 / 3, 6.0 / 3, 5.0 / 3, 4.0 / 3,
                1.0, 3.0 / 2, 2.0, 11.0 / 6, 10.0 / 6, 9.0 / 6, 8.0 / 6,
                7.0 / 6]],
        )
        for i, delta in enumerate((0.0, 2.0))
    },
    # test_cycle_lr_exp_range_mode_step_size_up_down: up 2, down 6, gamma 0.9
    "test_cycle_lr_exp_range_mode_step_size_up_down": (
        lambda: S.CyclicalLearningRate(
            1.0, 5.0, 2, step_size_down=6, mode="exp_range", gamma=0.9
        ),
        [1 + x * 4 * 0.9**i for i, x in enumerate(
            [0.0, 0.5, 1.0, 5.0 / 6, 4.0 / 6, 3.0 / 6, 2.0 / 6, 1.0 / 6, 0.0,
             0.5, 1.0, 5.0 / 6, 4.0 / 6])],
    ),
    # test_onecycle_lr_linear_annealing (also test_cycle_lr_with_adam):
    # max_lr=25, final_div_factor=2, total_steps=10
    "test_onecycle_lr_linear_annealing": (
        lambda: S.OneCycle(25.0, 10, anneal_strategy="linear", final_div_factor=2.0),
        [1, 13, 25, 21.5, 18, 14.5, 11, 7.5, 4, 0.5],
    ),
    # test_onecycle_lr_linear_annealing_three_phases
    "test_onecycle_lr_linear_annealing_three_phases": (
        lambda: S.OneCycle(
            25.0, 10, pct_start=0.4, anneal_strategy="linear",
            div_factor=25.0, final_div_factor=4.0, three_phase=True,
        ),
        [1, 9, 17, 25, 17, 9, 1, 0.75, 0.5, 0.25],
    ),
    # test_onecycle_lr_cosine_annealing (also test_onecycle_lr_legacy_state_dict)
    "test_onecycle_lr_cosine_annealing": (
        lambda: S.OneCycle(25.0, 10, final_div_factor=2.0),
        [1, 13, 25] + [0.5 + (25 - 0.5) * cosine(k / 7.0) for k in range(1, 7)]
        + [0.5],
    ),
}


@pytest.mark.parametrize("case", sorted(TORCH_BATCH_CASES))
def test_torch_batch_schedulers(case):
    # test/optim/test_lrscheduler.py: the test named by `case`. The peer
    # also checks the momentum PyTorch cycles alongside; a learning rate
    # schedule has none (README: OneCycle "cycles no momentum").
    build, targets = TORCH_BATCH_CASES[case]
    assert_rates(build(), np.arange(len(targets)), targets, TORCH)


def test_torch_onecycle_holds_the_final_rate_past_total_steps():
    # test/optim/test_lrscheduler.py: test_onecycle_lr_linear_annealing and
    # test_onecycle_lr_cosine_annealing end at 0.5 on their last step (9).
    # PyTorch raises when stepped past total_steps; documented difference
    # (README; OneCycle's docstring): keras_lr holds the final rate.
    for strategy in ("linear", "cos"):
        schedule = S.OneCycle(
            25.0, 10, anneal_strategy=strategy, final_div_factor=2.0
        )
        assert_rates(schedule, [9, 10, 11, 100, 10**6], [0.5] * 5, TORCH)


def torch_warm_restart_targets(lr, t_0, t_mult, eta_min, count, increment=1):
    """The targets of PyTorch's warm restart tests, as the peer defines them.

    The peer walks `T_cur` forward by `increment` epochs (rounded to one
    decimal); when `T_cur` reaches the period `T_i` it starts a new period
    `t_mult` times longer. Its target is the cosine of `T_cur / T_i`.
    """
    targets, t_cur, t_i = [lr], 0, t_0
    for _ in range(count - 1):
        t_cur = round(t_cur + increment, 1)
        if t_cur >= t_i:
            t_cur, t_i = t_cur - t_i, t_i * t_mult
        targets.append(eta_min + (lr - eta_min) * cosine(t_cur / t_i))
    return targets


@pytest.mark.parametrize("t_mult", [1, 2, 4])
def test_torch_cosine_annealing_warm_restarts_lr1(t_mult):
    # test/optim/test_lrscheduler.py: test_CosineAnnealingWarmRestarts_lr1
    # (T_0=10, eta_min=1e-10, 100 epochs, both groups)
    for lr in (0.05, 0.5):
        schedule = S.CosineRestarts(lr, 10, t_mul=t_mult, min_learning_rate=1e-10)
        targets = torch_warm_restart_targets(lr, 10, t_mult, 1e-10, 100)
        assert_rates(schedule, np.arange(100), targets, TORCH)


@pytest.mark.parametrize("t_mult", [1, 2, 4])
def test_torch_cosine_annealing_warm_restarts_lr2_fractional_epochs(t_mult):
    # test/optim/test_lrscheduler.py: test_CosineAnnealingWarmRestarts_lr2
    # steps the scheduler by 0.1 epoch (scheduler.step(epoch), epochs 0,
    # 0.1, ..., 29.9). That is CosineRestarts counting smooth epochs of 10
    # steps: Epochs(..., steps_per_epoch=10, staircase=False), step = 10 e.
    for lr in (0.05, 0.5):
        schedule = S.Epochs(
            S.CosineRestarts(lr, 10, t_mul=t_mult, min_learning_rate=1e-10),
            steps_per_epoch=10,
            staircase=False,
        )
        targets = torch_warm_restart_targets(lr, 10, t_mult, 1e-10, 300, 0.1)
        # The fractional epoch reaches the cosine as (whole epoch, fraction),
        # so even a float32 graph keeps 1e-6 relative near each period's end.
        assert_rates(schedule, np.arange(300), targets, TORCH)


@pytest.mark.parametrize(
    "t_mult, epochs, t_curs, t_is",
    [
        (
            1,
            [0, 1, 2, 3, 4, 5, 12, 27, 3, 4, 5, 6, 13],
            [1, 2, 3, 4, 5, 2, 7, 3, 4, 5, 6, 3],
            [10] * 12,
        ),
        (
            2,
            [0, 1, 2, 3, 4, 5, 25, 32, 33, 34, 80, 81, 3],
            [1, 2, 3, 4, 5, 15, 2, 3, 4, 10, 11, 3],
            [10, 10, 10, 10, 10, 20, 40, 40, 40, 80, 80, 10],
        ),
        (
            3,
            [0, 0.1, 0.2, 0.3, 1.3, 2.3, 17.5, 18.5, 19.5, 29.5, 30.5, 31.5, 50],
            [0.1, 0.2, 0.3, 1.3, 2.3, 7.5, 8.5, 9.5, 19.5, 20.5, 21.5, 10],
            [10, 10, 10, 10, 10, 30, 30, 30, 30, 30, 30, 90],
        ),
    ],
)
def test_torch_cosine_annealing_warm_restarts_lr3_interleaved(
    t_mult, epochs, t_curs, t_is
):
    # test/optim/test_lrscheduler.py: test_CosineAnnealingWarmRestarts_lr3
    # calls scheduler.step(epoch) at epochs that jump back and forth; the
    # targets are the cosine at the (T_cur, T_i) the peer lists. A keras_lr
    # schedule is a pure function of the step, so order does not matter.
    # The first target is the rate at epoch 0 (no step yet). Epochs of 10
    # steps (staircase=False) take the fractional epochs of T_mult=3.
    eta_min = 1e-10
    for lr in (0.05, 0.5):
        targets = [lr] + [
            eta_min + (lr - eta_min) * cosine(t_cur / t_i)
            for t_cur, t_i in zip(t_curs, t_is)
        ]
        schedule = S.Epochs(
            S.CosineRestarts(lr, 10, t_mul=t_mult, min_learning_rate=eta_min),
            steps_per_epoch=10,
            staircase=False,
        )
        steps = np.round(np.asarray(epochs) * 10).astype("int64")
        assert_rates(schedule, steps, targets, TORCH)


# ---------------------------------------------------------------------------
# Keras: keras/src/optimizers/schedules/learning_rate_schedule_test.py.
# keras_lr's Keras-named classes take Keras's arguments in Keras's order.


def test_keras_exponential_decay_continuous():
    # ExponentialDecayTest.test_continuous
    assert_rates(
        S.ExponentialDecay(0.05, 10, 0.96), [5], [0.05 * 0.96 ** (5.0 / 10.0)],
        KERAS,
    )


def test_keras_exponential_decay_staircase():
    # ExponentialDecayTest.test_staircase and .test_variables
    assert_rates(
        S.ExponentialDecay(0.1, 3, 0.96, staircase=True),
        [1, 2, 100],
        [0.1, 0.1, 0.1 * 0.96 ** (100 // 3)],
        KERAS,
    )


def test_keras_piecewise_constant_decay_values():
    # PiecewiseConstantDecayTest.test_piecewise_values (step -999 included)
    schedule = S.PiecewiseConstantDecay([100, 110, 120], [1.0, 0.1, 0.01, 0.001])
    steps = [-999, 100, 105, 110, 120, 999]
    assert_rates(schedule, steps, [1.0, 1.0, 0.1, 0.1, 0.01, 0.001], KERAS)


def test_keras_piecewise_constant_decay_boundary_values_int64():
    # PiecewiseConstantDecayTest.test_boundary_values (an int64 step)
    schedule = S.PiecewiseConstantDecay([1, 2, 3], [0.4, 0.5, 0.6, 0.7])
    steps = np.arange(5, dtype="int64")
    assert_rates(schedule, steps, [0.4, 0.4, 0.5, 0.6, 0.7], KERAS)


def test_keras_piecewise_values_through_piecewise_constant_one_step_earlier():
    # PiecewiseConstantDecayTest.test_piecewise_values and
    # .test_boundary_values through keras_lr's own PiecewiseConstant.
    # Documented difference (README; PiecewiseConstant's docstring): a
    # boundary is the first step of the next value, so keras_lr switches at
    # the boundary step, where Keras still gives the earlier value.
    schedule = S.PiecewiseConstant([100, 110, 120], [1.0, 0.1, 0.01, 0.001])
    steps = [-999, 99, 100, 105, 110, 120, 999]
    assert_rates(schedule, steps, [1.0, 1.0, 0.1, 0.1, 0.01, 0.001, 0.001], KERAS)
    schedule = S.PiecewiseConstant([1, 2, 3], [0.4, 0.5, 0.6, 0.7])
    assert_rates(schedule, np.arange(5), [0.4, 0.5, 0.6, 0.7, 0.7], KERAS)


# LinearDecayTest and SqrtDecayTest: (arguments after initial 0.05 and 10
# decay steps, step, expected). `cycle` is Keras's restart of the decay
# with a period grown to the next multiple of decay_steps.
KERAS_POLYNOMIAL_CASES = {
    "LinearDecayTest.test_halfway": (dict(end_learning_rate=0.0), 5, 0.05 * 0.5),
    "LinearDecayTest.test_end": (dict(end_learning_rate=0.001), 10, 0.001),
    "LinearDecayTest.test_halfway_with_end": (
        dict(end_learning_rate=0.001), 5, (0.05 + 0.001) * 0.5,
    ),
    "LinearDecayTest.test_beyond_end": (dict(end_learning_rate=0.001), 15, 0.001),
    "LinearDecayTest.test_beyond_end_with_cycle": (
        dict(end_learning_rate=0.001, cycle=True), 15, (0.05 - 0.001) * 0.25 + 0.001,
    ),
    "SqrtDecayTest.test_halfway": (
        dict(end_learning_rate=0.0, power=0.5), 5, 0.05 * 0.5**0.5,
    ),
    "SqrtDecayTest.test_end": (dict(end_learning_rate=0.001, power=0.5), 10, 0.001),
    "SqrtDecayTest.test_halfway_with_end": (
        dict(end_learning_rate=0.001, power=0.5), 5,
        (0.05 - 0.001) * 0.5**0.5 + 0.001,
    ),
    "SqrtDecayTest.test_beyond_end": (
        dict(end_learning_rate=0.001, power=0.5), 15, 0.001,
    ),
    "SqrtDecayTest.test_beyond_end_with_cycle": (
        dict(end_learning_rate=0.001, power=0.5, cycle=True), 15,
        (0.05 - 0.001) * 0.25**0.5 + 0.001,
    ),
}


@pytest.mark.parametrize("case", sorted(KERAS_POLYNOMIAL_CASES))
def test_keras_polynomial_decay(case):
    # The Keras test named by `case`; end_learning_rate is passed third,
    # positionally, as the peer does.
    kwargs, step, expected = KERAS_POLYNOMIAL_CASES[case]
    kwargs = dict(kwargs)
    end = kwargs.pop("end_learning_rate")
    assert_rates(S.PolynomialDecay(0.05, 10, end, **kwargs), [step], [expected], KERAS)


def test_keras_polynomial_decay_begin_with_cycle():
    # SqrtDecayTest.test_begin_with_cycle: Keras's default end rate (1e-4)
    # and cycle=True still start at the initial rate.
    assert_rates(S.PolynomialDecay(0.001, 10, cycle=True), [0], [0.001], KERAS)


def test_keras_polynomial_decay_default_end_learning_rate_is_keras():
    # Keras's PolynomialDecay ends at 1e-4 unless told otherwise (its
    # signature; every Linear/SqrtDecayTest passes the end rate explicitly).
    assert_rates(S.PolynomialDecay(0.05, 10), [10, 15], [1e-4, 1e-4], KERAS)


@pytest.mark.parametrize("staircase", [False, True])
def test_keras_inverse_time_decay(staircase):
    # InverseTimeDecayTest.test_decay and .test_staircase: k=10 decay steps,
    # decay_rate=0.96, steps 0..10
    steps = np.arange(11)
    periods = steps // 10 if staircase else steps / 10
    assert_rates(
        S.InverseTimeDecay(0.1, 10, 0.96, staircase=staircase),
        steps,
        0.1 / (1 + 0.96 * periods),
        KERAS,
    )


KERAS_STEPS = np.arange(0, 1500, 250)  # Keras's `range(0, 1500, 250)`


@pytest.mark.parametrize("initial", [1.0, np.float64(1.0)], ids=["float", "float64"])
def test_keras_cosine_decay(initial):
    # CosineDecayTest.test_decay and .test_float64 (1000 decay steps)
    expected = [cosine(min(s, 1000) / 1000) for s in KERAS_STEPS]
    assert_rates(S.CosineDecay(initial, 1000), KERAS_STEPS, expected, KERAS)
    # CosineAnnealing's docstring: equals CosineDecay without warmup.
    assert_rates(S.CosineAnnealing(initial, 1000), KERAS_STEPS, expected, KERAS)


def test_keras_cosine_decay_alpha():
    # CosineDecayTest.test_alpha: alpha=0.1
    expected = [0.9 * cosine(min(s, 1000) / 1000) + 0.1 for s in KERAS_STEPS]
    assert_rates(S.CosineDecay(1.0, 1000, 0.1), KERAS_STEPS, expected, KERAS)
    # CosineAnnealing's docstring: alpha = min_learning_rate / initial.
    assert_rates(
        S.CosineAnnealing(1.0, 1000, min_learning_rate=0.1), KERAS_STEPS,
        expected, KERAS,
    )


def test_keras_cosine_decay_warmup():
    # CosineDecayTest.test_warmup: from 0.0 to warmup_target=10.0 over 1500
    # steps (10 decay steps, never reached at steps 0..1250)
    expected = [10.0 * s / 1500 for s in KERAS_STEPS]
    schedule = S.CosineDecay(0.0, 10, warmup_target=10.0, warmup_steps=1500)
    assert_rates(schedule, KERAS_STEPS, expected, KERAS)
    # Warmup's docstring: Warmup(CosineAnnealing(target, ...), warmup_steps,
    # initial) equals CosineDecay(initial, ..., warmup_target=target).
    schedule = S.Warmup(S.CosineAnnealing(10.0, 10), 1500, initial_learning_rate=0.0)
    assert_rates(schedule, KERAS_STEPS, expected, KERAS)


def test_keras_cosine_decay_warmup_decay():
    # CosineDecayTest.test_warmup_decay: warmup 0 -> 10 over 2000 steps, then
    # a cosine over 1000 steps, at steps 0, 250, ..., 2750
    steps = np.arange(0, 3000, 250)
    expected = [
        10.0 * s / 2000 if s < 2000 + 1 else 10.0 * cosine(min(s - 2000, 1000) / 1000)
        for s in steps
    ]
    schedule = S.CosineDecay(0.0, 1000, warmup_target=10.0, warmup_steps=2000)
    assert_rates(schedule, steps, expected, KERAS)
    schedule = S.Warmup(S.CosineAnnealing(10.0, 1000), 2000, initial_learning_rate=0.0)
    assert_rates(schedule, steps, expected, KERAS)


def keras_restart_targets(steps, decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0):
    """CosineDecayRestartsTest's targets: find the period holding each step."""
    targets = []
    for step in steps:
        period, scale = decay_steps, 1.0
        while step >= period:
            step, period, scale = step - period, period * t_mul, scale * m_mul
        targets.append((1.0 - alpha) * scale * cosine(step / period) + alpha)
    return targets


KERAS_RESTART_CASES = {
    "test_decay": dict(),
    "test_alpha": dict(alpha=0.1),
    "test_mmul": dict(m_mul=0.9),
    "test_tmul": dict(t_mul=1.0),
}


@pytest.mark.parametrize("case", sorted(KERAS_RESTART_CASES))
def test_keras_cosine_decay_restarts(case):
    # CosineDecayRestartsTest.<case> (test_float64 is test_decay with a
    # NumPy float64 rate): 1000 first decay steps, steps 0..1250.
    kwargs = KERAS_RESTART_CASES[case]
    expected = keras_restart_targets(KERAS_STEPS, 1000, **kwargs)
    for initial in (1.0, np.float64(1.0)):
        schedule = S.CosineDecayRestarts(initial, 1000, **kwargs)
        assert_rates(schedule, KERAS_STEPS, expected, KERAS)
    # CosineRestarts's docstring: equals CosineDecayRestarts with
    # alpha = min_learning_rate / initial_learning_rate.
    ours = dict(kwargs)
    ours["min_learning_rate"] = ours.pop("alpha", 0.0)
    assert_rates(S.CosineRestarts(1.0, 1000, **ours), KERAS_STEPS, expected, KERAS)


# Each Keras class's test_config arguments.
KERAS_CONFIGS = {
    "ExponentialDecay": dict(
        initial_learning_rate=0.05, decay_steps=10, decay_rate=0.96,
        staircase=True, name="my_ed",
    ),
    "PiecewiseConstantDecay": dict(boundaries=[10, 20], values=[1, 2, 3], name="my_pcd"),
    "PolynomialDecay": dict(
        initial_learning_rate=0.1, decay_steps=100, end_learning_rate=0.005,
        power=1.0, cycle=False, name="my_ld",
    ),
    "InverseTimeDecay": dict(
        initial_learning_rate=0.05, decay_steps=10, decay_rate=0.96,
        staircase=True, name="my_itd",
    ),
    "CosineDecay": dict(
        initial_learning_rate=0.05, decay_steps=10, alpha=0.1,
        warmup_target=0.2, warmup_steps=2, name="my_cd",
    ),
}


@pytest.mark.parametrize("name", sorted(KERAS_CONFIGS))
def test_keras_config(name):
    # <Class>Test.test_config: Keras's serialization round trip, with the
    # peer's arguments. keras_lr's config holds every key of Keras's with
    # the same value (its extras may follow), and survives the round trip.
    kwargs = KERAS_CONFIGS[name]
    ours = getattr(S, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    config = ours.get_config()
    for key, value in theirs.get_config().items():
        got = config[key]
        if isinstance(value, (list, tuple)):
            got, value = list(got), list(value)
        assert got == value, key
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(ours)
    )
    assert type(restored) is type(ours)
    assert restored.get_config() == config
    steps = np.arange(30)
    np.testing.assert_array_equal(restored.numpy(steps), ours.numpy(steps))


def test_keras_config_cosine_decay_restarts_growing_restarts():
    # CosineDecayRestartsTest.test_config builds CosineDecayRestarts with
    # m_mul=4.0 (each restart's peak 4x the previous). keras_lr's drop-in
    # accepts it as Keras does, with Keras's config, and equals Keras's
    # rates until they leave float32's range, where keras_lr's stop at
    # float32's largest number (README, migrating from Keras) and Keras's
    # become inf.
    kwargs = dict(
        initial_learning_rate=0.05, first_decay_steps=10, alpha=0.1,
        t_mul=3.0, m_mul=4.0, name="my_cdr",
    )
    ours = S.CosineDecayRestarts(**kwargs)
    theirs = keras.optimizers.schedules.CosineDecayRestarts(**kwargs)
    assert ours.get_config() == theirs.get_config()
    # Restarts at 10, 40, 130, 400: peaks 0.05 * (0.1 + 0.9 * 4**i).
    starts = np.array([0, 10, 40, 130, 400])
    np.testing.assert_allclose(
        ours.numpy(starts), 0.05 * (0.1 + 0.9 * 4.0 ** np.arange(5)), rtol=1e-12
    )
    # Peaks 1e10 times higher each restart leave float32's range at the
    # restart of step 400: that peak is float32's largest number, and the
    # cycle's cosine runs down from it.
    largest = float(np.finfo(np.float32).max)
    steep = S.CosineDecayRestarts(0.05, 10, t_mul=3.0, m_mul=1e10, alpha=0.1)
    rates = steep.numpy([130, 400, 401])
    assert rates[0] == pytest.approx(0.05 * (0.1 + 0.9 * 1e30), rel=1e-12)
    assert rates[1] == largest
    cosine = (1 + math.cos(math.pi / 810)) / 2  # cycle 4 lasts 10 * 3**4
    assert rates[2] == pytest.approx(0.005 + (largest - 0.005) * cosine, rel=1e-9)
    graph = keras.ops.convert_to_numpy(steep(keras.ops.convert_to_tensor([400, 401])))
    np.testing.assert_allclose(graph, rates[1:], rtol=1e-6)


def test_keras_fit_lr_correctness():
    # TestFitLRSchedulesFlow.test_fit_lr_correctness: Adam on a Dense(2)
    # with ones, ExponentialDecay(0.05, decay_steps=1, decay_rate=0.9), 3
    # epochs of 4 batches; the peer's losses, to its rtol=5e-5.
    model = keras.Sequential(
        [keras.layers.Dense(2, kernel_initializer="ones", bias_initializer="ones")]
    )
    optimizer = keras.optimizers.Adam(
        learning_rate=S.ExponentialDecay(
            initial_learning_rate=0.05, decay_steps=1, decay_rate=0.9
        )
    )
    assert len(optimizer.variables) == 1  # the iteration count only
    model.compile(optimizer=optimizer, loss="mse")
    x = np.arange(32).reshape((16, 2))
    history = model.fit(x, x, epochs=3, batch_size=4, shuffle=False, verbose=0)
    assert int(ops.convert_to_numpy(optimizer.iterations)) == 4 * 3
    np.testing.assert_allclose(
        history.history["loss"],
        [230.79457092285156, 128.30319213867188, 79.33648681640625],
        rtol=5e-5,
    )


# ---------------------------------------------------------------------------
# tensorflow-addons: tensorflow_addons/optimizers/tests/
# cyclical_learning_rate_test.py. TFA's names are keras_lr's (README,
# "Migrating from tensorflow-addons").


@pytest.mark.parametrize("serialize", [False, True])
def test_tfa_triangular_cyclical_learning_rate(serialize):
    # test_triangular_cyclical_learning_rate (serialize: both parameters)
    schedule = S.CyclicalLearningRate(
        initial_learning_rate=0.1, maximal_learning_rate=1, step_size=40
    )
    if serialize:
        schedule = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(schedule)
        )
    expected = np.concatenate(
        [np.linspace(0.1, 1.0, num=41), np.linspace(1.0, 0.1, num=41)[1:]]
    )
    assert_rates(schedule, np.arange(len(expected)), expected, TFA)


def test_tfa_triangular2_cyclical_learning_rate_expected_values():
    # CyclicalLearningRateTest.testTriangular2CyclicalLearningRate, which
    # TFA skips as failing (tensorflow/addons#1203): its expected rates rise
    # and fall in half-cycles of 2000 steps and start one step in
    # (`linspace(...)[1:]` from step 0), while it built the schedule with
    # step_size=4000. We check those expected rates against the schedule
    # they describe: step_size=2000, read at steps 1..8000.
    middle = (1.0 + 0.1) / 2
    expected = np.concatenate(
        [
            np.linspace(0.1, 1.0, num=2001)[1:],
            np.linspace(1.0, 0.1, num=2001)[1:],
            np.linspace(0.1, middle, num=2001)[1:],
            np.linspace(middle, 0.1, num=2001)[1:],
        ]
    )
    schedule = S.CyclicalLearningRate(0.1, 1.0, 2000, mode="triangular2")
    assert_rates(schedule, np.arange(1, 8001), expected, TFA)


def test_tfa_exponential_cyclical_learning_rate_expected_values():
    # CyclicalLearningRateTest.testExponentialCyclicalLearningRate, skipped
    # by TFA for the same reason (#1203): its expected rate at i uses
    # half-cycles of 2000 steps and gamma ** i, i = 1..8000. As TFA's
    # ExponentialCyclicalLearningRate scales by gamma ** step, we read those
    # rates at steps i with step_size=2000.
    steps = np.arange(1, 8001)
    position = np.abs(steps / 2000.0 - 2 * np.floor(1 + steps / (2 * 2000)) + 1)
    expected = 0.1 + 0.9 * np.maximum(0, 1 - position) * 0.996**steps
    schedule = S.CyclicalLearningRate(
        0.1, 1.0, 2000, mode="exp_range", gamma=0.996
    )
    assert_rates(schedule, steps, expected, TFA)


# ---------------------------------------------------------------------------
# tf-models. Its "stepwise" schedule is Keras's PiecewiseConstantDecay, its
# "cosine" Keras's CosineDecay. Its linear warmup runs *over* the schedule
# (the schedule keeps its own step count), keras_lr's Warmup runs *before*
# it (the schedule starts at its step 0 when warmup ends), so migrating a
# warmup moves the schedule's boundaries back by warmup_steps.


TF_MODELS_CASES = {
    # optimizer_factory_test.py: test_stepwise_lr_schedule
    "test_stepwise_lr_schedule": (
        lambda: S.PiecewiseConstantDecay([10000, 20000], [0.1, 0.01, 0.001]),
        [[0, 0.1], [5000, 0.1], [10000, 0.1], [10001, 0.01], [20000, 0.01],
         [20001, 0.001]],
    ),
    # the same through PiecewiseConstant, whose boundary is the first step
    # of the next value (README: one step earlier than Keras's)
    "test_stepwise_lr_schedule[PiecewiseConstant]": (
        lambda: S.PiecewiseConstant([10001, 20001], [0.1, 0.01, 0.001]),
        [[0, 0.1], [5000, 0.1], [10000, 0.1], [10001, 0.01], [20000, 0.01],
         [20001, 0.001]],
    ),
    # optimizer_factory_test.py: test_stepwise_lr_with_warmup_schedule
    # (linear warmup from 0.01 over 500 steps)
    "test_stepwise_lr_with_warmup_schedule": (
        lambda: S.Warmup(
            S.PiecewiseConstantDecay([10000 - 500, 20000 - 500], [0.1, 0.01, 0.001]),
            500,
            initial_learning_rate=0.01,
        ),
        [[0, 0.01], [250, 0.055], [500, 0.1], [5500, 0.1], [10000, 0.1],
         [10001, 0.01], [20000, 0.01], [20001, 0.001]],
    ),
    "test_stepwise_lr_with_warmup_schedule[PiecewiseConstant]": (
        lambda: S.Warmup(
            S.PiecewiseConstant([10001 - 500, 20001 - 500], [0.1, 0.01, 0.001]),
            500,
            initial_learning_rate=0.01,
        ),
        [[0, 0.01], [250, 0.055], [500, 0.1], [5500, 0.1], [10000, 0.1],
         [10001, 0.01], [20000, 0.01], [20001, 0.001]],
    ),
    # optimizer_factory_test.py: test_exponential_lr_schedule
    "test_exponential_lr_schedule": (
        lambda: S.ExponentialDecay(
            initial_learning_rate=0.1, decay_steps=1000, decay_rate=0.96,
            staircase=True,
        ),
        [[0, 0.1], [999, 0.1], [1000, 0.096], [1999, 0.096], [2000, 0.09216]],
    ),
    # optimizer_factory_test.py: test_polynomial_lr_schedule
    "test_polynomial_lr_schedule": (
        lambda: S.PolynomialDecay(
            initial_learning_rate=0.1, decay_steps=1000, end_learning_rate=0.001
        ),
        [[0, 0.1], [500, 0.0505], [1000, 0.001]],
    ),
    # optimizer_factory_test.py: test_cosine_lr_schedule
    "test_cosine_lr_schedule": (
        lambda: S.CosineDecay(initial_learning_rate=0.1, decay_steps=1000),
        [[0, 0.1], [250, 0.08535534], [500, 0.04999999], [750, 0.01464466],
         [1000, 0]],
    ),
    "test_cosine_lr_schedule[CosineAnnealing]": (
        lambda: S.CosineAnnealing(initial_learning_rate=0.1, decay_steps=1000),
        [[0, 0.1], [250, 0.08535534], [500, 0.04999999], [750, 0.01464466],
         [1000, 0]],
    ),
    # optimizer_factory_test.py: test_constant_lr_with_warmup_schedule
    "test_constant_lr_with_warmup_schedule": (
        lambda: S.Warmup(S.Constant(0.1), 500, initial_learning_rate=0.01),
        [[0, 0.01], [250, 0.055], [500, 0.1], [5000, 0.1], [10000, 0.1],
         [20000, 0.1]],
    ),
    # lr_schedule_test.py: PowerAndLinearDecayTest, linear_only (power=0,
    # linear_decay_fraction=1: a linear decay from 1 to 0 over 100 steps)
    "PowerAndLinearDecayTest[linear_only]": (
        lambda: S.PolynomialDecay(1.0, 100, end_learning_rate=0.0),
        [[0, 1.0], [1, 0.99], [40, 0.6], [60, 0.4], [100, 0.0]],
    ),
}


@pytest.mark.parametrize("case", sorted(TF_MODELS_CASES))
def test_tf_models(case):
    # official/modeling/optimization: the test named by `case`.
    build, pairs = TF_MODELS_CASES[case]
    steps, expected = zip(*pairs)
    assert_rates(build(), steps, expected, TF_MODELS)
