"""`python -m bench [imports] [chat] [cost] [sizes] [billing]`: run the benchmarks (imports, chat,
cost and sizes when none is named; billing, several minutes, only when named), print readable
tables and write .bench/results.json. Exit status 1 when a target is missed, 2 when a benchmark
could not run; a skipped benchmark (no front-end build) is not a failure."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import billing, chat, collection, cost, imports, routing, scenario, sizes, soak
from bench.counting import REVOCATION_READ
from bench.sizes import KB, REPO_ROOT

RESULTS = REPO_ROOT / ".bench" / "results.json"


def environment() -> dict[str, Any]:
    versions = {}
    for package in ("boto3", "moto", "aiohttp", "websockets"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "?"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu_count": os.cpu_count(), "usable_cpus": usable,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "packages": versions,
    }


# --- printing ------------------------------------------------------------------------------
def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths), *(line(r) for r in cells[1:])])


def verdict(ok: bool | None) -> str:
    return "SKIP" if ok is None else ("PASS" if ok else "FAIL")


def fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def print_environment(env: dict[str, Any]) -> None:
    print(f"Parley benchmarks, {env['date']}")
    print(f"environment: {env['cpu_count']} cores ({env['usable_cpus']} usable), {env['python']}, "
          f"{env['platform']}")
    print(f"             load average at start {' '.join(map(str, env['load_average_at_start']))}; "
          + ", ".join(f"{k} {v}" for k, v in env["packages"].items()))


def print_requests(r: dict[str, Any]) -> None:
    print("\n== chat: AWS requests per relayed message ==")
    print(f"counted with {r['counted_at']}")
    ops = sorted({op for s in r["settings"] for d in s["directions"] for op in d["dynamodb_per_message"]})
    rows = []
    for s in r["settings"]:
        for d in s["directions"]:
            rows.append([s["idle_connections"], s["open_connections_at_gateway"], d["direction"], d["messages"],
                         *(fmt(d["dynamodb_per_message"].get(op, 0)) for op in ops),
                         f"{fmt(d['dynamodb_avg'])} ({d['dynamodb_min']}-{d['dynamodb_max']})",
                         fmt(d["dynamodb_http_attempts_avg"]),
                         f"{fmt(d['posts_avg'])} ({d['posts_min']}-{d['posts_max']})", d["idle_frames"],
                         d["unloaded_latency_ms"]["p50"], d["unloaded_latency_ms"]["p99"]])
    print(table(["idle conns", "open at gw", "direction", "msgs", *ops, "DynamoDB/msg (min-max)", "HTTP attempts",
                 "posts/msg (min-max)", "idle frames", "p50 ms", "p99 ms"], rows))
    print("(p50/p99: send -> relayed frame, one message at a time on an otherwise quiet stack)")
    print(f"(DynamoDB/msg leaves out `{REVOCATION_READ}`: at most one per agent per environment per 30 s, "
          "issue 10's revocation check, shown in its own column)")
    print(f"{verdict(r['pass'])}  targets: <= {chat.MAX_DYNAMODB_PER_MESSAGE} DynamoDB requests per message; "
          "posts per message = the other participants' connections (1 here); equal counts with "
          + " and ".join(str(s["idle_connections"]) for s in r["settings"]) + " idle connections")
    for c in r["checks"]:
        if not c["pass"]:
            print(f"  FAIL  {c['check']}")
    timing = r["settings"][0]["directions"][0]["aws_ms_per_call"]
    print("mean time per AWS call against the local stack (moto / local gateway): "
          + ", ".join(f"{op} {ms} ms" for op, ms in timing.items()))
    print(f"wall time {r['wall_s']} s (closing the idle connections: {r['teardown_s']} s)")


def print_latency(r: dict[str, Any], unloaded_p50: float | None) -> None:
    print("\n== chat: visitor -> agent latency (send -> relayed `message` frame at the agent) ==")
    print(f"{r['conversations']} concurrent conversations, {r['agents']} agent accounts, "
          f"{r['messages_per_visitor']} messages per visitor, pauses {r['pause_s'][0]}-{r['pause_s'][1]} s "
          "(each visitor waits for its ack, then pauses)")
    print(table(["sent", "relayed", "lost", "p50 ms", "p99 ms", "max ms", "mean ms", "ack p50 ms", "ack p99 ms",
                 "msg/s", "run s"],
                [[r["sent"], r["relayed"], r["lost"], r["p50_ms"], r["p99_ms"], r["max_ms"], r["mean_ms"],
                  r["ack_p50_ms"], r["ack_p99_ms"], r["throughput_msg_s"], r["run_s"]]]))
    under_load = ", ".join(f"{op} {fmt(n)}" for op, n in r["dynamodb_per_message_under_load"].items())
    posts = ", ".join(f"{op} {fmt(n)}" for op, n in r["management_api_per_message_under_load"].items())
    calls, attempts = r["dynamodb_calls_and_http_attempts"]
    print(f"requests per message during the run: DynamoDB {under_load}; @connections {posts} "
          f"({calls} DynamoDB calls, {attempts} HTTP attempts)")
    print("mean time per AWS call during the run: "
          + ", ".join(f"{op} {ms} ms" for op, ms in r["aws_ms_per_call_under_load"].items()))
    print(f"load: the visitors could offer up to {r['offered_msg_s_upper_bound']} msg/s (conversations / mean pause); "
          f"the stack delivered {r['throughput_msg_s']} msg/s")
    if unloaded_p50 is not None and r["p50_ms"] > 3 * unloaded_p50:
        print(f"  -> saturated: p50 {r['p50_ms']} ms against {unloaded_p50} ms for one message at a time; the "
              "difference is queueing for the in-process moto server and handler threads (see docs/benchmarks.md)")
    print(f"wall time {r['wall_s']} s (setup {r['setup_s']} s, closing {r['teardown_s']} s)")


def print_sizes(r: dict[str, Any]) -> None:
    print("\n== front-end bundle sizes (gzip level 9) ==")
    rows = []
    for b in r["bundles"]:
        budget = f"{b['budget'] // KB} KB" if b["budget"] else "-"
        if b["status"] == "skipped":
            rows.append([b["name"], "-", "-", "-", budget, f"SKIP: {b['reason']}"])
            continue
        for f in b["files"]:
            rows.append([b["name"], f["file"], f["bytes"], f["gzipped"], "", ""])
        rows.append([b["name"], "total", sum(f["bytes"] for f in b["files"]), b["gzipped"], budget,
                     verdict(b["pass"]) if b["budget"] else "reported"])
    print(table(["bundle", "file", "bytes", "gzipped", "budget", "result"], rows))
    if not r["complete"]:
        print("some bundles are not built: run `make frontend` (or `make bench`, which builds them)")
    print(f"{verdict(r['pass'])}  targets: loader <= 3 KB, chat UI <= 15 KB gzipped (KB = 1,024 bytes)")


# --- running -------------------------------------------------------------------------------
def run_chat(args: argparse.Namespace) -> tuple[dict[str, Any], bool | None]:
    latency = chat.LatencyConfig(conversations=args.conversations, messages=args.per_visitor,
                                 pause_min=args.pause[0], pause_max=args.pause[1])
    cfg = chat.ChatConfig(idle_settings=tuple(args.idle), messages=args.messages, latency=latency)
    result = chat.run(cfg)
    print(f"\n(local stack started in {result['stack_start_s']} s, stopped in {result['stack_stop_s']} s)")
    print_requests(result["requests"])
    settings = result["requests"]["settings"]
    unloaded = settings[0]["directions"][0]["unloaded_latency_ms"]["p50"] if settings else None
    print_latency(result["latency"], unloaded)
    return result, bool(result["requests"]["pass"])


def print_imports(r: dict[str, Any]) -> None:
    print("\n== cold start: CPU to import each handler, / `import boto3` (fresh processes, median) ==")
    print(f"{r['rounds']} rounds; import boto3: {r['boto3_import_cpu_ms']} ms import CPU, "
          f"{r['boto3_process_cpu_ms']} ms whole process")
    print(table(["function", "import CPU ms", "x boto3", "process CPU ms", "x boto3 (process)", "loads", "judged"],
                [[f["function"], f["import_cpu_ms"], f["ratio"], f["process_cpu_ms"], f["process_ratio"],
                  ",".join(f["loads"]) or "-", "yes" if f["judged"] else ""] for f in r["functions"]]))
    print(f"{verdict(r['pass'])}  targets: chat_message and chat_connect <= {imports.TARGET_RATIO} x boto3; "
          "neither loads Stripe, the ledger or the X-Ray SDK")
    for c in r["checks"]:
        if not c["pass"]:
            print(f"  FAIL  {c['check']}")


def print_cost(r: dict[str, Any]) -> None:
    c = r["config"]
    print(f"\n== cost model: {c['chats']} engaged chats of {c['messages_per_chat']} messages, AWS list prices "
          f"({r['prices']['region']}, {r['prices']['date']}, bench/prices.py) ==")
    print(table(["item", "$ per 1,000 engaged chats"], [[k, f"{v:.5f}"] for k, v in r["per_1000_chats_usd"].items()]
                + [["total", f"{r['total_per_1000_chats_usd']:.4f}"],
                   ["floor (20 relayed 1:1 messages)", f"{r['floor_per_1000_chats_usd']:.4f}"]]))
    p = r["per_chat"]
    print(f"per chat: {p['websocket_messages']} WebSocket messages ({p['frames_in']} in, {p['route_responses']} "
          f"route responses, {p['posts']} posts); Lambda {p['lambda_invocations']}; DynamoDB {p['dynamodb_requests']} "
          f"= {p['write_units']} WRU + {p['read_units']} RRU; {p['stream_reads']} stream reads; "
          f"{p['secret_calls']} Secrets Manager calls; {p['connection_minutes']} connection minutes (modelled)")
    print(f"local mean duration per invocation (ms): {p['lambda_ms']}; largest conversation item "
          f"{r['largest_conversation_item_bytes']} bytes")
    print(f"{verdict(r['pass'])}  target: <= {cost.TARGET_RATIO} x the floor; ratio {r['ratio_to_floor']} "
          f"({r['ratio_to_floor_without_lambda_duration']} without Lambda duration; {r['ratio_to_issue_floor']} "
          f"against the issue's $2.97 per million)")
    print(f"run {r['run_s']} s")


def run_imports(args: argparse.Namespace) -> tuple[dict[str, Any], bool | None]:
    result = imports.run(imports.ImportConfig(rounds=args.import_rounds))
    print_imports(result)
    return result, bool(result["pass"])


def run_cost(args: argparse.Namespace) -> tuple[dict[str, Any], bool | None]:
    result = cost.run(cost.CostConfig(chats=args.chats))
    print_cost(result)
    return result, bool(result["pass"])


def run_sizes(args: argparse.Namespace) -> tuple[dict[str, Any], bool | None]:
    result = sizes.run()
    print_sizes(result)
    ok = result["pass"]
    return result, None if ok is None else bool(ok)


def run_billing(args: argparse.Namespace) -> tuple[dict[str, Any], bool | None]:
    cfg = billing.BillingConfig(scale_due=args.billing_scale[0], scale_clients=args.billing_scale[1],
                                stripe_due=args.billing_stripe)
    result = billing.run(cfg)
    print(f"\n(local stack started in {result['stack_start_s']} s, stopped in {result['stack_stop_s']} s)")
    billing.print_results(result)
    return result, bool(result["pass"])


BENCHMARKS: dict[str, Callable[[argparse.Namespace], tuple[dict[str, Any], bool | None]]] = {
    "imports": run_imports, "chat": run_chat, "cost": run_cost, "sizes": run_sizes, "billing": run_billing,
}
BENCHMARKS["routing"] = routing.entry  # bench/routing.py (issue 10)
BENCHMARKS["soak"] = soak.entry  # bench/soak.py (issue 11)
BENCHMARKS["collection"] = collection.entry  # bench/collection.py (issue 12: the fan-out at Stripe's latency)
BENCHMARKS["scenario"] = scenario.entry  # bench/scenario.py (issue 12: a year of billing in < 60 s)
# billing (10,000 due among 100,000: 5-10 min) is opt-in
DEFAULT = ("imports", "chat", "cost", "sizes", "routing", "scenario", "soak")  # soak: ~15 min (issue 11)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run ({', '.join(BENCHMARKS)}); {' and '.join(DEFAULT)} when none "
                        "is given")
    parser.add_argument("--messages", type=int, default=100, help="messages per direction (requests benchmark)")
    parser.add_argument("--idle", type=lambda s: [int(x) for x in s.split(",")], default=[10, 1000],
                        help="idle connection counts, comma-separated (default 10,1000)")
    parser.add_argument("--conversations", type=int, default=50, help="concurrent conversations (latency)")
    parser.add_argument("--per-visitor", type=int, default=20, help="messages per visitor (latency)")
    parser.add_argument("--pause", type=lambda s: [float(x) for x in s.split(",")], default=[0.2, 1.0],
                        help="a visitor's pause between messages, MIN,MAX seconds (latency; default 0.2,1.0)")
    parser.add_argument("--billing-scale", type=lambda s: [int(x) for x in s.split(",")], default=[10_000, 100_000],
                        metavar="DUE,CLIENTS", help="billing: the scale run's due clients among all clients "
                        "(default 10000,100000; the smaller runs use DUE/10)")
    parser.add_argument("--billing-stripe", type=int, default=200, metavar="DUE",
                        help="billing: due clients of the run with Stripe collection (default 200; 0 skips it)")
    parser.add_argument("--chats", type=int, default=1000,
                        help="cost: engaged chats of 20 messages run through the local stack (default 1000)")
    parser.add_argument("--import-rounds", type=int, default=7,
                        help="imports: fresh-process samples per function (median; default 7)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    names = list(dict.fromkeys(args.names)) or list(DEFAULT)

    env = environment()
    print_environment(env)
    results: dict[str, Any] = {}
    if args.out.is_file():  # keep the other benchmarks' last results when one is run alone
        try:
            results = json.loads(args.out.read_text())
        except ValueError:
            results = {}
    status = 0
    for name in names:
        t0 = time.perf_counter()
        try:
            result, ok = BENCHMARKS[name](args)
        except Exception as exc:  # report and go on with the next benchmark
            print(f"\n{name}: ERROR, the benchmark could not run: {exc!r}", file=sys.stderr)
            result, ok, status = {"error": repr(exc)}, False, 2
        wall = round(time.perf_counter() - t0, 2)
        print(f"[{name}: {wall} s wall]")
        results[name] = {**result, "wall_s_total": wall, "environment": env}
        if ok is False and status == 0:
            status = 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"\nresults written to {args.out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
