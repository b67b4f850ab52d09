"""keras_lr.optimizers: Keras's optimizers with scheduled momentum, beta_1
and weight decay.

- Floats: bit for bit what Keras's optimizer of the same name computes (its
  weights and its variables), on every backend (torch's parallel update
  included).
- Schedules: a two-weight model trained by `fit` ends where a NumPy
  re-implementation of Keras's update rule, fed with the scheduled values
  of each step, ends: one fit per family (SGD with XLA on TensorFlow and
  `steps_per_execution`, Adam, Lion), the rest of the Adam family and Lamb
  by `apply`; with gradient accumulation, `LossScaleOptimizer` and mixed
  precision; across a `.keras` save and load; without retracing.

The model: two weights `w` (Dense(1) without bias) on `x_t = (1, a_t)`, MSE
against `y_t`, batches of one, so the gradient is `2 * (x_t . w - y_t) *
x_t`, which the reference recomputes in float32. The second input makes the
two weights' gradient histories differ, so that Lamb's layer-wise
normalization leaves `beta_1` something to change.
"""

import inspect

import keras
import numpy as np
import pytest
from keras import ops

import keras_lr
from keras_lr import optimizers as O
from keras_lr import schedules as S

pytestmark = pytest.mark.backend_neutral

BACKEND = keras.backend.backend()
F = np.float32
STEPS = 12
_DATA = np.random.RandomState(1)
TARGETS = _DATA.uniform(-2.0, 2.0, size=64).astype(F)
INPUTS = np.stack([np.ones(64), _DATA.uniform(-1.0, 1.0, size=64)], axis=1).astype(F)
W0 = np.array([0.5, -0.3], dtype=F)

RATE = S.CosineAnnealing(0.05, 30, 0.005)
# Swings by 0.15 per step (0.95, 0.8, 0.65, 0.5, 0.65, ...): a value from
# the wrong step would show.
MOMENTUM = S.CyclicalMomentum(0.5, 0.95, step_size=3)
DECAY = S.PiecewiseConstant([5], [0.2, 0.5])


# A NumPy re-implementation of Keras's update rules, in float32, fed with
# the hyperparameters of each update.


def _power(base, exponent):
    return F(np.power(F(base), F(exponent)))


def sgd(state, w, g, lr, momentum, step, nesterov=False, **_):
    m = state.get("m", F(0))
    m = m * momentum - g * lr
    state["m"] = m
    return w + (m * momentum - g * lr if nesterov else m)


def adam(state, w, g, lr, beta_1, step, beta_2=0.999, epsilon=1e-7, amsgrad=False, **_):
    m, v = state.get("m", F(0)), state.get("v", F(0))
    t = F(step + 1)
    alpha = lr * np.sqrt(F(1) - _power(beta_2, t)) / (F(1) - _power(beta_1, t))
    m = m + (g - m) * (F(1) - beta_1)
    v = v + (g * g - v) * (F(1) - F(beta_2))
    state["m"], state["v"] = m, v
    if amsgrad:
        v = state["v_hat"] = np.maximum(state.get("v_hat", F(0)), v)
    return w - m * alpha / (np.sqrt(v) + F(epsilon))


def nadam(state, w, g, lr, beta_1, step, beta_2=0.999, epsilon=1e-7, **_):
    m, v = state.get("m", F(0)), state.get("v", F(0))
    u_t = beta_1 * (F(1) - F(0.5) * _power(0.96, step + 1))
    u_next = beta_1 * (F(1) - F(0.5) * _power(0.96, step + 2))
    product = state.get("product", F(1)) * u_t
    state["product"] = product
    m = m + (g - m) * (F(1) - beta_1)
    v = v + (g * g - v) * (F(1) - F(beta_2))
    state["m"], state["v"] = m, v
    m_hat = u_next * m / (F(1) - product * u_next) + (F(1) - u_t) * g / (F(1) - product)
    v_hat = v / (F(1) - _power(beta_2, step + 1))
    return w - m_hat * lr / (np.sqrt(v_hat) + F(epsilon))


def adamax(state, w, g, lr, beta_1, step, beta_2=0.999, epsilon=1e-7, **_):
    m, u = state.get("m", F(0)), state.get("u", F(0))
    m = m + (g - m) * (F(1) - beta_1)
    u = np.maximum(F(beta_2) * u, np.abs(g))
    state["m"], state["u"] = m, u
    return w - lr * m / ((F(1) - _power(beta_1, step + 1)) * (u + F(epsilon)))


def lion(state, w, g, lr, beta_1, step, beta_2=0.99, **_):
    m = state.get("m", F(0))
    w = w - lr * np.sign(m * beta_1 + g * (F(1) - beta_1))
    state["m"] = m * F(beta_2) + g * (F(1) - F(beta_2))
    return w


def lamb(state, w, g, lr, beta_1, step, beta_2=0.999, epsilon=1e-7, **_):
    m, v = state.get("m", F(0)), state.get("v", F(0))
    m = m + (g - m) * (F(1) - beta_1)
    v = v + (g * g - v) * (F(1) - F(beta_2))
    state["m"], state["v"] = m, v
    update = (m / (F(1) - _power(beta_1, step + 1))) / (
        np.sqrt(v / (F(1) - _power(beta_2, step + 1))) + F(epsilon)
    )
    w_norm, update_norm = np.sqrt(np.sum(w * w)), np.sqrt(np.sum(update * update))
    ratio = w_norm / update_norm if w_norm > 0 and update_norm > 0 else F(1)
    return w - ratio * lr * update


RULES = {"SGD": sgd, "Adam": adam, "AdamW": adam, "Nadam": nadam,
         "Adamax": adamax, "Lion": lion, "Lamb": lamb}


def reference(name, updates, momentum, weight_decay=None, accumulation=1, **options):
    """`w` after `updates` updates of `name` from `W0`.

    Update `k` averages the gradients of batches `k * n .. k * n + n - 1`
    (all at the same `w`) and uses the learning rate, momentum and weight
    decay at batch `k * n + n - 1`, where Keras evaluates them.
    """
    rule, state, w = RULES[name], {}, W0.copy()
    momentum_name = "momentum" if name == "SGD" else "beta_1"
    for k in range(updates):
        batches = range(k * accumulation, (k + 1) * accumulation)
        g = np.zeros(2, F)
        for b in batches:
            g = g + F(2) * (INPUTS[b] @ w - TARGETS[b]) * INPUTS[b]
        g = g / F(accumulation) if accumulation > 1 else g
        step = batches[-1]
        lr = F(RATE.numpy(step))
        if weight_decay is not None:
            w = w - w * F(S.evaluate(weight_decay, step)) * lr
        values = {momentum_name: F(S.evaluate(momentum, step))}
        w = rule(state, w, g, lr, step=k, **values, **options)
    return w


def one_weight_model(optimizer, **compile_kwargs):
    model = keras.Sequential([
        keras.Input((2,)),
        keras.layers.Dense(
            1, use_bias=False, kernel_initializer=keras.initializers.Constant(W0[:, None])
        ),
    ])
    model.compile(optimizer, loss="mse", **compile_kwargs)
    return model


def train(model, first, batches):
    x = INPUTS[first : first + batches]
    y = TARGETS[first : first + batches, None]
    model.fit(x, y, batch_size=1, epochs=1, shuffle=False, verbose=0)


def weight(model):
    return ops.convert_to_numpy(model.trainable_variables[0])[:, 0]


def assert_reference(actual, expected):
    # Keras's `1 - beta_2 ** t` cancels in float32: its pow and NumPy's give
    # results 1e-5 apart; a momentum one step off moves w by 1e-2.
    np.testing.assert_allclose(actual, expected, rtol=2e-5, atol=2e-5)


# Keras's torch backend refuses steps_per_execution > 1; XLA is TensorFlow's
# (Keras's "auto" leaves it off on a CPU), JAX always compiles the step.
SPE = 1 if BACKEND == "torch" else 3
XLA = dict(jit_compile=True) if BACKEND == "tensorflow" else {}


class Counted(S.CyclicalMomentum):
    """Counts how often the compiled step calls the schedule."""

    calls = 0

    def __call__(self, step):
        Counted.calls += 1
        return super().__call__(step)


# One fit per family (SGD, the Adam family, Lion), each through a different
# compiled path; the other optimizers of the Adam family and Lamb below, by
# `apply`.
FITS = {
    "SGD": (dict(nesterov=True), dict(steps_per_execution=SPE, **XLA)),
    # TensorFlow's eager train step (the others run a tf.function).
    "Adam": (dict(amsgrad=True),
             dict(run_eagerly=True) if BACKEND == "tensorflow" else {}),
    "Lion": (dict(beta_2=0.9), dict(steps_per_execution=SPE)),
}


@pytest.mark.parametrize("name", list(FITS))
def test_fit_follows_keras_rule_with_scheduled_values(name):
    """Two `fit` calls (the second continues the first's schedules), no
    retracing: the schedule is called once per trace (TensorFlow, JAX) or
    once per update (torch), not once per variable or per read."""
    options, compile_kwargs = FITS[name]
    momentum = Counted(0.5, 0.95, step_size=3)
    momentum_name = "momentum" if name == "SGD" else "beta_1"
    optimizer = getattr(O, name)(RATE, **{momentum_name: momentum}, **options)
    model = one_weight_model(optimizer, **compile_kwargs)
    Counted.calls = 0
    train(model, 0, STEPS // 2)
    first = Counted.calls
    train(model, STEPS // 2, STEPS // 2)
    assert_reference(weight(model), reference(name, STEPS, MOMENTUM, **options))
    assert int(ops.convert_to_numpy(optimizer.iterations)) == STEPS
    if BACKEND == "torch" or compile_kwargs.get("run_eagerly"):
        assert (first, Counted.calls) == (STEPS // 2, STEPS)
    else:
        assert 1 <= first <= 2 and Counted.calls == first


APPLIED = {
    "SGD_zero_momentum": dict(),  # the schedule passes through 0
    "AdamW": dict(weight_decay=DECAY),
    "Nadam": dict(weight_decay=0.1),
    "Adamax": dict(),
    "Lamb": dict(),
}


@pytest.mark.parametrize("case", list(APPLIED))
def test_apply_follows_keras_rule_with_scheduled_values(case):
    """`optimizer.apply` on the gradients the reference computes."""
    name = case.split("_")[0]
    options = dict(APPLIED[case])
    momentum = S.CyclicalMomentum(0.0, 0.9, 3) if name == "SGD" else MOMENTUM
    momentum_name = "momentum" if name == "SGD" else "beta_1"
    optimizer = getattr(O, name)(RATE, **{momentum_name: momentum}, **options)
    w = keras.Variable(W0[:, None])
    for b in range(STEPS):
        value = ops.convert_to_numpy(w)[:, 0]
        g = F(2) * (INPUTS[b] @ value - TARGETS[b]) * INPUTS[b]
        optimizer.apply([ops.convert_to_tensor(g[:, None])], [w])
    weight_decay = options.pop("weight_decay", None)
    expected = reference(name, STEPS, momentum, weight_decay, **options)
    assert_reference(ops.convert_to_numpy(w)[:, 0], expected)


def test_fit_with_floats_is_keras_bit_for_bit():
    """The compiled train step with floats: the same bits as Keras's."""
    kwargs = dict(momentum=0.9, nesterov=True, weight_decay=0.1)
    results = []
    for module in (keras.optimizers, O):
        model = one_weight_model(module.SGD(RATE, **kwargs))
        train(model, 0, 6)
        results.append(
            [ops.convert_to_numpy(v) for v in model.variables + model.optimizer.variables]
        )
    assert len(results[0]) == len(results[1])
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)


FLOATS = {
    "SGD": [dict(), dict(momentum=0.9), dict(momentum=0.5, nesterov=True, weight_decay=0.01)],
    "Adam": [dict(beta_1=0.8, weight_decay=0.01), dict(amsgrad=True)],
    "AdamW": [dict(beta_1=0.7)],
    "Nadam": [dict(beta_1=0.8, weight_decay=0.01)],
    "Adamax": [dict(beta_1=0.8, weight_decay=0.01)],
    "Lion": [dict(beta_1=0.8, weight_decay=0.01)],
    "Lamb": [dict(beta_1=0.8, weight_decay=0.01)],
}


@pytest.mark.parametrize("name", list(FLOATS))
def test_floats_are_bit_identical_to_keras(name):
    """`apply` on random gradients, eagerly: every variable, every bit."""
    rng = np.random.RandomState(7)
    gradients = [
        [rng.randn(3, 2).astype(F), rng.randn(2).astype(F)] for _ in range(6)
    ]
    for kwargs in FLOATS[name]:
        results = []
        for module in (keras.optimizers, O):
            optimizer = getattr(module, name)(learning_rate=0.01, **kwargs)
            variables = [keras.Variable(np.ones((3, 2), F)), keras.Variable(np.ones(2, F))]
            for step in gradients:
                optimizer.apply([ops.convert_to_tensor(g) for g in step], variables)
            results.append(
                [ops.convert_to_numpy(v) for v in variables + optimizer.variables]
            )
        assert len(results[0]) == len(results[1])
        for ours, theirs in zip(*results):
            np.testing.assert_array_equal(ours, theirs)


def test_gradient_accumulation_evaluates_where_the_rate_is():
    """Update k uses every schedule at batch k * n + n - 1, as Keras's rate."""
    optimizer = O.Adam(
        RATE, beta_1=MOMENTUM, weight_decay=DECAY, gradient_accumulation_steps=2
    )
    model = one_weight_model(optimizer)
    train(model, 0, 2 * 6)
    expected = reference("Adam", 6, MOMENTUM, DECAY, accumulation=2)
    assert_reference(weight(model), expected)


def test_loss_scale_optimizer_and_mixed_precision():
    # An explicit LossScaleOptimizer in float32: unscaling by a power of
    # two is exact, so the reference holds as without it.
    inner = O.SGD(RATE, momentum=MOMENTUM, weight_decay=DECAY)
    model = one_weight_model(keras.optimizers.LossScaleOptimizer(inner))
    train(model, 0, STEPS)
    assert_reference(weight(model), reference("SGD", STEPS, MOMENTUM, DECAY))
    # mixed_float16: `compile` wraps the optimizer; the weights stay float32,
    # the gradient is computed in float16 (about 1e-3 relative). A small
    # loss scale keeps every step finite (Keras's 2**15 would overflow
    # float16 and skip updates at first).
    keras.config.set_dtype_policy("mixed_float16")
    try:
        inner = O.Adam(RATE, beta_1=MOMENTUM)
        wrapped = one_weight_model(inner).optimizer
        assert isinstance(wrapped, keras.optimizers.LossScaleOptimizer)
        assert wrapped.inner_optimizer is inner
        inner = O.Adam(RATE, beta_1=MOMENTUM)
        model = one_weight_model(
            keras.optimizers.LossScaleOptimizer(inner, initial_scale=2.0)
        )
        train(model, 0, STEPS)
    finally:
        keras.config.set_dtype_policy("float32")
    assert int(ops.convert_to_numpy(inner.iterations)) == STEPS
    expected = reference("Adam", STEPS, MOMENTUM)
    np.testing.assert_allclose(weight(model), expected, rtol=1e-2, atol=1e-2)
    # ... and far from where a fixed beta_1 of 0.9 would have led.
    held = reference("Adam", STEPS, S.Constant(0.9))
    assert np.abs(weight(model) - expected).max() < 0.1 * np.abs(held - expected).max()


def test_save_load_mid_training_continues_with_the_same_values(tmp_path):
    optimizer = O.Adam(RATE, beta_1=MOMENTUM, weight_decay=DECAY)
    model = one_weight_model(optimizer)
    train(model, 0, 6)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    restored = loaded.optimizer
    assert type(restored) is type(optimizer)
    assert restored.hyperparameter_schedules == {
        "beta_1": MOMENTUM, "weight_decay": DECAY
    }
    assert restored.get_config() == optimizer.get_config()
    assert int(ops.convert_to_numpy(restored.iterations)) == 6
    train(loaded, 6, 6)
    expected = reference("Adam", STEPS, MOMENTUM, DECAY)
    assert_reference(weight(loaded), expected)


def test_same_constructor_as_keras_and_registered():
    for cls in O.ALL_OPTIMIZERS:
        keras_class = getattr(keras.optimizers, cls.__name__)
        assert issubclass(cls, keras_class)
        assert inspect.signature(cls) == inspect.signature(keras_class)
        assert keras.saving.get_registered_name(cls) == f"keras_lr>{cls.__name__}"
        assert keras.saving.get_registered_object(f"keras_lr>{cls.__name__}") is cls
        optimizer = cls(0.01)
        assert isinstance(optimizer, cls)
        assert keras.saving.get_registered_name(type(optimizer)) == (
            f"keras_lr>{cls.__name__}"
        )
    per_group = {"GroupRow", "ScaledSchedule", "group", "group_table", "groups",
                 "layer_decay", "scale_rates"}
    assert set(O.__all__) == {"ALL_OPTIMIZERS", "ScheduledHyperparameters"} | per_group | {
        cls.__name__ for cls in O.ALL_OPTIMIZERS
    }


def test_positional_arguments_and_reading_the_values():
    optimizer = O.SGD(RATE, MOMENTUM, True, DECAY)
    assert optimizer.nesterov is True
    assert optimizer.hyperparameter_schedules == {"momentum": MOMENTUM, "weight_decay": DECAY}
    # Read outside the update: the value at the current step, as Keras's
    # `learning_rate` reads.
    optimizer.iterations.assign(4)
    assert float(ops.convert_to_numpy(optimizer.momentum)) == pytest.approx(
        MOMENTUM.numpy(4), rel=1e-6
    )
    assert float(ops.convert_to_numpy(optimizer.weight_decay)) == pytest.approx(0.2)
    # A float set afterwards is a float again, as Keras's attribute.
    optimizer.momentum = 0.9
    assert optimizer.momentum == 0.9
    assert optimizer.hyperparameter_schedules == {"weight_decay": DECAY}


def test_config_round_trip():
    optimizer = O.AdamW(RATE, weight_decay=DECAY, beta_1=MOMENTUM, amsgrad=True)
    config = optimizer.get_config()
    assert config["beta_1"]["registered_name"] == "keras_lr>CyclicalMomentum"
    assert config["weight_decay"]["registered_name"] == "keras_lr>PiecewiseConstant"
    rebuilt = O.AdamW.from_config(config)
    assert rebuilt.hyperparameter_schedules == optimizer.hyperparameter_schedules
    assert rebuilt.get_config() == config
    serialized = keras.optimizers.serialize(optimizer)
    assert keras.optimizers.deserialize(serialized).get_config() == config
    plain = O.AdamW(0.001, beta_1=0.8)
    assert plain.get_config() == keras.optimizers.AdamW(0.001, beta_1=0.8).get_config() | {
        "name": plain.name
    }


def test_keras_checks_floats_as_before():
    with pytest.raises(ValueError, match="`momentum` must be a float between"):
        O.SGD(0.01, momentum=1.5)
    with pytest.raises(ValueError, match="Argument `beta_1` must be in the"):
        O.Lion(beta_1=0.0)
    with pytest.raises(ValueError, match="Argument `weight_decay` must be a float"):
        O.AdamW(weight_decay=None)


def test_module_docstring_example_runs():
    globs = {"keras_lr": keras_lr, "keras": keras, "epochs": 2, "steps_per_epoch": 5}
    example = O.__doc__.split("```python")[1].split("```")[0]
    exec(example, globs)  # noqa: S102 - our own docstring
    assert isinstance(globs["optimizer"], O.SGD)
    assert globs["optimizer"].hyperparameter_schedules["momentum"] == (
        globs["rate"].momentum_schedule()
    )
