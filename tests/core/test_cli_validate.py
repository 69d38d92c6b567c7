"""``ephyto validate FILE...`` as a person and a script use it: table, JSON, exit codes."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from click.testing import CliRunner

from ephyto_cli.main import cli
from tests.conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "schemas" / "examples"
GOOD = str(EXAMPLES / "phyto-851.xml")
BROKEN = str(EXAMPLES / "phyto-851-broken.xml")


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", *args], input=stdin)
    return result.exit_code, result.output


def test_valid_certificate_says_so_and_exits_0() -> None:
    code, output = run(GOOD)
    assert code == 0
    assert output.strip() == f"{GOOD}: valid, no findings"


def test_broken_certificate_lists_findings_in_a_table_and_exits_1() -> None:
    code, output = run(BROKEN)
    assert code == 1
    lines = output.splitlines()
    assert lines[0] == f"{BROKEN}: refused (SEVERE): 4 SEVERE"
    assert lines[1].split() == ["LEVEL", "AREA", "FIELD"]
    row = (
        "  SEVERE   Mapping            /rsm:SPSCertificate/rsm:SPSConsignment/ram:ImportSPSCountry"
    )
    assert f"{row}/ram:ID" in lines
    assert "'XX' is not a known importing country code" in output
    assert "Line 119: This element is not expected." in output


def test_several_files_are_reported_each_and_exit_1_if_any_is_refused() -> None:
    code, output = run(GOOD, BROKEN)
    assert code == 1
    assert f"{GOOD}: valid, no findings" in output
    assert f"{BROKEN}: refused (SEVERE)" in output


def test_json_lists_each_file_with_its_results() -> None:
    code, output = run("--json", GOOD, BROKEN)
    assert code == 1
    reports = json.loads(output)
    assert [r["file"] for r in reports] == [GOOD, BROKEN]
    assert reports[0]["results"] == []
    assert {
        "area": "Mapping",
        "level": "SEVERE",
        "field": "/rsm:SPSCertificate/rsm:SPSConsignment/ram:ImportSPSCountry/ram:ID",
        "msg": "'XX' is not a known importing country code; expected an ISO 3166-1 alpha-2 code.",
    } in reports[1]["results"]
    assert {tuple(sorted(r)) for r in reports[1]["results"]} == {("area", "field", "level", "msg")}


def test_warnings_alone_exit_0(tmp_path: Path) -> None:
    xml = (
        Path(GOOD)
        .read_text()
        .replace("<ram:TypeCode>CT</ram:TypeCode>", "<ram:TypeCode>QQ</ram:TypeCode>", 1)
    )
    path = tmp_path / "warned.xml"
    path.write_text(xml)
    code, output = run(str(path))
    assert code == 0
    assert f"{path}: accepted: 1 WARNING" in output


def test_missing_file_is_a_usage_error_not_a_traceback() -> None:
    code, output = run("does-not-exist.xml")
    assert code == 2
    assert "does-not-exist.xml' does not exist" in output
    assert "Traceback" not in output


def test_no_file_is_a_usage_error() -> None:
    code, output = run()
    assert code == 2
    assert "Missing argument 'FILES...'" in output


def test_a_file_that_is_not_xml_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("shopping list")
    code, output = run("--json", str(path))
    assert code == 1
    [report] = json.loads(output)
    assert report["results"] == [
        {
            "area": "Schema",
            "level": "SEVERE",
            "field": "ePhytoXML",
            "msg": "the document does not start with '<' (line 1, column 1)",
        }
    ]


def test_standard_input_is_read_for_a_dash() -> None:
    code, output = run("-", stdin=Path(GOOD).read_bytes())
    assert code == 0
    assert "-: valid, no findings" in output


def test_content_option_reads_base64_as_the_hub_does(tmp_path: Path) -> None:
    path = tmp_path / "content.b64"
    path.write_bytes(base64.encodebytes(Path(GOOD).read_bytes()))
    assert run(str(path))[0] == 1  # base64 is not XML
    code, output = run("--content", str(path))
    assert code == 0
    assert "valid, no findings" in output


def test_explain_adds_xmlschema_diagnostics_without_changing_the_verdict() -> None:
    plain = json.loads(run("--json", BROKEN)[1])[0]["results"]
    code, output = run("--json", "--explain", BROKEN)
    assert code == 1
    explained = json.loads(output)[0]["results"]
    assert explained[: len(plain)] == plain
    extra = explained[len(plain) :]
    assert extra and all(r["area"] == "Schema" and r["level"] == "INFO" for r in extra)
    assert any(
        "xmlschema explains: Unexpected child with tag 'ram:CommonName'" in r["msg"] for r in extra
    )
