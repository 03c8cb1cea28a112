"""PDF through Qt's own writer: QTextDocument laid out on A4 pages by QPdfWriter."""

from __future__ import annotations

from pathlib import Path

from ..application.transfer import atomic_path
from .chart import ensure_gui


def write_pdf(html: str, images: dict[str, bytes], path: Path) -> None:
    ensure_gui()
    from PySide6.QtCore import QMarginsF, QSizeF, QUrl
    from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPdfWriter, QTextDocument

    doc = QTextDocument()
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
                                         QMarginsF(12, 12, 12, 12),
                                         QPageLayout.Unit.Millimeter))
        rect = writer.pageLayout().paintRectPixels(writer.resolution())
        doc.setPageSize(QSizeF(rect.width(), rect.height()))
        doc.print_(writer)
        del writer  # flushes and closes the file
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise OSError(f"Qt could not write the PDF {path}")
