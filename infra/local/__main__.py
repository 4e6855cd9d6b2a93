"""`make dev`: run the whole platform on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading
from datetime import datetime, time

from infra.local.control import DEFAULT_CONTROL_FILE
from infra.local.stack import LocalStack
from parley.billing.policy import PRESETS, BillingPolicy

DEMO_START_TIME = time(9)  # a START date begins at 09:00 in the policy's zone (business hours)


def business_start(text: str | None, policy: str) -> datetime | None:
    """`--start`: a date (09:00 that day in the policy's zone) or an ISO date-time (a time without
    an offset is in the policy's zone); None keeps the real time."""
    if not text:
        return None
    zone = BillingPolicy.from_preset(policy).zone
    try:
        moment = (datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), DEMO_START_TIME)
                  if len(text) == 10 else datetime.fromisoformat(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--start: {text!r} is not YYYY-MM-DD or an ISO date-time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.local", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="gateway port on 127.0.0.1 (default 8765)")
    parser.add_argument("--start", help="business clock start: YYYY-MM-DD (09:00 in the policy's zone) or an "
                        "ISO date-time; it runs on in real time from there (default: now)")
    parser.add_argument("--policy", choices=sorted(PRESETS), default="call_on_me",
                        help="the provider's billing preset and plan catalog (default call_on_me)")
    args = parser.parse_args()
    try:
        start = business_start(args.start, args.policy)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    stopped = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stack = LocalStack(port=args.port, control_file=DEFAULT_CONTROL_FILE, start_time=start, preset=args.policy).start()
    stack.run_in_background()
    demo = stack.demo
    zone = BillingPolicy.from_preset(args.policy).zone
    business_now = stack.clock.now().astimezone(zone).isoformat(timespec="minutes")
    totp = demo.totp_secrets
    print(f"""
Parley is running on 127.0.0.1 (Ctrl-C stops everything)

  Demo website (widget)  {stack.demo_url}
  Agent console          {stack.console_url}
  WebSocket API          {stack.ws_url}
  HTTP API               {stack.base_url}/api/...
  moto (AWS services)    {stack.moto_url}
  Local mail (SMTP)      {stack.base_url}/_local/mail   (SMTP server 127.0.0.1:{stack.smtp.port})

  Agent login            {demo.sierra.agent_username} / {demo.agent_password}   ({demo.sierra.name})
  Second tenant's agent  {demo.harbor.agent_username} / {demo.agent_password}   ({demo.harbor.name})
  Client dashboard       {stack.base_url}/dashboard/   owner-sierra / {demo.agent_password}
  Admin (admin area)     {demo.admin_username} / {demo.agent_password}   (clients, agents, teams)
  Supervisor login       {demo.supervisor_username} / {demo.agent_password}   (both tenants)
  TOTP secret, admin     {totp[demo.admin_username]}   (admins and supervisors sign in with an
  TOTP secret, sam       {totp[demo.supervisor_username]}    authenticator's code; new secrets each run)

  Business clock         {business_now}   (billing policy {args.policy})
  Move the clock (billing runs on the way):  .venv/bin/parley clock advance --days 30   (or make clock DAYS=30)
  State                  in memory only: Ctrl-C ends it, a restart starts afresh
  Control server         {stack.control.url}   token in {stack.control_file} (mode 0600)
""", flush=True)
    stopped.wait()
    print("stopping…", flush=True)
    stack.stop()


if __name__ == "__main__":
    main()
