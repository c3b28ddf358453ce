"""`python -m tuning.report SEED [--quick] [--out DIR] [--data-dir DIR] [--seed N]`: re-run one seed report.

Every experiment the seed ran is re-run with the seed's settings as a normal rnnkit run folder (a KerasTuner
GridSearch over the experiments, so running the command again resumes: finished runs are kept). The report
folder gets report.md: one row per claim of the seed's, rnnkit's measured figure, and a verdict from the rule
written next to it — reproduces, does not reproduce, or cannot be measured here (and why).
"""
import collections
import os
import sys

from rnnkit.core import cli
from rnnkit.core.errors import UsageError
from rnnkit.core.lazy import LazyModule
from tuning.seeds import REPORTS
from tuning.seeds.write import write_report

# TensorFlow and KerasTuner load only once the arguments are parsed: --list and --help answer in a moment.
runs = LazyModule("tuning.seeds.runs")

PROG = "python -m tuning.report"


def build_parser():
    """The report CLI's arguments."""
    parser = cli.Parser(prog=PROG, description=__doc__, allow_abbrev=False,
                        epilog="seed reports: " + ", ".join(REPORTS) + " (--list says what each re-runs)")
    parser.add_argument("name", metavar="SEED", nargs="?", choices=list(REPORTS),
                        help="which seed report: " + ", ".join(REPORTS))
    parser.add_argument("--list", action="store_true", help="list the seed reports and exit")
    parser.add_argument("--quick", action="store_true",
                        help="every experiment shrunk (fewer steps and test examples: minutes on 2 CPU cores); every "
                             "verdict then says it is a quick run (default: the seed's own budgets)")
    parser.add_argument("--out", metavar="DIR", help="report folder (default: reports/<seed>[-quick])")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="the seed's real data: a prepared tensorflow-datasets folder (mnist, cifar10) or the "
                             "tutorial's names folder (default: none — the embedded data, and claims on data "
                             "that is not embedded cannot be measured)")
    parser.add_argument("--seed", type=cli.bounded_int(0, 2**31 - 1), default=0,
                        help="random seed of every run (default: 0)")
    return parser


def skipped(report, data_dir):
    """{experiment: why it does not run here} for experiments that need data this machine lacks."""
    return {e.name: "needs real data that is not embedded here: pass --data-dir"
            for e in report.experiments if e.needs_data and not data_dir}


def run_report(report, folder, options):
    """Run (or resume) every runnable experiment of `report` into `folder`, then write report.md; its verdicts."""
    for experiment in report.experiments:  # bad settings fail before anything trains
        runs.experiment_config(experiment, options.quick, options.data_dir, options.seed)
    left_out = skipped(report, options.data_dir)
    names = [e.name for e in report.experiments if e.name not in left_out]
    os.makedirs(os.path.join(folder, "runs"), exist_ok=True)
    print(f"tuning.report: {report.name}{' (quick)' if options.quick else ''}: {len(names)} runs → {folder}"
          + (f"; {len(left_out)} left out: no data for them here" if left_out else ""), flush=True)
    runs.ExperimentRuns(report, names, options, folder).search()
    return write_report(report, folder, options, left_out)


def list_lines():
    """One paragraph per seed report: name, title, seed file, experiments and claims."""
    return [f"{r.name}  {r.title}\n    seed {r.source}: {len(r.experiments)} runs, {len(r.claims)} claims; "
            f"data: {r.data_note}" for r in REPORTS.values()]


def main(argv=None):
    """CLI entry point: 0 on success, 2 on bad input."""
    def body(argv):
        options = build_parser().parse_args(argv)
        if options.list:
            print("\n".join(list_lines()))
            return
        if options.name is None:
            raise UsageError(f"name a seed report ({', '.join(REPORTS)}) or pass --list")
        report = REPORTS[options.name]
        folder = options.out or os.path.join("reports", options.name + ("-quick" if options.quick else ""))
        verdicts = run_report(report, folder, options)
        counts = collections.Counter(row["verdict"] for row in verdicts)
        print(f"{report.name}: " + ", ".join(f"{n} {v}" for v, n in counts.items())
              + f"; report in {os.path.join(folder, 'report.md')}")
    return cli.run_main(PROG, body, argv)


if __name__ == "__main__":
    sys.exit(main())
