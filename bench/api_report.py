"""The docs/benchmarks.md section of `bench/api.py`: its table, verdicts and history."""

from __future__ import annotations

from bench.machine import describe_machine


def render(
    results: dict[str, dict[str, float]], *, submissions: int, rows: int, clients: int, bursts: int
) -> str:
    lines = [
        "## Control-plane API (`bench/api.py`)",
        "",
        describe_machine(),
        "",
        f"{bursts} bursts of {submissions} archive submissions over HTTP from {clients} client "
        "threads (each its own keep-alive connection, `http.client`: see `Client` in "
        "bench/api.py); the rate is the median burst, every burst in brackets. Baseline, in the "
        f"same run: {submissions} experiments (row and six steps, one transaction each) written "
        f"straight into the database by the bench process through SQLAlchemy Core from "
        f"{clients} threads, and the submissions' rate as a share of it. List latency over 500 "
        "`GET /api/projects/default/experiments` from one connection (first page, "
        f"status/branch/user filters, a cursor 4,000 rows deep) with {rows:,} experiments; "
        f"server RSS idle and while tracking {submissions} queued experiments. CPU per "
        "submission: the server's, the PostgreSQL backends' serving its database (SQLite runs "
        "inside the server) and the bench client's. Load: the 1-minute load average when the "
        "submissions and when the list requests started (2 cores; other work was running on "
        "the machine when it is above 2).",
        "",
        "| database | API processes | submissions/s (bursts) | baseline inserts/s (share) | "
        "CPU ms/submission (server + PostgreSQL + client) | list p50 | list p99 | RSS idle | "
        "RSS with queue | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, r in results.items():
        each = ", ".join(f"{r[f'burst_{n}']:.0f}" for n in range(bursts))
        lines.append(
            f"| {kind} | {r['processes']:.0f} | {r['rate']:.0f} ({each}) | "
            f"{r['baseline']:.0f} ({r['rate'] / r['baseline']:.0%}) | "
            f"{r['cpu_server']:.2f} + {r['cpu_postgres']:.2f} + {r['cpu_client']:.2f} | "
            f"{r['p50']:.1f} ms | {r['p99']:.1f} ms | "
            f"{r['idle']:.0f} MiB | {r['tracking']:.0f} MiB | "
            f"{r['load']:.1f} / {r['list_load']:.1f} |"
        )
    lines.append("")
    lines.append("Targets: ≥ 200 submissions/s and list p99 < 50 ms on PostgreSQL; RSS < 300 MB.")
    pg = results.get("postgresql")
    if pg:
        rss = max(max(r["idle"], r["tracking"]) for r in results.values())
        verdicts = [
            f"submissions {pg['rate']:.0f}/s "
            + ("(met)" if pg["rate"] >= 200 else f"(missed by {200 - pg['rate']:.0f}/s)"),
            f"list p99 {pg['p99']:.1f} ms "
            + ("(met)" if pg["p99"] < 50 else f"(missed by {pg['p99'] - 50:.1f} ms)"),
            f"RSS at most {rss:.0f} MiB " + ("(met)" if rss * 2**20 < 300e6 else "(missed)"),
        ]
        lines.append(f"PostgreSQL: {'; '.join(verdicts)}.")
    lines += ["", HISTORY, "", SPREAD]
    return "\n".join(lines) + "\n"


HISTORY = (
    "Earlier measurements of the same bench on this machine, with an httpx client (about 1.4 "
    "ms of client CPU per submission): before docs/decisions/080-control-plane-performance.md, "
    "SQLite 34 submissions/s, list p50 116 ms / p99 708 ms, PostgreSQL 32 submissions/s, p50 "
    "31 ms / p99 154 ms; after 080 (quiet machine), SQLite 53/s, p50 17.5 ms / p99 53.9 ms, "
    "PostgreSQL 56/s, p50 21.9 ms / p99 53.2 ms, about 9–14 ms of server CPU per submission. "
    "The changes since are in docs/decisions/081-submission-throughput.md."
)

SPREAD = (
    "How much one run says: on this machine (2 vCPUs shared with other work) the CPU one "
    "submission costs varies up to twofold between runs minutes apart (server 3.2–7.3 ms on "
    "2026-11-30), and the rate with it, since one API process is bound by its interpreter "
    "lock. Hence three bursts and their median, the database's own rate measured in the same "
    "run, and `os.sync()` before the submissions, so that the previous database's bulk insert "
    "is not still being written back while they run (without it, one run gave 146/s at 7.2 ms "
    "of server CPU per submission). Every full run on 2026-11-30 after decision 081's fourth "
    "pass, PostgreSQL (median of the bursts, the bursts, server CPU per submission, list "
    "p99): without its running-poll item (18:50–18:59 UTC, load 0.3–2.1) 299/s (305, 299, "
    "290; 3.61 ms; 15.1 ms), 283/s (235, 283, 300; 4.03 ms; 14.4 ms), 272/s (293, 272, 267; "
    "3.89 ms; 18.7 ms), 257/s (257, 236, 273; 4.27 ms; 21.1 ms); with it (19:28–19:30 UTC, "
    "load 1.1–1.5) 320/s (298, 340, 320; 3.37 ms; 17.0 ms), 323/s (286, 323, 355; 3.47 ms; "
    "15.1 ms), then the run above. RSS at most 132 MiB in all; the baseline 1,342–1,644 "
    "inserts/s. Before the fourth pass, single bursts on the same day: 271, 191, 231, 232, "
    "238 and 210/s."
)
