"""What a seed report is made of: its experiments (the seed's settings), its claims and the rule judging each.

A claim is judged only from the numbers of finished runs. A claim whose runs are missing (no data on this
machine, not run yet, a run without test figures) gets "cannot be measured here" and the reason, never a verdict.
"""
import dataclasses
import math
from typing import Callable, Optional

REPRODUCES, DOES_NOT, CANNOT = "reproduces", "does not reproduce", "cannot be measured here"


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One run of a seed's: the task, the seed's settings, and what --quick shrinks."""

    name: str
    task: str
    settings: dict
    quick: dict = dataclasses.field(default_factory=dict)
    data: Optional[dict] = None  # the settings --data-dir switches on (e.g. {"source": "tfds"})
    needs_data: bool = False  # no embedded data: the run happens only with --data-dir
    probes: tuple = ()  # measurements after training, by name (see tuning/seeds/probes.py)
    default: bool = False  # an rnnkit-default run shown next to the seed's set-up, not one of the seed's


@dataclasses.dataclass(frozen=True)
class Claim:
    """A finding the seed states, its own figure, the rule that turns rnnkit's numbers into a verdict."""

    text: str
    figure: str
    experiments: tuple
    rule: str
    judge: Callable  # Runs -> (bool reproduces, str measured)
    default: Optional[tuple] = None  # (default experiment, Runs -> str measured, one sentence why it differs)


@dataclasses.dataclass(frozen=True)
class Figure:
    """A figure the seed shows, drawn from these experiments: "curves", "by_length" or "confusion"."""

    title: str
    kind: str
    experiments: tuple


@dataclasses.dataclass(frozen=True)
class SeedReport:
    """A whole seed: where it is, what it ran and claims, and the values chosen where it is silent."""

    name: str
    title: str
    source: str
    experiments: tuple
    claims: tuple
    figures: tuple
    choices: tuple  # "value: why" lines for what the seed leaves open
    data_note: str  # what --data-dir takes, and the embedded data used without it
    notes: tuple = ()  # paragraphs the report prints after its verdicts

    def experiment(self, name):
        """The experiment called `name`."""
        return next(e for e in self.experiments if e.name == name)


class MissingRun(Exception):
    """A claim needs a run (or a figure of one) that this report folder does not have."""


class Runs:
    """The finished runs of a report folder, read by name; a missing one raises MissingRun with its reason."""

    def __init__(self, records, reasons):
        self.records, self.reasons = records, reasons

    def record(self, name):
        """The finished run `name`: an object with metrics, history, steps, config, samples, probes."""
        if name not in self.records:
            raise MissingRun(f"run {name!r}: {self.reasons.get(name, 'not run yet')}")
        return self.records[name]

    def test(self, name, metric="accuracy"):
        """The held-out test figure of a run."""
        value = (self.record(name).metrics.get("test") or {}).get(metric)
        if value is None or not math.isfinite(value):
            raise MissingRun(f"run {name!r} has no test {metric} (status {self.record(name).metrics.get('status')})")
        return float(value)

    def diverged(self, name):
        """Whether the run's loss became NaN or infinite (or it kept no model)."""
        return self.record(name).metrics.get("status") != "completed"

    def by_length(self, name, metric="accuracy"):
        """{length: figure} at every evaluated numeric length."""
        table = self.record(name).metrics.get("by_length") or {}
        return {int(k): float(v[metric]) for k, v in table.items() if k.isdigit()}

    def first_step(self, name, threshold, column="test_accuracy"):
        """The first logged step whose `column` reaches `threshold` (None: never)."""
        steps = self.record(name).steps
        if not steps:
            raise MissingRun(f"run {name!r} logged no steps")
        return next((int(s) for s, v in zip(steps["step"], steps[column]) if v >= threshold), None)

    def first_epoch(self, name, threshold, column="val_accuracy"):
        """The first epoch (1-based) whose `column` reaches `threshold` (None: never)."""
        values = self.record(name).history.get(column) or []
        return next((i + 1 for i, v in enumerate(values) if v >= threshold), None)

    def probe(self, name, probe):
        """A probe's result for run `name` (e.g. accuracy on handwriting photos)."""
        result = self.record(name).probes.get(probe)
        if result is None:
            raise MissingRun(f"run {name!r} has no {probe} measurement")
        return result


def pct(value):
    """0.9375 → '93.8%'."""
    return f"{100 * value:.1f}%"


def judge_claim(claim, runs):
    """(verdict, measured text): the claim's rule applied to the runs, or CANNOT with the reason."""
    try:
        reproduces, measured = claim.judge(runs)
    except MissingRun as missing:
        return CANNOT, str(missing)
    return (REPRODUCES if reproduces else DOES_NOT), measured


def default_column(claim, runs):
    """The rnnkit-default figure and why it differs, or '' (none, or its run is missing)."""
    if claim.default is None:
        return ""
    name, measure, why = claim.default
    try:
        return f"{measure(runs)} (`{name}`): {why}"
    except MissingRun as missing:
        return f"{CANNOT}: {missing}"


def reaches(name, figure, margin, metric="accuracy"):
    """A judge: run `name`'s test `metric` is at least the seed's `figure` less `margin`."""
    def judge(runs):
        value = runs.test(name, metric)
        return value >= figure - margin, pct(value)
    return judge


def stays_below(name, bound, metric="accuracy"):
    """A judge for a failure the seed reports: run `name`'s test `metric` stays below `bound`."""
    def judge(runs):
        value = runs.test(name, metric)
        return value < bound, pct(value)
    return judge


def beats(better, worse, margin, metric="accuracy"):
    """A judge: the mean test `metric` of runs `better` exceeds that of runs `worse` by more than `margin`."""
    def judge(runs):
        high = sum(runs.test(n, metric) for n in better) / len(better)
        low = sum(runs.test(n, metric) for n in worse) / len(worse)
        return high > low + margin, f"{pct(high)} vs {pct(low)}"
    return judge


def all_reach(names, figure, margin, metric="accuracy"):
    """A judge: every run in `names` reaches `figure` less `margin`."""
    def judge(runs):
        values = [runs.test(n, metric) for n in names]
        return min(values) >= figure - margin, ", ".join(pct(v) for v in values)
    return judge
