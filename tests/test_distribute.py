"""tf.distribute: two workers on loopback train in lock-step and match one process; mirrored replicas too."""
import csv
import json
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading

import keras
import numpy as np
import pytest
import tensorflow as tf

from rnnkit.train import main
from tests.clitools import call, fresh_dir

FLAGS = ["--task", "adder", "--len", "6", "--units", "8", "--embed-dim", "4", "--epochs", "2",
         "--steps-per-epoch", "10", "--batch-size", "16", "--val-samples", "64", "--test-samples", "200",
         "--eval-samples", "50", "--eval-lens", "10", "--stress-samples", "5", "--show-samples", "0", "--loop",
         "function"]
TIMEOUT = 300
# Two replicas sum two half-batch gradients where one process takes one mean: the same step up to float
# rounding. Measured here: 9e-8 after 20 steps.
TOLERANCE = 1e-5


def free_ports(count):
    """Ports on 127.0.0.1 that were free a moment ago."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def weights(run_dir):
    return keras.saving.load_model(os.path.join(run_dir, "model.keras"), safe_mode=True).get_weights()


def max_difference(a, b):
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


MIRRORED = ("import sys, rnnkit, tensorflow as tf\n"
            "cpu = tf.config.list_physical_devices('CPU')[0]\n"
            "tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)\n"
            "from rnnkit.train import main\n"
            "sys.exit(main(sys.argv[1:]))\n")


@pytest.mark.slow
class MultiWorkerTest(tf.test.TestCase):
    """Two multiworker processes on loopback and a two-replica mirrored process, started together, against one
    single-process run of the same flags trained here meanwhile."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = cls.enterClassContext(tempfile.TemporaryDirectory())
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
        commands = [([sys.executable, "-m", "rnnkit.train", *FLAGS, "--strategy", "multiworker", "--out",
                      os.path.join(cls.root, f"worker{index}")],
                     {**env, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})})
                    for index in range(2)]
        commands.append(([sys.executable, "-c", MIRRORED, *FLAGS, "--strategy", "mirrored", "--out",
                          os.path.join(cls.root, "mirrored")], env))
        processes = [subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True) for command, environment in commands]
        try:
            cls.single = os.path.join(cls.root, "single")
            cls.single_result = call(main, [*FLAGS, "--out", cls.single])
            cls.outputs = [p.communicate(timeout=TIMEOUT)[0] for p in processes]
        finally:
            for p in processes:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        cls.returncodes = [p.returncode for p in processes]

    def test_the_single_process_reference_ran(self):
        status, _, err = self.single_result
        self.assertEqual(status, 0, err)

    def test_two_workers_on_loopback_match_a_single_process_run(self):
        for code, output in zip(self.returncodes[:2], self.outputs[:2]):
            self.assertEqual(code, 0, output[-2000:])
        self.assertIn("2 replicas, 8 examples each per step", self.outputs[0])
        self.assertIn("the chief writes the run folder", self.outputs[1])
        chief = os.path.join(self.root, "worker0")
        self.assertTrue(os.path.isfile(os.path.join(chief, "metrics.json")))
        self.assertFalse(os.path.exists(os.path.join(self.root, "worker1")), "only the chief writes a run folder")
        self.assertLess(max_difference(weights(chief), weights(self.single)), TOLERANCE)
        with open(os.path.join(chief, "metrics.json")) as a, open(os.path.join(self.single, "metrics.json")) as b:
            self.assertAllClose(json.load(a)["test"]["loss"], json.load(b)["test"]["loss"], atol=TOLERANCE)

    def test_mirrored_replicas_on_two_logical_cpus_match_a_single_process_run(self):
        self.assertEqual(self.returncodes[2], 0, self.outputs[2][-2000:])
        self.assertIn("mirrored strategy, 2 replicas", self.outputs[2])
        self.assertLess(max_difference(weights(os.path.join(self.root, "mirrored")), weights(self.single)),
                        TOLERANCE)

    def test_strategy_misuse_is_one_line_and_exit_2(self):
        cluster = json.dumps({"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]},
                              "task": {"type": "worker", "index": 0}})
        cases = [({}, ["--strategy", "multiworker"], "needs TF_CONFIG"),
                 ({"TF_CONFIG": cluster}, ["--strategy", "multiworker", "--loop", "fit"], "--loop function"),
                 ({"TF_CONFIG": "{not json"}, ["--strategy", "multiworker"], "not valid JSON"),
                 ({"TF_CONFIG": '{"cluster": {}}'}, ["--strategy", "multiworker"], "needs 'cluster' and 'task'"),
                 ({}, ["--strategy", "everywhere"], "--strategy")]
        for env, extra, message in cases:
            with self.subTest(extra=extra, env=env):
                saved = os.environ.pop("TF_CONFIG", None)
                os.environ.update(env)
                try:
                    status, _, err = call(main, ["--task", "adder", *extra])
                finally:
                    os.environ.pop("TF_CONFIG", None)
                    if saved is not None:
                        os.environ["TF_CONFIG"] = saved
                self.assertEqual(status, 2, err)
                self.assertEqual(len(err.strip().splitlines()), 1, err)
                self.assertIn(message, err)


@pytest.mark.slow
class DistributedSearchTest(tf.test.TestCase):
    def test_chief_and_two_workers_split_trials_and_survive_a_killed_worker(self):
        root = fresh_dir(self)
        folder = os.path.join(root, "search")
        port = free_ports(1)[0]
        flags = ["-m", "tuning.search", "--task", "recall", "--epochs", "2", "--steps-per-epoch", "10",
                 "--val-samples", "32", "--test-samples", "64", "--eval-samples", "16", "--show-samples", "0",
                 "--embed-dim", "2", "--space", "units=2,3,4,5,6,7,8,9", "cell=gru", "layers=1", "bidirectional=false",
                 "dropout=0", "batch_size=16", "lr=0.01", "optimizer=adam", "--max-trials", "5", "--dir", folder,
                 "--oracle", f"127.0.0.1:{port}"]
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
        lines = queue.Queue()  # (process name, line) from every process, as each prints it
        readers, texts = [], {name: [] for name in ("chief", "a", "b", "b2")}

        def start(*extra, log):
            process = subprocess.Popen([sys.executable, *flags, *extra], env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
            reader = threading.Thread(target=lambda: [lines.put((log, line)) for line in process.stdout], daemon=True)
            reader.start()
            readers.append(reader)
            return process

        def finished_trials():
            done, tuner = 0, os.path.join(folder, "tuner")
            for name in os.listdir(tuner) if os.path.isdir(tuner) else []:
                path = os.path.join(tuner, name, "trial.json")
                if os.path.isfile(path):
                    with open(path) as handle:
                        text = handle.read()
                    try:
                        done += json.loads(text).get("status") == "COMPLETED"
                    except json.JSONDecodeError:  # the chief is writing this trial's file right now: not finished
                        pass
            return done

        processes = []
        try:
            # Workers wait for the chief's oracle themselves (KerasTuner's client calls wait_for_ready).
            processes.append(start("--distributed", "chief", log="chief"))
            processes.append(start("--distributed", "worker", "--tuner-id", "a", log="a"))
            processes.append(start("--distributed", "worker", "--tuner-id", "b", log="b"))
            # The handshake: a worker prints "trial N ..." once the chief has recorded trial N as finished.
            trial_lines = 0
            while trial_lines < 2:
                name, line = lines.get(timeout=TIMEOUT)
                texts[name].append(line)
                trial_lines += name in ("a", "b") and line.startswith("trial ")
            processes[2].kill()  # worker b dies, possibly in the middle of a trial
            processes[2].wait()
            finished_at_kill = finished_trials()
            processes.append(start("--distributed", "worker", "--tuner-id", "b", log="b2"))  # same ID: resumes
            for p in (processes[0], processes[1], processes[3]):
                p.wait(timeout=TIMEOUT)
        finally:
            for p in processes:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        for reader in readers:
            reader.join(timeout=TIMEOUT)
        while not lines.empty():
            name, line = lines.get()
            texts[name].append(line)
        outputs = {name: "".join(text) for name, text in texts.items()}
        for index in (0, 1, 3):
            self.assertEqual(processes[index].returncode, 0, outputs)
        with open(os.path.join(folder, "results.csv")) as handle:
            rows = list(csv.DictReader(handle))
        self.assertLen(rows, 5)
        self.assertEqual({row["status"] for row in rows}, {"COMPLETED"})
        self.assertLen({row["units"] for row in rows}, 5, "every trial has its own values")
        self.assertGreaterEqual(finished_at_kill, 2)
        finish_lines = [line for name in ("a", "b", "b2") for line in outputs[name].splitlines()
                        if line.startswith("trial ")]
        ran = [line.split()[1] for line in finish_lines]
        self.assertCountEqual(ran, [row["trial"] for row in rows])  # each trial finished exactly once
        self.assertTrue(any(line.startswith("trial ") for line in outputs["a"].splitlines()))
        self.assertTrue(any(name.startswith("best-trial-") for name in os.listdir(folder)))
