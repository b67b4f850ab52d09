"""One shared list of schedule instances: it drives every contract test.

Each entry is `id: factory`. A new schedule joins the contract tests (host
twin vs graph on both backends, config round trip, `.keras` save/load,
fit-level learning rate, repr, `get`) by adding one entry here.
"""

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
    "exponential_decay": lambda: S.ExponentialDecay(0.1, decay_rate=0.999),
    "exponential_staircase_floor": lambda: S.ExponentialDecay(
        0.1, decay_rate=0.5, decay_steps=1000, staircase=True,
        min_learning_rate=0.002,
    ),
    "inverse_time_decay": lambda: S.InverseTimeDecay(0.1, 0.5, decay_steps=100),
    "inverse_time_staircase": lambda: S.InverseTimeDecay(
        0.1, 2.0, decay_steps=300, staircase=True
    ),
    "polynomial_decay": lambda: S.PolynomialDecay(
        0.1, decay_steps=6000, end_learning_rate=0.001, power=0.5
    ),
    "polynomial_to_zero": lambda: S.PolynomialDecay(0.1, 8000, power=2.0),
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
