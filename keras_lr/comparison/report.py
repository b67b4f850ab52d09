"""The comparison's table: on the console, in `summary.md` and in CSV files."""

import csv
import math

import numpy as np

from keras_lr.comparison.stats import CONFIDENCE

_VERDICT = {1: "better", -1: "worse", 0: "noise"}
_LOSS_VERDICT = {1: "higher", -1: "lower", 0: "noise"}


def _mean_sd(values, digits, scale=1.0):
    values = np.asarray(values) * scale
    if values.size < 2:
        return f"{values.mean():.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def _loss(values):
    values = np.asarray(values)
    mean = values.mean()
    if values.size < 2:
        return f"{mean:.3g}"
    return f"{mean:.3g} ± {values.std(ddof=1):.2g}"


def _epochs(summary):
    reached = [e for e in summary.epochs_to_baseline if e is not None]
    if not reached:
        return "never"
    text = f"{np.mean(reached):.1f}"
    if len(reached) < summary.seeds:
        text += f" ({len(reached)}/{summary.seeds})"
    return text


def _speed_up(summary):
    if not summary.speed_ups:
        return "–"
    return f"{np.mean(summary.speed_ups):.2f}x"


def _accuracy_difference(interval):
    text = f"{100 * interval.mean:+.2f}"
    if interval.low is None:
        return text
    return (
        f"{text} [{100 * interval.low:+.2f}, {100 * interval.high:+.2f}] "
        f"{_VERDICT[interval.sign]}"
    )


def _loss_ratio(interval):
    text = f"{math.exp(interval.mean):.2f}x"
    if interval.low is None:
        return text
    return (
        f"{text} [{math.exp(interval.low):.2f}, {math.exp(interval.high):.2f}] "
        f"{_LOSS_VERDICT[interval.sign]}"
    )


def headers(baseline, seeds):
    """The table's column headers."""
    ci = f", {CONFIDENCE:.0%} CI" if seeds > 1 else ", one seed"
    return [
        "schedule",
        "val acc (%)",
        "best (%)",
        "train loss",
        "epochs to base",
        "speed-up",
        f"val acc - base (pts{ci})",
        f"loss / base{ci}",
    ]


def rows(summaries, baseline):
    """The table's cells, one row per schedule."""
    table = []
    for name, summary in summaries.items():
        base = name == baseline
        if summary.seeds == 0:
            table.append([name, "failed", *["–"] * 6])
            continue
        table.append([
            name,
            _mean_sd(summary.final_val_accuracy, 2, 100),
            _mean_sd(summary.best_val_accuracy, 2, 100),
            _loss(summary.final_loss),
            _epochs(summary),
            "1x" if base else _speed_up(summary),
            "baseline" if base else _accuracy_difference(summary.accuracy_vs_baseline),
            "baseline" if base else _loss_ratio(summary.log_loss_vs_baseline),
        ])
    return table


def format_table(header, body):
    """Aligned plain text: the first column left, the others right."""
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths))
        )
        for row in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(header, body):
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    lines.extend("| " + " | ".join(row) + " |" for row in body)
    return "\n".join(lines)


def _number(value):
    """A CSV cell: 6 significant digits, empty for None."""
    return "" if value is None else f"{value:.6g}"


SUMMARY_COLUMNS = [
    "schedule", "seeds",
    "final_val_accuracy_mean", "final_val_accuracy_std",
    "best_val_accuracy_mean", "best_val_accuracy_std",
    "final_loss_mean", "final_loss_std",
    "epochs_to_baseline_mean", "seeds_reaching_baseline", "speed_up_mean",
    "val_accuracy_difference", "val_accuracy_difference_low",
    "val_accuracy_difference_high", "val_accuracy_verdict",
    "loss_ratio", "loss_ratio_low", "loss_ratio_high", "loss_verdict",
    "wall_time_s_mean", "failed_seeds", "peak_learning_rate",
]


def _plain(value):
    """A number as a plain float (None stays None)."""
    return None if value is None else float(value)


def summary_records(summaries, baseline, wall_times, peaks=None):
    """The statistics as numbers, one dict per schedule (`summary.csv`'s rows).

    `peaks`: `{schedule: the peak rate it trained at}`, where chosen.
    """
    records = []
    for name, s in summaries.items():
        reached = [e for e in s.epochs_to_baseline if e is not None]
        accuracy, loss = s.accuracy_vs_baseline, s.log_loss_vs_baseline
        base = name == baseline
        some = s.seeds > 0
        times = [t for t in wall_times[name] if t is not None]
        records.append({
            "schedule": name,
            "seeds": s.seeds,
            "final_val_accuracy_mean": _plain(s.final_val_accuracy.mean()) if some else None,
            "final_val_accuracy_std": _plain(np.std(s.final_val_accuracy, ddof=1))
            if s.seeds > 1 else None,
            "best_val_accuracy_mean": _plain(s.best_val_accuracy.mean()) if some else None,
            "best_val_accuracy_std": _plain(np.std(s.best_val_accuracy, ddof=1))
            if s.seeds > 1 else None,
            "final_loss_mean": _plain(s.final_loss.mean()) if some else None,
            "final_loss_std": _plain(np.std(s.final_loss, ddof=1)) if s.seeds > 1 else None,
            "epochs_to_baseline_mean": _plain(np.mean(reached)) if reached else None,
            "seeds_reaching_baseline": len(reached),
            "speed_up_mean": _plain(np.mean(s.speed_ups)) if s.speed_ups else None,
            "val_accuracy_difference": _plain(accuracy.mean) if some else None,
            "val_accuracy_difference_low": _plain(accuracy.low),
            "val_accuracy_difference_high": _plain(accuracy.high),
            "val_accuracy_verdict": "baseline" if base else
            _VERDICT[accuracy.sign] if some else "failed",
            "loss_ratio": math.exp(loss.mean) if some else None,
            "loss_ratio_low": None if loss.low is None else math.exp(loss.low),
            "loss_ratio_high": None if loss.high is None else math.exp(loss.high),
            "loss_verdict": "baseline" if base else
            _LOSS_VERDICT[loss.sign] if some else "failed",
            "wall_time_s_mean": _plain(np.mean(times)) if times else None,
            "failed_seeds": list(s.failed_seeds),
            "peak_learning_rate": (peaks or {}).get(name),
        })
    return records


def write_csv(path, records):
    """`summary.csv`: `summary_records`, 6 significant digits."""
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(SUMMARY_COLUMNS)
        for record in records:
            row = []
            for key in SUMMARY_COLUMNS:
                value = record[key]
                if key == "wall_time_s_mean":
                    row.append("" if value is None else f"{value:.2f}")
                elif key == "failed_seeds":
                    row.append(" ".join(str(seed) for seed in value))
                elif isinstance(value, float):
                    row.append(_number(value))
                else:
                    row.append("" if value is None else value)
            writer.writerow(row)


RUNS_COLUMNS = [
    "schedule", "seed", "final_val_accuracy", "best_val_accuracy",
    "final_loss", "epochs_to_baseline", "wall_time_s", "run_dir",
    "status", "error", "peak_learning_rate", "phase",
]


def write_runs_csv(path, runs):
    """`runs.csv`: one row per training run (dicts with `RUNS_COLUMNS`)."""
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(RUNS_COLUMNS)
        for record in runs:
            writer.writerow([
                _number(value) if isinstance(value, float) and key != "wall_time_s"
                else f"{value:.2f}" if key == "wall_time_s" and value is not None
                else "" if value is None else value
                for key, value in ((key, record[key]) for key in RUNS_COLUMNS)
            ])


def duration(seconds):
    """`"1 min 05 s"` or `"42 s"`."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"
