"""Cold-start import cost of every Lambda handler, as a ratio to `import boto3`, in one run.

Each sample is a fresh `python` subprocess that imports one handler module (from its file, as
the Lambda runtime loads `handler.py`) with the function's declared environment variables set
to placeholders, and reports the CPU time (`time.process_time()`) spent in that import; the
baseline is the same measurement of `import boto3` alone. Rounds interleave the baseline and
every function (so machine load drifts over all of them alike); each figure is the median of
its rounds. The child's whole-process CPU (interpreter start included, from
`resource.getrusage(RUSAGE_CHILDREN)`) is reported next to it.

Target (issue 7): chat_message and chat_connect <= 1.5 x boto3. The other functions are
reported, not judged.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from bench.sizes import REPO_ROOT

TARGET_RATIO = 1.5
JUDGED = ("chat_message", "chat_connect")
BASELINE = "import boto3"

_CHILD = r"""
import importlib.util, json, sys, time
target = sys.argv[1]
t0 = time.process_time()
if target == "boto3":
    import boto3  # noqa: F401
else:
    spec = importlib.util.spec_from_file_location("handler", target)
    module = importlib.util.module_from_spec(spec)
    sys.modules["handler"] = module
    spec.loader.exec_module(module)
cpu = time.process_time() - t0
loaded = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps({"cpu_s": cpu, "stripe": "stripe" in sys.modules, "xray": "aws_xray_sdk" in sys.modules,
                  "jwt": "jwt" in sys.modules, "ledger": "parley.ledger" in sys.modules,
                  "billing": "parley.billing" in sys.modules, "holidays": "holidays" in sys.modules,
                  "top_level": loaded}))
"""


@dataclass(frozen=True)
class ImportConfig:
    rounds: int = 7


def _function_env(name: str) -> dict[str, str]:
    """The variables the function is deployed with (placeholders), as Lambda would set them."""
    from infra import wiring

    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "VIRTUAL_ENV")}
    env.update({"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_LAMBDA_FUNCTION_NAME": name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(wiring.FUNCTIONS[name].memory_mb),
                "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "layers" / "parley" / "python"), str(REPO_ROOT)]),
                "PYTHONDONTWRITEBYTECODE": "1"})
    declared = getattr(wiring, "environment_variables", None)
    if declared is not None:
        env.update({var: "placeholder" for var in declared(wiring.FUNCTIONS[name])})
    env.update({"POWERTOOLS_SERVICE_NAME": "parley", "PARLEY_PROVIDER_TIME_ZONE": "Etc/GMT+7"})
    return env


def _sample(target: str, env: dict[str, str]) -> dict[str, Any]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-c", _CHILD, target], env=env, capture_output=True, text=True,
                          timeout=120, cwd=REPO_ROOT, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"importing {target} failed: {done.stderr.strip().splitlines()[-1:]}")
    sample: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    sample["process_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return sample


def run(cfg: ImportConfig = ImportConfig()) -> dict[str, Any]:
    from infra import wiring

    names = sorted(wiring.FUNCTIONS)
    base_env = _function_env(names[0])
    samples: dict[str, list[dict[str, Any]]] = {"boto3": [], **{n: [] for n in names}}
    for _ in range(cfg.rounds):
        samples["boto3"].append(_sample("boto3", base_env))
        for name in names:
            samples[name].append(_sample(str(wiring.FUNCTIONS[name].handler_file), _function_env(name)))

    def median(name: str, key: str) -> float:
        return float(statistics.median(float(s[key]) for s in samples[name]))

    boto3_cpu, boto3_process = median("boto3", "cpu_s"), median("boto3", "process_cpu_s")
    rows: list[dict[str, Any]] = []
    for name in names:
        last = samples[name][-1]
        rows.append({
            "function": name, "import_cpu_ms": round(1000 * median(name, "cpu_s"), 1),
            "ratio": round(median(name, "cpu_s") / boto3_cpu, 2),
            "process_cpu_ms": round(1000 * median(name, "process_cpu_s"), 1),
            "process_ratio": round(median(name, "process_cpu_s") / boto3_process, 2),
            "loads": [k for k in ("stripe", "billing", "holidays", "ledger", "jwt", "xray") if last[k]],
            "judged": name in JUDGED,
        })
    checks = [{"check": f"{r['function']}: import CPU {r['ratio']} x boto3 <= {TARGET_RATIO}",
               "pass": r["ratio"] <= TARGET_RATIO} for r in rows if r["judged"]]
    checks += [{"check": f"{r['function']}: loads none of Stripe, the ledger, the X-Ray SDK (loads {r['loads']})",
                "pass": not {"stripe", "ledger", "xray"} & set(r["loads"])} for r in rows if r["judged"]]
    return {"rounds": cfg.rounds, "boto3_import_cpu_ms": round(1000 * boto3_cpu, 1),
            "boto3_process_cpu_ms": round(1000 * boto3_process, 1), "functions": rows, "checks": checks,
            "pass": all(c["pass"] for c in checks)}
