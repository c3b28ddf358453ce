"""PNG plots for a run: training curves, accuracy by length, confusion matrices, image grids, 2-D data."""
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from rnnkit.runs.artifacts import atomic_write  # noqa: E402


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


def plot_steps(log, path, title):
    """Loss and accuracy every logged step, the training run's next to the held-out test examples'."""
    figure, axes = plt.subplots(1, 2, figsize=(8.4, 3.4), squeeze=False)
    for axis, name in zip(axes[0], ("loss", "accuracy")):
        axis.plot(log["step"], log[name], label="train (running mean in the epoch)")
        axis.plot(log["step"], log[f"test_{name}"], label="test")
        axis.set_xlabel("step")
        axis.set_title(name)
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


def plot_stress(stress, path, title):
    """Exact match per stress family (rows) and evaluated length (columns) as an annotated heat map."""
    lengths = list(stress)
    families = list(dict.fromkeys(f for length in sorted(lengths, key=lambda k: -len(stress[k]))
                                  for f in stress[length]))
    values = np.full((len(families), len(lengths)), np.nan)
    for j, length in enumerate(lengths):
        for i, family in enumerate(families):
            if family in stress[length] and stress[length][family]["exact_match"] is not None:
                values[i, j] = stress[length][family]["exact_match"]
    figure, axis = plt.subplots(figsize=(2.0 + 1.1 * len(lengths), 1.2 + 0.34 * len(families)))
    image = axis.imshow(values, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    axis.set_xticks(range(len(lengths)), [f"len {length}" for length in lengths])
    axis.set_yticks(range(len(families)), families)
    for i in range(len(families)):
        for j in range(len(lengths)):
            text = "-" if np.isnan(values[i, j]) else f"{values[i, j]:.3f}"
            axis.text(j, i, text, ha="center", va="center", fontsize=7)
    figure.colorbar(image, ax=axis, fraction=0.046, label="exact match")
    axis.set_title(title)
    _save(figure, path)


def plot_confusion(confusion, class_names, path, title):
    """A row-normalised confusion matrix (true class down, predicted across)."""
    totals = confusion.sum(axis=1, keepdims=True)
    normalised = confusion / np.maximum(totals, 1)
    size = max(4.5, 0.42 * len(class_names) + 2)
    figure, axis = plt.subplots(figsize=(size, size * 0.9))
    image = axis.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    ticks = range(len(class_names))
    axis.set_xticks(list(ticks), class_names, rotation=90 if len(class_names) > 10 else 0)
    axis.set_yticks(list(ticks), class_names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    if len(class_names) <= 20:
        for i in ticks:
            for j in ticks:
                if normalised[i, j] >= 0.005:
                    axis.text(j, i, f"{normalised[i, j]:.2f}", ha="center", va="center", fontsize=7,
                              color="white" if normalised[i, j] > 0.5 else "black")
    figure.colorbar(image, ax=axis, fraction=0.046)
    axis.set_title(title)
    _save(figure, path)


def plot_image_grid(images, titles, path, title, columns=8):
    """Images (H, W[, C], values in [0, 1]) in a grid, each with a caption."""
    # One mosaic in one axes: a subplot per image costs several times more to lay out and draw.
    images = np.asarray(images, dtype=np.float32)
    rows = -(-len(images) // columns)
    height, width = images.shape[1:3]
    cell_height, cell_width = height + height // 3, width + width // 8  # room for the caption above each image
    canvas = np.ones((rows * cell_height, columns * cell_width, *images.shape[3:]), dtype=np.float32)
    figure, axis = plt.subplots(figsize=(1.5 * columns, 1.5 * columns * len(canvas) / canvas.shape[1]))
    for index, (image, caption) in enumerate(zip(images, titles)):
        top = index // columns * cell_height + height // 3
        left = index % columns * cell_width + width // 16
        canvas[top:top + height, left:left + width] = image
        axis.text(left + width / 2, top - 1, caption, ha="center", va="bottom", fontsize=8,
                  color="green" if "✓" in caption else "red")
    axis.imshow(canvas, cmap="gray" if images.ndim == 3 else None, vmin=0, vmax=1, interpolation="nearest")
    axis.axis("off")
    axis.set_title(title, fontsize=12)
    _save(figure, path)


def plot_points(train, test, path, title):
    """Scatter of 2-D points coloured by class, train and test side by side."""
    figure, axes = plt.subplots(1, 2, figsize=(8.4, 3.8), sharex=True, sharey=True)
    for axis, (x, y), name in zip(axes, (train, test), ("train", "test")):
        axis.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", s=8, edgecolors="none")
        axis.set_title(f"{name} ({len(y)} points)")
        axis.grid(alpha=0.3)
    figure.suptitle(title, y=1.02)
    _save(figure, path)


def plot_decision_boundary(probability_of_one, train, test, path, title, resolution=200):
    """The model's P(class 1) over the plane, with the test points on top."""
    points = np.concatenate([train[0], test[0]])
    low, high = points.min(axis=0) - 0.5, points.max(axis=0) + 0.5
    grid_x, grid_y = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    grid = np.stack([grid_x.ravel(), grid_y.ravel()], axis=1).astype(np.float32)
    probability = np.asarray(probability_of_one(grid)).reshape(grid_x.shape)
    figure, axis = plt.subplots(figsize=(4.8, 4.2))
    axis.contourf(grid_x, grid_y, probability, levels=20, cmap="coolwarm", alpha=0.6, vmin=0, vmax=1)
    axis.contour(grid_x, grid_y, probability, levels=[0.5], colors="black", linewidths=1)
    axis.scatter(test[0][:, 0], test[0][:, 1], c=test[1], cmap="coolwarm", s=10, edgecolors="black", linewidths=0.3)
    axis.set_title(title)
    _save(figure, path)


def plot_overlaid_histories(histories, path, title):
    """Validation loss and accuracy (exact match where present) per epoch, one line per configuration."""
    panels = ["val_loss", "val_accuracy"]
    if any("val_exact_match" in h and h.get("val_exact_match") != h.get("val_accuracy") for h in histories.values()):
        panels.append("val_exact_match")
    figure, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.6), squeeze=False)
    for axis, name in zip(axes[0], panels):
        for label, history in histories.items():
            if history.get(name):
                axis.plot(range(1, len(history[name]) + 1), history[name], marker=".", label=label)
        axis.set_xlabel("epoch")
        axis.set_title(name.replace("_", " "))
        axis.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="best")
    figure.suptitle(title, y=1.04)
    _save(figure, path)


def plot_overlaid_by_length(by_lengths, path, title, metric="exact_match", log_x=True):
    """`metric` (exact match, or per-position accuracy) against evaluated length, one line per configuration."""
    figure, axis = plt.subplots(figsize=(6.5, 3.8))
    for label, by_length in by_lengths.items():
        points = sorted((int(k), v[metric]) for k, v in by_length.items() if k.isdigit())
        axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
    if log_x:
        axis.set_xscale("log")
    axis.set_xlabel("sequence length")
    axis.set_ylabel(metric.replace("_", " "))
    axis.set_ylim(-0.02, 1.02)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7)
    axis.set_title(title)
    _save(figure, path)


def plot_overlaid_steps(logs, path, title):
    """Loss and accuracy every logged step, one colour per configuration: train solid, held-out test dashed."""
    figure, axes = plt.subplots(1, 2, figsize=(10.0, 3.8), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, (label, log) in enumerate(logs.items()):
        colour = colours[index % len(colours)]
        for axis, name in zip(axes[0], ("loss", "accuracy")):
            axis.plot(log["step"], log[name], color=colour, alpha=0.8, label=f"{label} train")
            axis.plot(log["step"], log[f"test_{name}"], color=colour, linestyle="--", label=f"{label} test")
    for axis, name in zip(axes[0], ("loss", "accuracy")):
        axis.set_xlabel("step")
        axis.set_title(name)
        axis.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=6, loc="best", ncol=2 if len(logs) > 3 else 1)
    figure.suptitle(title, y=1.04)
    _save(figure, path)
