"""Run a CLI's main in process and capture what it prints."""
import contextlib
import io
import os
import tempfile


def call(main, argv):
    """(exit status, stdout, stderr) of `main(argv)`, SystemExit included."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exit_:
            status = exit_.code
    return status, out.getvalue(), err.getvalue()


def fresh_dir(test):
    """A new empty folder inside `test.get_temp_dir()` (TensorFlow removes that folder when the process exits)."""
    return tempfile.mkdtemp(dir=test.get_temp_dir())


def assert_refused(test, main, argv, message, folder):
    """`main(argv + --out folder/never)` exits 2 with one stderr line holding `message`, and makes no folder."""
    never = os.path.join(folder, "never")
    status, _, err = call(main, [*argv, "--out", never])
    test.assertEqual(status, 2, err)
    test.assertEqual(len(err.strip().splitlines()), 1, err)
    test.assertIn(message, err)
    test.assertFalse(os.path.exists(never))


def flags_read_by(task, flags):
    """`flags` (flag, value pairs) less the pairs naming a shared setting that `task` never reads (its `unread`)."""
    return [item for flag, value in zip(flags[::2], flags[1::2]) if flag[2:].replace("-", "_") not in task.unread
            for item in (flag, value)]
