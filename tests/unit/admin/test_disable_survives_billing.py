"""An admin's disable of a client stands whatever billing does meanwhile: a default, a trial
that ends or a reinstatement changes the status the admin's enable restores, not the disable."""

from __future__ import annotations

from parley.chat.models import Client, ClientStatus


def client(status: ClientStatus, disabled_from: ClientStatus | None = None) -> Client:
    return Client(client_id="cl_a", name="A", widget_key="wk_a", status=status, disabled_from=disabled_from)


def test_billing_turns_the_service_of_an_enabled_client_on_and_off() -> None:
    assert client(ClientStatus.ACTIVE).with_service(ClientStatus.DEACTIVATED).status is ClientStatus.DEACTIVATED
    assert client(ClientStatus.DEACTIVATED).with_service(ClientStatus.ACTIVE).status is ClientStatus.ACTIVE


def test_a_disabled_client_stays_disabled_and_enable_restores_what_billing_decided() -> None:
    disabled = client(ClientStatus.DISABLED, disabled_from=ClientStatus.ACTIVE)
    cut_off = disabled.with_service(ClientStatus.DEACTIVATED)  # defaulted while disabled
    assert (cut_off.status, cut_off.disabled_from) == (ClientStatus.DISABLED, ClientStatus.DEACTIVATED)
    reinstated = cut_off.with_service(ClientStatus.ACTIVE)  # paid everything while disabled
    assert (reinstated.status, reinstated.disabled_from) == (ClientStatus.DISABLED, ClientStatus.ACTIVE)
