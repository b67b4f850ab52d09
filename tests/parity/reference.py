"""Independent references: the peers' own algorithms, never keras_lr's code.

PyTorch schedulers are written here in their per-step ("chainable") form,
as `torch.optim.lr_scheduler` applies them: the rate used by update `s` is
the rate after `s` calls of `scheduler.step()`. Keras's built-in schedules
are the real classes. `tests/parity/torch_parity.py` checks these
references against PyTorch itself where it is installed.
"""

import math

import numpy as np


def _run(first, update, n):
    """Rates for updates 0..n-1: `first`, then `update(previous, epoch)`."""
    rates = [first]
    for epoch in range(1, n):
        rates.append(update(rates[-1], epoch))
    return np.array(rates)


def torch_step_lr(base_lr, step_size, gamma, n):
    return _run(
        base_lr,
        lambda lr, epoch: lr * gamma if epoch % step_size == 0 else lr,
        n,
    )


def torch_multi_step_lr(base_lr, milestones, gamma, n):
    counts = {m: milestones.count(m) for m in milestones}
    return _run(
        base_lr, lambda lr, epoch: lr * gamma ** counts.get(epoch, 0), n
    )


def torch_exponential_lr(base_lr, gamma, n):
    return _run(base_lr, lambda lr, epoch: lr * gamma, n)


def torch_polynomial_lr(base_lr, total_iters, power, n):
    def update(lr, epoch):
        if epoch > total_iters:
            return lr
        factor = (1.0 - epoch / total_iters) / (1.0 - (epoch - 1) / total_iters)
        return lr * factor**power

    return _run(base_lr, update, n)


def torch_cosine_annealing_lr(base_lr, t_max, eta_min, n):
    def update(lr, epoch):
        if (epoch - 1 - t_max) % (2 * t_max) == 0:
            return lr + (base_lr - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
        return (1 + math.cos(math.pi * epoch / t_max)) / (
            1 + math.cos(math.pi * (epoch - 1) / t_max)
        ) * (lr - eta_min) + eta_min

    return _run(base_lr, update, n)


def torch_cosine_annealing_warm_restarts(base_lr, t_0, t_mult, eta_min, n):
    rates, t_cur, t_i = [], 0, t_0
    for _ in range(n):
        rates.append(
            eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2
        )
        t_cur += 1
        if t_cur >= t_i:
            t_cur -= t_i
            t_i *= t_mult
    return np.array(rates)


def timm_vit_layer_scales(depth, decay):
    """timm's `param_groups_layer_decay(model, layer_decay=decay)` `lr_scale`
    per layer id for a ViT of `depth` blocks, from timm's
    `optim/_param_groups.py` (`param_groups_layer_decay`) and the ViT's
    `group_matcher`: the stem (embeddings) is layer 0, block `i` layer
    `i + 1`, the final norm layer `depth + 1`, and a parameter no rule
    matches (the head) takes `layer_max`. Then timm computes

        num_layers = max(layer_map.values()) + 1
        layer_max = num_layers - 1
        layer_scales = [decay ** (layer_max - i) for i in range(num_layers)]
    """
    layer_map_max = depth + 1
    num_layers = layer_map_max + 1
    layer_max = num_layers - 1
    return [decay ** (layer_max - i) for i in range(num_layers)]
