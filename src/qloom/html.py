"""HTML tables for notebooks (``_repr_html_`` of :class:`qloom.ir.HWGraph` and
:class:`qloom.api.Build`): every cell escaped, one ``<tr>`` per row in ``<tbody>``."""
from __future__ import annotations

from html import escape


def table(head: list[str], rows: list[list], caption: str | None = None) -> str:
    """An HTML ``<table>``: ``head`` the column names (``<thead>``), ``rows`` one list of
    cells per body row (any values, shown with ``str`` and escaped), ``caption`` on top."""
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    th = "".join(f"<th>{escape(str(h))}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="qloom">{cap}<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'
