"""bench/results.md and bench/results.png from the rows of bench/run.py: the table, the targets, the slope."""

from __future__ import annotations

from pathlib import Path

PHASES = ("first deploy", "no-op re-run")


def write_report(out: Path, rows: list[dict], context: dict, labels: dict, baseline: dict) -> None:
    picture = out.with_suffix(".png")
    draw(picture, rows, labels)
    out.write_text(markdown(rows, context, labels, baseline, picture.name))


def cell(rows: list[dict], n: int, approach: str, phase: str) -> dict | None:
    return next((r for r in rows if (r["n"], r["approach"], r["phase"]) == (n, approach, phase)), None)


def markdown(rows: list[dict], context: dict, labels: dict, baseline: dict, picture: str) -> str:
    load = ", ".join(f"{x:.2f}" for x in context["load"])
    lines = [
        "# Benchmark: converging N integrations",
        "",
        f"Made by `{context['command']}` (`make bench` runs it without options; a drawn seed is added so the order can be replayed) on {context['date']}, commit {context['commit']},",
        f"on the local 1.20 control plane and node stand-in, {context['cpus']} cores shared with other work; load",
        f"average at the start {load}. Ansible's floor, a one-task playbook: {context['floor']['wall']:.2f} s wall,",
        f"{context['floor']['cpu']:.2f} s CPU. Each integration has 2 replicas (N=1000 is 2,000 pods).",
        "",
        "Equal work per pair: `wait: false` against `kubectl apply -f dir`, `wait: true` against `kubectl apply` +",
        "`kubectl wait --for=condition=Available` of every Deployment (x kubectl is wall time against that row, same",
        "N and phase, same run). Approaches run in a random order per N; the cluster settles before every measured",
        "run. Values are the median of 3 runs, or of 1 run (marked *) when the first took 30 s or more. CPU is the",
        "whole process tree's user+system seconds (steadier than wall on a shared machine); peak MB the largest",
        "process's RSS; load the 1-minute load average at the start of the run; reads and writes the admin user's",
        "requests in the API server's audit log.",
        "",
        f"![wall time and API requests against N]({picture})",
        "",
        "| N | approach | phase | runs | wall s | x kubectl | CPU s | peak MB | reads | writes | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: (r["n"], list(labels).index(r["approach"]), r["phase"])):
        base = cell(rows, r["n"], baseline[r["approach"]], r["phase"])
        ratio = f"{r['wall'] / base['wall']:.2f}" if base else "-"
        runs = f"{r['runs']}" + ("*" if r["runs"] == 1 else "")
        lines.append(
            f"| {r['n']} | {labels[r['approach']]} | {r['phase']} | {runs} | {r['wall']:.2f} | {ratio} | "
            f"{r['cpu']:.2f} | {r['peak_mb']:.0f} | {r['reads']:.0f} | {r['writes']:.0f} | {r['load']:.2f} |"
        )
    return "\n".join(
        [*lines, "", *targets(rows), "", "Profiles and what they changed: [profile.md](profile.md).", ""]
    )


def targets(rows: list[dict]) -> list[str]:
    """The issue's targets, computed from this run's rows where it has them."""
    lines = ["## Targets in this run", ""]
    sizes = sorted({r["n"] for r in rows})
    for n in sizes:
        ours, kubectl = cell(rows, n, "ours", PHASES[0]), cell(rows, n, "kubectl", PHASES[0])
        if ours and kubectl:
            lines.append(
                f"- N={n} first deploy, wait: false: {kubectl['wall'] / ours['wall']:.2f}x faster than kubectl apply (target at N=1000: 2x)."
            )
        ours, kubectl = cell(rows, n, "ours-wait", PHASES[0]), cell(rows, n, "kubectl-wait", PHASES[0])
        if ours and kubectl:
            lines.append(
                f"- N={n} first deploy, wait: true: {ours['wall'] / kubectl['wall']:.2f}x kubectl apply + wait (target: 1.2x or less)."
            )
    small, big = cell(rows, min(sizes), "ours", PHASES[1]), cell(rows, max(sizes), "ours", PHASES[1])
    if small and big and small is not big:
        lines.append(
            f"- No-op: N={big['n']} {big['wall']:.2f} s against N={small['n']} {small['wall']:.2f} s wall "
            f"({big['wall'] / small['wall']:.2f}x, target 2x or less); CPU {big['cpu']:.2f} s against {small['cpu']:.2f} s; "
            f"{big['reads']:.0f} reads and {big['writes']:.0f} writes at N={big['n']}."
        )
    peak = [r for r in rows if r["approach"].startswith("ours")]
    if peak:
        top = max(peak, key=lambda r: r["peak_mb"])
        lines.append(
            f"- Peak RSS of our runs: {top['peak_mb']:.0f} MB (N={top['n']}, {top['approach']}, {top['phase']}; target under 200 MB)."
        )
    lines.extend(slope(rows, sizes))
    return lines


def slope(rows: list[dict], sizes: list[int]) -> list[str]:
    """Per-integration cost of the first deploy between the two largest sizes (linear growth shows as equal slopes)."""
    lines = []
    for approach in ("ours", "ours-wait", "kubectl", "kubectl-wait"):
        points = [cell(rows, n, approach, PHASES[0]) for n in sizes[-3:]]
        points = [p for p in points if p]
        if len(points) < 3:
            continue
        (a, b, c) = points
        first = (b["wall"] - a["wall"]) / (b["n"] - a["n"]) * 1000
        second = (c["wall"] - b["wall"]) / (c["n"] - b["n"]) * 1000
        cpu = (c["cpu"] - b["cpu"]) / (c["n"] - b["n"]) * 1000
        lines.append(
            f"- Slope, first deploy, {approach}: {first:.1f} ms/integration from N={a['n']} to {b['n']}, "
            f"{second:.1f} ms from {b['n']} to {c['n']} wall ({cpu:.1f} ms CPU from {b['n']} to {c['n']})."
        )
    return lines


def draw(path: Path, rows: list[dict], labels: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, (wall, requests) = pyplot.subplots(1, 2, figsize=(13, 5.5))
    for axes in (wall, requests):  # one colour per approach and phase (20 lines; the default cycle has 10)
        axes.set_prop_cycle(color=pyplot.get_cmap("tab20").colors)
    for approach in labels:
        for phase, style in zip(PHASES, ("-o", ":s"), strict=True):
            points = sorted(
                (r["n"], r["wall"], r["reads"] + r["writes"])
                for r in rows
                if (r["approach"], r["phase"]) == (approach, phase)
            )
            if not points:
                continue
            n, seconds, count = zip(*points, strict=True)
            wall.plot(n, seconds, style, label=f"{approach}, {phase}")
            requests.plot(n, count, style, label=f"{approach}, {phase}")
    for axes, title in ((wall, "wall time (s)"), (requests, "API requests (reads + writes)")):
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("N integrations")
        axes.set_title(title)
        axes.grid(True, which="both", alpha=0.3)
    wall.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    pyplot.close(figure)
