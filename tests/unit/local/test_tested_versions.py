"""The version guard of the moto / localstripe patch modules (docs/local-stack.md, "Dependencies")."""

from __future__ import annotations

from importlib import metadata

import pytest

from infra.local import localstripe_ext, moto_patches
from infra.local.tested_versions import UntestedVersionError, require_tested_versions


def test_an_untested_version_is_refused_with_package_installed_and_tested_version() -> None:
    installed = metadata.version("moto")

    with pytest.raises(UntestedVersionError) as refused:
        require_tested_versions({"moto": "0.0.1"}, patched_by="infra.local.moto_patches")

    message = str(refused.value)
    assert f"moto {installed} is installed" in message
    assert "tested against moto==0.0.1" in message
    assert "infra.local.moto_patches patches private internals of moto" in message
    assert "TESTED_VERSIONS" in message


def test_a_missing_package_is_named_as_not_installed() -> None:
    with pytest.raises(UntestedVersionError, match=r"parley-no-such-package is not installed"):
        require_tested_versions({"parley-no-such-package": "1.0"}, patched_by="somewhere")


def test_the_tested_version_passes() -> None:
    require_tested_versions({"moto": metadata.version("moto")}, patched_by="infra.local.moto_patches")


@pytest.mark.parametrize("module", [moto_patches, localstripe_ext], ids=lambda m: m.__name__)
def test_the_patch_modules_were_tested_against_the_locked_versions(module: object) -> None:
    # uv.lock pins what `make setup` installs: the two must move together.
    for package, tested in module.TESTED_VERSIONS.items():  # type: ignore[attr-defined]
        assert metadata.version(package) == tested, package


def test_moto_patches_refuse_to_install_over_an_untested_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto_patches, "TESTED_VERSIONS", {"moto": "0.0.1"})
    with pytest.raises(UntestedVersionError, match=r"tested against moto==0\.0\.1"):
        moto_patches.install(lambda_endpoint="")


def test_localstripe_extensions_refuse_an_untested_localstripe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(localstripe_ext, "TESTED_VERSIONS", {"localstripe": "0.0.1"})
    with pytest.raises(UntestedVersionError, match=r"tested against localstripe==0\.0\.1"):
        localstripe_ext.install_patches()
