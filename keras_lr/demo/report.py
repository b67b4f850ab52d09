"""The comparison's table: on the console, in `summary.md` and in CSV files."""

import csv
import math

import numpy as np

from keras_lr.demo.stats import CONFIDENCE

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


def _std(values):
    return _number(np.std(values, ddof=1)) if len(values) > 1 else ""


def write_csv(path, summaries, baseline, wall_times):
    """`summary.csv`: the statistics as numbers, one row per schedule."""
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([
            "schedule", "seeds",
            "final_val_accuracy_mean", "final_val_accuracy_std",
            "best_val_accuracy_mean", "best_val_accuracy_std",
            "final_loss_mean", "final_loss_std",
            "epochs_to_baseline_mean", "seeds_reaching_baseline", "speed_up_mean",
            "val_accuracy_difference", "val_accuracy_difference_low",
            "val_accuracy_difference_high", "val_accuracy_verdict",
            "loss_ratio", "loss_ratio_low", "loss_ratio_high", "loss_verdict",
            "wall_time_s_mean",
        ])
        for name, s in summaries.items():
            reached = [e for e in s.epochs_to_baseline if e is not None]
            accuracy, loss = s.accuracy_vs_baseline, s.log_loss_vs_baseline
            base = name == baseline
            writer.writerow([
                name, s.seeds,
                _number(s.final_val_accuracy.mean()), _std(s.final_val_accuracy),
                _number(s.best_val_accuracy.mean()), _std(s.best_val_accuracy),
                _number(s.final_loss.mean()), _std(s.final_loss),
                _number(np.mean(reached)) if reached else "", len(reached),
                _number(np.mean(s.speed_ups)) if s.speed_ups else "",
                _number(accuracy.mean), _number(accuracy.low), _number(accuracy.high),
                "baseline" if base else _VERDICT[accuracy.sign],
                _number(math.exp(loss.mean)),
                _number(None if loss.low is None else math.exp(loss.low)),
                _number(None if loss.high is None else math.exp(loss.high)),
                "baseline" if base else _LOSS_VERDICT[loss.sign],
                f"{np.mean(wall_times[name]):.2f}",
            ])


def write_runs_csv(path, runs):
    """`runs.csv`: one row per training run, the numbers behind the table."""
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([
            "schedule", "seed", "final_val_accuracy", "best_val_accuracy",
            "final_loss", "epochs_to_baseline", "wall_time_s", "run_dir",
        ])
        writer.writerows(runs)


def duration(seconds):
    """`"1 min 05 s"` or `"42 s"`."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"
