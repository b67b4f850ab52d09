"""Training the runs as Ray tasks: on a local Ray, or on an existing cluster.

Each training is one Ray task (`ray.remote`) asking for one CPU and
`gpus_per_run` GPUs; it trains with one compute thread, as a worker of the
"processes" engine does, so the same seeds train the same numbers. A task
trains into a temporary directory of its worker and returns its record and
the files it wrote (its TensorBoard events) as bytes: the workers share no
filesystem with the driver, which writes them into its own output directory,
`history.json` last (so a resumed comparison sees a finished run only once
all its files are in place). `ray.wait` hands the trainings back in the
order they finish.

Ray is imported here only, and this module only where `engine="ray"`.
"""

import dataclasses
import os
import shutil
import tempfile
import warnings

from keras_lr.comparison import training

EXTRA = 'pip install "keras_lr[ray]"'


def import_ray(address=None):
    """`ray`, or an `ImportError` that says which extra installs it; refuses
    an `address` where this process is connected to Ray already."""
    try:
        import ray
    except ImportError as error:
        raise ImportError(
            "Argument `engine` is 'ray', which needs Ray, and Ray is not "
            f"installed: `{EXTRA}`, or choose another engine. "
            "Received: engine='ray'"
        ) from error
    if address is not None and ray.is_initialized():
        raise ValueError(
            "Argument `address`: this process is connected to Ray already "
            "(`ray.init` was called); leave `address` out to train there, "
            f"or call `ray.shutdown()` first. Received: address={address!r}"
        )
    return ray


@dataclasses.dataclass
class Cluster:
    """The Ray this comparison trains on, and what it holds."""

    ray: object
    #: Whether `connect` started it (and `close` shuts it down).
    started: bool
    cpus: float
    gpus: float
    #: Trainings the cluster holds at once, one CPU and `gpus_per_run` each.
    slots: int

    def close(self):
        if self.started:
            self.ray.shutdown()


class Unreachable(ValueError):
    """No Ray cluster this process can reach answers at `address`."""


def connect(address, gpus_per_run):
    """Connect to Ray: the connection this process has (`ray.init` called
    before, with the user's own options), else the cluster at `address`,
    else a new local Ray, shut down after the comparison."""
    ray = import_ray(address)
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(address=address, include_dashboard=False)
        except ConnectionError as error:
            raise Unreachable(
                f"Argument `address` must name a Ray cluster this process can "
                f"reach ({error}; for a cluster started on this machine with "
                f"`ray start --head`, `address='auto'` finds it). "
                f"Received: address={address!r}"
            ) from None
    resources = ray.cluster_resources()
    cpus, gpus = resources.get("CPU", 0.0), resources.get("GPU", 0.0)
    slots = int(cpus)
    if gpus_per_run:
        slots = min(slots, int(gpus / gpus_per_run + 1e-9))
    if slots < 1:
        # An autoscaling cluster may grow into it: a warning, not an error.
        warnings.warn(
            f"The Ray cluster holds {cpus:g} CPUs and {gpus:g} GPUs now, not "
            f"one training (1 CPU, {gpus_per_run:g} GPUs): the runs wait "
            "until it grows.", stacklevel=2,
        )
    return Cluster(ray, started, cpus, gpus, max(slots, 1))


def environment(gpus_per_run=0):
    """The workers' environment, set by Ray before the worker starts: one
    compute thread, the driver's Keras backend (its model was checked on
    it), TensorFlow's C++ logs as quiet as the driver's, and no GPU for a
    run that asked for none (Ray 2.60 leaves `CUDA_VISIBLE_DEVICES` alone
    then, and TensorFlow would take every GPU of the node)."""
    import keras

    values = training.worker_environment()
    values["KERAS_BACKEND"] = keras.backend.backend()
    values["TF_CPP_MIN_LOG_LEVEL"] = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")
    if not gpus_per_run:
        values["CUDA_VISIBLE_DEVICES"] = ""
    return values


def train_in_worker(task, spec):
    """The Ray task: train `task` in a temporary directory; returns its
    record and `{relative path: bytes}` of every other file it wrote."""
    folder = tempfile.mkdtemp(prefix="keras_lr_run_")
    try:
        trained = training.train(dataclasses.replace(task, run_dir=folder), spec)
        files = {}
        for root, _, names in os.walk(folder):
            for name in names:
                path = os.path.join(root, name)
                relative = os.path.relpath(path, folder)
                if relative != training.HISTORY:
                    with open(path, "rb") as file:
                        files[relative.replace(os.sep, "/")] = file.read()
        return trained.record, files
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write(task, record, files):
    """The run's files into the driver's `task.run_dir`, `history.json` last."""
    shutil.rmtree(task.run_dir, ignore_errors=True)
    os.makedirs(task.run_dir)
    root = os.path.realpath(task.run_dir)
    for relative, content in files.items():
        path = os.path.realpath(os.path.join(root, *relative.split("/")))
        if os.path.commonpath([root, path]) != root:
            raise ValueError(f"a worker sent a file outside its run: {relative!r}")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as file:
            file.write(content)
    training.write_json(os.path.join(task.run_dir, training.HISTORY), record)
    return training.Trained(task, record)


def _unwrapped(error):
    """What the worker raised (a module it cannot import, say), out of Ray's
    wrappers: a `RayTaskError`'s `cause`, a `RaySystemError`'s argument."""
    for _ in range(5):
        inner = getattr(error, "cause", None)
        if inner is None and error.args and isinstance(error.args[0], BaseException):
            inner = error.args[0]
        if inner is None or inner is error:
            break
        error = inner
    return error


def train_all(tasks, spec, jobs, cluster, gpus_per_run=0):
    """Train `tasks` as Ray tasks; yields each `Trained` as it finishes.

    With `jobs`, at most `jobs` tasks are in flight; without, all are
    submitted and Ray runs as many as the cluster holds. A task that Ray
    loses (its worker killed, its node gone, after Ray's retries) is a
    failed run, as an exception in the training is.
    """
    if not tasks:
        return
    ray = cluster.ray
    remote = ray.remote(train_in_worker).options(
        num_cpus=1, num_gpus=gpus_per_run,
        runtime_env={"env_vars": environment(gpus_per_run)},
    )
    shared = ray.put(spec)  # once, not once per task
    waiting, pending = list(tasks), {}
    limit = jobs or len(tasks)
    try:
        while waiting or pending:
            while waiting and len(pending) < limit:
                task = waiting.pop(0)
                pending[remote.remote(task, shared)] = task
            done = []
            while not done:
                # A second at a time: a wait without a timeout returns only
                # when a task ends, whatever signal (Ctrl-C, a deadline)
                # came in; between waits Python heeds it.
                done, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            (ref,) = done
            task = pending.pop(ref)
            try:
                record, files = ray.get(ref)
            except ray.exceptions.RayError as error:
                record, files = {
                    "status": "failed", "name": task.name, "seed": task.seed,
                    "scale": task.scale, "error": training.one_line(_unwrapped(error)),
                    "wall_time_s": 0.0,
                }, {}
            yield _write(task, record, files)
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
