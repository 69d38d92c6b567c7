"""The REST face documents itself: every operation with a summary, its answer and its problems."""

import pytest
from fastapi import FastAPI

from hub.rest.envelopes import wants_xml

PROBLEM = "application/problem+json"


def test_every_rest_operation_is_documented_with_its_answer_and_problems(app: FastAPI) -> None:
    paths = {p: ops for p, ops in app.openapi()["paths"].items() if p.startswith("/api/v1/")}
    assert len(paths) >= 15
    for path, operations in paths.items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), where
            responses = operation["responses"]
            success = [s for s in responses if s.startswith("2")]
            assert success and all(
                "application/json" in responses[s]["content"] for s in success
            ), where
            problems = {s: r for s, r in responses.items() if s[0] in "45"}
            if path != "/api/v1/health":
                assert "401" in problems and "500" in problems, where
            for status, response in problems.items():
                assert list(response["content"]) == [PROBLEM], (where, status)
                schema = response["content"][PROBLEM]["schema"]
                assert schema["$ref"].endswith("/Problem"), (where, status)


def test_the_pull_documents_both_representations(app: FastAPI) -> None:
    operation = app.openapi()["paths"]["/api/v1/envelopes/{number}"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "application/xml"}


@pytest.mark.parametrize(
    ("accept", "xml"),
    [
        (None, False),
        ("", False),
        ("application/json", False),
        ("*/*", False),
        ("application/xml", True),
        ("text/xml", True),
        ("application/xml, */*", True),
        ("application/xml;q=0.5, */*", False),
        ("application/json;q=0.5, application/xml", True),
        ("application/xml, application/json", False),
        ("application/xml;q=0.9, application/json;q=0.8", True),
        ("application/xml;q=oops", False),
        ("text/html", False),
    ],
)
def test_xml_is_chosen_only_when_ranked_above_json(accept: str | None, xml: bool) -> None:
    assert wants_xml(accept) is xml
