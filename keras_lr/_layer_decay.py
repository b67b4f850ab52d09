"""Per-group rates built from one optimizer: layer-wise decay and explicit
multipliers, as a Keras `MultiOptimizer`."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence

import keras

from keras_lr import _groups
from keras_lr import _keras_private
from keras_lr import _validation

_LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule


def scale_rates(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    multipliers: Mapping[str, float] | Sequence[tuple[str, float]],
    verbose: int = 0,
) -> keras.optimizers.MultiOptimizer:
    """A `MultiOptimizer` giving each pattern's variables a multiple of the rate.

    PyTorch's param groups with their own `lr`, written as multipliers of
    one optimizer's rate: the variables whose `variable.path` a pattern
    matches (`re.fullmatch`, as `keras.optimizers.OptimizerMap` matches)
    train with a copy of `optimizer` (every other hyperparameter the same)
    whose rate is `multiplier * rate`; the rest train with `optimizer`
    itself, the default group. A schedule becomes a `ScaledSchedule` of it,
    so each group keeps its shape (warmup, cosine, ...); a float rate
    becomes a float.

    Args:
        model: a built Keras model, whose trainable variables the patterns
            must match (each pattern at least one, no variable two).
        optimizer: a Keras optimizer, not built yet (not a
            `MultiOptimizer` or `LossScaleOptimizer`); `keras_lr.optimizers`
            with scheduled momentum or weight decay too.
        multipliers: a dict `{pattern: multiplier}` or a list of
            `(pattern, multiplier)` pairs; each multiplier a finite number
            >= 0.
        verbose: 1 prints the table of `group_table`, 0 does not.

    Returns:
        A `keras.optimizers.MultiOptimizer`; its groups are `"default"` and
        the patterns, in order.

    Example:

    The body at a tenth of the head's rate, a cosine schedule in both (a
    `Sequential`'s variable paths start with its name):

    >>> import keras, keras_lr
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, name="body"),
    ...                           keras.layers.Dense(1, name="head")], name="net")
    >>> schedule = keras_lr.schedules.CosineAnnealing(0.1, decay_steps=100)
    >>> optimizer = keras_lr.optimizers.scale_rates(
    ...     model, keras.optimizers.SGD(schedule), {"net/body/.*": 0.1})
    >>> model.compile(optimizer, loss="mse")
    >>> rows = keras_lr.optimizers.group_table(model, optimizer)
    >>> {row.group: row.multiplier for row in rows}
    {'net/body/.*': 0.1, 'default': 1.0}
    """
    return _build(model, optimizer, _pairs(multipliers), "multipliers", verbose)


def layer_decay(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    decay: float,
    layers: Sequence[str],
    verbose: int = 0,
) -> keras.optimizers.MultiOptimizer:
    """Layer-wise learning rate decay (BEiT, timm's `layer_decay`, BERT/ViT LLRD).

    ```python
    n = len(layers)
    rate(layers[i]) = decay ** (n - i) * rate     # i = 0 (the bottom) .. n - 1
    rate(anything else, the head) = rate
    ```

    `layers` lists the model's depth from the input up, each a pattern of
    `variable.path` (`re.fullmatch`); the variables no pattern matches (the
    head, a final norm) train at `optimizer`'s own rate. For a ViT of depth
    `d`, `layers = ["embeddings/.*"] + [f"block_{i}/.*" for i in range(d)]`
    gives timm's `param_groups_layer_decay(model, layer_decay=decay)`
    `lr_scale`s (stem `decay ** (d + 1)`, block `i` `decay ** (d - i)`,
    head 1). fastai's `lr=slice(low, high)` over `g` groups is
    `decay = (low / high) ** (1 / (g - 1))` with the `g - 1` lower groups in
    `layers`. The groups are built by `scale_rates`.

    Args:
        model: a built Keras model.
        optimizer: a Keras optimizer, not built yet; its rate (a float or any
            schedule) is the head's.
        decay: the factor per layer, in (0, 1].
        layers: a list of patterns, bottom first, each matching at least one
            trainable variable and no variable matched by another.
        verbose: 1 prints the table of `group_table`, 0 does not.

    Returns:
        A `keras.optimizers.MultiOptimizer` with the groups `"default"` (the
        head) and `layers`.

    Example:

    >>> import keras, keras_lr
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, name="body"),
    ...                           keras.layers.Dense(1, name="head")], name="net")
    >>> optimizer = keras_lr.optimizers.layer_decay(
    ...     model, keras.optimizers.SGD(0.1), decay=0.5, layers=["net/body/.*"])
    >>> rows = keras_lr.optimizers.group_table(model, optimizer, verbose=1)
    variable         group        multiplier
    net/body/kernel  net/body/.*  0.5
    net/body/bias    net/body/.*  0.5
    net/head/kernel  default      1
    net/head/bias    default      1

    For a transformer (patterns of its `variable.path`s), under a warmup
    and cosine schedule:

    ```python
    optimizer = keras_lr.optimizers.layer_decay(
        model, keras.optimizers.AdamW(keras_lr.schedules.Warmup(
            keras_lr.schedules.CosineAnnealing(1e-3, 10_000), 500)),
        decay=0.75, layers=["embeddings/.*", "block_0_.*", "block_1_.*"])
    ```
    """
    decay = _validation.check_number(
        "decay", decay, minimum=0.0, maximum=1.0, open_min=True
    )
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise TypeError(
            "Argument `layers` must be a list of patterns, bottom layer "
            f"first. Received: layers={layers!r}"
        )
    layers = list(layers)
    if not layers:
        raise ValueError(
            "Argument `layers` must hold at least one pattern. "
            f"Received: layers={layers!r}"
        )
    n = len(layers)
    pairs = [(pattern, decay ** (n - i)) for i, pattern in enumerate(layers)]
    return _build(model, optimizer, pairs, "layers", verbose)


def _pairs(multipliers):
    if isinstance(multipliers, dict):
        return list(multipliers.items())
    message = (
        "Argument `multipliers` must be a dict {pattern: multiplier} or a "
        f"list of (pattern, multiplier) pairs. Received: multipliers={multipliers!r}"
    )
    if isinstance(multipliers, (str, bytes)) or not hasattr(multipliers, "__iter__"):
        raise TypeError(message)
    pairs = list(multipliers)
    if not all(isinstance(p, (tuple, list)) and len(p) == 2 for p in pairs):
        raise TypeError(message)
    if not pairs:
        raise ValueError(message)
    return [tuple(p) for p in pairs]


def _build(model, optimizer, pairs, argument, verbose):
    _check_optimizer(optimizer)
    if verbose not in (0, 1) or isinstance(verbose, bool):
        raise ValueError(f"Argument `verbose` must be 0 or 1. Received: verbose={verbose!r}")
    patterns = [pattern for pattern, _ in pairs]
    duplicates = sorted({p for p in patterns if patterns.count(p) > 1}, key=str)
    if duplicates:
        raise ValueError(
            f"Argument `{argument}` must name each pattern once. "
            f"Received: {duplicates[0]!r} more than once"
        )
    factors = [
        _validation.check_number(f"{argument}[{pattern!r}]", factor, minimum=0.0)
        for pattern, factor in pairs
    ]
    if not model.built:
        raise ValueError(
            "The model must be built before its variables are given groups: "
            "give it an `Input` or call it on a batch first."
        )
    _groups.match_patterns(
        argument, patterns, [v.path for v in model.trainable_variables]
    )
    rate = _keras_private.rate_as_held(optimizer)
    if not isinstance(rate, _LearningRateSchedule):
        rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    mapping = keras.optimizers.OptimizerMap(optimizer)
    for index, (pattern, factor) in enumerate(zip(patterns, factors)):
        if isinstance(rate, _LearningRateSchedule):
            scaled = _groups.ScaledSchedule(rate, factor)
        else:
            scaled = rate * factor
        config = optimizer.get_config()
        config["learning_rate"] = scaled
        # Distinct names: the sub-optimizers' variables are named after them.
        config["name"] = f"{optimizer.name}_group_{index + 1}"
        mapping[pattern] = type(optimizer).from_config(config)
    result = keras.optimizers.MultiOptimizer(
        mapping, loss_scale_factor=optimizer.loss_scale_factor
    )
    if verbose:
        _groups.group_table(model, result, verbose=1)
    return result


def _check_optimizer(optimizer):
    if not isinstance(optimizer, keras.optimizers.Optimizer) or isinstance(
        optimizer,
        (keras.optimizers.MultiOptimizer, keras.optimizers.LossScaleOptimizer),
    ):
        raise TypeError(
            "Argument `optimizer` must be a Keras optimizer (not a "
            "MultiOptimizer or a LossScaleOptimizer). Received: "
            f"optimizer={optimizer!r}"
        )
    if optimizer.built:
        raise ValueError(
            "Argument `optimizer` must not be built yet: its copies start "
            "from no state, and the MultiOptimizer builds each on its own "
            f"variables. Received: optimizer={optimizer!r}, already built"
        )
