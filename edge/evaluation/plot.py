"""The count-over-time chart an auditor looks at first: reference and predicted crossings per line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray


def plot_counts(
    series: dict[str, tuple[NDArray[np.int64], NDArray[np.int64]]], fps: float, title: str, path: Path
) -> None:
    """Cumulative crossings per line against time, ground truth dashed, prediction solid; PNG."""
    # Headless: no display on edge boxes and CI.
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
    try:
        for i, (line_id, (reference, predicted)) in enumerate(sorted(series.items())):
            seconds = np.arange(1, len(reference) + 1) / fps
            colour = f"C{i % 10}"
            ax.plot(seconds, reference, linestyle="--", color=colour, label=f"{line_id} ground truth")
            ax.plot(seconds, predicted, linestyle="-", color=colour, label=f"{line_id} predicted")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("crossings so far (in + out)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if series:
            ax.legend(fontsize="small", ncols=2)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png", bbox_inches="tight")
    finally:
        plt.close(fig)
