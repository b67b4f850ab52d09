"""The MNIST comparison of learning rate schedules behind `keras-lr demo`.

Every schedule of `RUNS` trains the same model with several seeds; within a
seed every schedule starts from the same initial weights and sees the same
batch order, so the schedule is the only difference, and each schedule is
compared with the constant baseline seed by seed (`keras_lr.comparison.stats`).
Each invocation writes a new experiment directory,
`<out>/<date-time>_<model>_<epochs>ep_<seeds>seeds/`, and points
`<out>/latest` to it:

    experiment.json          settings, data, seeds, versions, command line
    summary.md, summary.csv  the table: mean ± sd, paired differences
    runs.csv                 one row per training run
    comparison.png           each schedule's rate and validation accuracy
    <schedule>/seed-<k>/     one TensorBoard run (in its `train/`): the rate
                             of every update, epoch metrics, typed HParams

    keras-lr demo                      # every schedule, 3 seeds, 20 epochs
    keras-lr demo --quick              # a smoke test, under a minute
    keras-lr demo --schedules cosine one_cycle --epochs 30 --model cnn
    keras-lr demo --peaks 3            # each schedule at its best of 3 peaks
    keras-lr demo --resume             # finish the last one (Ctrl-C, kill -9)

`load_mnist` is public: the examples load their data with it.
"""

from keras_lr.demo.data import DataUnavailable
from keras_lr.demo.data import load_mnist
from keras_lr.demo.experiment import DEFAULT_EPOCHS
from keras_lr.demo.experiment import DEFAULT_SEEDS
from keras_lr.demo.experiment import QUICK_EPOCHS
from keras_lr.demo.experiment import Experiment
from keras_lr.demo.experiment import compare
from keras_lr.demo.experiment import plan
from keras_lr.demo.data import QUICK_TRAIN
from keras_lr.demo.runs import BASELINE
from keras_lr.demo.runs import RUNS
from keras_lr.demo.runs import build_model
from keras_lr.demo.runs import make_run
from keras_lr.comparison.tensorboard import read_scalars


def plan_from_arguments(args):
    """`plan` from `keras-lr demo`'s parsed options, for
    `keras_lr.comparison.experiment.execute`.

    The options left out (None) take the demo's defaults: every run of
    `RUNS`, `DEFAULT_EPOCHS` (`QUICK_EPOCHS` with `quick`), `DEFAULT_SEEDS`.
    """
    names = list(RUNS) if args.schedules is None else list(
        dict.fromkeys(name for group in args.schedules for name in group)
    )
    epochs = args.epochs or (QUICK_EPOCHS if args.quick else DEFAULT_EPOCHS)
    seeds = DEFAULT_SEEDS if args.seeds is None else args.seeds
    return plan(
        names, epochs, args.out, args.data, args.model, seeds, args.seed,
        args.quick, args.jobs, args.verbose, peaks=args.peaks, resume=args.resume,
    )


__all__ = [
    "BASELINE",
    "DEFAULT_EPOCHS",
    "DEFAULT_SEEDS",
    "DataUnavailable",
    "Experiment",
    "QUICK_EPOCHS",
    "QUICK_TRAIN",
    "RUNS",
    "build_model",
    "compare",
    "load_mnist",
    "make_run",
    "read_scalars",
    "plan",
    "plan_from_arguments",
]
