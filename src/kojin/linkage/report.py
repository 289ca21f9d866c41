"""The audit report (総点検の報告書): a CSV of findings and a self-contained HTML page.

The page needs nothing from the network and no JavaScript: its bar charts are
inline SVG drawn here, each with a text equivalent (a table) beside it, and the
text is Japanese first with English after.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from functools import cache
from html import escape
from pathlib import Path
from typing import TextIO

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from kojin.core.files import atomic_write
from kojin.linkage import reasons
from kojin.linkage.audit import FINDING_LABELS, PATH_LABELS, AuditReport, FindingKind, LinkPath

CSV_COLUMNS = (
    "finding",
    "label_ja",
    "agency_id",
    "agency_code",
    "member_ids",
    "resident_ids",
    "account_key",
    "path",
    "detail_ja",
    "detail_en",
)
CSV_NAME = "link-audit.csv"
HTML_NAME = "link-audit.html"


@cache
def environment() -> Environment:
    """The linkage package's Jinja environment (autoescaped)."""
    return Environment(
        loader=PackageLoader("kojin.linkage", "templates"),
        autoescape=select_autoescape(("html",)),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def bar_chart(items: Sequence[tuple[str, int]], *, title: str, width: int = 560, bar_height: int = 22) -> Markup:
    """A horizontal bar chart as inline SVG, labelled and titled for screen readers."""
    label_width = 250
    plot = width - label_width - 60
    top = max((value for _, value in items), default=0) or 1
    height = bar_height * max(len(items), 1) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(items):
        y = 5 + i * bar_height
        length = round(plot * value / top)
        parts.append(
            f'<text x="{label_width - 8}" y="{y + bar_height * 0.65:.1f}" text-anchor="end" font-size="13">'
            f"{escape(label)}</text>"
            f'<rect x="{label_width}" y="{y + 3}" width="{length}" height="{bar_height - 6}" fill="#1f5fa8"/>'
            f'<text x="{label_width + length + 6}" y="{y + bar_height * 0.65:.1f}" font-size="13">{value:,}</text>'
        )
    if not items:
        parts.append(f'<text x="10" y="20" font-size="13">{escape("該当なし (none)")}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def render_html(report: AuditReport, *, limit: int = 2000) -> str:
    counts = report.counts()
    kinds = [(f"{FINDING_LABELS[k][0]}", counts[k]) for k in FindingKind]
    agencies = list(report.by_agency().items())
    by_path = report.by_path()
    return (
        environment()
        .get_template("audit_report.html")
        .render(
            report=report,
            counts=counts,
            labels=FINDING_LABELS,
            kinds=list(FindingKind),
            kind_chart=bar_chart(kinds, title="種類別の件数 (findings by kind)"),
            agency_chart=bar_chart(agencies, title="機関別の件数 (findings by agency)"),
            agencies=agencies,
            paths=list(LinkPath),
            path_labels=PATH_LABELS,
            by_path=by_path,
            path_chart=bar_chart(
                [(PATH_LABELS[p][0], by_path[p][0]) for p in LinkPath], title="経路別の点検件数 (checked by path)"
            ),
            findings=report.findings[:limit],
            shown=min(limit, len(report.findings)),
        )
    )


def write_report(report: AuditReport, directory: Path) -> tuple[Path, Path]:
    """Write ``link-audit.csv`` and ``link-audit.html`` into ``directory``; returns both paths."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise reasons.AUDIT_OUT.error(directory=directory, strerror=exc.strerror) from None
    csv_path, html_path = directory / CSV_NAME, directory / HTML_NAME

    def write_csv(handle: TextIO) -> None:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for f in report.findings:
            writer.writerow(
                (
                    f.kind.value,
                    f.label[0],
                    f.agency_id,
                    f.agency_code,
                    ";".join(f.member_ids),
                    ";".join(str(r) for r in f.resident_ids),
                    f.account_key,
                    f.path,
                    f.detail_ja,
                    f.detail_en,
                )
            )

    html = render_html(report)
    atomic_write(csv_path, write_csv)
    atomic_write(html_path, lambda handle: handle.write(html))
    return csv_path, html_path
