"""The comparison's statistics: each schedule against the constant baseline.

Every schedule trains with the same seeds as the baseline, and within a seed
with the same initial weights and batch order, so the comparison is paired:
for each seed the difference between the schedule and the baseline, then
the mean difference and its 95 % confidence interval from Student's t
distribution with `seeds - 1` degrees of freedom. A difference "exceeds
seed noise" when its interval excludes 0. Training losses are compared as
ratios (the interval of the mean log ratio), since they span decades.
"""

import dataclasses
import math

import numpy as np

CONFIDENCE = 0.95


def _t_density(x, dof):
    log_scale = (
        math.lgamma((dof + 1) / 2) - math.lgamma(dof / 2)
        - 0.5 * math.log(dof * math.pi)
    )
    return np.exp(log_scale - (dof + 1) / 2 * np.log1p(x * x / dof))


def t_quantile(probability, dof):
    """The `probability` quantile (above 0.5) of Student's t with `dof` degrees of freedom.

    The density integrated with Simpson's rule and the quantile found by
    bisection, accurate to about 1e-9: enough for an interval, and no SciPy.

    Example:

    >>> round(t_quantile(0.975, 2), 4)
    4.3027
    """
    if not 0.5 <= probability < 1 or dof < 1:
        raise ValueError(
            f"Arguments must satisfy 0.5 <= probability < 1 and dof >= 1. "
            f"Received: probability={probability}, dof={dof}"
        )

    def mass(x):  # P(0 <= T <= x)
        grid = np.linspace(0.0, x, 4001)
        weights = np.ones(grid.size)
        weights[1:-1:2], weights[2:-1:2] = 4, 2
        return float(weights @ _t_density(grid, dof)) * (x / 4000) / 3

    target, low, high = probability - 0.5, 0.0, 1.0
    while mass(high) < target:
        high *= 2
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if mass(middle) < target else (low, middle)
    return (low + high) / 2


@dataclasses.dataclass(frozen=True)
class Interval:
    """A paired difference: its mean and confidence interval (None: one seed)."""

    mean: float
    low: float = None
    high: float = None

    @classmethod
    def of(cls, differences):
        differences = np.asarray(differences, dtype=np.float64)
        mean = float(differences.mean())
        if differences.size < 2:
            return cls(mean)
        half = t_quantile(0.5 + CONFIDENCE / 2, differences.size - 1) * float(
            differences.std(ddof=1) / math.sqrt(differences.size)
        )
        return cls(mean, mean - half, mean + half)

    @property
    def sign(self):
        """+1 or -1 where the interval excludes 0, else 0 (within seed noise)."""
        if self.low is None:
            return 0
        return 1 if self.low > 0 else -1 if self.high < 0 else 0


@dataclasses.dataclass
class ScheduleSummary:
    """One schedule over its seeds, against the baseline with the same seeds.

    The per-seed values are over `paired_seeds`: the seeds where both this
    run and the baseline finished (a failed run drops its seed from the
    pairs, a failed baseline drops it for every run).
    """

    name: str
    seeds: int
    final_val_accuracy: np.ndarray
    best_val_accuracy: np.ndarray
    final_loss: np.ndarray
    #: Per seed: the first epoch (from 1) at the baseline's best validation
    #: accuracy of that seed, or None where it never got there.
    epochs_to_baseline: list
    #: Per seed: the baseline's epochs to its own best over this run's, where
    #: this run got there.
    speed_ups: list
    accuracy_vs_baseline: Interval
    #: Of the log of the loss ratio; `exp` of it is a ratio.
    log_loss_vs_baseline: Interval
    paired_seeds: list = dataclasses.field(default_factory=list)
    #: The seeds whose run failed.
    failed_seeds: list = dataclasses.field(default_factory=list)


def first_epoch_reaching(val_accuracy, accuracy):
    """The first epoch (from 1) with validation accuracy >= `accuracy`, or None."""
    for epoch, value in enumerate(val_accuracy, start=1):
        if value >= accuracy:
            return epoch
    return None


def summarize(histories, baseline):
    """Per-schedule statistics against `baseline`.

    Args:
        histories: `{schedule: {seed: history}}`, Keras `History.history`
            dicts with `val_accuracy` and `loss`, or None for a run that
            failed; every schedule has the baseline's seeds.
        baseline: the name of the baseline schedule in `histories`.

    Returns:
        `{schedule: ScheduleSummary}`, in the order of `histories`; a
        schedule with no paired seed has `seeds == 0` and empty columns.
    """
    base = histories[baseline]
    seeds = sorted(base)
    finished = [seed for seed in seeds if base[seed] is not None]
    target = {seed: max(base[seed]["val_accuracy"]) for seed in finished}
    base_epochs = {
        seed: first_epoch_reaching(base[seed]["val_accuracy"], target[seed])
        for seed in finished
    }

    def column(runs, pick, used):
        return np.array([pick(runs[seed]) for seed in used], dtype=np.float64)

    def final_accuracy(history):
        return history["val_accuracy"][-1]

    def final_loss(history):
        return history["loss"][-1]

    def interval(values):
        return Interval.of(values) if len(values) else Interval(math.nan)

    summaries = {}
    for name, runs in histories.items():
        if sorted(runs) != seeds:
            raise ValueError(
                f"{name} has seeds {sorted(runs)}, the baseline {seeds}"
            )
        used = [seed for seed in finished if runs[seed] is not None]
        epochs = [
            first_epoch_reaching(runs[seed]["val_accuracy"], target[seed])
            for seed in used
        ]
        summaries[name] = ScheduleSummary(
            name=name,
            seeds=len(used),
            final_val_accuracy=column(runs, final_accuracy, used),
            best_val_accuracy=column(runs, lambda h: max(h["val_accuracy"]), used),
            final_loss=column(runs, final_loss, used),
            epochs_to_baseline=epochs,
            speed_ups=[
                base_epochs[seed] / epoch
                for seed, epoch in zip(used, epochs) if epoch is not None
            ],
            accuracy_vs_baseline=interval(
                column(runs, final_accuracy, used) - column(base, final_accuracy, used)
            ),
            log_loss_vs_baseline=interval(
                np.log(column(runs, final_loss, used))
                - np.log(column(base, final_loss, used))
            ),
            paired_seeds=used,
            failed_seeds=[seed for seed in seeds if runs[seed] is None],
        )
    return summaries
