"""Data entry as people do it: wrong input is refused with the reason next to the field, and
everything typed is shown again."""

from tests.gens.conftest import BrowserFactory, TenantUsers
from tests.gens.forms import (
    create_certificate,
    error_at,
    input_value,
    line,
    parties,
    route,
    treatment,
)


async def test_wrong_input_is_refused_at_the_field_and_what_was_typed_is_kept(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    applicant = await browser("ke-applicant")
    path = await create_certificate(applicant)

    refused = await applicant.submit(
        f"{path}/lines/new",
        line(net_weight="twelve", hs_code="08.04", botanical_name="", origin_country="ZZ"),
    )

    assert refused.status_code == 422
    page = refused.text
    assert error_at(page, "net_weight") == (
        "Enter a number greater than zero, such as 1250 or 12.5."
    )
    assert error_at(page, "hs_code") == "Enter 4 to 10 digits, such as 080440."
    assert error_at(page, "botanical_name") == "This field is required."
    assert error_at(page, "origin_country") == "Choose a value from the list."
    assert error_at(page, "description") is None
    # Each message sits with its field: between the field's label and its input.
    label, message, field = (
        page.index('for="f-net_weight"'),
        page.index('id="e-net_weight"'),
        page.index('id="f-net_weight"'),
    )
    assert label < message < field
    assert 'aria-describedby="e-net_weight"' in page
    # What was typed comes back, wrong values included.
    assert input_value(page, "net_weight") == "twelve"
    assert input_value(page, "description") == "Fresh avocados"
    assert input_value(page, "origin_country") == "ZZ"
    assert '<option value="BX" selected>' in page
    # Nothing was stored.
    assert "No commodity yet." in (await applicant.get(path)).text


async def test_cross_field_rules_point_at_the_field_to_change(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    applicant = await browser("ke-applicant")
    path = await create_certificate(applicant)

    no_packaging = await applicant.submit(
        f"{path}/lines/new", line(package_quantity="", package_type="")
    )
    assert error_at(no_packaging.text, "package_quantity") == (
        "Describe the packages: a number and a type, or in words below."
    )
    both = await applicant.submit(f"{path}/lines/new", line(packaging_text="12 pallets"))
    assert error_at(both.text, "packaging_text") == (
        "Describe the packages either as a number and a type, or in words, not both."
    )
    own_country = await applicant.submit(f"{path}/sections/route", route(import_country="KE"))
    assert error_at(own_country.text, "import_country") == (
        "The importing country cannot be your own country."
    )
    long_address = await applicant.submit(
        f"{path}/sections/parties", parties(consignee_address="1\n2\n3\n4\n5\n6")
    )
    assert error_at(long_address.text, "consignee_address") == "Use at most 5 lines."


async def test_a_treatment_ending_before_it_starts_is_refused(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    applicant = await browser("ke-applicant")
    path = await create_certificate(applicant)
    assert (await applicant.submit(f"{path}/lines/new", line())).status_code == 303
    refused = await applicant.submit(
        f"{path}/lines/1/treatments/new",
        treatment(start_date="2026-11-15", end_date="2026-11-01", temperature="-1,5"),
    )
    assert refused.status_code == 422
    assert error_at(refused.text, "end_date") == "The end date cannot be before the start date."
    assert error_at(refused.text, "temperature") is None  # a negative temperature is fine


async def test_messages_are_in_the_users_language(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    peru = await browser("pe-applicant")
    path = await create_certificate(peru)
    refused = await peru.submit(
        f"{path}/lines/new",
        line(
            net_weight="",
            gross_weight="",
            package_quantity="",
            package_type="",
            packaging_text="",
            botanical_name="",
        ),
    )
    assert '<html lang="es">' in refused.text
    assert error_at(refused.text, "botanical_name") == "Este campo es obligatorio."
    assert error_at(refused.text, "net_weight") == (
        "Indique al menos una cantidad: un peso, un volumen o un número de bultos."
    )


async def test_pickers_show_the_code_lists_in_the_users_language(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    peru = await browser("pe-applicant")
    path = await create_certificate(peru)
    page = (await peru.get(f"{path}/lines/new")).text
    assert '<option value="FRESH">Fresco</option>' in page
    assert '<datalist id="l-countries">' in page
    kenya = await browser("ke-applicant")
    path = await create_certificate(kenya)
    assert '<option value="FRESH">Fresh</option>' in (await kenya.get(f"{path}/lines/new")).text
