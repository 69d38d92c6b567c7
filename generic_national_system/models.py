"""Every GeNS table, imported in one place so that `Base.metadata` knows them all."""


def register_models() -> None:
    import generic_national_system.accounts.models
    import generic_national_system.audit.models
    import generic_national_system.certificates.models
    import generic_national_system.imports.models  # noqa: F401
