"""Check keras_lr's ReduceLROnPlateau, with the PyTorch mapping of
`tests/parity/test_torch_plateau.py`, against PyTorch itself (a manual check).

Not collected by pytest (PyTorch is no dependency of keras_lr). Run it from
the repository root with a Python that has torch and keras_lr's
dependencies:  python tests/parity/torch_plateau_parity.py
"""

import itertools
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parents[2]))
from tests.parity.test_torch_plateau import (  # noqa: E402
    CASES,
    TORCH_DEFAULTS,
    drive,
    from_torch,
)


def torch_rates(metrics, lr=0.5, **kwargs):
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **kwargs)
    rates = []
    for metric in metrics:
        optimizer.step()
        scheduler.step(metric)
        rates.append(optimizer.param_groups[0]["lr"])
    return np.array(rates)


def configurations():
    rng = np.random.RandomState(0)
    grid = itertools.product(
        ["min", "max"], ["rel", "abs"], [0, 1, 3], [0, 1, 2, 4], [0.0, 0.02])
    for mode, threshold_mode, patience, cooldown, min_lr in grid:
        for _ in range(4):
            steps = rng.normal(0, 0.05, 60)
            steps[rng.rand(60) < 0.1] = 0.0  # exact repeats: ties
            metrics = list(1.0 + np.cumsum(steps))
            if rng.rand() < 0.2:
                metrics[rng.randint(60)] = math.nan
            yield metrics, dict(
                mode=mode, threshold_mode=threshold_mode, patience=patience,
                cooldown=cooldown, min_lr=min_lr, factor=float(rng.choice([0.1, 0.5])),
                threshold=float(rng.choice([0.0, 1e-4, 0.01])),
                eps=float(rng.choice([1e-8, 0.0, 0.02])))


def main():
    warnings.simplefilter("ignore")
    worst, count = 0.0, 0
    checks = [(metrics[:epochs], kwargs) for kwargs, metrics, _, epochs in CASES.values()]
    checks += list(configurations())
    for metrics, kwargs in checks:
        expected = torch_rates(metrics, **{**TORCH_DEFAULTS, **kwargs})
        actual = np.array(drive(from_torch(**kwargs), 0.5, metrics))
        # keras_lr's float rate is the optimizer's float32 variable (as in
        # Keras): rates below float32's smallest normal number are not
        # compared (PyTorch's float64 rate goes on to 1e-300).
        normal = expected >= np.finfo(np.float32).tiny
        error = float(np.max(np.abs(actual - expected)[normal] / expected[normal]))
        if error > 1e-6:
            print("MISMATCH", kwargs, metrics, expected, actual)
        worst = max(worst, error)
        count += 1
    print(f"torch {torch.__version__}: {count} traces, max relative difference "
          f"{worst:.2e}: {'OK' if worst < 1e-6 else 'MISMATCH'}")
    return 0 if worst < 1e-6 else 1


if __name__ == "__main__":
    sys.exit(main())
