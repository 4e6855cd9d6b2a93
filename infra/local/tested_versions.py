"""The version guard of the modules that patch third-party internals.

`moto_patches` and `localstripe_ext` replace private functions of moto and localstripe; a new
release can rename or reshape them without notice, and a patch that silently stops applying
makes the local stack lie. So each module declares the versions it was written and tested
against and checks them, with `require_tested_versions`, before it patches anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import metadata


class UntestedVersionError(RuntimeError):
    """A patched package is installed in a version its patches were not tested against."""


def untested_version_message(package: str, installed: str | None, tested: str, patched_by: str) -> str:
    found = f"{package} {installed} is installed" if installed else f"{package} is not installed"
    return (
        f"{patched_by} patches private internals of {package} and was tested against "
        f"{package}=={tested}, but {found}. Install the locked versions (`make setup`); after moving "
        f"{package} in uv.lock, check the patches (the integration tests) and update TESTED_VERSIONS "
        f"in {patched_by}."
    )


def require_tested_versions(tested: Mapping[str, str], patched_by: str) -> None:
    """Raise UntestedVersionError unless every package is installed in exactly its tested version."""
    for package, version in tested.items():
        try:
            installed: str | None = metadata.version(package)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            raise UntestedVersionError(untested_version_message(package, installed, version, patched_by))
