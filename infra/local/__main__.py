"""`make dev`: run the whole platform on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading

from infra.local.control import DEFAULT_CONTROL_FILE
from infra.local.stack import LocalStack


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.local", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="gateway port on 127.0.0.1 (default 8765)")
    args = parser.parse_args()
    stopped = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stack = LocalStack(port=args.port, control_file=DEFAULT_CONTROL_FILE).start()
    stack.run_in_background()
    demo = stack.demo
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

  Move the clock (billing runs on the way):  .venv/bin/parley clock advance --days 30   (or make clock DAYS=30)
  Control server         {stack.control.url}   token in {stack.control_file} (mode 0600)
""", flush=True)
    stopped.wait()
    print("stopping…", flush=True)
    stack.stop()


if __name__ == "__main__":
    main()
