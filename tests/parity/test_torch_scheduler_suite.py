"""PyTorch's own published test values, checked against keras_lr's
schedules: `test/optim/test_lrscheduler.py` (`TestLRScheduler`). Values, not
code: see `peer_suite.py`.

Steps: PyTorch reads the rate before the first `scheduler.step()` as epoch
0 and steps its epoch schedulers once per epoch (`CyclicLR` and
`OneCycleLR` once per batch); a keras_lr schedule receives the optimizer
step before the update, so the first update uses step 0. PyTorch's rate at
epoch `e` is therefore keras_lr's at step `e`, and, wrapped in
`Epochs(schedule, steps_per_epoch=n)`, at every step of epoch `e`
(`e * n .. e * n + n - 1`).
"""

import numpy as np
import pytest

from keras_lr import schedules as S
from tests.parity.peer_suite import assert_rates
from tests.parity.peer_suite import cosine

pytestmark = pytest.mark.backend_neutral

# The tolerance, from PyTorch's own assertion: it compares with atol=1e-5,
# rtol=0, which cannot tell its smallest targets (5e-8) from 0. We hold both
# evaluators to keras_lr's documented host/graph agreement, 1e-6 relative,
# which is tighter than the peer at every one of its targets (the atol only
# absorbs exact zeros).
TORCH = dict(rtol=1e-6, atol=1e-12)

# How a PyTorch scheduler reads in keras_lr: these helpers are the PyTorch
# migration table of docs/pages/migrating/pytorch.md, as code.


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
    # to lr at e = 10. Documented difference (docs/pages/migrating/pytorch.md;
    # CosineAnnealing's docstring): keras_lr equals it up to
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
    # difference (docs/pages/migrating/pytorch.md; MultiStepDecay's docstring): keras_lr refuses a
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
    # schedule has none (docs/pages/optimizers.md: the momentum is a
    # separate schedule, `OneCycle.momentum_schedule()`).
    build, targets = TORCH_BATCH_CASES[case]
    assert_rates(build(), np.arange(len(targets)), targets, TORCH)


def test_torch_onecycle_holds_the_final_rate_past_total_steps():
    # test/optim/test_lrscheduler.py: test_onecycle_lr_linear_annealing and
    # test_onecycle_lr_cosine_annealing end at 0.5 on their last step (9).
    # PyTorch raises when stepped past total_steps; documented difference
    # (docs/pages/migrating/pytorch.md; OneCycle's docstring): keras_lr holds the final rate.
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
