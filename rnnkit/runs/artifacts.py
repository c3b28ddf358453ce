"""The run folder: atomic file writes, saved model, metrics and plots."""
import csv
import datetime
import json
import os
import shutil
import tempfile

from rnnkit.core.errors import UsageError


def _umask():
    """The process umask (read without changing it for longer than an instant)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_run_dir(task_name):
    """runs/<task>-<timestamp> under the current folder."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return os.path.join("runs", f"{task_name}-{stamp}")


def prepare_run_dir(path):
    """Create an empty run folder; refuse one that already holds files, so nothing is overwritten."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"--out {path!r} exists and is not a folder")
    if os.path.isdir(path) and os.listdir(path):
        raise UsageError(f"--out {path!r} already exists and is not empty; choose a new folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create --out {path!r}: {error.strerror}") from None
    if not os.access(path, os.W_OK):
        raise UsageError(f"--out {path!r} is not writable")
    return path


def atomic_write(path, write):
    """Call `write(temp_path)` then rename onto `path`, so `path` is either complete or absent."""
    folder, name = os.path.split(path)
    suffix = os.path.splitext(name)[1]
    fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=f".tmp{suffix}", dir=folder or ".")
    os.close(fd)
    try:
        write(temp)
        os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def atomic_dir(path, write):
    """Call `write(temp_folder)` then rename it onto `path` (which must not exist): complete or absent."""
    parent, name = os.path.split(os.path.abspath(path))
    temp = tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=parent)
    try:
        write(temp)
        os.chmod(temp, 0o777 & ~_umask())
        os.rename(temp, path)
    finally:
        if os.path.exists(temp):
            shutil.rmtree(temp)


def write_text(path, text):
    """Write a text file atomically."""

    def write(temp):
        with open(temp, "w", encoding="utf-8") as handle:
            handle.write(text)

    atomic_write(path, write)


def write_json(path, data):
    """Write indented JSON atomically."""
    write_text(path, json.dumps(data, indent=2) + "\n")


def save_model(model, path):
    """Save a `.keras` file atomically (a half-written model never looks finished)."""
    atomic_write(path, lambda temp: model.save(temp))


def read_history(path):
    """history.csv → {column: [floats]} ({} when the file is missing or empty).

    Columns with no value are left out: Keras' CSVLogger writes `val_` columns of "NA" for a run without
    validation data.
    """
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            records = list(csv.DictReader(handle))
    except FileNotFoundError:
        return {}
    columns = {key: [float(r[key]) for r in records if r.get(key) not in ("", "NA", None)]
               for key in (records[0] if records else {}) if key != "epoch"}
    return {key: values for key, values in columns.items() if values}


def write_history(path, history):
    """{column: [floats]} → history.csv (epoch first, as Keras' CSVLogger writes it)."""
    columns = sorted(history)
    epochs = max((len(values) for values in history.values()), default=0)
    lines = [",".join(["epoch", *columns])]
    lines += [",".join([str(i), *(repr(history[c][i]) if i < len(history[c]) else "" for c in columns)])
              for i in range(epochs)]
    write_text(path, "\n".join(lines) + "\n")
