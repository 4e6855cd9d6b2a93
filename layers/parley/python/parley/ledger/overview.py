"""What a client's dashboard shows about its billing (read-only)."""

from __future__ import annotations

from typing import Any

from parley.billing.calendar import cycle_for
from parley.billing.trial import trial_schedule
from parley.ledger.models import TRIAL_CYCLE, AccountStatus
from parley.ledger.service import Billing


def billing_overview(billing: Billing, client_id: str) -> dict[str, Any]:
    ledger = billing.ledger
    account = ledger.account(client_id)
    policy, catalog, _ = billing.config.rules()
    today = billing.config.today()
    if account is None:
        return {"account": None, "today": today.isoformat()}
    if account.status is AccountStatus.TRIAL or account.anchor_day is None or account.paid_start is None:
        cycle_key, cycle = TRIAL_CYCLE, None
    else:
        cycle = cycle_for(account.anchor_day, today)
        cycle_key = max(cycle.start, account.paid_start).isoformat()
    usage = ledger.usage(client_id, cycle_key)
    plan_id = account.upgraded_plan_id or account.current_plan_id or account.plan_id
    plan = catalog.plan(plan_id) if plan_id else None
    trial = None
    if account.trial_start is not None:
        schedule = trial_schedule(policy, account.trial_start)
        trial = {"trialStart": account.trial_start.isoformat(),
                 "lastDay": schedule.trial_last_day.isoformat() if schedule.trial_last_day else None,
                 "paidStart": schedule.paid_start.isoformat(),
                 "daysLeft": max((schedule.paid_start - today).days, 0) if account.status is AccountStatus.TRIAL else 0,
                 "chatsUsed": ledger.usage(client_id, TRIAL_CYCLE).engaged_chats,
                 "chatLimit": policy.trial_unit_limit, "explanation": schedule.explanation}
    return {
        "today": today.isoformat(),
        "trial": trial,
        "policy": {"preset": policy.preset, "noticeRequiresReason": policy.notice_requires_reason,
                   "noticeDays": policy.notice_days, "noticeDayKind": policy.notice_day_kind},
        "account": account.model_dump(mode="json", exclude={"version"}),
        "plan": plan.model_dump(mode="json") if plan else None,
        "plans": [p.model_dump(mode="json") for p in catalog.plans],
        "unit": policy.unit,
        "usage": {"cycle": cycle_key, "cycleStart": cycle.start.isoformat() if cycle else None,
                  "cycleEnd": cycle.end.isoformat() if cycle else None, "engagedChats": usage.engaged_chats,
                  "included": plan.included_units if plan else None},
        "invoices": [i.model_dump(mode="json") for i in sorted(ledger.invoices(client_id),
                                                              key=lambda i: i.issue_date, reverse=True)],
        "history": [h.model_dump(mode="json") for h in ledger.history(client_id)],
    }
