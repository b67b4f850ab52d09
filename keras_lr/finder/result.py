"""What a range test measured, and the rate it suggests."""

import numpy as np

from keras_lr import _validation


class RangeTestResult:
    """What `find_learning_rate` measured.

    Attributes:
        learning_rates: the rate of each step taken, a NumPy array.
        losses: the training loss of each step's batch (with gradient
            accumulation, the mean loss of the step's batches).
        smoothed_losses: the bias-corrected exponential moving average of
            `losses` (`smoothing` is its factor).
    """

    def __init__(self, learning_rates, losses, smoothed_losses):
        self.learning_rates = np.asarray(learning_rates, dtype=np.float64)
        self.losses = np.asarray(losses, dtype=np.float64)
        self.smoothed_losses = np.asarray(smoothed_losses, dtype=np.float64)

    def __repr__(self):
        # A repr must not raise: a test that diverged at once has no
        # suggestion, and says so.
        try:
            suggestion = f"{self.suggestion():.3g}"
        except ValueError:
            suggestion = None
        return (
            f"RangeTestResult(steps={len(self.learning_rates)}, "
            f"suggestion={suggestion})"
        )

    def suggestion(self, method="steepest"):
        """A learning rate to train with, read from the smoothed loss curve.

        Args:
            method: one of
                - `"steepest"`: where the smoothed loss falls fastest against
                  `log(lr)` (keras_lr_finder's and fastai's `steep`), looked
                  for before the loss minimum;
                - `"minimum"`: a tenth of the rate at the smoothed loss's
                  minimum (fastai's `minimum`);
                - `"valley"`: about halfway along the longest stretch over
                  which the smoothed loss keeps falling (the middle of its
                  middle third, fastai's `valley`).

        Returns:
            A float.
        """
        _validation.check_choice(
            "method", method, ("steepest", "minimum", "valley")
        )
        rates, losses = self.learning_rates, self.smoothed_losses
        finite = np.isfinite(losses)
        if finite.sum() < 3:
            raise ValueError(
                "The range test recorded fewer than 3 finite losses, too few "
                "for a suggestion: raise `num_steps` or lower `start_lr`."
            )
        rates, losses = rates[finite], losses[finite]
        lowest = int(np.argmin(losses))
        if method == "minimum":
            return float(rates[lowest] / 10.0)
        if method == "valley":
            start, end = _longest_descent(losses)
            third = (end - start) / 3
            return float(rates[start + int(third) + int(third / 2)])
        # Up to the minimum, leaving out the first tenth, where the moving
        # average has seen few batches.
        stop = max(lowest + 1, 3)
        begin = min(len(losses) // 10, stop - 3)
        slope = np.gradient(losses[begin:stop], np.log(rates[begin:stop]))
        return float(rates[begin + int(np.argmin(slope))])

    def plot(self, ax=None, method="steepest"):
        """The smoothed loss against the rate (log x), suggestion marked.

        The y axis shows the region that matters: from a little below the
        smoothed loss's minimum to a little above the highest smoothed loss
        before it (about the starting loss). The divergence at the end of
        the sweep, often many times higher, runs off the top of the axes
        instead of squashing the descent into a flat line.

        Args:
            ax: a matplotlib axes; a new figure's axes when None.
            method: the `suggestion` method whose rate is marked, as a
                point on the curve (named in the legend).

        Returns:
            The matplotlib `Axes`.

        Example:

        ```python
        result = keras_lr.find_learning_rate(model, x_train, y_train)
        result.plot().figure.savefig("lr_find.png")
        ```
        """
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots()
        ax.plot(self.learning_rates, self.smoothed_losses, label="smoothed loss")
        suggestion = self.suggestion(method)
        finite = np.isfinite(self.smoothed_losses)
        rates = self.learning_rates[finite]
        losses = self.smoothed_losses[finite]
        # The loss at the suggestion, read off the curve as drawn (straight
        # segments on the log axis); "minimum" lies between two samples.
        at = float(np.interp(np.log(suggestion), np.log(rates), losses))
        ax.plot([suggestion], [at], "o", color="red", markersize=7,
                label=f"suggestion ({method}) {suggestion:.2g}")
        lowest = int(np.argmin(losses))
        top = float(np.max(losses[: lowest + 1]))
        bottom = float(losses[lowest])
        if top > bottom:
            margin = 0.1 * (top - bottom)
            ax.set_ylim(bottom - margin, top + margin)
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss (smoothed)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        return ax


def _longest_descent(losses):
    """`(start, end)` of the longest decreasing subsequence of `losses`."""
    length = np.ones(len(losses), dtype=int)
    origin = np.arange(len(losses))
    for i in range(1, len(losses)):
        earlier = np.nonzero(losses[:i] > losses[i])[0]
        if earlier.size:
            best = earlier[np.argmax(length[earlier])]
            if length[best] + 1 > length[i]:
                length[i] = length[best] + 1
                origin[i] = origin[best]
    end = int(np.argmax(length))
    return int(origin[end]), end
