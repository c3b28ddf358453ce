"""The task registry: a plain dict from explicit imports."""
from rnnkit.errors import UsageError
from rnnkit.tasks import adder, binary_add, palindrome, recall

TASKS = {module.TASK.name: module.TASK for module in (adder, binary_add, recall, palindrome)}


def get_task(name):
    """The registered task called `name`; UsageError listing the valid names otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise UsageError(f"unknown task {name!r}: choose one of {', '.join(TASKS)}") from None
