"""The two Lambda layers shared by every function, built without Docker.

* `parley`: layers/parley already has the layer layout (python/parley/...), so the folder is
  the asset as is, minus caches and packaging metadata.
* `deps`: the third-party runtime dependencies, pre-built for the Lambda platform into
  build/lambda-deps/ by infra/build_lambda_deps.sh (the only step that needs PyPI), so that
  synth stays offline.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import AssetHashType
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import wiring
from infra.constructs.function_factory import ARCHITECTURE, RUNTIME

DEPS_DIR = wiring.REPO_ROOT / "build" / "lambda-deps"
DEPS_BUILD_COMMAND = "infra/build_lambda_deps.sh"

# Never ship caches, packaging metadata or editable-install leftovers.
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/*.egg-info", "**/.pytest_cache", "**/.mypy_cache"]


class MissingLambdaDependencies(RuntimeError):
    pass


def deps_stamp(deps_dir: Path = DEPS_DIR) -> str:
    """The hash build_lambda_deps.sh wrote for the inputs the folder was built from."""
    stamp = deps_dir / ".stamp"
    if not (deps_dir / "python").is_dir() or not stamp.is_file():
        raise MissingLambdaDependencies(
            f"{deps_dir} is missing or incomplete: the Lambda dependency layer is built before "
            f"synth, with `{DEPS_BUILD_COMMAND}` (run from the repository root; needs PyPI)."
        )
    return stamp.read_text().strip()


class Layers(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.parley = lambda_.LayerVersion(
            self,
            "Parley",
            description="The parley package: domain, rules, repositories, gateways",
            code=lambda_.Code.from_asset(str(wiring.LAYER_DIR), exclude=ASSET_EXCLUDES),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
        )
        self.deps = lambda_.LayerVersion(
            self,
            "Deps",
            description="Third-party runtime dependencies (uv.lock, minus boto3)",
            # The stamp is a hash of what the folder was built from: reusing it as the asset hash
            # spares fingerprinting ~50 MB of wheels on every synth.
            code=lambda_.Code.from_asset(
                str(DEPS_DIR),
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=deps_stamp(),
                exclude=[".stamp"],
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
        )

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.deps, self.parley]
