"""The task registry: a plain dict from explicit imports (TensorFlow-free: task files import it lazily)."""
from rnnkit.core.errors import UsageError
from rnnkit.tasks import adder, binary_add, cifar10, mnist, names, palindrome, recall, series, text, toy2d

TASKS = {task.name: task for task in (adder.TASK, binary_add.TASK, recall.TASK, palindrome.TASK, mnist.TASK,
                                       names.TASK, *toy2d.TASKS, cifar10.TASK, series.TASK, text.TASK)}


def register(task):
    """Add `task` to the registry (its name must be new); every CLI and library call then knows it."""
    if task.name in TASKS:
        raise ValueError(f"a task named {task.name!r} is registered already")
    TASKS[task.name] = task
    return task


def codec_named(name):
    """The codec a registered task reads its inputs with, by the codec's name; UsageError if none has it."""
    for task in TASKS.values():
        if task.codec is not None and task.codec.name == name:
            return task.codec
    raise UsageError(f"unknown codec {name!r}")


def get_task(name):
    """The registered task called `name`; UsageError listing the valid names otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise UsageError(f"unknown task {name!r}: choose one of {', '.join(TASKS)}") from None
