"""The task registry: a plain dict from explicit imports."""
from rnnkit.errors import UsageError
from rnnkit.tasks import adder, binary_add, cifar10, mnist, names, palindrome, recall, toy2d

TASKS = {task.name: task for task in (adder.TASK, binary_add.TASK, recall.TASK, palindrome.TASK, mnist.TASK,
                                       names.TASK, *toy2d.TASKS, cifar10.TASK)}


def get_task(name):
    """The registered task called `name`; UsageError listing the valid names otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise UsageError(f"unknown task {name!r}: choose one of {', '.join(TASKS)}") from None
