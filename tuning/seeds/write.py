"""A seed report's folder from its finished runs: report.md (verdicts, choices, runs, figures), verdicts.json, PNGs."""
import json
import os
import types

import numpy as np

from rnnkit.runs import artifacts, plots
from tuning.seeds.probes import run_probes
from tuning.seeds.spec import CANNOT, DOES_NOT, REPRODUCES, Runs, default_column, judge_claim, pct

SAMPLE_LINES = 3


def read_run(experiment, run_dir, report_dir):
    """A finished run's record (metrics, history, steps, config, samples, probes), or None if unfinished."""
    metrics_path = os.path.join(run_dir, "metrics.json")
    if not os.path.isfile(metrics_path):
        return None
    with open(metrics_path, encoding="utf-8") as handle:
        metrics = json.load(handle)
    with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as handle:
        config = json.load(handle)
    probes_path = os.path.join(run_dir, "probes.json")
    if os.path.isfile(probes_path):
        with open(probes_path, encoding="utf-8") as handle:
            probes = json.load(handle)
    else:
        probes = run_probes(experiment.probes, run_dir, report_dir) if metrics.get("test") else {}
        artifacts.write_json(probes_path, probes)
    return types.SimpleNamespace(metrics=metrics, config=config, probes=probes,
                                 history=artifacts.read_history(os.path.join(run_dir, "history.csv")),
                                 steps=artifacts.read_history(os.path.join(run_dir, "steps.csv")),
                                 samples=verification_samples(f"{run_dir}.log"))


def verification_samples(log_path):
    """The first SAMPLE_LINES verification samples a run printed (none for image and toy tasks)."""
    if not os.path.isfile(log_path):
        return []
    with open(log_path, encoding="utf-8", errors="replace") as handle:
        lines = handle.read().splitlines()
    if "verification samples:" not in lines:
        return []
    start = lines.index("verification samples:") + 1
    return [line.strip() for line in lines[start: start + SAMPLE_LINES] if line.strip()]


def load_runs(report, folder, left_out):
    """Runs over the report folder: finished experiments by name, and why each missing one is missing."""
    records, reasons = {}, dict(left_out)
    for experiment in report.experiments:
        run_dir = os.path.join(folder, "runs", experiment.name)
        record = None if experiment.name in left_out else read_run(experiment, run_dir, folder)
        if record is not None:
            records[experiment.name] = record
        elif experiment.name not in reasons:
            reasons[experiment.name] = "unfinished" if os.path.isdir(run_dir) else "not run yet"
    return Runs(records, reasons)


def write_report(report, folder, options, left_out):
    """report.md, verdicts.json and the figures; returns the verdict rows."""
    runs = load_runs(report, folder, left_out)
    quick = " (quick run: shrunk steps and test sets)" if options.quick else ""
    rows = []
    for claim in report.claims:
        verdict, measured = judge_claim(claim, runs)
        rows.append({"claim": claim.text, "seed_figure": claim.figure, "runs": list(claim.experiments),
                     "rule": claim.rule, "measured": measured, "verdict": verdict,
                     "rnnkit_default": default_column(claim, runs), "quick": bool(options.quick)})
    artifacts.write_json(os.path.join(folder, "verdicts.json"), rows)
    counts = {v: sum(r["verdict"] == v for r in rows) for v in (REPRODUCES, DOES_NOT, CANNOT)}
    data = f"`--data-dir {options.data_dir}`" if options.data_dir else "the embedded data (no --data-dir)"
    lines = [f"# {report.name}: {report.title}{' — quick run' if options.quick else ''}", "",
             f"Seed: `shared/seeds/{report.source}`. Command: `rnnkit report {report.name}"
             f"{' --quick' if options.quick else ''}` (seed {options.seed}); data: {data}. {report.data_note}.", "",
             f"**{len(rows)} claims: {counts[REPRODUCES]} reproduce, {counts[DOES_NOT]} do not, "
             f"{counts[CANNOT]} cannot be measured here.**{quick}", "",
             "| # | the seed's claim | its figure | runs (settings under Runs) | rule for the verdict | "
             "rnnkit measured | verdict | rnnkit default |", "|---|---|---|---|---|---|---|---|"]
    for index, row in enumerate(rows, 1):
        verdict = row["verdict"] + (" (quick run)" if options.quick and row["verdict"] != CANNOT else "")
        lines.append(f"| {index} | {row['claim']} | {row['seed_figure']} | {', '.join(row['runs'])} | "
                     f"{row['rule']} | {row['measured']} | **{verdict}** | {row['rnnkit_default'] or '–'} |")
    lines += ["", *report.notes, "", "## Values the seed leaves open", "",
              *(f"- {choice}." for choice in report.choices), "", "## Runs", "", *run_table(report, runs)]
    lines += ["", "## Figures", "", *figure_lines(report, runs, folder)]
    samples = [(name, r.samples) for name, r in runs.records.items() if r.samples]
    if samples:
        lines += ["", "## Verification samples", ""]
        for name, shown in samples:
            lines += [f"- `{name}`: " + "; ".join(f"`{line}`" for line in shown)]
    artifacts.write_text(os.path.join(folder, "report.md"), "\n".join(lines) + "\n")
    return rows


def settings_text(config, experiment):
    """The run's settings that the seed fixes, as `name=value` pairs."""
    keys = [k for k in experiment.settings if k not in ("log_every", "stress_samples", "eval_lens", "eval_samples")]
    return ", ".join(f"{k}={config.get(k)}" for k in keys) or "rnnkit's defaults"


def run_table(report, runs):
    """One row per experiment: settings, test accuracy, exact match (balanced accuracy for a classifier), epochs,
    seconds and folder — or why the run is missing."""
    lines = ["| run | task | settings | test accuracy | exact match / balanced accuracy | epochs | train s | folder |",
             "|---|---|---|---|---|---|---|---|"]
    for experiment in report.experiments:
        record = runs.records.get(experiment.name)
        if record is None:
            lines.append(f"| {experiment.name} | {experiment.task} | {settings_text(experiment.settings, experiment)}"
                         f" | {CANNOT}: {runs.reasons.get(experiment.name)} | | | | |")
            continue
        test = record.metrics.get("test") or {}
        second = "balanced_accuracy" if test.get("balanced_accuracy") is not None else "exact_match"
        figures = [pct(test[k]) if test.get(k) is not None else record.metrics.get("status", "–")
                   for k in ("accuracy", second)]
        lines.append(f"| {experiment.name}{' (rnnkit default)' if experiment.default else ''} | {experiment.task} | "
                     f"{settings_text(record.config, experiment)} | {figures[0]} | "
                     f"{figures[1]}{' balanced' if second == 'balanced_accuracy' else ''} | "
                     f"{record.metrics.get('epochs_run')} | {record.metrics.get('train_seconds')} | "
                     f"[runs/{experiment.name}](runs/{experiment.name}) |")
    return lines


def figure_lines(report, runs, folder):
    """Draw each of the seed's figures from the runs it needs; markdown image lines."""
    lines = []
    for index, figure in enumerate(report.figures, 1):
        present = [n for n in figure.experiments if n in runs.records]
        if not present:
            lines.append(f"- {figure.title}: {CANNOT} (no finished run)")
            continue
        name = f"figure-{index}.png"
        if figure.kind == "curves":
            logs = {n: runs.records[n].steps for n in present if runs.records[n].steps}
            if not logs:
                continue
            plots.plot_overlaid_steps(logs, os.path.join(folder, name), figure.title)
        elif figure.kind == "by_length":
            tables = {n: runs.records[n].metrics.get("by_length", {}) for n in present}
            plots.plot_overlaid_by_length(tables, os.path.join(folder, name), figure.title, metric="accuracy",
                                          log_x=False)
        else:  # confusion matrices the runs drew themselves
            lines.append(f"**{figure.title}**: " + " ".join(
                f"[{n}](runs/{n}/confusion_matrix.png)" for n in present))
            continue
        lines.append(f"![{figure.title}]({name})")
    for name, record in runs.records.items():
        for probe, result in record.probes.items():
            path = f"{probe}-{name}.png"
            plots.plot_confusion(np.asarray(result["confusion_matrix"]), result["labels"], os.path.join(folder, path),
                                 f"{name}: {probe} photos, accuracy {pct(result['accuracy'])}")
            lines.append(f"![{name} on {probe} photos]({path})")
    return lines
