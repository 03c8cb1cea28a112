"""Report output: the same ``ReportData`` written as HTML, PDF (Qt's writer), CSV or JSON.

This package, unlike the domain, may use Qt's GUI classes (QPainter for the timeline picture,
QTextDocument + QPdfWriter for PDF): Qt's own PDF writer means no browser is needed. Qt is
imported only when a picture or a PDF is actually made.
"""
