"""The groups of an optimizer: which sub-optimizer trains which variables.

Keras's `keras.optimizers.MultiOptimizer` gives each group of variables its
own optimizer (PyTorch's param groups, optax's `multi_transform`), routed by
a `keras.optimizers.OptimizerMap` (`re.fullmatch` of a key on
`variable.path`, the default optimizer for the rest) or by a callable. Every
keras_lr tool that reads or sets a rate asks this module for the groups,
so that they all name them alike:

- a plain optimizer (inside a `LossScaleOptimizer` too) is one group,
  `"default"`;
- a `MultiOptimizer` on an `OptimizerMap` has the group `"default"` (its
  default optimizer) first, then one group per key in the map's order,
  named by the key (a sub-optimizer under several keys is one group, named
  by its first key);
- a `MultiOptimizer` on a callable has one group per sub-optimizer, named by
  the sub-optimizer's `name` (`_2`, `_3`, ... after a repeated name), in the
  order `build` met them; the first is the default group.

`ScaledSchedule` is one group's rate: a base schedule times the group's
multiplier (layer-wise decay builds them, `keras_lr.optimizers.layer_decay`).
"""

from __future__ import annotations

import collections
import contextlib
import re

import keras

from keras_lr import _keras_private
from keras_lr import _validation
from keras_lr.schedules.base import Schedule
from keras_lr.schedules.base import evaluate

DEFAULT_GROUP = "default"

_LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule


@keras.saving.register_keras_serializable(package="keras_lr")
class ScaledSchedule(Schedule):
    """Any schedule times a constant: one group's share of a base rate.

    ```python
    lr(step) = multiplier * schedule(step)
    ```

    The group's rate keeps the base schedule's shape (warmup, cosine, ...)
    at `multiplier` times its level, as PyTorch's `LambdaLR` keeps a param
    group's `initial_lr` ratio and timm's layer decay its `lr_scale`.
    `keras_lr.optimizers.layer_decay` and `scale_rates` build one per
    group; the range test sweeps the other groups through one too.

    Args:
        schedule: any `LearningRateSchedule` (keras_lr's, a Keras
            built-in, or a user's registered one).
        multiplier: a finite number >= 0 (0 freezes the group).

    Example:

    >>> from keras_lr.schedules import CosineAnnealing
    >>> schedule = ScaledSchedule(CosineAnnealing(0.1, decay_steps=100), 0.5)
    >>> schedule.numpy([0, 50, 100]).round(6).tolist()
    [0.05, 0.025, 0.0]
    """

    def __init__(self, schedule, multiplier):
        self.schedule = _validation.check_schedule("schedule", schedule)
        self.multiplier = _validation.check_number(
            "multiplier", multiplier, minimum=0.0
        )

    def _formula(self, step, xp):
        return xp.schedule(self.schedule, step) * self.multiplier


def unwrap(optimizer):
    """The optimizer that holds the groups (inside a `LossScaleOptimizer`)."""
    return getattr(optimizer, "inner_optimizer", optimizer)


def is_multi(optimizer):
    return isinstance(unwrap(optimizer), keras.optimizers.MultiOptimizer)


def groups(
    optimizer: keras.optimizers.Optimizer,
) -> dict[str, keras.optimizers.Optimizer]:
    """`{group name: sub-optimizer}`, the default group first.

    A plain optimizer is the one group `"default"`. A `MultiOptimizer` on a
    callable lists the sub-optimizers `build` found: none before it is
    built. These are the names the logger's tags, `ReduceLROnPlateau`'s
    `groups` and the range test use.

    Args:
        optimizer: a Keras optimizer: a `MultiOptimizer`, any other, or
            either inside a `LossScaleOptimizer`.

    Returns:
        A dict from group name to optimizer.

    Example:

    >>> import keras, keras_lr
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, name="body"),
    ...                           keras.layers.Dense(1, name="head")], name="net")
    >>> optimizer = keras_lr.optimizers.scale_rates(
    ...     model, keras.optimizers.SGD(0.1), {"net/body/.*": 0.1})
    >>> list(keras_lr.optimizers.groups(optimizer))
    ['default', 'net/body/.*']
    >>> list(keras_lr.optimizers.groups(keras.optimizers.SGD(0.1)))
    ['default']
    """
    optimizer = unwrap(optimizer)
    if not isinstance(optimizer, keras.optimizers.MultiOptimizer):
        return {DEFAULT_GROUP: optimizer}
    mapping = _keras_private.multi_optimizer_map(optimizer)
    named = {}
    if isinstance(mapping, keras.optimizers.OptimizerMap):
        named[DEFAULT_GROUP] = mapping.default_optimizer
        if DEFAULT_GROUP in mapping and mapping[DEFAULT_GROUP] is not named[DEFAULT_GROUP]:
            raise ValueError(
                "Argument `optimizer` must not map the key 'default', the name "
                "of its default optimizer's group, to another optimizer. "
                f"Received: optimizer={optimizer!r} with the keys {list(mapping)}"
            )
        for key in mapping:
            if not any(mapping[key] is known for known in named.values()):
                named[key] = mapping[key]
        return named
    for sub in optimizer.optimizers:
        name, copy = sub.name, 1
        while name in named:
            copy += 1
            name = f"{sub.name}_{copy}"
        named[name] = sub
    return named


def group(
    optimizer: keras.optimizers.Optimizer, name: str
) -> keras.optimizers.Optimizer:
    """The sub-optimizer of the group `name`, or a Keras-style error.

    Args:
        optimizer: a Keras optimizer, as for `groups`.
        name: a group name, one of `groups(optimizer)`.

    Returns:
        The sub-optimizer of that group.

    Raises:
        ValueError: if `name` is not a group of `optimizer`.

    Example:

    >>> import keras, keras_lr
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, name="body"),
    ...                           keras.layers.Dense(1, name="head")], name="net")
    >>> optimizer = keras_lr.optimizers.scale_rates(
    ...     model, keras.optimizers.SGD(0.1), {"net/body/.*": 0.1})
    >>> body = keras_lr.optimizers.group(optimizer, "net/body/.*")
    >>> round(float(body.learning_rate), 6)
    0.01
    """
    named = groups(optimizer)
    if not isinstance(name, str) or name not in named:
        raise ValueError(
            f"Argument `name` must be a group of the optimizer, one of "
            f"{list(named)}. Received: name={name!r}"
        )
    return named[name]


def match_patterns(argument, patterns, paths):
    """`{path: pattern or None}` as an `OptimizerMap` of `patterns` routes
    `paths` (an exact key first, else the one key that `re.fullmatch`es),
    or a Keras-style error naming `argument` for a pattern that matches no
    path or a path two patterns match: a silent fallback to the default
    group would train those variables at the wrong rate."""
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise TypeError(
                f"Argument `{argument}` must hold string patterns (matched "
                f"with re.fullmatch on variable.path). Received: {pattern!r}"
            )
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(
                f"Argument `{argument}` must hold valid regular expressions. "
                f"Received: {pattern!r} ({error})"
            ) from error
    routed = {}
    for path in paths:
        if path in patterns:
            routed[path] = path
            continue
        matches = [p for p in patterns if re.fullmatch(p, path)]
        if len(matches) > 1:
            raise ValueError(
                f"Argument `{argument}` must route each variable to one "
                f"group, but the variable {path!r} matches several patterns. "
                f"Received: {matches!r}"
            )
        routed[path] = matches[0] if matches else None
    unused = [p for p in patterns if p not in routed.values()]
    if unused:
        raise ValueError(
            f"Argument `{argument}` must hold patterns that each match a "
            "trainable variable of the model (re.fullmatch on "
            f"variable.path; the paths are {list(paths)!r}). "
            f"Received: {unused[0]!r}, which matches none"
        )
    return routed


def assignments(model, optimizer=None, argument="optimizer"):
    """`{variable path: group name}` for the model's trainable variables.

    Before training: an `OptimizerMap` is routed here as Keras's `build`
    will route it (and each of its keys must match a variable); a callable
    map is only known by building the optimizer, which this does as `fit`
    would (inside the model's distribution strategy).
    """
    optimizer = unwrap(model.optimizer if optimizer is None else optimizer)
    variables = list(model.trainable_variables)
    paths = [v.path for v in variables]
    if not isinstance(optimizer, keras.optimizers.MultiOptimizer):
        return dict.fromkeys(paths, DEFAULT_GROUP)
    mapping = _keras_private.multi_optimizer_map(optimizer)
    named = groups(optimizer)
    if isinstance(mapping, keras.optimizers.OptimizerMap):
        match_patterns(argument, list(mapping), paths)
        subs = [mapping[path] for path in paths]
    else:
        if not optimizer.built:
            with _strategy_scope(model):
                optimizer.build(variables)
            named = groups(optimizer)
        subs = [_keras_private.multi_optimizer_of(optimizer, v) for v in variables]
    name_of = {id(sub): name for name, sub in reversed(list(named.items()))}
    return {path: name_of[id(sub)] for path, sub in zip(paths, subs)}


def _strategy_scope(model):
    strategy = getattr(model, "distribute_strategy", None)  # TensorFlow only
    return contextlib.nullcontext() if strategy is None else strategy.scope()


def rate_at(optimizer, step):
    """The rate `optimizer` gives at batch step `step`, on the host (a float
    rate is one device read)."""
    rate = _keras_private.rate_as_held(optimizer)
    if isinstance(rate, _LearningRateSchedule):
        return float(evaluate(rate, [step])[0])
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def multiplier(sub, default, step):
    """The rate of `sub` over the default group's at batch step `step`.

    Exact for two `ScaledSchedule`s of one base (or one and the base
    itself), whatever the step; otherwise the ratio of the two rates there,
    NaN where the default group's rate is 0.
    """
    sub_base, sub_factor = _base_and_factor(_keras_private.rate_as_held(sub))
    base, factor = _base_and_factor(_keras_private.rate_as_held(default))
    # Compared only as schedules: `==` on a rate variable is a tensor op.
    if isinstance(base, _LearningRateSchedule) and isinstance(
        sub_base, _LearningRateSchedule
    ) and (sub_base is base or sub_base == base):
        return sub_factor / factor if factor else float("nan")
    default_rate = rate_at(default, step)
    if default_rate == 0.0:
        return float("nan")
    return rate_at(sub, step) / default_rate


def _base_and_factor(rate):
    if isinstance(rate, ScaledSchedule):
        return rate.schedule, rate.multiplier
    return rate, 1.0


GroupRow = collections.namedtuple("GroupRow", ["path", "group", "multiplier"])
GroupRow.__doc__ = """One row of `group_table`: a variable, its group, and
the group's rate as a multiple of the default group's."""


def group_table(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer | None = None,
    verbose: int = 0,
) -> list[GroupRow]:
    """Which group trains each trainable variable, at what share of the rate.

    The audit of a `keras.optimizers.MultiOptimizer` before training: one
    `GroupRow(path, group, multiplier)` per trainable variable of `model`,
    in the model's order, where `multiplier` is the group's rate over the
    default group's (exact for `ScaledSchedule` groups, else the ratio at
    the optimizer's current step; NaN where the default rate is 0). A key
    of the `OptimizerMap` that matches no variable, or a variable two keys
    match, is a `ValueError` here (Keras would train the first with the
    default optimizer's rate, and refuse the second only at `fit`).

    Args:
        model: a built Keras model.
        optimizer: the optimizer to audit; `model.optimizer` by default.
        verbose: 1 prints the table (through Keras's `print_msg`, as its
            callbacks print), 0 does not.

    Returns:
        A list of `GroupRow`.

    Example:

    >>> import keras, keras_lr
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, name="body"),
    ...                           keras.layers.Dense(1, name="head")], name="net")
    >>> optimizer = keras_lr.optimizers.scale_rates(
    ...     model, keras.optimizers.SGD(0.1), {"net/body/.*": 0.1})
    >>> rows = keras_lr.optimizers.group_table(model, optimizer, verbose=1)
    variable         group        multiplier
    net/body/kernel  net/body/.*  0.1
    net/body/bias    net/body/.*  0.1
    net/head/kernel  default      1
    net/head/bias    default      1
    >>> rows[-1]
    GroupRow(path='net/head/bias', group='default', multiplier=1.0)
    """
    if verbose not in (0, 1) or isinstance(verbose, bool):
        raise ValueError(f"Argument `verbose` must be 0 or 1. Received: verbose={verbose!r}")
    if optimizer is None:
        optimizer = getattr(model, "optimizer", None)
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(
            "Argument `optimizer` must be a Keras optimizer (or None for the "
            f"model's, which must be compiled). Received: optimizer={optimizer!r}"
        )
    routed = assignments(model, optimizer)
    named = groups(optimizer)
    default = next(iter(named.values()))
    step = int(keras.ops.convert_to_numpy(_keras_private.batch_counter(default)))
    factors = {name: multiplier(sub, default, step) for name, sub in named.items()}
    rows = [GroupRow(path, name, factors[name]) for path, name in routed.items()]
    if verbose:
        width = max([len("variable")] + [len(r.path) for r in rows])
        group_width = max([len("group")] + [len(r.group) for r in rows])
        _keras_private.print_msg(
            f"{'variable':<{width}}  {'group':<{group_width}}  multiplier"
        )
        for row in rows:
            _keras_private.print_msg(
                f"{row.path:<{width}}  {row.group:<{group_width}}  {row.multiplier:.6g}"
            )
    return rows
