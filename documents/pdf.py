"""A `documents.letters.Document` drawn as PDF bytes, with the centre's letterhead.

Library: fpdf2 (maintained, pure Python; LGPL-3.0): it embeds a subset of a TrueType font, so
every language's letters print, and with uharfbuzz it shapes text, so Arabic letters join and
lines run right to left. The font is bundled (`documents/fonts/`, DejaVu Sans, free licence
in LICENSE.txt): a machine with no font installed draws the same document.

Imported only where a PDF is made (fpdf2 and Pillow take a while to import)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from documents.letters import Block, Document

FONT_DIR = Path(__file__).parent / "fonts"
FONT = "DejaVu"
INK = (33, 37, 41)
ACCENT = (122, 26, 61)  # the centre's burgundy, for the letterhead's rule and headings
MUTED = (90, 90, 90)


class _Page(FPDF):
    def __init__(self, document: Document, logo: Path | None) -> None:
        super().__init__(format="A4", unit="mm")
        self.document = document
        self.logo = logo
        self.align = "R" if document.rtl else "L"

    def header(self) -> None:
        doc = self.document
        top = self.get_y()
        if self.logo is not None:
            x = self.w - self.r_margin - 22 if not doc.rtl else self.l_margin
            self.image(str(self.logo), x=x, y=top, h=18)
        self.set_text_color(*ACCENT)
        self.set_font(FONT, "B", 12)
        self.multi_cell(0, 6, doc.header[0], align=self.align, new_x=XPos.LMARGIN)
        self.set_text_color(*MUTED)
        self.set_font(FONT, "", 8.5)
        for line in doc.header[1:]:
            self.multi_cell(0, 4.2, line, align=self.align, new_x=XPos.LMARGIN)
        self.set_draw_color(*ACCENT)
        self.set_line_width(0.6)
        y = self.get_y() + 2
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.set_y(y + 6)
        self.set_text_color(*INK)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_draw_color(*MUTED)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*MUTED)
        self.cell(0, 6, self.document.footer, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.cell(0, 4, str(self.page_no()), align="C")


def render(document: Document, logo: Path | None = None) -> bytes:
    """The document as a PDF (A4), in its language and direction."""
    pdf = _Page(document, logo)
    pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    if document.rtl:  # Arabic: joined letters, right to left (harfbuzz); Latin needs no shaping
        pdf.set_text_shaping(use_shaping_engine=True, direction="rtl", language=document.language)
    pdf.set_lang(document.language)
    pdf.set_title(document.title)
    pdf.set_author(document.author)
    pdf.set_creator("CICIE")
    if document.on is not None:  # the same document twice is the same bytes
        pdf.set_creation_date(datetime.combine(document.on, time(12), tzinfo=UTC))
    pdf.set_margins(20, 16, 20)
    pdf.set_auto_page_break(auto=True, margin=22)
    pdf.add_page()
    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(0, 8, document.title, align=pdf.align, new_x=XPos.LMARGIN)
    pdf.ln(3)
    for block in document.blocks:
        _block(pdf, block)
    return bytes(pdf.output())


def _block(pdf: _Page, block: Block) -> None:
    align = pdf.align
    if block.kind == "dateline":
        pdf.set_font(FONT, "", 10)
        pdf.multi_cell(0, 5.5, block.text, align="L" if pdf.document.rtl else "R")
        pdf.ln(3)
    elif block.kind == "heading":
        pdf.ln(2)
        pdf.set_font(FONT, "B", 12)
        pdf.set_text_color(*ACCENT)
        pdf.multi_cell(0, 7, block.text, align=align, new_x=XPos.LMARGIN)
        pdf.set_text_color(*INK)
        pdf.ln(1)
    elif block.kind == "subheading":
        pdf.ln(1)
        pdf.set_font(FONT, "B", 10.5)
        pdf.multi_cell(0, 6, block.text, align=align, new_x=XPos.LMARGIN)
    elif block.kind in ("rows", "costs"):
        _rows(pdf, block, 0.62 if block.kind == "costs" else 0.3)
        pdf.ln(2)
    elif block.kind == "bullets":
        pdf.set_font(FONT, "", 10)
        for text, _ in block.rows:
            pdf.multi_cell(0, 5.5, f"• {text}", align=align, new_x=XPos.LMARGIN)
        pdf.ln(1)
    elif block.kind == "signature":
        pdf.ln(10)
        pdf.set_font(FONT, "B", 10)
        for i, (text, _) in enumerate(block.rows):
            if i == 1:
                pdf.set_font(FONT, "", 9.5)
            pdf.multi_cell(0, 5.2, text, align=align, new_x=XPos.LMARGIN)
    elif block.kind == "note":
        pdf.ln(2)
        pdf.set_font(FONT, "", 8.5)
        pdf.set_text_color(*MUTED)
        pdf.multi_cell(0, 4.5, block.text, align=align, new_x=XPos.LMARGIN)
        pdf.set_text_color(*INK)
    else:  # para
        pdf.set_font(FONT, "", 10)
        pdf.multi_cell(0, 5.2, block.text, align="J" if align == "L" else align)
        pdf.ln(2)


def _rows(pdf: _Page, block: Block, share: float) -> None:
    """Label and value side by side (the label first in the reading direction); the label
    takes `share` of the width."""
    width = pdf.w - pdf.l_margin - pdf.r_margin
    label_w = width * share
    for label, value in block.rows:
        y = pdf.get_y()
        if pdf.document.rtl:
            label_x, value_x = pdf.l_margin + width - label_w, pdf.l_margin
        else:
            label_x, value_x = pdf.l_margin, pdf.l_margin + label_w
        pdf.set_xy(label_x, y)
        pdf.set_font(FONT, "B" if share < 0.5 else "", 9.5)
        pdf.multi_cell(label_w, 5, label, align=pdf.align)
        after_label = pdf.get_y()
        pdf.set_xy(value_x, y)
        pdf.set_font(FONT, "", 9.5)
        pdf.multi_cell(width - label_w, 5, value, align=pdf.align)
        pdf.set_xy(pdf.l_margin, max(after_label, pdf.get_y()))
