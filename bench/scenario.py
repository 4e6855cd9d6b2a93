"""`python -m bench scenario`: the billing scenario runner at a year's scale — 3 clients over 12
months (365 simulated days), 10,000 engaged chats — through the real scheduled functions, the
DynamoDB stream and `usage_meter` on a fresh local stack. Target: under 60 s of wall time on the
2-core machine.

The chats take the runner's default `repository` path (each conversation item written as the chat
repository writes it, 25 per BatchWriteItem: created, answered, closed after 5 minutes); the
result is checked (every chat metered once, twelve cycle invoices per client with the overage of
each ended cycle) before the time counts."""

from __future__ import annotations

import datetime as dt
import os
import resource
import time
from typing import Any

from bench.sizes import REPO_ROOT

CLIENTS = ("north", "south", "east")
CHATS = 10_000
MONTHS = 12
START = dt.date(2027, 1, 4)
TARGET_S = 60.0


def scenario_data(chats: int = CHATS) -> dict[str, Any]:
    """Paid service from January 4 for all three; each month, on the 14th of the cycle, one event
    of engaged chats per client (the 10,000 spread evenly), closed 5 minutes later."""
    events: list[dict[str, Any]] = [{"date": START.isoformat(), "type": "start_paid", "client": c, "plan": "starter"}
                                    for c in CLIENTS]
    slots = [(month, client) for month in range(MONTHS) for client in CLIENTS]
    for n, (month, client) in enumerate(slots):
        count = chats // len(slots) + (1 if n < chats % len(slots) else 0)
        day = START + dt.timedelta(days=30 * month + 10)
        events.append({"date": day.isoformat(), "type": "engaged_chats", "client": client, "count": count,
                       "handle_seconds": 300})
    return {"description": f"benchmark: {len(CLIENTS)} clients, {MONTHS} months, {chats} engaged chats",
            "policy": {"preset": "chat_outsource"}, "plans": "config/plans/chat_outsource.json",
            "start": START.isoformat(), "end": (START + dt.timedelta(days=364)).isoformat(),
            "clients": [{"id": c, "card": "visa"} for c in CLIENTS], "events": events}


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run(chats: int = CHATS) -> dict[str, Any]:
    from infra.scenario import run_scenario, validate_scenario

    scenario = validate_scenario(scenario_data(chats), REPO_ROOT / "bench" / "scenario_year.json")
    cpu0, t0 = _cpu_seconds(), time.perf_counter()
    result = run_scenario(scenario)
    wall, cpu = time.perf_counter() - t0, _cpu_seconds() - cpu0
    clients = result["clients"].values()
    metered = sum(u["engaged_chats"] for c in clients for u in c["usage"])
    cycle_invoices = [len([i for i in c["invoices"] if i["kind"] == "cycle"]) for c in clients]
    correct = metered == chats and all(n == MONTHS for n in cycle_invoices)
    return {
        "clients": len(CLIENTS), "simulated_days": 365, "engaged_chats": chats, "chat_path": "repository",
        "schedules_fired": result["schedules_fired"], "metered_chats": metered, "cycle_invoices": cycle_invoices,
        "wall_s": round(wall, 1), "cpu_s_incl_lambda_environments": round(cpu, 1),
        "load_average_after": [round(x, 2) for x in os.getloadavg()], "target_s": TARGET_S,
        "correct": correct, "pass": correct and wall < TARGET_S,
    }


def entry(args: Any) -> tuple[dict[str, Any], bool | None]:
    """`python -m bench scenario` (bench/__main__.py)."""
    print("\n== scenario runner: 3 clients, 12 months, 10,000 engaged chats ==")
    result = run()
    print(f"wall {result['wall_s']} s (target < {TARGET_S:.0f} s), CPU {result['cpu_s_incl_lambda_environments']} s "
          f"incl. the Lambda environments; {result['schedules_fired']} scheduled runs; "
          f"{result['metered_chats']} chats metered; cycle invoices {result['cycle_invoices']}; "
          f"{'PASS' if result['pass'] else 'FAIL'}")
    return result, bool(result["pass"])
