"""One shared list of schedule instances: it drives every contract test.

Each entry is `id: factory`. A new schedule joins the contract tests (host
twin vs graph on both backends, config round trip, `.keras` save/load,
fit-level learning rate, repr, `get`) by adding one entry here.
"""

import keras

from keras_lr import schedules as S

SCHEDULES = {
    "constant": lambda: S.Constant(0.05),
    "piecewise_constant": lambda: S.PiecewiseConstant(
        [50, 100, 150], [0.1, 0.05, 0.01, 0.005]
    ),
    "piecewise_linear": lambda: S.PiecewiseLinear(
        [10, 100, 2000, 9000], [0.0, 0.1, 0.02, 0.0]
    ),
    "step_decay": lambda: S.StepDecay(0.1, step_size=700, gamma=0.5),
    "multi_step_decay": lambda: S.MultiStepDecay(0.1, [3, 500, 4000], gamma=0.2),
    "exponential_decay": lambda: S.ExponentialDecay(0.1, 1, 0.999),
    "exponential_staircase_floor": lambda: S.ExponentialDecay(
        0.1, decay_rate=0.5, decay_steps=1000, staircase=True,
        min_learning_rate=0.002,
    ),
    "inverse_time_decay": lambda: S.InverseTimeDecay(0.1, 100, 0.5),
    "inverse_time_staircase": lambda: S.InverseTimeDecay(
        0.1, 300, 2.0, staircase=True
    ),
    "polynomial_decay": lambda: S.PolynomialDecay(
        0.1, decay_steps=6000, end_learning_rate=0.001, power=0.5
    ),
    "polynomial_default_end": lambda: S.PolynomialDecay(0.1, 8000, power=2.0),
    "polynomial_to_zero": lambda: S.PolynomialDecay(
        0.1, 8000, end_learning_rate=0.0, power=2.0
    ),
    "cosine_annealing": lambda: S.CosineAnnealing(0.1, decay_steps=9999),
    "cosine_annealing_min": lambda: S.CosineAnnealing(0.1, 5000, 0.001),
    "cosine_restarts": lambda: S.CosineRestarts(0.1, 100, t_mul=2.0),
    "cosine_restarts_fractional": lambda: S.CosineRestarts(
        0.1, 37, t_mul=1.5, m_mul=0.8, min_learning_rate=0.001
    ),
    "cosine_restarts_constant_period": lambda: S.CosineRestarts(
        0.05, 333, t_mul=1.0
    ),
}

# Cyclical, one-cycle, warmup-stable-decay and the wrappers. The short ones
# put a seam inside the steps the fit-level test trains (45-66).
SCHEDULES.update({
    "cyclical_triangular": lambda: S.CyclicalLearningRate(0.001, 0.01, 500),
    "cyclical_triangular_from_zero": lambda: S.CyclicalLearningRate(
        0.0, 0.02, step_size=20
    ),
    "cyclical_triangular2": lambda: S.CyclicalLearningRate(
        0.001, 0.01, step_size=700, mode="triangular2"
    ),
    "cyclical_exp_range": lambda: S.CyclicalLearningRate(
        0.001, 0.01, step_size=400, mode="exp_range", gamma=0.9998
    ),
    "cyclical_asymmetric": lambda: S.CyclicalLearningRate(
        0.002, 0.02, step_size=100, step_size_down=900
    ),
    "cyclical_asymmetric_triangular2": lambda: S.CyclicalLearningRate(
        0.002, 0.02, step_size=1200, step_size_down=300, mode="triangular2"
    ),
    "cyclical_asymmetric_exp_range": lambda: S.CyclicalLearningRate(
        0.001, 0.05, step_size=30, step_size_down=17, mode="exp_range",
        gamma=0.9997,
    ),
    "one_cycle": lambda: S.OneCycle(0.1, total_steps=10_000),
    "one_cycle_short": lambda: S.OneCycle(0.1, total_steps=200, pct_start=0.25),
    "one_cycle_linear": lambda: S.OneCycle(
        0.1, 8000, pct_start=0.25, anneal_strategy="linear"
    ),
    "one_cycle_three_phase": lambda: S.OneCycle(
        0.05, 9000, three_phase=True, final_div_factor=100.0
    ),
    "one_cycle_three_phase_linear": lambda: S.OneCycle(
        0.05, 7001, pct_start=0.37, anneal_strategy="linear",
        div_factor=10.0, three_phase=True,
    ),
    "wsd_linear": lambda: S.WarmupStableDecay(
        0.1, 10_000, 1000, 2000, decay_shape="linear"
    ),
    "wsd_cosine": lambda: S.WarmupStableDecay(
        0.1, 9000, 500, 3000, initial_learning_rate=0.001,
        min_learning_rate=0.001, decay_shape="cosine",
    ),
    "wsd_1_sqrt_no_warmup": lambda: S.WarmupStableDecay(
        0.1, 8000, 0, 1600, min_learning_rate=1e-4, decay_shape="1-sqrt"
    ),
    "wsd_short": lambda: S.WarmupStableDecay(
        0.05, total_steps=70, warmup_steps=50, decay_steps=15,
        decay_shape="1-sqrt",
    ),
    "warmup_cosine_annealing": lambda: S.Warmup(
        S.CosineAnnealing(0.1, 9000, 0.001), warmup_steps=500
    ),
    # Keras's own formula inside a wrapper: its float32 `1 + cos` cancels
    # near the end of its decay, where XLA's and eager's cos differ by an ulp
    # (3e-6 relative seen at 99 % of it; docs/pages/precision.md states 1e-5).
    "warmup_keras_cosine_decay": lambda: S.Warmup(
        keras.optimizers.schedules.CosineDecay(0.1, 30_000, alpha=0.01),
        warmup_steps=50, initial_learning_rate=0.001, shape="cosine",
    ),
    "warmup_exponential": lambda: S.Warmup(
        S.ExponentialDecay(0.1, 1, 0.9995), warmup_steps=1000,
        initial_learning_rate=1e-4, shape="exponential",
    ),
    "sequential": lambda: S.Sequential(
        [S.Constant(0.01), S.CosineAnnealing(0.1, 4000), S.StepDecay(0.05, 1000, 0.5)],
        boundaries=[50, 5000],
    ),
    "sequential_keras_inside": lambda: S.Sequential(
        [S.PolynomialDecay(0.1, 3000, 0.01),
         keras.optimizers.schedules.ExponentialDecay(0.01, 1000, 0.5)],
        boundaries=[3000],
    ),
    "epochs_staircase": lambda: S.Epochs(
        S.StepDecay(0.1, step_size=10, gamma=0.5), steps_per_epoch=97
    ),
    # A fractional epoch decaying to 0: near the end the distance left is
    # taken from whole 97ths of an epoch, not from a rounded fraction.
    "epochs_fractional": lambda: S.Epochs(
        S.CosineAnnealing(0.1, 120), steps_per_epoch=97, staircase=False
    ),
    "warmup_of_sequential": lambda: S.Warmup(
        S.Sequential(
            [S.CosineAnnealing(0.1, 3000, 0.01), S.Constant(0.01)], [3000]
        ),
        warmup_steps=60,
    ),
    "epochs_of_warmup": lambda: S.Epochs(
        S.Warmup(S.StepDecay(0.1, 100, 0.5), warmup_steps=3), steps_per_epoch=20
    ),
})

# Keras's six names as drop-ins, and the edges of exact step arithmetic:
# fractional Keras step counts, growth, a polynomial warmup from 0, restarts
# with a fractional t_mul, cycles from 0.
SCHEDULES.update({
    "keras_exponential_fractional_staircase": lambda: S.ExponentialDecay(
        0.1, 39.0625, 0.9, staircase=True
    ),
    "keras_exponential_growth": lambda: S.ExponentialDecay(1e-4, 100, 1.5),
    # 1000 / 3 is taken as the fraction: the staircase switches at 1000.
    "keras_exponential_third_staircase": lambda: S.ExponentialDecay(
        0.1, 1000 / 3, 0.9, staircase=True
    ),
    "keras_inverse_time_fractional": lambda: S.InverseTimeDecay(
        0.1, 2343.75, 0.5, staircase=True
    ),
    "keras_polynomial_cycle": lambda: S.PolynomialDecay(
        0.1, 61, end_learning_rate=0.001, power=0.5, cycle=True
    ),
    "keras_polynomial_warmup_from_zero": lambda: S.PolynomialDecay(
        0.0, 10_000, end_learning_rate=0.1
    ),
    "keras_piecewise_constant_decay": lambda: S.PiecewiseConstantDecay(
        [50, 100.5, 4000], [0.1, 0.05, 0.01, 0.001]
    ),
    "keras_cosine_decay": lambda: S.CosineDecay(0.1, 9000, alpha=0.01),
    "keras_cosine_decay_warmup": lambda: S.CosineDecay(
        0.0, 8000, alpha=0.1, warmup_target=0.1, warmup_steps=52
    ),
    "keras_cosine_decay_warmup_down": lambda: S.CosineDecay(
        0.5, 3000.5, warmup_target=0.1, warmup_steps=49.5
    ),
    "keras_cosine_decay_restarts": lambda: S.CosineDecayRestarts(
        0.1, 37.5, t_mul=1.5, m_mul=0.8, alpha=0.01
    ),
    "keras_cosine_decay_restarts_constant": lambda: S.CosineDecayRestarts(
        0.1, 50, t_mul=1.0, m_mul=0.9
    ),
    "cosine_restarts_t_mul_1_1": lambda: S.CosineRestarts(0.1, 3, t_mul=1.1),
    "cyclical_from_zero_step_3": lambda: S.CyclicalLearningRate(0.0, 0.1, 3),
    # Cycles ending between two steps (3, 8.1, 15.39 ... epochs of 391).
    "epochs_fractional_restarts": lambda: S.Epochs(
        S.CosineRestarts(0.1, 3, t_mul=1.7), steps_per_epoch=391, staircase=False
    ),
})

# The momentum that pairs with a cycle: schedules of a momentum or beta_1,
# held to the same contract.
SCHEDULES.update({
    "one_cycle_momentum_three_phase_linear": lambda: S.OneCycleMomentum(
        7001, 0.8, 0.95, pct_start=0.37, anneal_strategy="linear",
        three_phase=True,
    ),
    "cyclical_momentum_asymmetric_exp_range": lambda: S.CyclicalMomentum(
        0.8, 0.9, step_size=30, step_size_down=17, mode="exp_range",
        gamma=0.9997,
    ),
})

# The catalogue (schedules from Hugging Face, tf-models and optax, and the
# cooldown): one case per class, the options the catalogue added to other
# classes folded into them (Warmup's polynomial overlay, the cosine
# exponent, PiecewiseLinear's cosine). The short seams fall inside the steps
# the fit-level test trains (45-66).
SCHEDULES.update({
    "inverse_sqrt_warmup": lambda: S.Warmup(
        S.InverseSqrtDecay(0.1, timescale=333.3), warmup_steps=50
    ),
    "power_decay": lambda: S.PowerDecay(1.0, power=-1.3),
    "power_and_linear_decay": lambda: S.PowerAndLinearDecay(
        0.1, total_decay_steps=8000, power=-0.5, linear_decay_fraction=0.2,
        offset=50,
    ),
    "offset_polynomial_overlay_cosine_exponent": lambda: S.Offset(
        S.Warmup(
            S.CosineAnnealing(0.1, 5000, 0.001, exponent=2.5), warmup_steps=10,
            initial_learning_rate=0.01, shape="polynomial", power=2.0,
            overlay=True,
        ),
        offset=48,
    ),
    "cooldown_of_piecewise_cosine": lambda: S.Cooldown(
        S.PiecewiseLinear(
            [10, 60, 2000, 9000], [0.0, 0.1, 0.02, 0.0], interpolation="cosine"
        ),
        start_step=5000, decay_steps=2000, min_learning_rate=1e-4,
    ),
})
