"""The one parser for untrusted XML: the hostile corpus first, then what it must accept.

Every hostile case (``data/hostile/manifest.toml``) is checked for its outcome and for what it
cost: wall time, the peak of Python allocations (tracemalloc) and, on Linux, the peak growth of
resident memory, which is where libxml2's trees live and tracemalloc cannot see.
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import http.server
import re
import threading
import time
import tomllib
import tracemalloc
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from ephyto_core import _safexml
from ephyto_core._errors import (
    ContentDecodingError,
    EphytoError,
    MalformedXmlError,
    UnsafeXmlError,
)
from ephyto_core._namespaces import RSM
from ephyto_core._safexml import (
    DEFAULT_LIMITS,
    XmlLimits,
    decode_content,
    parse_content,
    parse_untrusted,
)
from ephyto_core.certificate import build_certificate_xml
from tests.core.factories import make_certificate, make_small, make_typical

HOSTILE = Path(__file__).parent / "data" / "hostile"
CASES: list[dict[str, Any]] = tomllib.loads((HOSTILE / "manifest.toml").read_text("utf-8"))["case"]
ERRORS: dict[str, type[EphytoError]] = {
    cls.__name__: cls for cls in (UnsafeXmlError, MalformedXmlError, ContentDecodingError)
}
MARKER = "TOP-SECRET-3f9c1e"

# Bounds on handling hostile input, not speed targets: the slowest case takes ~0.3 s here.
MAX_SECONDS = 2.0
MAX_PYTHON_PEAK = 64 * 1024 * 1024
MAX_RESIDENT_GROWTH = 64 * 1024 * 1024


# --- measuring ------------------------------------------------------------------------------


class ResidentMemory:
    """Peak growth of this process's resident memory during a call (Linux only).

    Freed heap is handed back to the system first (``malloc_trim``) and the kernel's high-water
    mark reset (``clear_refs``), so a tree built in the call has to show up as new pages.
    """

    def __init__(self) -> None:
        self.available = False
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self._kb("VmHWM")
        except OSError:
            return
        libc_name = ctypes.util.find_library("c")
        libc = ctypes.CDLL(libc_name) if libc_name else None
        self._trim = getattr(libc, "malloc_trim", None)
        self.available = True

    def peak_growth(self, call: Callable[[], object]) -> int:
        if self._trim is not None:
            self._trim(0)
        Path("/proc/self/clear_refs").write_text("5")
        before = self._kb("VmRSS")
        call()
        return (self._kb("VmHWM") - before) * 1024

    @staticmethod
    def _kb(name: str) -> int:
        found = re.search(rf"^{name}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
        if found is None:
            raise OSError(f"{name} not in /proc/self/status")
        return int(found.group(1))


RESIDENT = ResidentMemory()


@dataclass
class Outcome:
    result: etree._Element | None
    error: EphytoError | None
    seconds: float
    python_peak: int
    resident_growth: int | None


def run_bounded(call: Callable[[], etree._Element]) -> Outcome:
    box: dict[str, Any] = {"result": None, "error": None}

    def attempt() -> None:
        try:
            box["result"] = call()
        except EphytoError as exc:
            box["error"] = exc

    tracemalloc.start()
    started = time.perf_counter()
    try:
        if RESIDENT.available:
            growth: int | None = RESIDENT.peak_growth(attempt)
        else:
            growth = None
            attempt()
        seconds = time.perf_counter() - started
        _, python_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Outcome(box["result"], box["error"], seconds, python_peak, growth)


# --- the corpus -----------------------------------------------------------------------------


class RecordingServer:
    """An HTTP server on 127.0.0.1 that notes every request: hostile inputs point at it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        requests = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                body = b"<fetched/>"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


@dataclass(frozen=True)
class Secrets:
    text: Path
    dtd: Path


@pytest.fixture(scope="module")
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as running:
        yield running


@pytest.fixture(scope="module")
def secrets(tmp_path_factory: pytest.TempPathFactory) -> Secrets:
    folder = tmp_path_factory.mktemp("secrets")
    text = folder / "secret.txt"
    text.write_text(MARKER)
    dtd = folder / "secret.dtd"
    dtd.write_text(f'<!ENTITY from-the-dtd "{MARKER}">')
    return Secrets(text=text, dtd=dtd)


def generate(pieces: list[list[Any]]) -> str:
    parts = []
    for text, count in pieces:
        if "{i}" in text:
            parts.append("".join(text.replace("{i}", str(i)) for i in range(count)))
        else:
            parts.append(text * count)
    return "".join(parts)


def case_input(case: dict[str, Any], *, port: int, secrets: Secrets) -> bytes | str:
    raw: bytes
    if "file" in case:
        raw = (HOSTILE / case["file"]).read_bytes()
        raw = raw.replace(b"{{PORT}}", str(port).encode())
        raw = raw.replace(b"{{SECRET}}", str(secrets.text).encode())
        raw = raw.replace(b"{{SECRET_DTD}}", str(secrets.dtd).encode())
    else:
        raw = generate(case["generate"]).encode("utf-8")
    feed = case.get("feed", "bytes")
    if feed == "text":
        return raw.decode("utf-8")
    if feed == "base64":
        return base64.encodebytes(raw).decode("ascii")
    assert feed == "bytes", feed
    return raw


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_hostile_input_gets_its_outcome_within_bounds(
    case: dict[str, Any], server: RecordingServer, secrets: Secrets
) -> None:
    data = case_input(case, port=server.port, secrets=secrets)
    entry = parse_content if case.get("entry") == "parse_content" else parse_untrusted
    limits = XmlLimits(**case.get("limits", {}))
    server.requests.clear()

    outcome = run_bounded(lambda: entry(data, limits=limits))

    if case["expect"] == "accepted":
        assert outcome.error is None, str(outcome.error)
        assert outcome.result is not None
        assert MARKER not in etree.tostring(outcome.result, encoding="unicode")
    else:
        assert type(outcome.error) is ERRORS[case["expect"]], repr(outcome.error)
        assert case["message"] in str(outcome.error)
        assert outcome.error.field == "Content"
    assert outcome.seconds < MAX_SECONDS
    assert outcome.python_peak < MAX_PYTHON_PEAK
    if outcome.resident_growth is not None:
        assert outcome.resident_growth < MAX_RESIDENT_GROWTH
    if case.get("network"):
        assert server.requests == []


def test_manifest_uses_every_corpus_file_and_names_an_outcome() -> None:
    files = {path.name for path in HOSTILE.iterdir()} - {"manifest.toml"}
    assert files == {case["file"] for case in CASES if "file" in case}
    assert len({case["id"] for case in CASES}) == len(CASES)
    for case in CASES:
        assert case["expect"] in {*ERRORS, "accepted"}, case["id"]
        assert ("message" in case) == (case["expect"] != "accepted"), case["id"]
        assert ("file" in case) != ("generate" in case), case["id"]


# --- the checks above can fail --------------------------------------------------------------


def test_a_doctype_that_slipped_past_the_scan_is_still_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_safexml, "_doctype_offset", lambda data, start: None)
    with pytest.raises(UnsafeXmlError, match="DOCTYPE declarations are not allowed"):
        parse_untrusted(b"<!DOCTYPE r [<!ENTITY a 'b'>]><r>&a;</r>")


def test_recording_server_notes_a_request(server: RecordingServer) -> None:
    server.requests.clear()
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/probe", timeout=5) as reply:
        reply.read()
    assert server.requests == ["/probe"]
    server.requests.clear()


@pytest.mark.parametrize(
    "name", ["xxe_file.xml", "parameter_entity.xml", "xinclude.xml"], ids=lambda name: name
)
def test_corpus_leaks_the_secret_through_an_unsafe_parser(
    name: str, server: RecordingServer, secrets: Secrets
) -> None:
    data = case_input({"file": name}, port=server.port, secrets=secrets)
    assert isinstance(data, bytes)
    unsafe = etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=False)
    tree = etree.fromstring(data, unsafe).getroottree()
    tree.xinclude()
    assert MARKER in etree.tostring(tree, encoding="unicode")

    if name == "xinclude.xml":  # accepted, and the include stays an element
        assert MARKER not in etree.tostring(parse_untrusted(data), encoding="unicode")
    else:
        with pytest.raises(UnsafeXmlError, match="DOCTYPE declarations are not allowed"):
            parse_untrusted(data)


@pytest.mark.skipif(not RESIDENT.available, reason="needs /proc/self/clear_refs (Linux)")
def test_resident_memory_meter_sees_a_tree_built_without_limits() -> None:
    dense = b"<r>" + b"<a/>" * 1_000_000 + b"</r>"  # 4 MB that the markup limit refuses
    growth = RESIDENT.peak_growth(lambda: etree.fromstring(dense))
    assert growth > MAX_RESIDENT_GROWTH


# --- what must be accepted ------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate() -> bytes:
    return build_certificate_xml(make_typical())


def canonical(root: etree._Element) -> bytes:
    return etree.tostring(root, method="c14n")


def test_certificate_bytes_parse_to_the_same_tree_as_plain_lxml(certificate: bytes) -> None:
    root = parse_untrusted(certificate)
    assert root.tag == f"{{{RSM}}}SPSCertificate"
    assert canonical(root) == canonical(etree.fromstring(certificate))


def test_content_escaped_in_a_soap_body_parses(certificate: bytes) -> None:
    envelope = etree.Element("Envelope")
    etree.SubElement(envelope, "Content").text = certificate.decode("utf-8")
    soap = etree.tostring(envelope)
    assert b"&lt;rsm:SPSCertificate" in soap

    content = parse_untrusted(soap, field="SOAP body").findtext("Content")
    assert content is not None
    assert canonical(parse_content(content)) == canonical(etree.fromstring(certificate))


def test_content_in_cdata_parses(certificate: bytes) -> None:
    soap = b"<Envelope><Content><![CDATA[" + certificate + b"]]></Content></Envelope>"
    content = parse_untrusted(soap, field="SOAP body").findtext("Content")
    assert content is not None and content.startswith("<?xml")
    assert canonical(parse_content(content)) == canonical(etree.fromstring(certificate))


@pytest.mark.parametrize(
    "encode",
    [
        lambda doc: base64.b64encode(doc).decode("ascii"),
        lambda doc: base64.encodebytes(doc).decode("ascii"),
        lambda doc: "\r\n  " + base64.encodebytes(doc).decode("ascii").replace("\n", "\r\n    "),
        lambda doc: base64.encodebytes(doc),
    ],
    ids=["one-line", "mime-lines", "indented-crlf", "as-bytes"],
)
def test_content_in_base64_parses(certificate: bytes, encode: Callable[[bytes], Any]) -> None:
    root = parse_content(encode(certificate))
    assert canonical(root) == canonical(etree.fromstring(certificate))


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbf<?xml version='1.0' encoding='UTF-8'?><r>caf\xc3\xa9</r>",
        b"\xef\xbb\xbf \r\n <?xml version='1.0'?><r>caf\xc3\xa9</r>",
        "<?xml version='1.0' encoding='UTF-16'?><r>café</r>".encode("utf-16"),
        "<?xml version='1.0' encoding='UTF-16'?><r>café</r>".encode("utf-16-be").join(
            [b"\xfe\xff", b""]
        ),
        "<?xml version='1.0' encoding='UTF-32'?><r>café</r>".encode("utf-32"),
        "\ufeff\n<?xml version='1.0' encoding='UTF-8'?><r>café</r>",
        "\n\t  <?xml version='1.0'?><r>café</r>",
    ],
    ids=["utf8-bom", "utf8-bom-then-blanks", "utf16le-bom", "utf16be-bom", "utf32-bom",
         "str-with-bom", "str-with-blanks"],
)  # fmt: skip
def test_byte_order_marks_and_leading_blanks_are_handled(data: bytes | str) -> None:
    assert parse_untrusted(data).text == "café"
    assert parse_content(data).text == "café"


@pytest.mark.parametrize("declared", ["ISO-8859-1", "UTF-16", "windows-1252"])
def test_a_str_whose_declaration_names_another_encoding_parses(declared: str) -> None:
    text = f'<?xml version="1.0" encoding="{declared}" standalone="yes"?><r>Ñandú – 5 €</r>'
    expected = '<?xml version="1.0" standalone="yes"?><r>Ñandú – 5 €</r>'.encode()
    assert decode_content(text) == expected
    assert parse_untrusted(text).text == "Ñandú – 5 €"
    assert parse_content(text).text == "Ñandú – 5 €"


def test_a_str_declared_utf8_keeps_its_declaration() -> None:
    text = "<?xml version='1.0' encoding='utf-8'?><r>Ñandú – 5 €</r>"
    assert decode_content(text) == text.encode("utf-8")
    assert parse_content(text).text == "Ñandú – 5 €"


@pytest.mark.parametrize(
    ("declared", "codec"), [("ISO-8859-1", "latin-1"), ("windows-1252", "cp1252")]
)
def test_bytes_in_a_declared_8bit_encoding_are_read_in_it(declared: str, codec: str) -> None:
    text = "Ñandú – 5 €" if codec == "cp1252" else "Ñandú, 5 ¢"
    data = f"<?xml version='1.0' encoding='{declared}'?><r>{text}</r>".encode(codec)
    assert parse_untrusted(data).text == text


def test_xml_bytes_come_out_of_decode_content_unchanged(certificate: bytes) -> None:
    assert decode_content(certificate) is certificate


def test_xinclude_elements_stay_unprocessed(server: RecordingServer, secrets: Secrets) -> None:
    data = case_input({"file": "xinclude.xml"}, port=server.port, secrets=secrets)
    server.requests.clear()
    root = parse_untrusted(data)
    includes = root.findall("{http://www.w3.org/2001/XInclude}include")
    assert [include.get("parse") for include in includes] == ["text", "xml"]
    assert server.requests == []


def test_the_real_world_sample_certificate_parses(conformance_dir: Path) -> None:
    sample = (conformance_dir / "hub-wsdl-2024" / "SPSCertificateContent.sample.xml").read_bytes()
    expected = canonical(etree.fromstring(sample))
    assert canonical(parse_untrusted(sample)) == expected
    assert canonical(parse_content(base64.encodebytes(sample))) == expected


def test_threads_parse_side_by_side() -> None:
    documents = [build_certificate_xml(make_small(seed=seed)) for seed in range(4)]
    expected = [canonical(etree.fromstring(doc)) for doc in documents]

    def parse_all(index: int) -> bool:
        return all(
            canonical(parse_untrusted(documents[index])) == expected[index] for _ in range(25)
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(parse_all, range(4)))


# --- limits at their edges ------------------------------------------------------------------


def nested(depth: int) -> bytes:
    return b"<a>" * depth + b"</a>" * depth


def test_size_limit_is_inclusive() -> None:
    limits = XmlLimits(max_bytes=100)
    parse_untrusted(b"<r>" + b"x" * 93 + b"</r>", limits=limits)
    with pytest.raises(UnsafeXmlError, match="101 bytes, larger than the 100 allowed"):
        parse_untrusted(b"<r>" + b"x" * 94 + b"</r>", limits=limits)


def test_base64_size_is_judged_by_what_it_decodes_to() -> None:
    limits = XmlLimits(max_bytes=96)
    parse_content(base64.b64encode(b"<r>" + b"x" * 89 + b"</r>"), limits=limits)
    with pytest.raises(UnsafeXmlError, match="larger than the 96 allowed"):
        parse_content(base64.b64encode(b"<r>" + b"x" * 90 + b"</r>"), limits=limits)


def test_depth_limit_below_libxml2s_is_exact() -> None:
    limits = XmlLimits(max_depth=5)
    parse_untrusted(nested(5), limits=limits)
    with pytest.raises(UnsafeXmlError, match="nested deeper than 5 levels"):
        parse_untrusted(nested(6), limits=limits)


def test_attribute_limit_is_exact_when_every_document_is_checked() -> None:
    limits = XmlLimits(max_attributes_per_element=3, per_element_checks_from_bytes=0)
    parse_untrusted(b"<r><a x='1' y='2' z='3'/></r>", limits=limits)
    with pytest.raises(UnsafeXmlError, match=r"^Content: p:a \(line 2\) has 4 attributes, more"):
        parse_untrusted(b"<r xmlns:p='u'>\n<p:a w='0' x='1' y='2' z='3'/></r>", limits=limits)


def test_children_limit_counts_every_child_node_when_every_document_is_checked() -> None:
    limits = XmlLimits(max_children_per_element=4, per_element_checks_from_bytes=0)
    parse_untrusted(b"<r><a/>text<!--c--><?pi?></r>", limits=limits)
    with pytest.raises(
        UnsafeXmlError, match=r"^Content: b \(line 2\) has 5 child nodes \(elements, text, co"
    ):
        parse_untrusted(b"<r>\n<b><a/>text<!--c--><?pi?><a/></b></r>", limits=limits)


def test_per_element_limits_apply_from_the_configured_size() -> None:
    crowded = b"<r>" + b"<a/>" * 100 + b"</r>"
    limits = XmlLimits(max_children_per_element=99, per_element_checks_from_bytes=len(crowded) + 1)
    parse_untrusted(crowded, limits=limits)
    with pytest.raises(UnsafeXmlError, match=r"r \(line 1\) has 100 child nodes"):
        parse_untrusted(crowded, limits=replace(limits, per_element_checks_from_bytes=len(crowded)))


def test_default_limits_refuse_a_wide_or_crowded_element_in_a_long_document() -> None:
    wide = b"<r>" + b"<a/>" * 20_000 + b"</r>"  # 80 KB
    with pytest.raises(UnsafeXmlError, match=r"20,000 child nodes .* more than the 2,048 allowed"):
        parse_untrusted(wide)
    crowded = b"<r" + b"".join(b" a%d=''" % i for i in range(10_000)) + b"/>"
    with pytest.raises(UnsafeXmlError, match="10,000 attributes, more than the 64 allowed"):
        parse_untrusted(crowded)


def test_a_1000_line_trilingual_certificate_is_within_the_default_limits() -> None:
    certificate = make_certificate(seed=1, n_lines=1_000, languages=("en", "es", "fr"))
    compact = build_certificate_xml(certificate)
    pretty = etree.tostring(etree.fromstring(compact), pretty_print=True)
    for document in (compact, pretty):
        assert len(document) > DEFAULT_LIMITS.per_element_checks_from_bytes  # so it is checked
        root = parse_untrusted(document)
        assert len(root.findall(".//{*}IncludedSPSTradeLineItem")) == 1_000


def test_markup_limit_counts_tags_and_attributes() -> None:
    limits = XmlLimits(max_markup=40)
    parse_untrusted(b"<r>" + b"<a b=''/>" * 19 + b"</r>", limits=limits)  # 40, in 178 bytes
    with pytest.raises(UnsafeXmlError, match="41 tags and attributes, more than the 40"):
        parse_untrusted(b"<r>" + b"<a b=''/>" * 19 + b"<a/></r>", limits=limits)


def test_markup_is_not_counted_in_documents_too_short_to_exceed_it() -> None:
    limits = XmlLimits(max_markup=40)
    # 140 bytes cannot hold 41 tags; the '<' in CDATA are not tags, and are not counted here.
    parse_untrusted(b"<r><![CDATA[" + b"<" * 121 + b"]]></r>", limits=limits)
    with pytest.raises(UnsafeXmlError, match="125 tags and attributes"):  # counted: overcounts
        parse_untrusted(b"<r><![CDATA[" + b"<" * 122 + b"]]></r>", limits=limits)


@pytest.mark.parametrize(
    "overrides",
    [
        {"max_depth": 257},
        {"max_depth": 0},
        {"max_bytes": 0},
        {"max_markup": -1},
        {"max_attributes_per_element": 0},
        {"max_children_per_element": 0},
        {"per_element_checks_from_bytes": -1},
    ],
)
def test_limits_refuse_values_that_cannot_hold(overrides: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=next(iter(overrides))):
        XmlLimits(**overrides)


def test_default_limits_leave_depth_to_libxml2_and_check_elements_in_long_documents() -> None:
    assert DEFAULT_LIMITS.max_depth == 256
    assert DEFAULT_LIMITS.max_attributes_per_element == 64
    assert DEFAULT_LIMITS.max_children_per_element == 2_048
    assert DEFAULT_LIMITS.per_element_checks_from_bytes == 64 * 1024


# --- messages -------------------------------------------------------------------------------


def test_errors_name_the_field_they_are_about() -> None:
    with pytest.raises(MalformedXmlError) as caught:
        parse_untrusted(b"", field="SOAP body")
    assert str(caught.value) == "SOAP body: the document is empty"
    assert caught.value.field == "SOAP body"
    assert caught.value.code == "malformed_xml"


def test_a_lone_surrogate_in_text_is_refused() -> None:
    with pytest.raises(UnsafeXmlError, match=r"lone surrogate \(U\+D800 at character 4\)"):
        parse_content("<r>\ud800</r>")


def test_non_ascii_text_that_is_not_xml_is_not_base64() -> None:
    with pytest.raises(ContentDecodingError, match="character 'é' at position 7"):
        decode_content("  \nabcé")


def test_base64_error_positions_count_the_blanks_as_sent() -> None:
    with pytest.raises(ContentDecodingError, match="character '!' at position 11"):
        decode_content("PHI+\n\nPC9y!g==")
