"""PNG plots for a run: training curves and accuracy against sequence length."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from rnnkit.artifacts import atomic_write  # noqa: E402


def _save(figure, path):
    """Write a figure atomically and free it."""
    atomic_write(path, lambda temp: figure.savefig(temp, format="png", dpi=110, bbox_inches="tight"))
    plt.close(figure)


def plot_history(history, path, title):
    """Loss, accuracy and exact match per epoch, train and validation side by side."""
    panels = [name for name in ("loss", "accuracy", "exact_match") if name in history]
    figure, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    for axis, name in zip(axes[0], panels):
        epochs = range(1, len(history[name]) + 1)
        axis.plot(epochs, history[name], marker="o", label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], marker="o", label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(name.replace("_", " "))
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title, y=1.04)
    _save(figure, path)


def plot_by_length(by_length, path, title):
    """Per-position accuracy and exact match at each evaluated length."""
    labels = list(by_length)
    figure, axis = plt.subplots(figsize=(max(5.0, 0.45 * len(labels) + 2), 3.4))
    positions = range(len(labels))
    axis.plot(positions, [by_length[k]["accuracy"] for k in labels], marker="o", label="accuracy")
    axis.plot(positions, [by_length[k]["exact_match"] for k in labels], marker="s", label="exact match")
    axis.set_xticks(list(positions), labels, rotation=45 if len(labels) > 8 else 0)
    axis.set_xlabel("sequence length")
    axis.set_ylim(-0.02, 1.02)
    axis.grid(alpha=0.3)
    axis.legend()
    axis.set_title(title)
    _save(figure, path)
