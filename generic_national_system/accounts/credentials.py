"""A tenant's keys and certificates, from files or from the sealed copies in the database."""

from pathlib import Path

from generic_national_system.accounts.models import Tenant
from generic_national_system.accounts.secrets import unseal
from generic_national_system.hub_client import HubCredentials, HubCredentialsMissing


def hub_credentials(tenant: Tenant, *, secret_key: str) -> HubCredentials:
    """The client certificate (and key, when there is one) the tenant presents to the hub."""
    try:
        return _hub_credentials(tenant, secret_key=secret_key)
    except OSError as exc:
        raise HubCredentialsMissing(f"tenant {tenant.code}: cannot read {exc.filename}") from exc


def _hub_credentials(tenant: Tenant, *, secret_key: str) -> HubCredentials:
    if tenant.hub_client_cert_path:
        cert = Path(tenant.hub_client_cert_path).read_bytes()
    elif tenant.hub_client_cert_pem:
        cert = tenant.hub_client_cert_pem.encode("ascii")
    else:
        raise HubCredentialsMissing(f"tenant {tenant.code} has no hub client certificate")
    key: bytes | None = None
    if tenant.hub_client_key_path:
        key = Path(tenant.hub_client_key_path).read_bytes()
    elif tenant.hub_client_key_sealed:
        key = unseal(tenant.hub_client_key_sealed, secret_key=secret_key)
    return HubCredentials(cert_pem=cert, key_pem=key)


def signing_material(tenant: Tenant, *, secret_key: str) -> tuple[bytes, bytes] | None:
    """(key, certificate) PEMs for signing content, or None if the tenant has none."""
    if not tenant.signing_cert_pem or not tenant.signing_key_sealed:
        return None
    key = unseal(tenant.signing_key_sealed, secret_key=secret_key)
    return key, tenant.signing_cert_pem.encode("ascii")
