"""Independent references for the cyclical schedules and the wrappers.

Each function follows a peer's own algorithm, never keras_lr's code:
PyTorch's `CyclicLR`, `OneCycleLR` and `SequentialLR` (with chainable
children) as `torch.optim.lr_scheduler` steps them, tensorflow-addons'
`CyclicalLearningRate.__call__`, and the WSD schedule as its papers state
it. Each returns the rates used by updates `0..n-1`: the rate after `s`
calls of `scheduler.step()` is the one update `s` uses.

`tests/parity/torch_parity.py` checks the PyTorch references against
PyTorch itself (`torch_checks`, and `torch_momentum_checks` for the momentum
that `CyclicLR` and `OneCycleLR` cycle), with any Python that has torch and
numpy.
"""

import math
from bisect import bisect_right

import numpy as np


def torch_cyclic_lr(base_lr, max_lr, step_size_up, step_size_down, mode, gamma, n):
    """`CyclicLR.get_lr` at `last_epoch = 0..n-1` (it is not chainable)."""
    step_size_down = step_size_up if step_size_down is None else step_size_down
    total_size = float(step_size_up) + float(step_size_down)
    step_ratio = float(step_size_up) / total_size
    scale_fn, scale_mode = {
        "triangular": (lambda x: 1.0, "cycle"),
        "triangular2": (lambda x: 1 / (2.0 ** (x - 1)), "cycle"),
        "exp_range": (lambda x: gamma**x, "iterations"),
    }[mode]
    rates = []
    for last_epoch in range(n):
        cycle = math.floor(1 + last_epoch / total_size)
        x = 1.0 + last_epoch / total_size - cycle
        if x <= step_ratio:
            scale_factor = x / step_ratio
        else:
            scale_factor = (x - 1) / (step_ratio - 1)
        base_height = (max_lr - base_lr) * scale_factor
        scaled = cycle if scale_mode == "cycle" else last_epoch
        rates.append(base_lr + base_height * scale_fn(scaled))
    return np.array(rates)


def tfa_cyclical_learning_rate(initial, maximal, step_size, mode, gamma, n):
    """tensorflow-addons' `CyclicalLearningRate.__call__`, with the
    `scale_fn` and default `scale_mode` of its three subclasses."""
    scale_fn, scale_mode = {
        "triangular": (lambda x: 1.0, "cycle"),
        "triangular2": (lambda x: 1 / (2.0 ** (x - 1)), "cycle"),
        "exp_range": (lambda x: gamma**x, "iterations"),
    }[mode]
    rates = []
    for step in range(n):
        cycle = math.floor(1 + step / (2 * step_size))
        x = abs(step / step_size - 2 * cycle + 1)
        mode_step = cycle if scale_mode == "cycle" else step
        rates.append(
            initial + (maximal - initial) * max(0.0, 1 - x) * scale_fn(mode_step)
        )
    return np.array(rates)


def _torch_one_cycle(values, phases, pct_start, total_steps, anneal_strategy,
                     three_phase, n):
    """`OneCycleLR.get_lr`'s walk through its phases at `last_epoch =
    0..n-1`: each phase anneals from `values[start]` to `values[end]`.

    `phases` holds the `(start, end)` keys of the two-phase and of the
    three-phase schedule.
    """
    ends = (
        [float(pct_start * total_steps) - 1, float(2 * pct_start * total_steps) - 2,
         total_steps - 1]
        if three_phase else [float(pct_start * total_steps) - 1, total_steps - 1]
    )
    keys = phases[1] if three_phase else phases[0]

    def anneal(start, end, pct):
        if anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    result = []
    for step_num in range(n):
        start_step = 0.0
        for i, (end_step, (start, end)) in enumerate(zip(ends, keys)):
            if step_num <= end_step or i == len(ends) - 1:
                pct = (step_num - start_step) / (end_step - start_step)
                result.append(anneal(values[start], values[end], pct))
                break
            start_step = end_step
    return np.array(result)


def torch_one_cycle_lr(
    max_lr, total_steps, pct_start, anneal_strategy, div_factor,
    final_div_factor, three_phase, n,
):
    """`OneCycleLR.get_lr` at `last_epoch = 0..n-1`, `n <= total_steps`."""
    rates = {"initial_lr": max_lr / div_factor, "max_lr": max_lr}
    rates["min_lr"] = rates["initial_lr"] / final_div_factor
    phases = (
        [("initial_lr", "max_lr"), ("max_lr", "min_lr")],
        [("initial_lr", "max_lr"), ("max_lr", "initial_lr"), ("initial_lr", "min_lr")],
    )
    return _torch_one_cycle(
        rates, phases, pct_start, total_steps, anneal_strategy, three_phase, n
    )


def torch_cyclic_momentum(base_momentum, max_momentum, step_size_up, step_size_down,
                          mode, gamma, n):
    """The momentum `CyclicLR(cycle_momentum=True)` sets as a side effect of
    `get_lr` at `last_epoch = 0..n-1`: the momentum update `s` uses."""
    step_size_down = step_size_up if step_size_down is None else step_size_down
    total_size = float(step_size_up) + float(step_size_down)
    step_ratio = float(step_size_up) / total_size
    scale_fn, scale_mode = {
        "triangular": (lambda x: 1.0, "cycle"),
        "triangular2": (lambda x: 1 / (2.0 ** (x - 1)), "cycle"),
        "exp_range": (lambda x: gamma**x, "iterations"),
    }[mode]
    momenta = []
    for last_epoch in range(n):
        cycle = math.floor(1 + last_epoch / total_size)
        x = 1.0 + last_epoch / total_size - cycle
        if x <= step_ratio:
            scale_factor = x / step_ratio
        else:
            scale_factor = (x - 1) / (step_ratio - 1)
        base_height = (max_momentum - base_momentum) * scale_factor
        scaled = cycle if scale_mode == "cycle" else last_epoch
        momenta.append(max_momentum - base_height * scale_fn(scaled))
    return np.array(momenta)


def torch_one_cycle_momentum(
    base_momentum, max_momentum, total_steps, pct_start, anneal_strategy,
    three_phase, n,
):
    """The momentum `OneCycleLR(cycle_momentum=True).get_lr` sets at
    `last_epoch = 0..n-1`, `n <= total_steps`: each phase anneals from its
    `start_momentum` to its `end_momentum` with the rate's `pct`."""
    values = {"max_momentum": max_momentum, "base_momentum": base_momentum}
    phases = (
        [("max_momentum", "base_momentum"), ("base_momentum", "max_momentum")],
        [("max_momentum", "base_momentum"), ("base_momentum", "max_momentum"),
         ("max_momentum", "max_momentum")],
    )
    return _torch_one_cycle(
        values, phases, pct_start, total_steps, anneal_strategy, three_phase, n
    )


class TorchExponentialLR:
    """`ExponentialLR`: chainable `lr *= gamma`; closed form at a restart."""

    def __init__(self, base_lr, gamma):
        self.base_lr, self.gamma = base_lr, gamma
        self.lr = base_lr

    def step(self):
        self.lr *= self.gamma

    def restart(self):  # `step(0)`: the closed form at epoch 0
        self.lr = self.base_lr * self.gamma**0


class TorchStepLR:
    """`StepLR`: chainable `lr *= gamma` every `step_size` epochs."""

    def __init__(self, base_lr, step_size, gamma):
        self.base_lr, self.step_size, self.gamma = base_lr, step_size, gamma
        self.lr, self.epoch = base_lr, 0

    def step(self):
        self.epoch += 1
        if self.epoch % self.step_size == 0:
            self.lr *= self.gamma

    def restart(self):
        self.epoch = 0
        self.lr = self.base_lr * self.gamma ** (0 // self.step_size)


class TorchLinearLR:
    """`LinearLR` in its chainable (recursive) form."""

    def __init__(self, base_lr, start_factor, end_factor, total_iters):
        self.base_lr = base_lr
        self.start, self.end, self.total = start_factor, end_factor, total_iters
        self.restart()

    def step(self):
        self.epoch += 1
        if self.epoch > self.total:
            return
        self.lr *= 1.0 + (self.end - self.start) / (
            self.total * self.start + (self.epoch - 1) * (self.end - self.start)
        )

    def restart(self):
        self.epoch = 0
        self.lr = self.base_lr * self.start


def torch_sequential_lr(schedulers, milestones, n):
    """`SequentialLR.step`: the child a milestone hands over to restarts
    (`step(0)`), any other step advances the current child."""
    rates, last_epoch = [schedulers[0].lr], 0
    for _ in range(1, n):
        last_epoch += 1
        index = bisect_right(milestones, last_epoch)
        child = schedulers[index]
        if index > 0 and milestones[index - 1] == last_epoch:
            child.restart()
        else:
            child.step()
        rates.append(child.lr)
    return np.array(rates)


def torch_per_epoch(rates_per_epoch, steps_per_epoch):
    """A scheduler stepped once per epoch: each batch uses its epoch's rate."""
    return np.repeat(np.asarray(rates_per_epoch), steps_per_epoch)


def wsd(peak, total_steps, warmup_steps, decay_steps, initial, minimum, shape, n):
    """Warmup-stable-decay as stated by Hu et al. (2024, MiniCPM) and
    Hägele et al. (2024): linear warmup, constant, then a cooldown
    `min + (peak - min) * d(t)` over the last `decay_steps`."""
    decay = {
        "linear": lambda t: 1.0 - t,
        "cosine": lambda t: 0.5 * (1.0 + math.cos(math.pi * t)),
        "1-sqrt": lambda t: 1.0 - math.sqrt(t),
    }[shape]
    decay_start = total_steps - decay_steps
    rates = []
    for step in range(n):
        if step < warmup_steps:
            rates.append(initial + (peak - initial) * step / warmup_steps)
        elif step < decay_start:
            rates.append(peak)
        elif step < total_steps:
            rates.append(minimum + (peak - minimum) * decay((step - decay_start) / decay_steps))
        else:
            rates.append(minimum)
    return np.array(rates)


def torch_checks(torch):
    """`{name: (make_scheduler, base_lr, expected)}` for
    `tests/parity/torch_parity.py`."""
    S = torch.optim.lr_scheduler

    checks = {}
    for mode, gamma in (("triangular", 1.0), ("triangular2", 1.0), ("exp_range", 0.999)):
        for down in (None, 37, 250):
            checks[f"CyclicLR {mode} down={down}"] = (
                lambda o, mode=mode, gamma=gamma, down=down: S.CyclicLR(
                    o, 0.001, 0.01, step_size_up=100, step_size_down=down,
                    mode=mode, gamma=gamma,
                ),
                0.001, torch_cyclic_lr(0.001, 0.01, 100, down, mode, gamma, 2000),
            )
    for three_phase in (False, True):
        for strategy in ("cos", "linear"):
            for total, pct in ((1000, 0.3), (1001, 0.37), (150, 0.25)):
                checks[f"OneCycleLR {strategy} three={three_phase} {total} {pct}"] = (
                    lambda o, s=strategy, t=three_phase, total=total, pct=pct: S.OneCycleLR(
                        o, 0.1, total_steps=total, pct_start=pct, anneal_strategy=s,
                        three_phase=t, div_factor=20.0, final_div_factor=300.0,
                    ),
                    0.1,
                    torch_one_cycle_lr(0.1, total, pct, strategy, 20.0, 300.0, three_phase, total),
                )
    checks["SequentialLR(LinearLR, ExponentialLR)"] = (
        lambda o: S.SequentialLR(
            o, [S.LinearLR(o, 0.1, 1.0, total_iters=50), S.ExponentialLR(o, 0.99)],
            milestones=[50],
        ),
        0.1,
        torch_sequential_lr(
            [TorchLinearLR(0.1, 0.1, 1.0, 50), TorchExponentialLR(0.1, 0.99)], [50], 500
        ),
    )
    checks["SequentialLR(ExponentialLR, StepLR, ExponentialLR)"] = (
        lambda o: S.SequentialLR(
            o, [S.ExponentialLR(o, 0.98), S.StepLR(o, 30, 0.5), S.ExponentialLR(o, 0.995)],
            milestones=[40, 200],
        ),
        0.1,
        torch_sequential_lr(
            [TorchExponentialLR(0.1, 0.98), TorchStepLR(0.1, 30, 0.5),
             TorchExponentialLR(0.1, 0.995)],
            [40, 200], 500,
        ),
    )
    return checks


def torch_momentum_checks(torch):
    """`{name: (make_scheduler, optimizer, expected)}`: the momentum that
    `tests/parity/torch_parity.py` reads back from PyTorch's optimizer after
    each scheduler step, SGD's `momentum` (`optimizer="sgd"`) or Adam's
    `betas[0]` (`"adam"`)."""
    S = torch.optim.lr_scheduler
    checks = {}
    for mode, gamma in (("triangular", 1.0), ("triangular2", 1.0), ("exp_range", 0.999)):
        for down in (None, 37, 250):
            for kind in ("sgd", "adam"):
                checks[f"CyclicLR momentum {kind} {mode} down={down}"] = (
                    lambda o, mode=mode, gamma=gamma, down=down: S.CyclicLR(
                        o, 0.001, 0.01, step_size_up=100, step_size_down=down,
                        mode=mode, gamma=gamma, base_momentum=0.8, max_momentum=0.9,
                    ),
                    kind,
                    torch_cyclic_momentum(0.8, 0.9, 100, down, mode, gamma, 2000),
                )
    for three_phase in (False, True):
        for strategy in ("cos", "linear"):
            for total, pct in ((1000, 0.3), (1001, 0.37), (150, 0.25)):
                for kind in ("sgd", "adam"):
                    checks[
                        f"OneCycleLR momentum {kind} {strategy} three={three_phase} "
                        f"{total} {pct}"
                    ] = (
                        lambda o, s=strategy, t=three_phase, total=total, pct=pct: (
                            S.OneCycleLR(
                                o, 0.1, total_steps=total, pct_start=pct,
                                anneal_strategy=s, three_phase=t,
                                base_momentum=0.85, max_momentum=0.95,
                            )
                        ),
                        kind,
                        torch_one_cycle_momentum(
                            0.85, 0.95, total, pct, strategy, three_phase, total
                        ),
                    )
    return checks
