"""tf.distribute for rnnkit runs: the strategy, the chief, data sharding and distributed steps.

Global-batch semantics: `--batch-size` is the global batch. tf.data rebatches it so each of the N replicas
gets batch / N examples (DATA auto-sharding: every worker takes its share of each global batch), and the loss is
divided by N before gradients are summed across replicas, so N replicas take the same step one process would.
"""
import json
import os

import tensorflow as tf

from rnnkit.core.config import CHOICES
from rnnkit.core.errors import UsageError
from rnnkit.engine import steps

STRATEGIES = CHOICES["strategy"]


def tf_config():
    """The parsed TF_CONFIG environment variable ({} when unset)."""
    text = os.environ.get("TF_CONFIG", "")
    if not text.strip():
        return {}
    try:
        config = json.loads(text)
    except json.JSONDecodeError:
        raise UsageError("TF_CONFIG is not valid JSON") from None
    if not isinstance(config, dict) or "cluster" not in config or "task" not in config:
        raise UsageError("TF_CONFIG needs 'cluster' and 'task' (see README, Scaling out)")
    return config


def check(name, loop):
    """Refuse combinations that cannot run, before anything starts."""
    if name == "multiworker":
        if not tf_config():
            raise UsageError("--strategy multiworker needs TF_CONFIG describing the cluster (see README)")
        if loop == "fit":
            raise UsageError("--strategy multiworker needs --loop function: model.fit fails under "
                             "MultiWorkerMirroredStrategy in Keras 3 (tensorflow#72388)")


def make_strategy(name):
    """The tf.distribute strategy named by --strategy."""
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def is_chief():
    """Whether this process writes the run folder: no cluster, the chief, or worker 0 of a chief-less one."""
    config = tf_config()
    if not config:
        return True
    task = config["task"]
    if task.get("type") == "chief":
        return True
    return task.get("type") == "worker" and int(task.get("index", 0)) == 0 and "chief" not in config["cluster"]


def shard(dataset):
    """Shard by data explicitly: each worker takes its part of every (global) batch."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def metric_results(model):
    """{name: float} of the model's metrics, aggregated over every replica and worker."""
    results = {}
    for metric in model.metrics:
        value = metric.result()
        if isinstance(value, dict):
            results.update({name: float(v) for name, v in value.items()})
        else:
            results[metric.name] = float(value)
    return results


def train_step_fn(model, strategy):
    """A tf.function running the shared train step on every replica."""
    return tf.function(lambda batch: strategy.run(steps.train_step, args=(model, batch)), reduce_retracing=True)


def evaluate(model, dataset, strategy):
    """Validation loss and metrics with the model's test step on every replica (model.evaluate fails here)."""
    test_step = tf.function(lambda batch: strategy.run(model.test_step, args=(batch,)), reduce_retracing=True)
    model.reset_metrics()
    for batch in strategy.experimental_distribute_dataset(dataset):
        test_step(batch)
    return metric_results(model)
