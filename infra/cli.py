"""`parley`: the small command line of the local platform.

    parley clock                                   the local stack's current time (`make dev`)
    parley clock advance --days 30 [--hours 6]     move it forward; every daily run on the way fires
    parley billing simulate FILE.json [...]        run billing scenarios (docs/billing.md)

`parley clock` talks to the stack's control server, whose address and per-run token `make dev`
writes to .parley/local-control.json (readable by you only; --control-file to read another).

Exit status: 0 done; 1 invalid scenario file (or an event the engine refuses) or failed request;
2 bad command line;
3 a valid scenario could not be run to its end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# `make dev` writes its control server's address and token here (infra/local/control.py).
CONTROL_FILE_ENV = "PARLEY_LOCAL_CONTROL"
DEFAULT_CONTROL_FILE = Path(__file__).resolve().parents[1] / ".parley" / "local-control.json"
EXIT_INVALID = 1
EXIT_RUN_FAILED = 3


class CliError(Exception):
    def __init__(self, message: str, status: int = EXIT_INVALID) -> None:
        super().__init__(message)
        self.status = status


# ------------------------------------------------------------------------------ clock
def _control(args: argparse.Namespace) -> tuple[str, str]:
    """The running stack's control server (url, token), from the file it wrote."""
    path = Path(args.control_file)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return str(data["url"]).rstrip("/"), str(data["token"])
    except FileNotFoundError:
        raise CliError(f"no control file at {path}; is `make dev` running?") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CliError(f"cannot read the control file {path} ({exc})") from None


def _request(url: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if body is not None else "GET",
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            answer: dict[str, Any] = json.loads(response.read() or b"{}")
            return answer
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read() or b"{}").get("message", exc.reason)
        except ValueError:
            message = exc.reason
        raise CliError(f"{url}: HTTP {exc.code}: {message}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CliError(f"cannot reach the local stack at {url} ({reason}); is `make dev` running?") from None


def clock_show(args: argparse.Namespace) -> int:
    url, token = _control(args)
    answer = _request(f"{url}/_local/clock", token)
    print(answer.get("now", ""))
    return 0


def clock_advance(args: argparse.Namespace) -> int:
    if args.days < 0 or args.hours < 0 or (args.days == 0 and args.hours == 0):
        raise CliError("give --days and/or --hours, more than zero", status=2)
    url, token = _control(args)
    answer = _request(f"{url}/_local/clock", token, {"days": args.days, "hours": args.hours})
    fired = answer.get("fired", [])
    for run in fired:
        print(f"fired {run.get('schedule')} at {run.get('at')}")
    print(f"now {answer.get('now', '')} ({len(fired)} scheduled run{'s' if len(fired) != 1 else ''} fired)")
    return 0


# ------------------------------------------------------------------------------ billing simulate
def _validate(paths: list[Path]) -> list[Any]:
    from infra.scenario import ScenarioError, load_scenario

    scenarios = []
    for path in paths:
        try:
            scenarios.append(load_scenario(path))
        except ScenarioError as exc:
            raise CliError(f"{path}: {exc}") from None
    return scenarios


def _simulate_one(scenario: Any, stripe_ids: bool, verbose: bool = False) -> dict[str, Any]:
    from infra.scenario import ScenarioError, ScenarioRunError, run_scenario, stdout_to_stderr

    with stdout_to_stderr():
        try:
            return run_scenario(scenario, stripe_ids=stripe_ids, verbose=verbose)
        except ScenarioError as exc:  # an event the engine refuses: the file contradicts itself
            raise CliError(f"{scenario.path}: {exc}", status=EXIT_INVALID) from None
        except ScenarioRunError as exc:
            raise CliError(f"{scenario.path}: {exc}", status=EXIT_RUN_FAILED) from None


def _simulate_in_subprocess(path: Path, stripe_ids: bool, verbose: bool = False) -> tuple[int, str, str]:
    """One LocalStack (one localstripe) per process: each further scenario gets its own."""
    command = [sys.executable, "-m", "infra.cli", "billing", "simulate", str(path)]
    if stripe_ids:
        command.append("--stripe-ids")
    if verbose:
        command.append("--verbose")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]),
                                                                      os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    return done.returncode, done.stdout, done.stderr


def billing_simulate(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.files]
    scenarios = _validate(paths)  # every file is checked before anything runs
    started = time.monotonic()
    output: Any
    if len(scenarios) == 1:
        output = _simulate_one(scenarios[0], args.stripe_ids, args.verbose)
    else:
        from infra.scenario import estimated_seconds

        jobs = max(1, args.jobs or min(len(paths), os.cpu_count() or 1))
        # the longest first, so that the others fill the remaining workers (results keep the given order)
        order = sorted(range(len(paths)), key=lambda i: -estimated_seconds(scenarios[i]))
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {i: pool.submit(_simulate_in_subprocess, paths[i], args.stripe_ids, args.verbose)
                       for i in order}
            done = [futures[i].result() for i in range(len(paths))]
        output = []
        for path, (code, stdout, stderr) in zip(paths, done, strict=True):
            took = [line for line in stderr.splitlines() if line.startswith("parley: 1 scenario simulated in ")]
            if took:
                print(f"parley: {path}: {took[-1].removeprefix('parley: 1 scenario simulated in ')}", file=sys.stderr)
            if code != 0:
                last = [line for line in stderr.strip().splitlines() if line.startswith("parley: ")]
                raise CliError(last[-1].removeprefix("parley: ") if last else f"{path}: failed (exit {code})",
                               status=code if code in (EXIT_INVALID, EXIT_RUN_FAILED) else EXIT_RUN_FAILED)
            output.append(json.loads(stdout))
    text = json.dumps(output, indent=2, ensure_ascii=False) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"parley: wrote {args.out} ({len(paths)} scenario{'s' if len(paths) > 1 else ''}, "
              f"{time.monotonic() - started:.1f} s)", file=sys.stderr)
    else:
        sys.stdout.write(text)
        print(f"parley: {len(paths)} scenario{'s' if len(paths) > 1 else ''} simulated in "
              f"{time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0


# ------------------------------------------------------------------------------ entry point
def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="parley", description="Parley's local command line.")
    commands = top.add_subparsers(dest="command", required=True)

    clock = commands.add_parser("clock", help="show or move the clock of a running `make dev`")
    default_file = os.environ.get(CONTROL_FILE_ENV) or str(DEFAULT_CONTROL_FILE)
    control_help = f"the control file `make dev` writes (default ${CONTROL_FILE_ENV} or {DEFAULT_CONTROL_FILE})"
    clock.add_argument("--control-file", default=default_file, help=control_help)
    clock.set_defaults(handler=clock_show)
    clock_commands = clock.add_subparsers(dest="clock_command")
    advance = clock_commands.add_parser("advance", help="move the clock forward, firing every daily run on the way")
    advance.add_argument("--days", type=int, default=0)
    advance.add_argument("--hours", type=int, default=0)
    advance.add_argument("--control-file", default=default_file, help=control_help)
    advance.set_defaults(handler=clock_advance)

    billing = commands.add_parser("billing", help="billing tools")
    billing_commands = billing.add_subparsers(dest="billing_command", required=True)
    simulate = billing_commands.add_parser(
        "simulate", help="run billing scenario files on a fresh local stack and print the result as JSON",
        description="Validate the scenario files, run each on a fresh local stack (frozen clock from its "
        "start) and print the result: one JSON object, or a JSON list for several files (each runs in its "
        "own process). Format: docs/billing.md.")
    simulate.add_argument("files", nargs="+", metavar="FILE.json")
    simulate.add_argument("--out", help="write the JSON here instead of stdout")
    simulate.add_argument("--jobs", type=int, default=0, help="scenarios run at once (default: CPU count)")
    simulate.add_argument("--stripe-ids", action="store_true",
                          help="add Stripe's (random) customer and invoice ids to the output")
    simulate.add_argument("--verbose", action="store_true",
                          help="the services' INFO logs and the functions' metrics on stderr (default: warnings only)")
    simulate.set_defaults(handler=billing_simulate)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        status: int = args.handler(args)
    except CliError as exc:
        print(f"parley: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
