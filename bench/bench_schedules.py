"""Per-train-step cost of each schedule, and the speed of its NumPy twin.

    python bench/bench_schedules.py [--rounds 9] [--steps 100] [--only NAME ...]

For each schedule, the same small MNIST-sized model (Flatten -> Dense 128
relu -> Dense 10, SGD momentum 0.9, batch 64, random data) is trained with a
constant float learning rate and with the schedule, one epoch each,
back to back, in alternating order, `--rounds` times in one process. The
figure is the median of the per-round ratios (schedule / constant) minus 1.
Keras's `PiecewiseConstantDecay` with 999 boundaries is measured the same
way for comparison. Then `numpy()` over 1,000,000 steps is timed as a
multiple of one `np.cos` over the same steps: each schedule and `np.cos`
back to back, in alternating order, `--rounds` times in one process; the
figure is the median of the per-round ratios, so that a machine busy with
other work slows both alike. The budget is 3x.

Prints two Markdown tables with the machine and date, for docs/pages/benchmarks.md.
`--numpy-only` times only `numpy()`.
"""

import argparse
import datetime
import os
import platform
import statistics
import time

import keras
import numpy as np

from keras_lr import schedules as S

TOTAL = 10_000


def schedules_to_measure():
    many = list(range(10, 10_010, 10))  # 1,000 boundaries
    named = {
        "Constant": S.Constant(0.05),
        "PiecewiseConstant (1,000 boundaries)": S.PiecewiseConstant(
            many, [0.1 / (1 + i) for i in range(len(many) + 1)]
        ),
        "PiecewiseLinear": S.PiecewiseLinear([0, 500, 5000, TOTAL], [0, 0.1, 0.02, 0]),
        "StepDecay": S.StepDecay(0.1, 1000, 0.5),
        "MultiStepDecay": S.MultiStepDecay(0.1, [3000, 6000, 9000]),
        "ExponentialDecay": S.ExponentialDecay(0.1, 1, 0.9995, min_learning_rate=1e-4),
        "InverseTimeDecay": S.InverseTimeDecay(0.1, 100, 0.5),
        "PolynomialDecay": S.PolynomialDecay(0.1, TOTAL, 1e-4, 2.0),
        "CosineAnnealing": S.CosineAnnealing(0.1, TOTAL),
        "CosineRestarts": S.CosineRestarts(0.1, 500, 1.5, 0.9),
        "CosineDecay (Keras's, with warmup)": S.CosineDecay(
            0.0, TOTAL - 500, warmup_target=0.1, warmup_steps=500
        ),
        "CosineDecayRestarts (Keras's)": S.CosineDecayRestarts(0.1, 500, 1.5, 0.9),
        "PiecewiseConstantDecay (Keras's, 999 boundaries)": S.PiecewiseConstantDecay(
            many[:-1], [0.1 / (1 + i) for i in range(len(many))]
        ),
        "InverseSqrtDecay": S.InverseSqrtDecay(0.1, timescale=1000),
        "PowerDecay": S.PowerDecay(0.1, power=-0.5),
        "PowerAndLinearDecay": S.PowerAndLinearDecay(0.1, TOTAL, offset=100),
        "Offset(CosineAnnealing)": S.Offset(S.CosineAnnealing(0.1, TOTAL), 500),
        "Cooldown(Constant)": S.Cooldown(S.Constant(0.1), 8000, 2000),
    }
    named.update(_later_schedules())
    missing = {cls.__name__ for cls in S.ALL_SCHEDULES} - {
        type(s).__name__ for s in named.values()
    }
    if missing:
        raise SystemExit(f"bench: no entry for {sorted(missing)}; add one")
    return named


def _later_schedules():
    """The cyclical family and the wrappers, where they exist."""
    names = {cls.__name__ for cls in S.ALL_SCHEDULES}
    named = {}
    if "CyclicalLearningRate" in names:
        named["CyclicalLearningRate"] = S.CyclicalLearningRate(
            0.001, 0.1, step_size=400, mode="triangular2"
        )
    if "OneCycle" in names:
        named["OneCycle"] = S.OneCycle(0.1, total_steps=TOTAL)
    if "OneCycleMomentum" in names:
        named["OneCycleMomentum (as the rate)"] = S.OneCycle(
            0.1, total_steps=TOTAL
        ).momentum_schedule()
    if "CyclicalMomentum" in names:
        named["CyclicalMomentum (as the rate)"] = S.CyclicalLearningRate(
            0.001, 0.1, step_size=400, mode="triangular2"
        ).momentum_schedule()
    if "WarmupStableDecay" in names:
        named["WarmupStableDecay"] = S.WarmupStableDecay(
            0.1, total_steps=TOTAL, warmup_steps=500, decay_steps=2000,
            decay_shape="1-sqrt",
        )
    if "Warmup" in names:
        named["Warmup(CosineAnnealing)"] = S.Warmup(
            S.CosineAnnealing(0.1, TOTAL), warmup_steps=500
        )
    if "Sequential" in names:
        named["Sequential"] = S.Sequential(
            [S.Constant(0.1), S.CosineAnnealing(0.1, 5000)], boundaries=[2000]
        )
    if "Epochs" in names:
        named["Epochs(StepDecay)"] = S.Epochs(
            S.StepDecay(0.1, step_size=10, gamma=0.5), steps_per_epoch=100
        )
    return named


class _EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self.start


def _model(learning_rate=None, seed=0, optimizer=None):
    """The benchmark's model, compiled with `optimizer` (default: SGD with
    momentum 0.9 at `learning_rate`)."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer=optimizer
        or keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


class _Runner:
    """One epoch of `model` on `x, y` at a time, timed by the last callback."""

    def __init__(self, model, x, y, callbacks=()):
        self.model = model
        self.timer = _EpochTimer()
        self.callbacks = [*callbacks, self.timer]
        self.x, self.y = x, y
        self.epoch()  # trace and compile outside the measurement

    def epoch(self):
        self.model.fit(
            self.x, self.y, batch_size=64, epochs=1, shuffle=False, verbose=0,
            callbacks=self.callbacks,
        )
        return self.timer.seconds


def _random_data(steps):
    rng = np.random.default_rng(0)
    x = rng.random((64 * steps, 28, 28), dtype=np.float32)
    return x, rng.integers(0, 10, 64 * steps)


def paired_rounds(references, runners, rounds, steps):
    """Each configuration with a reference, back to back in alternating order.

    Args:
        references: `{name: reference name or None}`.
        runners: `{name: _Runner}` for every name.

    Returns:
        `(times, ratios)`: per name, the seconds per step of each round;
        per name with a reference, the per-round time ratios.
    """
    times = {name: [] for name in references}
    ratios = {name: [] for name, reference in references.items() if reference}
    for round_ in range(rounds):
        for name, reference in references.items():
            if reference is None:
                continue
            pair = [name, reference] if round_ % 2 else [reference, name]
            seconds = {n: runners[n].epoch() for n in pair}
            for n in pair:
                times[n].append(seconds[n] / steps)
            ratios[name].append(seconds[name] / seconds[reference])
    return times, ratios


def print_paired_table(references, times, ratios, rounds, steps):
    """The Markdown table of `paired_rounds`, with the machine and date."""
    print(f"Machine: {_machine()}; {datetime.date.today().isoformat()}")
    print(f"{rounds} paired rounds of {steps} steps (batch 64).")
    print()
    print("| configuration | per step | cost vs reference | reference |")
    print("|---|---|---|---|")
    for name, reference in references.items():
        per_step = f"{1e3 * statistics.median(times[name]):.3f} ms"
        if reference is None:
            print(f"| {name} | {per_step} | – | – |")
        else:
            cost = 100 * (statistics.median(ratios[name]) - 1.0)
            print(f"| {name} | {per_step} | {cost:+.1f} % | {reference} |")


def per_step_overheads(named, rounds, steps):
    x, y = _random_data(steps)
    baseline = _Runner(_model(0.05), x, y)
    results = {}
    for name, schedule in named.items():
        runner = _Runner(_model(schedule), x, y)
        ratios = []
        for round_ in range(rounds):
            if round_ % 2:
                theirs, ours = runner.epoch(), baseline.epoch()
            else:
                ours, theirs = baseline.epoch(), runner.epoch()
            ratios.append(theirs / ours)
        results[name] = statistics.median(ratios) - 1.0
        print(f"  {name}: {100 * results[name]:+.1f} %", flush=True)
    return results


def _seconds(function, steps):
    start = time.perf_counter()
    function(steps)
    return time.perf_counter() - start


def numpy_cos_ratios(named, rounds):
    """`{name: (median ms, median ratio to np.cos)}` of `numpy()` over
    1,000,000 steps, each round timing the schedule and `np.cos` back to
    back in alternating order."""
    steps = np.arange(1_000_000)
    results = {}
    for name, schedule in named.items():
        schedule.numpy(steps)  # the restart table and other first-use work
        times, ratios = [], []
        for round_ in range(rounds):
            if round_ % 2:
                ours = _seconds(schedule.numpy, steps)
                cosine = _seconds(np.cos, steps)
            else:
                cosine = _seconds(np.cos, steps)
                ours = _seconds(schedule.numpy, steps)
            times.append(ours)
            ratios.append(ours / cosine)
        results[name] = (1e3 * statistics.median(times), statistics.median(ratios))
    return results


def print_numpy_table(results, rounds):
    print(f"Machine: {_machine()}; {datetime.date.today().isoformat()}")
    print(f"`numpy()` over 1,000,000 steps, median of {rounds} rounds against `np.cos`.")
    print()
    print("| schedule | `numpy()` over 1,000,000 steps | vs one `np.cos` |")
    print("|---|---|---|")
    for name, (milliseconds, ratio) in results.items():
        print(f"| {name} | {milliseconds:.1f} ms | {ratio:.1f}x |")


def _machine():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores, {model}; Python {platform.python_version()}, "
        f"Keras {keras.__version__} ({keras.backend.backend()} backend)"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--only", nargs="*", help="schedule names to measure")
    parser.add_argument(
        "--numpy-only", action="store_true",
        help="time only numpy(), against np.cos over the same steps",
    )
    args = parser.parse_args(argv)

    named = schedules_to_measure()
    if args.only:
        named = {k: v for k, v in named.items() if k in args.only}
    if args.numpy_only:
        print_numpy_table(numpy_cos_ratios(named, args.rounds), args.rounds)
        return
    keras_many = keras.optimizers.schedules.PiecewiseConstantDecay(
        list(range(10, 10_000, 10)), [0.1 / (1 + i) for i in range(1000)]
    )
    print(f"Per-step cost over a constant rate ({args.rounds} paired rounds):")
    overheads = per_step_overheads(
        {**named, "Keras PiecewiseConstantDecay (999 boundaries)": keras_many},
        args.rounds,
        args.steps,
    )
    print()
    print(f"Machine: {_machine()}; {datetime.date.today().isoformat()}")
    print()
    print("| schedule | per-step cost vs constant rate |")
    print("|---|---|")
    for name, overhead in overheads.items():
        print(f"| {name} | {100 * overhead:+.1f} % |")
    print()
    print_numpy_table(numpy_cos_ratios(named, args.rounds), args.rounds)


if __name__ == "__main__":
    main()
