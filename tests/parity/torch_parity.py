"""Check `tests/parity/reference*.py` against PyTorch itself (a manual check).

Not collected by pytest (PyTorch is no dependency of keras_lr). Run it with
any Python that has torch and numpy:  python tests/parity/torch_parity.py
"""

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
import reference  # noqa: E402
import reference_cyclical  # noqa: E402

N = 3000


def torch_rates(make_scheduler, base_lr, n=N):
    parameter = torch.nn.Parameter(torch.zeros(1))
    # Momentum, so that OneCycleLR's momentum cycling has something to drive.
    optimizer = torch.optim.SGD([parameter], lr=base_lr, momentum=0.9)
    scheduler = make_scheduler(optimizer)
    rates = []
    for _ in range(n):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return np.array(rates)


S = torch.optim.lr_scheduler
CHECKS = {
    "StepLR": (
        lambda o: S.StepLR(o, step_size=70, gamma=0.5),
        0.1,
        reference.torch_step_lr(0.1, 70, 0.5, N),
    ),
    "MultiStepLR": (
        lambda o: S.MultiStepLR(o, milestones=[3, 500, 2000], gamma=0.2),
        0.1,
        reference.torch_multi_step_lr(0.1, [3, 500, 2000], 0.2, N),
    ),
    "ExponentialLR": (
        lambda o: S.ExponentialLR(o, gamma=0.999),
        0.1,
        reference.torch_exponential_lr(0.1, 0.999, N),
    ),
    "PolynomialLR": (
        lambda o: S.PolynomialLR(o, total_iters=2500, power=2.0),
        0.1,
        reference.torch_polynomial_lr(0.1, 2500, 2.0, N),
    ),
    "CosineAnnealingLR": (
        lambda o: S.CosineAnnealingLR(o, T_max=1000, eta_min=0.001),
        0.1,
        reference.torch_cosine_annealing_lr(0.1, 1000, 0.001, N),
    ),
    "CosineAnnealingWarmRestarts": (
        lambda o: S.CosineAnnealingWarmRestarts(o, T_0=100, T_mult=2, eta_min=0.001),
        0.1,
        reference.torch_cosine_annealing_warm_restarts(0.1, 100, 2, 0.001, N),
    ),
}


def torch_momenta(make_scheduler, kind, n):
    """The momentum each of `n` updates used: SGD's `momentum` or Adam's
    `betas[0]`, read before the update, as `torch_rates` reads the rate."""
    parameter = torch.nn.Parameter(torch.zeros(1))
    if kind == "sgd":
        optimizer = torch.optim.SGD([parameter], lr=0.1, momentum=0.9)
    else:
        optimizer = torch.optim.Adam([parameter], lr=0.1, betas=(0.9, 0.999))
    scheduler = make_scheduler(optimizer)
    momenta = []
    for _ in range(n):
        group = optimizer.param_groups[0]
        momenta.append(group["momentum"] if kind == "sgd" else group["betas"][0])
        optimizer.step()
        scheduler.step()
    return np.array(momenta)


def _difference(actual, expected):
    return np.max(np.abs(actual - expected) / np.maximum(np.abs(expected), 1e-12))


def main():
    worst = 0.0
    checks = {**CHECKS, **reference_cyclical.torch_checks(torch)}
    for name, (make, base_lr, expected) in checks.items():
        error = _difference(torch_rates(make, base_lr, len(expected)), expected)
        worst = max(worst, error)
        print(f"{name:52s} max relative difference {error:.2e}")
    momentum_checks = reference_cyclical.torch_momentum_checks(torch)
    for name, (make, kind, expected) in momentum_checks.items():
        error = _difference(torch_momenta(make, kind, len(expected)), expected)
        worst = max(worst, error)
        print(f"{name:52s} max relative difference {error:.2e}")
    print(f"torch {torch.__version__}: {'OK' if worst < 1e-9 else 'MISMATCH'}")
    return 0 if worst < 1e-9 else 1


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore")  # PyTorch's deprecation notes on SequentialLR
    sys.exit(main())
