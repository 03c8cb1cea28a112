"""PDF through Qt's own writer: the report's HTML laid out by QTextDocument on A4 pages, each
painted by hand so that it carries a footer (the report, the store, "Page X of Y").

Qt's rich text honours ``page-break-before`` but not ``page-break-after: avoid`` nor
``page-break-inside: avoid``, so headings are kept with their content after layout: a heading
whose first lines of content would fall on the next page gets a page break before it, and the
layout is asked again (``keep_headings_with_content``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..application.transfer import atomic_path
from .chart import ensure_gui

if TYPE_CHECKING:
    from PySide6.QtGui import QTextBlock, QTextDocument

FOOTER_PX = 30
"""Room under each page's text for its footer (at 96 dpi)."""
KEEP_PX = 60
"""How much of a heading's content (about two lines or table rows) must share its page."""


def write_pdf(html: str, images: dict[str, bytes], path: Path, footer: str = "") -> int:
    """Write the PDF; returns its number of pages."""
    ensure_gui()
    from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt, QUrl
    from PySide6.QtGui import (
        QColor,
        QFont,
        QImage,
        QPageLayout,
        QPageSize,
        QPainter,
        QPdfWriter,
        QTextDocument,
    )

    doc = QTextDocument()
    # Without ligatures: "first" is copied and searched as typed, not with the glyph "ﬁ".
    plain_font = QFont("DejaVu Sans")
    plain_font.setFeature(QFont.Tag("liga"), 0)
    doc.setDefaultFont(plain_font)
    for name, data in images.items():
        # PySide6 6.11's stub types the format as bytes; the binding refuses bytes, takes str
        image = QImage.fromData(data, "PNG")  # type: ignore[arg-type]
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
    doc.setHtml(html)
    with atomic_path(Path(path)) as tmp:
        writer = QPdfWriter(str(tmp))
        writer.setTitle("esaudit audit report")
        writer.setCreator("esaudit")
        writer.setResolution(96)
        writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4),
                                         QPageLayout.Orientation.Landscape,
                                         QMarginsF(12, 10, 12, 8),
                                         QPageLayout.Unit.Millimeter))
        rect = writer.pageLayout().paintRectPixels(writer.resolution())
        width, height = float(rect.width()), float(rect.height() - FOOTER_PX)
        doc.setPageSize(QSizeF(width, height))
        if keep_headings_with_content(doc, height):
            # laid out again whole: after the breaks, Qt's incremental layout leaves what
            # follows a long table undrawn
            doc.markContentsDirty(0, doc.characterCount())
        pages = doc.pageCount()
        font = QFont(plain_font)
        font.setPointSizeF(7.5)
        painter = QPainter(writer)
        try:
            for i in range(pages):
                if i:
                    writer.newPage()
                painter.save()
                painter.translate(0, -i * height)
                doc.drawContents(painter, QRectF(0, i * height, width, height))
                painter.restore()
                painter.setFont(font)
                painter.setPen(QColor("#666"))
                line = QRectF(4, height + 8, width - 8, FOOTER_PX - 8)
                painter.drawLine(line.topLeft(), line.topRight())
                painter.drawText(line, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 footer)
                painter.drawText(line, Qt.AlignmentFlag.AlignRight
                                 | Qt.AlignmentFlag.AlignVCenter, f"Page {i + 1} of {pages}")
        finally:
            painter.end()
        del writer  # flushes and closes the file
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise OSError(f"Qt could not write the PDF {path}")
    return pages


def keep_headings_with_content(doc: QTextDocument, page_height: float) -> int:
    """Put a page break before each heading whose content would begin on a later page than
    the heading itself (an orphan heading); returns how many breaks were put."""
    from PySide6.QtGui import QTextBlockFormat, QTextCursor

    layout = doc.documentLayout()
    breaks = 0
    block = doc.begin()
    while block.isValid():
        if block.blockFormat().headingLevel() > 0:
            top = layout.blockBoundingRect(block).top()
            page = int(top // page_height)
            if top - page * page_height > 1 and _content_end(doc, block) // page_height > page:
                fmt = block.blockFormat()
                fmt.setPageBreakPolicy(QTextBlockFormat.PageBreakFlag.PageBreak_AlwaysBefore)
                QTextCursor(block).setBlockFormat(fmt)
                breaks += 1
        block = block.next()
    return breaks


def _content_end(doc: QTextDocument, heading: QTextBlock) -> float:
    """Where the first ``KEEP_PX`` of what follows a heading end: the bottom of the last line
    that must share the heading's page. A heading that follows at once (a section's first
    subsection) is kept with its own content too."""
    layout = doc.documentLayout()
    rect = layout.blockBoundingRect(heading)
    reach = rect.bottom() + KEEP_PX
    end = rect.bottom()
    block = heading.next()
    while block.isValid() and end < reach:
        r = layout.blockBoundingRect(block)
        lines = block.layout()
        if block.blockFormat().headingLevel() > 0:
            reach = r.bottom() + KEEP_PX
            end = r.bottom()
        elif lines.lineCount():
            first = lines.lineAt(0)
            end = max(end, r.top() + first.y() + first.height())
        block = block.next()
    return end
