"""Reduce the learning rate on a plateau, on a float rate or any schedule."""

import numbers

import keras
import numpy as np

from keras_lr import _groups
from keras_lr import _keras_private
from keras_lr import _validation
from keras_lr._keras_private import print_msg
from keras_lr._keras_private import weights_file_name
from keras_lr.callbacks import _optimizer_rate
from keras_lr.callbacks._live import LiveValues
from keras_lr.callbacks._monitor import MonitorState
from keras_lr.callbacks._monitor import PatienceMonitor
from keras_lr.callbacks._monitor import state_property
from keras_lr.schedules.base import Schedule

_LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule


@keras.saving.register_keras_serializable(package="keras_lr")
class ReducedSchedule(LiveValues, Schedule):
    """A schedule scaled down by `ReduceLROnPlateau`, floored at a minimum.

    ```python
    lr(step) = max(schedule(step) * scale,
                   min(min_learning_rate, schedule(step)))
    ```

    so a reduction keeps the shape of warmup or cosine at a lower level,
    never pushes the rate below `min_learning_rate`, and never lifts a
    schedule that itself goes lower. `ReduceLROnPlateau` installs it on an
    optimizer built with a schedule (a float rate stays a float) and owns
    `scale` (the one mutable value of a keras_lr
    schedule) and `plateau_state`, its patience bookkeeping; both are part of
    the config, so a saved model resumes at the reduced rate with the same
    bookkeeping. While the callback drives it, the compiled train step reads
    `scale` and `min_learning_rate` from variables of the optimizer, so a
    reduction takes effect at the next update without a recompile.

    Args:
        schedule: any `LearningRateSchedule`.
        scale: the product of the reductions so far, in (0, 1].
        min_learning_rate: the floor that reductions respect.
        plateau_state: `None` or a dict with `best` (a float or `None`),
            `wait` and `cooldown_counter` (non-negative integers).

    Example:

    >>> from keras_lr.schedules import CosineAnnealing
    >>> reduced = ReducedSchedule(CosineAnnealing(0.1, 100), scale=0.1,
    ...                           min_learning_rate=0.002)
    >>> reduced.numpy([0, 50, 90, 100]).round(6).tolist()
    [0.01, 0.005, 0.002, 0.0]
    """

    def __init__(self, schedule, scale=1.0, min_learning_rate=0.0, plateau_state=None):
        self.schedule = _validation.check_schedule("schedule", schedule)
        self.scale = _validation.check_number(
            "scale", scale, minimum=0.0, maximum=1.0, open_min=True
        )
        self.min_learning_rate = _validation.check_learning_rate(
            "min_learning_rate", min_learning_rate
        )
        self.plateau_state = _check_plateau_state(plateau_state)

    _live_kinds = {"scale": "float", "min_learning_rate": "float"}

    scale = property(
        lambda self: self._scale, lambda self, value: self._set_live("scale", value)
    )
    min_learning_rate = property(
        lambda self: self._min_learning_rate,
        lambda self, value: self._set_live("min_learning_rate", value),
    )

    def _formula(self, step, xp):
        base = xp.schedule(self.schedule, step)
        scale = self._read_live("scale", step, xp)
        floor = self._read_live("min_learning_rate", step, xp)
        if scale is None:
            scale, floor = self.scale, xp.const(self.min_learning_rate)
        return xp.maximum(base * scale, xp.minimum(floor, base))


def _check_plateau_state(state):
    if state is None:
        return _PlateauState.new_state()
    if not isinstance(state, dict) or set(state) != set(_PlateauState.initial):
        raise ValueError(
            "Argument `plateau_state` must be None or a dict with the keys "
            f"{list(_PlateauState.initial)}. Received: plateau_state={state!r}"
        )
    best = state["best"]
    if best is not None:
        best = _validation.check_number("plateau_state['best']", best)
    return {
        "best": best,
        "wait": _validation.check_non_negative_int(
            "plateau_state['wait']", state["wait"]
        ),
        "cooldown_counter": _validation.check_non_negative_int(
            "plateau_state['cooldown_counter']", state["cooldown_counter"]
        ),
    }


class _Dtypes(dict):
    # A MultiOptimizer's groups each write their level under a key of their
    # own (`scale_<i>`, `learning_rate_<i>`, by the group's index).
    def __missing__(self, key):
        if key.startswith(("scale_", "learning_rate_")):
            return "float64"
        raise KeyError(key)


class _PlateauState(MonitorState):
    """The plateau state of one optimizer, saved with its weights.

    On a schedule the state lives in the `ReducedSchedule` (so in its config
    too); on a float rate it lives here (`values`), since a float
    optimizer's config is Keras's own. Either way, every weights file of the
    optimizer (`BackupAndRestore`'s included) carries the state with the
    scale or the rate it belongs to, and loading one puts both back.

    On a `MultiOptimizer` the state sits on the wrapper: one bookkeeping
    (one metric decides for every group), held by the first group whose
    rate is a `ReducedSchedule` (the others share that dict), and one scale
    or rate per group, saved under `scale_<i>` / `learning_rate_<i>` with
    `i` the group's index in `keras_lr.optimizers`' group order.
    """

    attribute = "_keras_lr_plateau_state"
    initial = {**MonitorState.initial, "cooldown_counter": 0}
    dtypes = _Dtypes({
        **MonitorState.dtypes,
        "cooldown_counter": "int64",
        "scale": "float64",
        "learning_rate": "float64",
    })

    def rate(self):
        return _keras_private.rate_as_held(self.optimizer())

    def group_rates(self):
        """`[(key suffix, sub-optimizer, rate as held)]`: `""` for a plain
        optimizer, `"_<i>"` for each group of a MultiOptimizer."""
        optimizer = self.optimizer()
        if not _groups.is_multi(optimizer):
            return [("", optimizer, _keras_private.rate_as_held(optimizer))]
        return [
            (f"_{index}", sub, _keras_private.rate_as_held(sub))
            for index, sub in enumerate(_groups.groups(optimizer).values())
        ]

    def state(self):
        for _, _, rate in self.group_rates():
            if isinstance(rate, ReducedSchedule):
                return rate.plateau_state
        return self.values

    def load_own_variables(self, store):
        keys = set(store.keys())
        if "wait" not in keys:
            return
        targets = self.group_rates()
        # Everything is checked as the constructor checks it before anything
        # is assigned: an edited or corrupted file is refused whole, and
        # never becomes an applied rate.
        try:
            state, levels = _read_state(store, keys)
        except (ValueError, TypeError) as error:
            raise _validation.invalid_state(
                "ReduceLROnPlateau state", weights_file_name(store), error
            ) from None
        self.state().update(state)
        for suffix, _, rate in targets:
            if isinstance(rate, ReducedSchedule) and f"scale{suffix}" in levels:
                rate.scale = levels[f"scale{suffix}"]
            elif isinstance(rate, keras.Variable) and f"learning_rate{suffix}" in levels:
                # Runs after the optimizer's own variables were loaded: a
                # backup written before this epoch's reduction gets it here.
                rate.assign(levels[f"learning_rate{suffix}"])


def _read_state(store, keys):
    """`(state, {key: scale or learning rate})` from a store, each checked
    as `ReducedSchedule` and `ReduceLROnPlateau` check them."""
    state = _check_plateau_state({
        "best": _PlateauState.read(store, "best"),
        "wait": _validation.stored_value(store, "wait"),
        "cooldown_counter": _validation.stored_value(store, "cooldown_counter"),
    })
    levels = {}
    for key in sorted(keys):
        if key == "scale" or key.startswith("scale_"):
            levels[key] = _validation.check_number(
                key, _validation.stored_value(store, key),
                minimum=0.0, maximum=1.0, open_min=True,
            )
        elif key == "learning_rate" or key.startswith("learning_rate_"):
            levels[key] = _validation.check_learning_rate(
                key, _validation.stored_value(store, key)
            )
    return state, levels


class _Driven:
    """One group `ReduceLROnPlateau` reduces: its name, its key suffix in a
    weights file, its optimizer, its `ReducedSchedule` (None for a float
    rate) and its floor."""

    def __init__(self, name, suffix, optimizer, schedule, floor):
        self.name = name
        self.suffix = suffix
        self.optimizer = optimizer
        self.schedule = schedule
        self.floor = floor


@keras.saving.register_keras_serializable(package="keras_lr")
class ReduceLROnPlateau(PatienceMonitor):
    """Reduce the learning rate when a metric stops improving, on any rate.

    A drop-in for `keras.callbacks.ReduceLROnPlateau`: the same arguments in
    the same order with the same defaults, the same patience and cooldown
    rule (reduce once `wait >= patience` epochs passed without improvement),
    the same comparisons, `logs["learning_rate"]` and verbose line. On a
    float rate it does what Keras's does: it assigns the optimizer's rate
    variable (`max(lr * factor, min_lr)`), so Keras's or keras_lr's
    `LearningRateScheduler` and `optimizer.learning_rate = x` keep working
    beside it. It also works when the optimizer was built with a
    `LearningRateSchedule`, where Keras's raises `TypeError`: it wraps the
    schedule in a `ReducedSchedule` and a reduction multiplies the whole
    schedule by `factor`, so warmup and cosine keep their shape lower down:

    ```python
    lr(step) = max(schedule(step) * scale, min(min_lr, schedule(step)))
    scale = factor ** (number of reductions)
    ```

    A reduction takes effect at the next update without recompiling the
    train step: the compiled step reads the scale from a variable.

    Beyond Keras's callback:

    - `threshold_mode="rel"` is PyTorch's: an improvement must beat
      `best * (1 - min_delta)` (`"min"`) or `best * (1 + min_delta)`
      (`"max"`); `"abs"` (the default) is Keras's `best -/+ min_delta`.
    - `eps` is PyTorch's: a reduction smaller than `eps` is not made.
      PyTorch's `ReduceLROnPlateau(patience=p, cooldown=c, eps=e, ...)`
      reduces at the same epochs as `patience=p + 1, cooldown=c + 1,
      eps=e` here (PyTorch counts an epoch as bad before it looks at the
      cooldown, Keras after).
    - A NaN or infinite monitored value counts as no improvement and never
      becomes `best` (with one warning); a missing one warns once.
    - The bookkeeping (`best`, `wait`, `cooldown_counter`) belongs to the
      optimizer, not to the callback: a new `fit` or a new callback does not
      reset it, and it survives `keras.callbacks.BackupAndRestore` (in either
      order of the two callbacks, with the reduced rate or scale). With a
      schedule, `model.save` / `keras.models.load_model` keep it too (it is
      in the `ReducedSchedule`'s config); with a float, the `.keras` file
      keeps the reduced rate but not the bookkeeping (Keras's optimizer
      config has no room for it), which then starts afresh as with Keras's
      callback. When the backup is listed first it is written before this
      callback sees the epoch's logs, so the backup takes the monitored
      value from the model's compiled metrics or the validation logs; a
      value that another callback adds to the logs, or an epoch of unknown
      length, leaves that backup one epoch behind.

    Args:
        monitor: the quantity to watch, a key of the epoch's logs.
        factor: the factor of each reduction, in (0, 1).
        patience: epochs without improvement before a reduction.
        verbose: 1 prints each reduction, as Keras's does:
            `Epoch 5: ReduceLROnPlateau reducing learning rate to 0.01.`
            (through Keras's `print_msg`, so it follows
            `keras.config.disable_interactive_logging()`).
        mode: `"min"`, `"max"`, or `"auto"` (from the metric: `"min"` for a
            loss, the metric's own direction otherwise).
        min_delta: the margin an improvement must beat, >= 0.
        cooldown: epochs after a reduction during which patience is not
            counted.
        min_lr: the floor that reductions respect, >= 0; with a
            `MultiOptimizer`, also a dict `{group name: floor}` (0 for a
            group it leaves out).
        threshold_mode: `"abs"` or `"rel"`, see above.
        eps: the smallest reduction made, >= 0 (PyTorch's default is 1e-8).
        groups: with a `keras.optimizers.MultiOptimizer`, `None` (reduce
            every group) or a list of the group names to reduce (as
            `keras_lr.optimizers.groups` names them); the other groups keep
            their rate.

    Attributes:
        best, wait, cooldown_counter: the bookkeeping, as on Keras's
            callback (readable and writable).

    Example:

    A loss that cannot improve (the inputs are zeros), so each epoch after
    the first halves the cosine schedule, which keeps its shape:

    >>> import keras, numpy as np, keras_lr
    >>> x, y = np.zeros((4, 2)), np.ones((4, 1))
    >>> model = keras.Sequential(
    ...     [keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
    >>> schedule = keras_lr.schedules.CosineAnnealing(0.1, decay_steps=100)
    >>> model.compile(keras.optimizers.SGD(schedule), loss="mse")
    >>> plateau = keras_lr.callbacks.ReduceLROnPlateau("loss", factor=0.5, patience=1)
    >>> history = model.fit(x, y, epochs=4, verbose=0, callbacks=[plateau])
    >>> [round(lr, 6) for lr in history.history["learning_rate"]]
    [0.1, 0.099975, 0.049951, 0.024945]

    On a real run:

    ```python
    schedule = keras_lr.schedules.CosineAnnealing(0.1, decay_steps=10_000)
    model.compile(keras.optimizers.SGD(schedule), loss="mse")
    model.fit(x, y, validation_split=0.2, epochs=50, callbacks=[
        keras_lr.callbacks.ReduceLROnPlateau(factor=0.5, patience=3),
    ])
    ```
    """

    state_class = _PlateauState
    # Keras's wording of the warning for a missing metric.
    _missing_subject = "Learning rate reduction"

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
        threshold_mode="abs",
        eps=0.0,
        groups=None,
    ):
        super().__init__()
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(
                "Argument `monitor` must be the name of a metric. "
                f"Received: monitor={monitor!r}"
            )
        self.monitor = monitor
        self.factor = _validation.check_number(
            "factor", factor, minimum=0.0, maximum=1.0, open_min=True
        )
        if self.factor == 1.0:
            raise ValueError(
                "Argument `factor` must be a finite number in (0, 1). "
                f"Received: factor={factor!r}"
            )
        self.patience = _validation.check_non_negative_int("patience", patience)
        if not isinstance(verbose, numbers.Integral):
            raise TypeError(
                f"Argument `verbose` must be an integer. Received: verbose={verbose!r}"
            )
        self.verbose = int(verbose)
        self.mode = _validation.check_choice("mode", mode, ("auto", "min", "max"))
        self.min_delta = _validation.check_number("min_delta", min_delta, minimum=0.0)
        self.cooldown = _validation.check_non_negative_int("cooldown", cooldown)
        if isinstance(min_lr, dict):
            for name in min_lr:
                if not isinstance(name, str):
                    raise TypeError(
                        "Argument `min_lr` must be a number or a dict from "
                        f"group names to numbers. Received: min_lr={min_lr!r}"
                    )
            self.min_lr = {
                name: _validation.check_learning_rate(f"min_lr[{name!r}]", floor)
                for name, floor in min_lr.items()
            }
        else:
            self.min_lr = _validation.check_learning_rate("min_lr", min_lr)
        self.threshold_mode = _validation.check_choice(
            "threshold_mode", threshold_mode, ("abs", "rel")
        )
        self.eps = _validation.check_number("eps", eps, minimum=0.0)
        if groups is not None:
            if isinstance(groups, str) or not all(
                isinstance(name, str) for name in _iterable(groups)
            ) or not list(groups):
                raise TypeError(
                    "Argument `groups` must be None (every group) or a "
                    f"non-empty list of group names. Received: groups={groups!r}"
                )
            groups = list(dict.fromkeys(groups))
        self.groups = groups
        self.schedule = None
        self._driven = []
        self._group_subs = None
        self._unknown_groups = False

    def get_config(self):
        return {
            "monitor": self.monitor,
            "factor": self.factor,
            "patience": self.patience,
            "verbose": self.verbose,
            "mode": self.mode,
            "min_delta": self.min_delta,
            "cooldown": self.cooldown,
            "min_lr": dict(self.min_lr) if isinstance(self.min_lr, dict) else self.min_lr,
            "threshold_mode": self.threshold_mode,
            "eps": self.eps,
            "groups": None if self.groups is None else list(self.groups),
        }

    # Beside `best` and `wait`: Keras's callback keeps its state in these
    # attributes; here they read and write the optimizer's.
    cooldown_counter = state_property("cooldown_counter")

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _driven_names(self, named):
        """The names of the groups to reduce, or a Keras-style error for a
        name in `groups` or `min_lr` the optimizer has not. Before `fit`
        (`set_model`) an unknown name only defers the attach: a
        MultiOptimizer on a callable knows its groups once built, and the
        error belongs to `on_train_begin`."""
        for argument, names in (
            ("groups", self.groups or []),
            ("min_lr", list(self.min_lr) if isinstance(self.min_lr, dict) else []),
        ):
            unknown = [name for name in names if name not in named]
            if not unknown:
                continue
            if not self._in_fit:
                return None
            value = self.groups if argument == "groups" else self.min_lr
            raise ValueError(
                f"Argument `{argument}` must name groups of the model's "
                f"optimizer, which has the groups {list(named)}; "
                f"{unknown!r} {'is' if len(unknown) == 1 else 'are'} not among "
                f"them. Received: {argument}={value!r}"
            )
        if self.groups is None:
            return list(named)
        return [name for name in named if name in self.groups]

    def _floor(self, name):
        if isinstance(self.min_lr, dict):
            return self.min_lr.get(name, 0.0)
        return self.min_lr

    def _prepare(self, optimizer, holder):
        named = _groups.groups(optimizer)
        multi = _groups.is_multi(optimizer)
        self._optimizer = optimizer
        self._group_subs = list(named.values())
        self._driven = []
        self.schedule = None
        names = self._driven_names(named)
        self._unknown_groups = names is None
        if names is None:
            return
        # A live variable of a group's schedule is one of the sub-optimizer's
        # variables, so also of the MultiOptimizer's and its
        # LossScaleOptimizer's: none of them may save it.
        owners = [_optimizer_rate.wrapper(self.model)] + ([optimizer] if multi else [])
        changed = False
        for index, (name, sub) in enumerate(named.items()):
            if name not in names:
                continue
            current = _keras_private.rate_as_held(sub)
            floor = self._floor(name)
            if isinstance(current, ReducedSchedule):
                schedule = current
            elif isinstance(current, _LearningRateSchedule):
                schedule = ReducedSchedule(
                    current, min_learning_rate=floor,
                    plateau_state=dict(holder.state()),
                )
                sub.learning_rate = schedule
            elif isinstance(current, keras.Variable):
                schedule = None
            else:
                raise ValueError(
                    "ReduceLROnPlateau needs an optimizer whose learning rate "
                    "is a float or a LearningRateSchedule. Received: "
                    f"learning_rate={current!r}"
                    + (f" (group {name!r})" if multi else "")
                )
            if schedule is not None:
                changed |= schedule is not current
                changed |= schedule.bind(sub, [o for o in owners if o is not None])
                schedule.min_learning_rate = floor
            self._driven.append(
                _Driven(name, f"_{index}" if multi else "", sub, schedule, floor)
            )
        # One metric decides for every group: one bookkeeping, which every
        # group's schedule holds (so each group's config carries it).
        state = holder.state()
        for driven in self._driven:
            if driven.schedule is not None:
                driven.schedule.plateau_state = state
        if not multi:
            self.schedule = self._driven[0].schedule
        if changed:
            self._rebuild_train_function()

    def _needs_attach(self, optimizer):
        if super()._needs_attach(optimizer) or self._unknown_groups:
            return True
        if [id(s) for s in _groups.groups(optimizer).values()] != [
            id(s) for s in self._group_subs or []
        ]:
            return True
        for driven in self._driven:
            rate = _keras_private.rate_as_held(driven.optimizer)
            if (driven.schedule is None) != isinstance(rate, keras.Variable) or (
                driven.schedule is not None and rate is not driven.schedule
            ):
                return True
        return False

    def _current_rate(self, driven, step):
        """The rate the next update of a group will use, as the reduction
        sees it."""
        if driven.schedule is None:
            return _optimizer_rate.float_rate(driven.optimizer, self.model)
        return self._rate_of_update(driven, step)

    def _rate_of_update(self, driven, step):
        """The schedule's rate for update `step` (`optimizer.iterations`):
        under gradient accumulation, the rate at its last batch."""
        return float(driven.schedule.numpy(
            _optimizer_rate.schedule_steps(driven.optimizer, step)
        ))

    def _steps_and_rates(self):
        steps = [_optimizer_rate.read_step(d.optimizer) for d in self._driven]
        rates = [self._current_rate(d, s) for d, s in zip(self._driven, steps)]
        return steps, rates

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        steps, rates = self._steps_and_rates()
        # As Keras: the rate in place before this epoch's decision, which
        # for a schedule is the rate of the epoch's last update (the first
        # group's, on a MultiOptimizer; the logger logs every group's).
        if self._driven:
            first, step = self._driven[0], steps[0]
            if first.schedule is None:
                logs["learning_rate"] = rates[0]
            elif step > 0:
                logs["learning_rate"] = self._rate_of_update(first, step - 1)
        state, reduce = self._advance(self._monitored(logs), rates)
        self._state().update(state)
        super().on_epoch_end(epoch, logs)
        if not reduce:
            return
        reduced = []
        for driven, step, rate in zip(self._driven, steps, rates):
            if not self._can_reduce(rate, driven.floor):
                continue
            if driven.schedule is None:
                new = self._reduced_rate(rate, driven.floor)
                _optimizer_rate.set_float_rate(self.model, driven.optimizer, new)
            else:
                driven.schedule.scale *= self.factor
                new = self._rate_of_update(driven, step)
            reduced.append((driven.name, new))
        if self.verbose > 0:
            if len(self._driven) == 1:
                rates_text = f"{reduced[0][1]}"
            else:
                rates_text = ", ".join(f"{new} ({name})" for name, new in reduced)
            print_msg(
                f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning "
                f"rate to {rates_text}."
            )

    def _reduced_rate(self, rate, floor):
        return max(rate * self.factor, floor)

    def _advance(self, current, rates):
        """`(state, reduce)` after an epoch that ended with `current`.

        Keras's rule: a cooldown epoch resets the wait; an improvement
        resets it and records the best; otherwise, out of cooldown, the wait
        grows and at `patience` the rate is reduced if it can be (on a
        MultiOptimizer: if any group's rate, `rates`, can be).
        """
        state = dict(self._state())
        if current is None:
            return state, False
        current = float(current)
        if state["cooldown_counter"] > 0:
            state["cooldown_counter"] -= 1
            state["wait"] = 0
        if self._is_improvement(current, state["best"]):
            state["best"] = current
            state["wait"] = 0
        elif state["cooldown_counter"] == 0:
            state["wait"] += 1
            if state["wait"] >= self.patience and any(
                self._can_reduce(rate, d.floor) for d, rate in zip(self._driven, rates)
            ):
                state["cooldown_counter"] = self.cooldown
                state["wait"] = 0
                return state, True
        return state, False

    def _can_reduce(self, rate, floor):
        # Keras compares with the float32 `min_lr`; PyTorch skips a
        # reduction smaller than `eps`.
        if not rate > np.float32(floor):
            return False
        return self.eps == 0 or rate - self._reduced_rate(rate, floor) > self.eps

    def _beats(self, current, best, smaller):
        if self.threshold_mode == "abs":
            return super()._beats(current, best, smaller)
        if smaller:
            return current < best * (1.0 - self.min_delta)
        return current > best * (1.0 + self.min_delta)

    def _state_for_backup(self, holder):
        """The state, with each group's scale or rate, that a weights file
        of `holder`'s optimizer written now should hold: the state this
        callback is about to reach when the epoch's end is pending
        (`_epoch_unseen`)."""
        _, rates = self._steps_and_rates()
        levels = [
            rate if d.schedule is None else d.schedule.scale
            for d, rate in zip(self._driven, rates)
        ]
        state = self._state()
        if self._epoch_unseen():
            state, reduce = self._advance(self._pending_value(), rates)
            if reduce:
                levels = [
                    level if not self._can_reduce(rate, d.floor)
                    else self._reduced_rate(rate, d.floor) if d.schedule is None
                    else level * self.factor
                    for d, rate, level in zip(self._driven, rates, levels)
                ]
        values = dict(state)
        for driven, level in zip(self._driven, levels):
            key = "learning_rate" if driven.schedule is None else "scale"
            values[key + driven.suffix] = level
        return values


def _iterable(value):
    try:
        return list(value)
    except TypeError:
        return [None]
