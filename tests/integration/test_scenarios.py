"""`parley billing simulate`: every shipped example (examples/*.json) runs on its own local stack,
in a subprocess (one localstripe per process), and its result is checked against the rule it
shows; a run repeated gives identical JSON; invalid files are refused with a one-line message
naming the problem. Also `parley clock` against the session's local stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from infra.scenario import ScenarioError, load_scenario, validate_scenario

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.json"))
REPEATED = "ch10_default.json"  # run twice: two processes, two stacks, one JSON


def parley(*args: str, timeout: float = 800) -> subprocess.CompletedProcess[str]:
    script = REPO / ".venv" / "bin" / "parley"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "infra.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=REPO, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, check=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """All examples plus a repeat, in one command (each in its own process, two at a time)."""
    out = tmp_path_factory.mktemp("scenarios") / "results.json"
    files = [str(p) for p in EXAMPLES] + [str(REPO / "examples" / REPEATED)]
    done = parley("billing", "simulate", *files, "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    results: list[dict[str, Any]] = json.loads(out.read_text())
    assert len(results) == len(files)
    return results


@pytest.fixture(scope="module")
def result(runs: list[dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    by_file = {r["scenario"]["file"]: r for r in runs[:-1]}
    return lambda name: by_file[name]


def client(run: dict[str, Any], client_id: str) -> dict[str, Any]:
    found: dict[str, Any] = run["clients"][client_id]
    return found


def invoice(data: dict[str, Any], issue_date: str, kind: str = "cycle") -> dict[str, Any]:
    found = [i for i in data["invoices"] if i["issue_date"] == issue_date and i["kind"] == kind]
    assert len(found) == 1, [(i["id"], i["issue_date"]) for i in data["invoices"]]
    one: dict[str, Any] = found[0]
    return one


def lines(inv: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [line for line in inv["lines"] if line["kind"] == kind]


def day(text: str) -> date:
    return date.fromisoformat(text)


def five_percent(cents: int) -> int:
    return int((Decimal(cents) * 5 / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def events(data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in data["status_changes"] if e["kind"] == kind]


# ------------------------------------------------------------------------------ every example
def test_every_example_ran_and_its_invoices_add_up(runs: list[dict[str, Any]]) -> None:
    assert {r["scenario"]["file"] for r in runs} == {p.name for p in EXAMPLES}
    for run in runs:
        assert run["schedules_fired"] == sum(run["schedules_fired_by_name"].values()) > 0
        for data in run["clients"].values():
            for inv in data["invoices"]:
                assert inv["total_cents"] == sum(line["amount_cents"] for line in inv["lines"]), inv
                for line in inv["lines"]:
                    assert line["rule_id"], line
                    exact = Decimal(str(line["quantity"])) * line["unit_amount_cents"]
                    assert line["amount_cents"] == int(exact.quantize(Decimal(1), ROUND_HALF_UP)), line
                assert "stripe_invoice_id" not in inv  # random ids stay out of the result


def test_the_same_file_run_twice_gives_identical_json(runs: list[dict[str, Any]]) -> None:
    first = next(r for r in runs if r["scenario"]["file"] == REPEATED)
    assert json.dumps(first, sort_keys=True) == json.dumps(runs[-1], sort_keys=True)


def test_a_single_file_prints_only_its_json_on_stdout(result: Any) -> None:
    done = parley("billing", "simulate", "examples/ch3_tax.json")
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout) == result("ch3_tax.json")  # same result in-process and in a batch
    assert done.stderr.strip().splitlines()[-1].startswith("parley: 1 scenario simulated in ")


# ------------------------------------------------------------------------------ rule by rule
def test_co9_billing_date_is_clamped_to_the_month_end_and_the_anchor_kept(result: Any) -> None:
    data = client(result("co9_billing_date_clamp.json"), "endofmonth")
    assert data["account"]["anchor_day"] == 31
    assert [i["issue_date"] for i in data["invoices"]] == ["2026-01-31", "2026-02-28", "2026-03-31"]
    fees = [lines(i, "monthly_fee_in_advance")[0] for i in data["invoices"]]
    assert [(f["period_start"], f["period_end"]) for f in fees] == [
        ("2026-01-31", "2026-02-27"), ("2026-02-28", "2026-03-30"), ("2026-03-31", "2026-04-29")]
    assert all(i["status"] == "paid" for i in data["invoices"])


def test_co6_co9_fee_in_advance_and_overage_in_arrears_in_one_invoice(result: Any) -> None:
    data = client(result("co6_co9_overage_in_arrears.json"), "acme")
    feb = invoice(data, "2026-02-05")
    fee, overage = lines(feb, "monthly_fee_in_advance")[0], lines(feb, "overage_in_arrears")[0]
    assert (fee["amount_cents"], fee["period_start"], fee["period_end"]) == (35000, "2026-02-05", "2026-03-04")
    assert (overage["quantity"], overage["unit_amount_cents"], overage["amount_cents"]) == (30, 199, 5970)
    assert (overage["period_start"], overage["period_end"], overage["rule_id"]) == ("2026-01-05", "2026-02-04",
                                                                                      "CO-9")
    assert feb["total_cents"] == 40970 and feb["status"] == "paid"
    assert feb["report"]["engaged_chats"] == 230  # CH-4: the ended cycle's report travels with the invoice
    assert data["usage"] == [{"cycle_start": "2026-01-05", "engaged_chats": 230, "agent_seconds": 0}]


def test_co5_setup_fee_only_on_the_first_paid_invoice_and_only_once(result: Any) -> None:
    run = result("co5_setup_fee.json")
    newcomer, paid = client(run, "newcomer"), client(run, "setup-paid")
    first = invoice(newcomer, "2026-01-05")
    assert [(line["amount_cents"], line["rule_id"]) for line in lines(first, "setup_fee")] == [(9500, "CO-5")]
    assert first["total_cents"] == 35000 + 9500
    assert not lines(invoice(newcomer, "2026-02-05"), "setup_fee")
    assert not any(lines(i, "setup_fee") for i in paid["invoices"])


def test_co11_late_charge_on_due_plus_11_and_none_when_paid_on_due_plus_10(result: Any) -> None:
    run = result("co11_late_charge.json")
    late, ontime = client(run, "late"), client(run, "ontime")
    original = invoice(late, "2026-01-05")
    due = day(original["due_date"])
    assert due == day("2026-01-05") + timedelta(days=10)  # CO-10: Due Date = Billing Date + 10
    [charge] = late["late_charges"]
    assert day(charge["date"]) == due + timedelta(days=11)
    assert charge["amount_cents"] == five_percent(original["total_cents"]) == 501  # 5 % of $100.10, half-up
    assert charge["for_invoice_id"] == original["id"] and charge["rule_id"] == "CO-11"
    assert original["late_charge_invoice_id"] == charge["invoice_id"]
    paid_on = invoice(ontime, "2026-01-05")["payments"][0]["received_on"]
    assert day(paid_on) == due + timedelta(days=10)
    assert ontime["late_charges"] == [] and all(i["kind"] != "late_charge" for i in ontime["invoices"])


def test_co10_default_on_billing_date_plus_31_terminates_voids_the_cut_off_fee_and_keeps_debt(result: Any) -> None:
    run = result("co10_default.json")
    defaulter, on_time = client(run, "defaulter"), client(run, "just-in-time")
    [terminated] = events(defaulter, "service_terminated")  # default is termination (CO-10)
    assert (terminated["rule"], terminated["reason"]) == ("CO-10", "default")
    assert day(terminated["date"]) == day("2026-04-06") + timedelta(days=31)
    assert defaulter["final_status"] == "terminated"
    assert defaulter["chats"] == {"requested": 3, "engaged": 0, "refused": 3}  # service off: offline form
    # Everything owed stays collectable; the fee of the cycle cut off (billed May 6) is voided.
    assert {i["id"]: i["status"] for i in defaulter["invoices"]} == {
        "in_20260406_cycle_defaulter": "open", "in_20260406_cycle_defaulter-late": "open",
        "in_20260506_cycle_defaulter": "void"}
    assert on_time["final_status"] == "active" and not events(on_time, "service_terminated")
    assert invoice(on_time, "2026-04-06")["payments"][0]["received_on"] == "2026-05-06"  # Billing Date + 30
    assert [c["status"] for c in on_time["late_charges"]] == ["open"]  # CO-11 still applied, and owed


def test_ch10_default_on_due_date_plus_4_cancels_the_service(result: Any) -> None:
    run = result("ch10_default.json")
    cancelled, rescued = client(run, "cancelled"), client(run, "rescued")
    first = invoice(cancelled, "2026-03-02")
    assert first["due_date"] == first["issue_date"]  # chat_outsource: the Due Date is the Billing Date
    [terminated] = events(cancelled, "service_terminated")
    assert terminated["rule"] == "CH-10" and day(terminated["date"]) == day(first["due_date"]) + timedelta(days=4)
    assert first["status"] == "void"  # the fee of the cycle in which the service is cut off
    assert cancelled["chats"]["refused"] == 2
    assert [(f["date"], f["rule"]) for f in cancelled["failed_payments"]] == [("2026-03-02", "CO-13")]
    assert rescued["final_status"] == "active" and rescued["chats"]["engaged"] == 2
    assert [(p["date"], p["source"]) for p in rescued["payments"]] == [("2026-03-05", "client")]


def test_ch5_upgrade_at_once_differential_in_arrears_and_overage_beyond_the_largest(result: Any) -> None:
    run = result("ch5_auto_upgrade.json")
    growing, booming = client(run, "growing"), client(run, "booming")
    [upgrade] = events(growing, "package_upgraded")
    assert (upgrade["date"], upgrade["to_plan_id"], upgrade["rule"]) == ("2026-03-10", "midi", "CH-5")
    april = invoice(growing, "2026-04-02")
    assert [(line["kind"], line["amount_cents"], line["rule_id"]) for line in april["lines"]] == [
        ("monthly_fee_in_advance", 19900, "CO-9"), ("upgrade_differential", 19900 - 9900, "CH-5")]
    assert growing["account"]["current_plan_id"] == "midi"  # the upgrade stays (Decision)
    big = invoice(booming, "2026-04-02")
    assert [(line["kind"], line["quantity"], line["amount_cents"], line["rule_id"]) for line in big["lines"]] == [
        ("monthly_fee_in_advance", 1, 34900, "CO-9"), ("upgrade_differential", 1, 34900 - 9900, "CH-5"),
        ("overage_in_arrears", 53 - 50, 3 * 199, "CH-5")]


def test_ch7_plan_change_takes_effect_at_the_next_cycle_without_proration(result: Any) -> None:
    run = result("ch7_plan_change.json")
    upsizer, late = client(run, "upsizer"), client(run, "late-asker")

    def fee(data: dict[str, Any], issue: str) -> tuple[str, int]:
        inv = invoice(data, issue)
        assert [line["kind"] for line in inv["lines"]] == ["monthly_fee_in_advance"]  # no proration line
        return inv["lines"][0]["plan_id"], inv["total_cents"]

    assert fee(upsizer, "2026-02-05") == ("business_development", 48600)  # asked on Jan 20
    assert fee(late, "2026-02-05") == ("business_starter", 35000)  # asked ON the Billing Date Feb 5 ...
    assert fee(late, "2026-03-05") == ("advanced_business", 77000)  # ... applies on the following one


def test_co12_price_change_applies_from_the_next_cycle_after_the_announcement(result: Any) -> None:
    data = client(result("co12_price_change.json"), "acme")
    feb, mar = invoice(data, "2026-02-05"), invoice(data, "2026-03-05")
    assert lines(invoice(data, "2026-01-05"), "monthly_fee_in_advance")[0]["amount_cents"] == 35000
    assert lines(feb, "monthly_fee_in_advance")[0]["amount_cents"] == 37500  # cycle from Feb 5: new fee
    assert lines(feb, "overage_in_arrears")[0]["unit_amount_cents"] == 199  # cycle from Jan 5: old rate
    assert lines(mar, "overage_in_arrears")[0]["unit_amount_cents"] == 219
    assert (lines(mar, "overage_in_arrears")[0]["quantity"], feb["total_cents"]) == (2, 37500 + 2 * 199)


def test_ch6_unused_units_are_not_carried_over(result: Any) -> None:
    data = client(result("ch6_no_carry_over.json"), "acme")
    assert [(u["cycle_start"], u["engaged_chats"]) for u in data["usage"]] == [("2026-01-05", 4), ("2026-02-05", 13)]
    assert not lines(invoice(data, "2026-02-05"), "overage_in_arrears")
    [overage] = lines(invoice(data, "2026-03-05"), "overage_in_arrears")
    assert (overage["quantity"], overage["amount_cents"]) == (3, 3 * 199)  # 13 - 10, not 13 - (10 + 6)


def test_ch3_tax_is_its_own_line_on_the_subtotal_half_up(result: Any) -> None:
    first = invoice(client(result("ch3_tax.json"), "taxed"), "2026-01-05")
    [tax] = lines(first, "tax")
    subtotal = first["total_cents"] - tax["amount_cents"]
    assert subtotal == 35000 + 9500 and tax["rule_id"] == "CH-3"
    assert tax["amount_cents"] == int((Decimal(subtotal) * Decimal("0.0825")).quantize(Decimal(1), ROUND_HALF_UP))


def test_co7_agent_time_is_rounded_up_per_chat_to_30_seconds_after_a_4_second_grace(result: Any) -> None:
    data = client(result("co7_agent_minutes.json"), "acme")
    per_chat = [-(-(handled - 4) // 30) * 30 for handled in [95] * 12 + [20] * 3]  # 120 s and 30 s
    assert data["usage"] == [{"cycle_start": "2026-01-05", "engaged_chats": 15, "agent_seconds": sum(per_chat)}]
    [overage] = lines(invoice(data, "2026-02-05"), "overage_in_arrears")
    assert (overage["quantity"], overage["unit_amount_cents"]) == (15.5, 199)  # 25.5 minutes - 10 included
    assert overage["amount_cents"] == 3085  # 15.5 x 199 = 3084.5, half-up


def test_co13_a_declined_card_is_recorded_and_paid_within_10_days_with_a_new_card(result: Any) -> None:
    run = result("co13_declined_card.json")
    fixes, never = client(run, "fixes-card"), client(run, "never-pays")
    [failed] = fixes["failed_payments"]
    assert (failed["date"], failed["rule"], failed["invoice_id"]) == ("2026-03-02", "CO-13",
                                                                      "in_20260302_cycle_fixes-card")
    paid = [p for p in fixes["payments"] if p["invoice_id"] == failed["invoice_id"]]
    assert [(p["date"], p["source"]) for p in paid] == [("2026-03-09", "client")]
    assert day(paid[0]["date"]) <= day(failed["date"]) + timedelta(days=10)
    assert fixes["late_charges"] == [] and fixes["final_status"] == "active"
    assert [(c["date"], c["amount_cents"]) for c in never["late_charges"]] == [("2026-03-23", five_percent(44500))]
    assert [e["date"] for e in events(never, "service_terminated")] == ["2026-04-02"]
    assert invoice(never, "2026-04-02")["status"] == "void"  # billed 00:10 on the default day, voided at 00:30


def workflows(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(w["kind"], w["status"]) for w in data["workflows"]]


def test_co4_trial_chats_are_free_and_the_trial_workflow_converts_on_day_15(result: Any) -> None:
    run = result("co4_trial.json")
    converts, eager, lapses = (client(run, c) for c in ("converts", "eager", "lapses"))
    assert converts["account"]["paid_start"] == "2026-03-16"  # trial March 2-15 (CO-9: D+14)
    first = invoice(converts, "2026-03-16")
    assert [(line["kind"], line["amount_cents"]) for line in first["lines"]] == [
        ("monthly_fee_in_advance", 35000), ("setup_fee", 9500)]  # CO-5 on the first paid invoice
    assert converts["usage"] == [  # the 8 trial chats are counted in the trial, billed nowhere
        {"cycle_start": "TRIAL", "engaged_chats": 8, "agent_seconds": 0},
        {"cycle_start": "2026-03-16", "engaged_chats": 10, "agent_seconds": 0}]
    assert workflows(converts) == [("trial", "SUCCEEDED")]
    # beyond the trial limit (20): converted at once, on the smallest package covering 21 chats
    assert (eager["account"]["paid_start"], eager["account"]["plan_id"]) == ("2026-03-06", "business_starter")
    assert "trial_converted_early" in [e["kind"] for e in eager["status_changes"]]
    assert workflows(eager) == [("trial", "ABORTED")]
    # no plan chosen: the service stops the day after the trial, and nothing is owed
    assert lapses["final_status"] == "stopped" and lapses["invoices"] == []
    assert [e["date"] for e in events(lapses, "service_stopped")] == ["2026-03-16"]
    assert workflows(lapses) == [("trial", "SUCCEEDED")]


def test_co2_notice_in_the_first_30_days_ends_with_the_cycle_and_a_withdrawn_notice_changes_nothing(
        result: Any) -> None:
    run = result("co2_notice.json")
    leaver, stayer = client(run, "leaver"), client(run, "stayer")
    given = next(e for e in run["events"] if e["type"] == "give_notice" and e["client"] == "leaver")
    assert (given["effective_date"], given["rule"]) == ("2026-02-04", "CO-2")  # end of the current cycle
    assert leaver["final_status"] == "terminated"
    final = invoice(leaver, "2026-02-05", "final")
    assert [(line["kind"], line["quantity"], line["amount_cents"]) for line in final["lines"]] == [
        ("overage_in_arrears", 10, 10 * 199)]  # 210 - 200 included, no further monthly fee
    assert [e["date"] for e in events(leaver, "service_terminated")] == ["2026-02-05"]
    assert workflows(leaver) == [("notice", "SUCCEEDED")]
    later = next(e for e in run["events"] if e["type"] == "give_notice" and e["client"] == "stayer")
    assert later["effective_date"] == "2026-05-04"  # 30 days' notice through April 9, then the cycle's end
    assert stayer["final_status"] == "active" and workflows(stayer) == [("notice", "ABORTED")]
    assert [i["issue_date"] for i in stayer["invoices"]] == [
        "2026-01-05", "2026-02-05", "2026-03-05", "2026-04-05", "2026-05-05"]


def test_a_billing_day_rerun_four_times_at_once_bills_and_charges_each_client_once(result: Any) -> None:
    run = result("rerun_billing_day.json")
    reruns = [e for e in run["events"] if e["type"] == "rerun_billing_day"]
    assert [(e["day"], e["runs"], e["billed"], e["billed_more_than_once"]) for e in reruns] == [
        ("2026-02-05", 4, [], []), ("2026-02-05", 1, [], [])]
    for client_id in ("acme", "globex"):
        data = client(run, client_id)
        feb = invoice(data, "2026-02-05")
        assert feb["status"] == "paid" and feb["amount_paid_cents"] == feb["total_cents"]
        assert [p["invoice_id"] for p in data["payments"]].count(feb["id"]) == 1
        assert len(feb["payments"]) == 1
    assert lines(invoice(client(run, "acme"), "2026-02-05"), "overage_in_arrears")[0]["quantity"] == 5


def test_ch8_each_add_on_order_is_its_own_invoice_that_day(result: Any) -> None:
    data = client(result("ch8_addon.json"), "addons")
    setup, support = invoice(data, "2026-03-10", "add_on"), invoice(data, "2026-03-17", "add_on")
    assert [(line["kind"], line["quantity"], line["unit_amount_cents"], line["rule_id"]) for line in setup["lines"]
            ] == [("add_on", 1, 20000, "CH-8")]
    assert [(line["quantity"], line["amount_cents"]) for line in support["lines"]] == [(2, 30000)]
    assert setup["status"] == support["status"] == "paid"  # charged to the card on file at once
    assert [i["total_cents"] for i in data["invoices"] if i["kind"] == "cycle"] == [29900, 29900]


def test_quantities_are_json_numbers_integers_when_whole(runs: list[dict[str, Any]]) -> None:
    quantities = [line["quantity"] for run in runs for data in run["clients"].values()
                  for inv in data["invoices"] for line in inv["lines"]]
    assert quantities and all(isinstance(q, int | float) and not isinstance(q, bool) for q in quantities)
    assert all(isinstance(q, int) for q in quantities if q == int(q))


# ------------------------------------------------------------------------------ invalid files
BASE: dict[str, Any] = {"policy": {"preset": "call_on_me"}, "plans": "config/plans/call_on_me.json",
                        "start": "2026-01-05", "end": "2026-02-05", "clients": [{"id": "acme"}]}
START = {"date": "2026-01-05", "type": "start_paid", "client": "acme", "plan": "business_starter"}
TRIAL = {"date": "2026-01-05", "type": "signup_trial", "client": "acme"}


@pytest.mark.parametrize(("change", "message"), [
    ({"events": [{**START, "type": "teleport"}]}, "events[0].type: unknown event type 'teleport'"),
    ({"events": [{**START, "date": "2027-02-30"}]}, "events[0].date: invalid date '2027-02-30'"),
    ({"events": [{**START, "plan": "gold"}]}, "events[0].plan: unknown plan 'gold'"),
    ({"policy": {"preset": "call_on_me", "late_charge_percent": 250}},
     "policy.late_charge_percent: must be between 0 and 100"),
])
def test_the_cli_refuses_an_invalid_file_naming_the_problem(tmp_path: Path, change: dict[str, Any],
                                                            message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**BASE, **change}))
    done = parley("billing", "simulate", str(path), timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    [line] = done.stderr.strip().splitlines()  # one line, naming the file and the problem
    assert line.startswith(f"parley: {path}: ") and message in line, line


@pytest.mark.parametrize(("change", "message"), [
    ({"events": [{**START, "colour": "red"}]}, "events[0].colour: unknown field"),
    ({"events": [{"date": "2026-01-05", "client": "acme"}]}, "events[0].type: is required"),
    ({"events": [START, {**START, "date": "2026-01-04"}]}, "events[1].date: 2026-01-04 is before the scenario start"),
    ({"events": [{**START, "date": "2026-01-20"}, {**START, "type": "engaged_chats", "count": 3, "plan": None}]},
     "events[1].date: 2026-01-05 is before the previous event's date 2026-01-20"),
    ({"events": [{**START, "date": "2026-03-01"}]}, "events[0].date: 2026-03-01 is after the scenario end"),
    ({"events": [{**START, "client": "bob"}]}, "events[0].client: unknown client 'bob'"),
    ({"events": [{**START, "type": "payment", "plan": None}]}, "has no paid service yet"),
    ({"events": [START, START]}, "events[1]: client 'acme' already started paid service"),
    ({"events": [{"date": "2026-01-06", "type": "price_change", "plan": "business_starter"}]},
     "events[0].monthly_fee_cents: give monthly_fee_cents and/or overage_cents_per_unit"),
    ({"events": [{**START, "type": "engaged_chats", "count": 0, "plan": None}]}, "events[0].count: must be at least 1"),
    ({"policy": {"preset": "call_on_you"}}, "policy.preset: unknown preset 'call_on_you'"),
    ({"policy": {"preset": "call_on_me", "lateness": 1}}, "policy.lateness: is not a known setting"),
    ({"plans": "config/plans/missing.json"}, "plans: no catalog file 'config/plans/missing.json'"),
    ({"plans": {"unit": "agent_minutes", "plans": [{"id": "a", "name": "A", "monthly_fee_cents": 1,
                                                    "included_units": 1, "overage_cents_per_unit": 1}]}},
     "plans: plan catalog: unit: is 'agent_minutes' but the billing policy bills 'engaged_chat'"),
    ({"end": "2026-01-01"}, "end: 2026-01-01 is before start 2026-01-05"),
    ({"start": "2026-02-29"}, "start: invalid date '2026-02-29'"),
    ({"clients": [{"id": "acme"}, {"id": "acme"}]}, "clients[1].id: duplicate client id 'acme'"),
    ({"clients": [{"id": "acme", "card": "amex"}]}, "clients[0].card: must be 'visa', 'declining' or 'none'"),
    ({"extra": True}, "extra: unknown field"),
    ({"events": [TRIAL, {**START, "date": "2026-01-19"}]},
     "events[1]: client 'acme' signed up for a trial at events[0] (paid service follows the trial"),
    ({"events": [START, {**TRIAL, "date": "2026-01-06"}]}, "events[1]: client 'acme' already started paid service"),
    ({"events": [START, {"date": "2026-01-06", "type": "trial_chats", "client": "acme", "count": 2}]},
     "events[1]: client 'acme' has no trial (trial_chats needs a signup_trial"),
    ({"events": [{"date": "2026-01-06", "type": "give_notice", "client": "acme"}]},
     "events[0]: client 'acme' has no paid service yet (a start_paid or signup_trial event must come first)"),
    ({"events": [START, {"date": "2026-01-06", "type": "addon", "client": "acme", "add_on": "sla"}]},
     "events[1].add_on: unknown add-on 'sla' (add-ons: none in this catalog)"),
    ({"events": [START, {"date": "2026-01-06", "type": "rerun_billing_day", "day": "2026-01-07"}]},
     "events[1].day: 2026-01-07 must be between the scenario start 2026-01-05 and the event's date 2026-01-06"),
    ({"events": [START, {"date": "2026-01-06", "type": "rerun_billing_day", "runs": 9}]},
     "events[1].runs: must be at most 8"),
    ({"events": [START, {"date": "2026-01-06", "type": "give_notice", "client": "acme", "reason": ""}]},
     "events[1].reason: string should have at least 1 character"),
])
def test_validation_names_the_field_or_event(change: dict[str, Any], message: str) -> None:
    data = {**BASE, **change}
    data["events"] = [{k: v for k, v in e.items() if v is not None} for e in data.get("events", [])]
    with pytest.raises(ScenarioError) as raised:
        validate_scenario(data, REPO / "examples" / "x.json")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_every_example_is_valid_and_documented() -> None:
    docs = (REPO / "docs" / "billing.md").read_text()
    for path in EXAMPLES:
        scenario = load_scenario(path)
        assert scenario.spec.description, path
        assert path.name in docs, f"{path.name} has no worked example in docs/billing.md"


# ------------------------------------------------------------------------------ contradicting events

@pytest.mark.parametrize(("events", "message"), [
    ([TRIAL, {"date": "2026-01-07", "type": "give_notice", "client": "acme"}],  # notice before paid service
     "events[1] (give_notice on 2026-01-07): refused as the API refuses it: 409 conflict: only a paid "
     "subscription can be cancelled with notice (a trial simply ends, CO-4)"),
    ([START, {"date": "2026-01-10", "type": "give_notice", "client": "acme"},
      {"date": "2026-01-12", "type": "give_notice", "client": "acme", "reason": "again"}],
     "events[2] (give_notice on 2026-01-12): refused as the API refuses it: 409 notice_pending: a notice is "
     "already pending (service ends after 2026-02-04)"),
    ([START, {"date": "2026-01-10", "type": "give_notice", "client": "acme"},
      {"date": "2026-02-05", "type": "withdraw_notice", "client": "acme"}],  # the service ended on Feb 4
     "events[2] (withdraw_notice on 2026-02-05): refused as the API refuses it: 404 no_notice: there is no "
     "pending notice to withdraw"),
])
def test_contradicting_events_are_refused_with_the_api_error_and_the_event_index(
        tmp_path: Path, events: list[dict[str, Any]], message: str) -> None:
    path = tmp_path / "contradiction.json"
    path.write_text(json.dumps({**BASE, "events": events}))
    done = parley("billing", "simulate", str(path), timeout=300)
    assert done.returncode == 1 and done.stdout == "", done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last == f"parley: {path}: {message}", last


def test_stderr_carries_no_metric_lines_unless_verbose(runs: list[dict[str, Any]], tmp_path: Path) -> None:
    quiet = parley("billing", "simulate", "examples/ch8_addon.json")
    assert quiet.returncode == 0 and '"_aws"' not in quiet.stderr, quiet.stderr[-2000:]
    assert quiet.stderr.strip().splitlines() == [quiet.stderr.strip().splitlines()[-1]]  # the timing line only
    loud = parley("billing", "simulate", "examples/ch8_addon.json", "--verbose")
    assert loud.returncode == 0 and '"_aws"' in loud.stderr  # the functions' EMF metrics, on request
    assert json.loads(loud.stdout) == json.loads(quiet.stdout)


# ------------------------------------------------------------------------------ parley clock
def test_parley_clock_shows_and_moves_the_local_stack_clock(local_stack: Any) -> None:
    control = str(local_stack.control_file)  # the control server's url and token (the CLI's only way in)
    before = parley("clock", "--control-file", control, timeout=60)
    assert before.returncode == 0, before.stderr
    moved = parley("clock", "advance", "--hours", "1", "--control-file", control, timeout=300)
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.strip().splitlines()[-1].startswith("now ")
    assert moved.stdout.strip().splitlines()[-1].split()[1] > before.stdout.strip()


def test_parley_clock_without_a_running_stack_says_so(tmp_path: Path) -> None:
    stale = tmp_path / "local-control.json"  # a stack that is gone left its file
    stale.write_text(json.dumps({"url": "http://127.0.0.1:9", "token": "t"}))
    done = parley("clock", "--control-file", str(stale), timeout=60)
    assert done.returncode == 1 and "is `make dev` running?" in done.stderr
