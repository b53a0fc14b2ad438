"""Write a bench result as JSON (timestamped and latest.json), a Markdown table and a PNG chart."""
from __future__ import annotations

import json
from pathlib import Path

TARGETS = "Targets at 16M events: pipeline/postgres < 0.7, pipeline/duckdb <= 3, time(16M)/time(4M) <= 4, " \
          "one new day < 10% of a full rebuild, peak memory < 8 GiB."


def ratios(runs: list[dict]) -> list[dict]:
    by = {(r["engine"], r["events"]): r for r in runs}
    rows = []
    for r in runs:
        if r["engine"] != "pipeline":
            continue
        row = {"events": r["events"]}
        for ref in ("duckdb", "postgres"):
            other = by.get((ref, r["events"]))
            if other:
                row[f"pipeline_over_{ref}"] = round(r["wall_s"] / other["wall_s"], 2)
                row[f"core_over_{ref}"] = round(r["core_s"] / other["wall_s"], 2)
        rows.append(row)
    return rows


def markdown(result: dict) -> str:
    lines = ["| engine | events | wall s | events/s | peak MB |", "| --- | ---: | ---: | ---: | ---: |"]
    for r in result["runs"]:
        wall = f"{r['wall_s']:.1f}" + (f" (core {r['core_s']:.1f})" if "core_s" in r else "")
        lines.append(f"| {r['engine']} | {r['events']:,} | {wall} | {r['events_per_s']:,} | {r['peak_rss_mb']:,.0f} |")
    lines += ["", "| events | pipeline / duckdb | pipeline / postgres | core / duckdb | core / postgres |",
              "| ---: | ---: | ---: | ---: | ---: |"]
    for row in result["ratios"]:
        lines.append(f"| {row['events']:,} | {row.get('pipeline_over_duckdb', '-')} | "
                     f"{row.get('pipeline_over_postgres', '-')} | {row.get('core_over_duckdb', '-')} | "
                     f"{row.get('core_over_postgres', '-')} |")
    inc = result.get("incremental")
    if inc:
        lines += ["", f"Incremental ({inc['events']:,} events, 31 days): full rebuild {inc['full_s']:.1f} s, "
                      f"one new day after 30 days of history {inc['one_day_s']:.1f} s "
                      f"({inc['one_day_share']:.0%} of the full rebuild)."]
    lines += ["", TARGETS, ""]
    return "\n".join(lines)


def chart(result: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for engine in ("pipeline", "duckdb", "postgres"):
        points = sorted((r["events"], r["wall_s"]) for r in result["runs"] if r["engine"] == engine)
        if points:
            axes.plot(*zip(*points), marker="o", label=engine)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("clean events in the world")
    axes.set_ylabel("wall seconds, landing to daily KPIs")
    axes.set_title(f"{result['machine']['cores']} cores, one bench run")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write_results(result: dict, out: Path) -> list[Path]:
    result["ratios"] = ratios(result["runs"])
    out.mkdir(parents=True, exist_ok=True)
    stamp = result["started"].replace(":", "").replace("-", "")[:15]
    text = json.dumps(result, indent=1) + "\n"
    table = markdown(result)
    paths = [out / f"{stamp}.json", out / "latest.json", out / f"{stamp}.md", out / "latest.md", out / "chart.png"]
    paths[0].write_text(text)
    paths[1].write_text(text)
    paths[2].write_text(table)
    paths[3].write_text(table)
    chart(result, paths[4])
    return paths
