"""A printable PDF of a certificate: the ISPM 12 boxes, a QR code to check it, DRAFT on drafts.

fpdf2 draws it (pure Python, compressed pages) and segno makes the QR matrix, drawn as vector
rectangles (crisp at any print size, a few hundred bytes). With the PDF core fonts nothing is
embedded, so a one-page certificate is about 5 KB; they cover Latin-1 only, and other characters
print as "?". A deployment whose certificates carry other scripts sets `EPHYTO_GENS_PDF_FONT` to a
Unicode TrueType font (e.g. DejaVuSans.ttf), which fpdf2 embeds as a subset of the glyphs used.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from generic_national_system.documents.layout import PaperCertificate
from generic_national_system.i18n import N_

_MARGIN: Final = 12.0
_LABEL_SIZE: Final = 7.5
_TEXT_SIZE: Final = 9.5
_QR_SIZE_MM: Final = 28.0
#: Latin-1 stand-ins for the typographic characters our own layout uses.
_PLAIN: Final = str.maketrans(
    {"—": "-", "–": "-", "“": '"', "”": '"', "’": "'", "…": "...", "↦": ">", "⟲": "<"}
)

SECTION_DESCRIPTION = N_("I. Description of consignment")
SECTION_DECLARATION = N_("II. Additional declaration")
SECTION_TREATMENT = N_("III. Disinfestation and/or disinfection treatment")


@dataclass(frozen=True, slots=True, kw_only=True)
class Authenticity:
    """What the QR code and the footer say: where to check, and what is checked."""

    check_url: str
    hub_delivery_number: str
    content_sha256: str


def render_pdf(
    paper: PaperCertificate,
    *,
    gettext: Callable[[str], str],
    draft: bool,
    authenticity: Authenticity | None,
    note: str | None = None,
    font: Path | None = None,
) -> bytes:
    """The certificate as PDF bytes (A4)."""
    pdf = _Document(font)
    _ = gettext
    pdf.set_title(f"{_(paper.title)} {paper.number}")
    pdf.set_creator("GeNS")
    pdf.add_page()
    if draft:
        pdf.watermark(_("DRAFT"))
    pdf.heading(paper, _)
    if note:
        pdf.paragraph(note, bold=True)
    pdf.section(_(SECTION_DESCRIPTION))
    for box in paper.boxes:
        if box.number == 11:
            pdf.section(_(SECTION_DECLARATION))
        elif box.number == 12:
            pdf.section(_(SECTION_TREATMENT))
        pdf.box(f"{box.number}. {_(box.label)}", box.lines)
    if paper.attachments:
        pdf.box(_("Attached documents"), paper.attachments)
    if authenticity is not None:
        pdf.authenticity(authenticity, _)
    return bytes(pdf.output())


class _Document(FPDF):
    def __init__(self, font: Path | None) -> None:
        super().__init__(format="A4", unit="mm")
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(auto=True, margin=_MARGIN)
        self.set_compression(True)
        self._unicode = font is not None
        if font is not None:
            self.add_font("body", "", str(font))
            self.add_font("body", "B", str(font))
            self._family = "body"
        else:
            self._family = "helvetica"

    def plain(self, text: str) -> str:
        if self._unicode:
            return text
        return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")

    def font(self, size: float, *, bold: bool = False) -> None:
        self.set_font(self._family, "B" if bold else "", size)

    def watermark(self, word: str) -> None:
        self.font(96, bold=True)
        self.set_text_color(225, 225, 225)
        with self.rotation(angle=55, x=self.w / 2, y=self.h / 2):
            width = self.get_string_width(self.plain(word))
            self.text(self.w / 2 - width / 2, self.h / 2 + 12, self.plain(word))
        self.set_text_color(0, 0, 0)

    def heading(self, paper: PaperCertificate, _: Callable[[str], str]) -> None:
        self.font(_TEXT_SIZE)
        self.cell(0, 5, self.plain(paper.issuer), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.font(14, bold=True)
        self.cell(0, 8, self.plain(_(paper.title)), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.font(11, bold=True)
        number = _("No. %(number)s") % {"number": paper.number}
        self.cell(0, 6, self.plain(number), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.font(_TEXT_SIZE)
        for line in (
            _("Plant protection organisation of %(country)s") % {"country": paper.export_country},
            _("To: plant protection organisation(s) of %(country)s")
            % {"country": paper.import_country},
        ):
            self.cell(0, 5, self.plain(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if paper.replaces:
            self.paragraph(_("Replaces certificate %(number)s") % {"number": paper.replaces})
        self.ln(2)

    def paragraph(self, text: str, *, bold: bool = False) -> None:
        self.font(_TEXT_SIZE, bold=bold)
        self.multi_cell(0, 4.5, self.plain(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def section(self, title: str) -> None:
        self.ln(1.5)
        self.font(10, bold=True)
        self.set_fill_color(230, 236, 232)
        self.cell(0, 6, self.plain(title), fill=True, border=1, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def box(self, label: str, lines: tuple[str, ...]) -> None:
        self.font(_LABEL_SIZE, bold=True)
        self.multi_cell(
            0, 3.8, self.plain(label), border="LTR", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        self.font(_TEXT_SIZE)
        text = "\n".join(lines) if lines else " "
        self.multi_cell(0, 4.5, self.plain(text), border="LBR", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def authenticity(self, check: Authenticity, _: Callable[[str], str]) -> None:
        needed = _QR_SIZE_MM + 6
        if self.get_y() + needed > self.h - _MARGIN:
            self.add_page()
        top = self.get_y() + 3
        self.qr(check.check_url, x=self.w - _MARGIN - _QR_SIZE_MM, y=top)
        self.set_xy(_MARGIN, top)
        width = self.w - 2 * _MARGIN - _QR_SIZE_MM - 4
        self.font(_LABEL_SIZE, bold=True)
        self.multi_cell(
            width,
            3.8,
            self.plain(_("Check that this certificate is authentic: scan the code or open")),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.font(_LABEL_SIZE)
        for line in (
            check.check_url,
            _("Hub delivery number: %(number)s") % {"number": check.hub_delivery_number},
            "SHA-256: " + check.content_sha256,
        ):
            self.multi_cell(width, 3.8, self.plain(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def qr(self, data: str, *, x: float, y: float) -> None:
        """`data` as a QR code (error correction M, quiet zone 2 modules), one rectangle per run
        of dark modules in a row."""
        code = segno.make(data, error="m", micro=False)
        matrix = [list(row) for row in code.matrix]
        quiet = 2
        module = _QR_SIZE_MM / (len(matrix) + 2 * quiet)
        self.set_fill_color(0, 0, 0)
        for r, row in enumerate(matrix):
            c = 0
            while c < len(row):
                if not row[c]:
                    c += 1
                    continue
                start = c
                while c < len(row) and row[c]:
                    c += 1
                self.rect(
                    x + (start + quiet) * module,
                    y + (r + quiet) * module,
                    (c - start) * module,
                    module,
                    style="F",
                )
