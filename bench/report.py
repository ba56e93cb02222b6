"""Turn the runs into medians, ratios against the targets, and a readable table."""

from __future__ import annotations

import statistics
from typing import Any

from bench.scenarios import BY_NAME, TARGET_VS_PLAIN, TARGET_VS_V110

Run = dict[str, Any]

ENGINE_LABELS = {
    "ours": "ours, compiled",
    "ours_py": "ours, pure Python",
    "v110": "routilux 1.1.0",
    "plain": "plain queue.Queue",
    "base": "baseline, compiled",
    "base_py": "baseline, pure",
}
METRICS = ("activations_per_s", "messages_per_s", "latency_median_us", "latency_p95_us")


def summarise(runs: list[Run]) -> dict[str, dict[str, dict[str, float]]]:
    """``{scenario: {engine: {metric: median over repeats, "runs": count}}}`` of good runs."""
    grouped: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        if "error" not in run:
            grouped.setdefault((run["scenario"], run["engine"]), []).append(run)
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for (scenario, engine), group in grouped.items():
        medians: dict[str, float] = {"runs": len(group), "n": group[0]["n"]}
        for metric in METRICS:
            values = [run[metric] for run in group if metric in run]
            if values:
                medians[metric] = statistics.median(values)
                # The spread shows how much to trust the median on a noisy machine.
                medians[f"{metric}_min"] = min(values)
                medians[f"{metric}_max"] = max(values)
        summary.setdefault(scenario, {})[engine] = medians
    return summary


def ratios(summary: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, Any]]:
    """Ours against 1.1.0 and the plain baseline, per scenario, with the target verdicts.

    Throughput ratios are activations/s (higher is better for us); latency ratios are
    theirs / ours on the median (above 1 means we are faster).
    """
    result: dict[str, dict[str, Any]] = {}
    for name, engines in summary.items():
        ours = engines.get("ours")
        if ours is None:
            continue
        latency = BY_NAME[name].latency
        metric = "latency_median_us" if latency else "activations_per_s"
        row: dict[str, Any] = {"metric": metric}
        pairs = (
            ("ours", "v110", "vs_v110"),
            ("ours", "plain", "vs_plain"),
            ("ours", "base", "vs_base"),
            ("ours_py", "base_py", "py_vs_base_py"),
        )
        for mine, other, key in pairs:
            us, theirs = engines.get(mine), engines.get(other)
            if us is None or theirs is None or metric not in theirs:
                continue
            row[key] = theirs[metric] / us[metric] if latency else us[metric] / theirs[metric]
        if not latency:
            for key, target in (("vs_v110", TARGET_VS_V110), ("vs_plain", TARGET_VS_PLAIN)):
                if key in row:
                    row[f"meets_{key}"] = row[key] >= target
        result[name] = row
    return result


def format_table(
    summary: dict[str, dict[str, dict[str, float]]], ratio_rows: dict[str, dict[str, Any]]
) -> str:
    """The results and the ratios as two plain-text tables."""
    header = (
        f"{'scenario':<44} {'engine':<18} {'activations/s':>13} {'messages/s':>11} "
        f"{'lat p50 us':>10} {'lat p95 us':>10} {'n':>5} {'runs':>4}"
    )
    lines = [header, "-" * len(header)]
    for name in (s for s in BY_NAME if s in summary):
        for engine in (e for e in ENGINE_LABELS if e in summary[name]):
            m = summary[name][engine]
            lines.append(
                f"{BY_NAME[name].label:<44} {ENGINE_LABELS[engine]:<18} "
                f"{_num(m.get('activations_per_s')):>13} {_num(m.get('messages_per_s')):>11} "
                f"{_num(m.get('latency_median_us')):>10} {_num(m.get('latency_p95_us')):>10} "
                f"{int(m['n']):>5} {int(m['runs']):>4}"
            )
    if any("vs_base" in row or "py_vs_base_py" in row for row in ratio_rows.values()):
        lines += ["", f"{'scenario':<44} {'now / baseline, compiled':>25} {'pure':>8}"]
        for name, row in ratio_rows.items():
            lines.append(
                f"{BY_NAME[name].label:<44} {_ratio(row.get('vs_base')):>25} "
                f"{_ratio(row.get('py_vs_base_py')):>8}"
            )
    lines += ["", f"{'scenario':<44} {'ours / 1.1.0':>14} {'ours / plain':>14}  targets"]
    for name, row in ratio_rows.items():
        if BY_NAME[name].latency:
            verdict = "(latency: theirs / ours, above 1 = we are faster)"
        else:
            verdict = ", ".join(
                [
                    f">= {TARGET_VS_V110:g}x 1.1.0 {_yes(row.get('meets_vs_v110'))}",
                    f">= {TARGET_VS_PLAIN:.0%} plain {_yes(row.get('meets_vs_plain'))}",
                ]
            )
        lines.append(
            f"{BY_NAME[name].label:<44} {_ratio(row.get('vs_v110')):>14} "
            f"{_ratio(row.get('vs_plain')):>14}  {verdict}"
        )
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _yes(met: bool | None) -> str:
    if met is None:
        return "not measured"
    return "met" if met else "MISSED"
