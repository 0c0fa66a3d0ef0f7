"""Tiny inline-SVG charts written by hand, so the report has no plotting dependency and opens
offline. Every label passes through `html.escape` (the data is untrusted: an instruction can
contain ``</svg><script>``)."""

from __future__ import annotations

from html import escape
from typing import Sequence

from curator.i18n import tr

PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2")
# CJK fonts named explicitly: SVG text does not always inherit the page's fallback chain
_FONT = ("font-family=\"system-ui,'Noto Sans CJK SC','PingFang SC','Microsoft YaHei','WenQuanYi Micro Hei',"
         "sans-serif\" font-size=\"11\"")


def _fmt(v: float) -> str:
    if v >= 1_000_000:
        return f"{v / 1_000_000:.1f}M"
    if v >= 10_000:
        return f"{v / 1000:.0f}k"
    return f"{v:g}" if isinstance(v, float) else str(v)


def histogram(bins: Sequence[tuple[str, float]], *, title: str = "", width: int = 560, height: int = 200,
              color: str = PALETTE[0], xlabel: str = "") -> str:
    """Vertical bars, one per (label, count), labels under the bars (rotated when crowded)."""
    if not bins:
        return '<p class="empty">{tr("no data")}</p>'
    top = max(c for _, c in bins) or 1
    left, right, head, foot = 40, 10, 22 if title else 8, 52
    plot_w, plot_h = width - left - right, height - head - foot
    bw = plot_w / len(bins)
    rotate = max(len(str(lab)) for lab, _ in bins) * 6.5 > bw - 4  # labels would overlap
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" {_FONT}>']
    if title:
        out.append(f'<text x="{left}" y="14" font-weight="600" font-size="12">{escape(tr(title))}</text>')
    out.append(f'<line x1="{left}" y1="{head + plot_h}" x2="{width - right}" y2="{head + plot_h}" stroke="#888"/>')
    out.append(f'<text x="{left - 4}" y="{head + 8}" text-anchor="end" fill="#555">{_fmt(top)}</text>')
    out.append(f'<text x="{left - 4}" y="{head + plot_h}" text-anchor="end" fill="#555">0</text>')
    for i, (label, c) in enumerate(bins):
        h = plot_h * c / top
        x = left + i * bw
        y = head + plot_h - h
        out.append(f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(bw - 2, 1):.1f}" height="{h:.1f}" fill="{color}">'
                   f'<title>{escape(str(label))}: {c}</title></rect>')
        cx = x + bw / 2
        ly = head + plot_h + 12
        if rotate:
            out.append(f'<text x="{cx:.1f}" y="{ly}" text-anchor="end" transform="rotate(-45 {cx:.1f} {ly})" '
                       f'fill="#333">{escape(str(label))}</text>')
        else:
            out.append(f'<text x="{cx:.1f}" y="{ly}" text-anchor="middle" fill="#333">{escape(str(label))}</text>')
    if xlabel:
        out.append(f'<text x="{left + plot_w / 2:.0f}" y="{height - 4}" text-anchor="middle" fill="#555">'
                   f'{escape(xlabel)}</text>')
    out.append("</svg>")
    return "".join(out)


def hbars(items: Sequence[tuple[str, float]], *, title: str = "", width: int = 560, color: str = PALETTE[0],
          total: float | None = None, label_w: int = 150) -> str:
    """Horizontal bars for top-N lists (first words, sources, reasons); share of `total` if given."""
    if not items:
        return f'<p class="empty">{tr("none")}</p>'
    row, head = 18, 22 if title else 4
    height = head + row * len(items) + 6
    top = max(c for _, c in items) or 1
    plot_w = width - label_w - 95  # room for "12345 (100%)" after the longest bar
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" {_FONT}>']
    if title:
        out.append(f'<text x="4" y="14" font-weight="600" font-size="12">{escape(tr(title))}</text>')
    for i, (label, c) in enumerate(items):
        y = head + i * row
        text = str(label)
        text = text if len(text) <= 24 else text[:23] + "…"
        w = plot_w * c / top
        share = f" ({c / total:.0%})" if total else ""
        out.append(f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end" fill="#333">{escape(text)}</text>')
        out.append(f'<rect x="{label_w}" y="{y + 2}" width="{max(w, 1):.1f}" height="{row - 5}" fill="{color}">'
                   f'<title>{escape(str(label))}: {c}</title></rect>')
        out.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 12}" fill="#555">{_fmt(c)}{share}</text>')
    out.append("</svg>")
    return "".join(out)


def share_bar(parts: Sequence[tuple[str, float]], *, width: int = 560) -> str:
    """One stacked 100% bar with a legend (language mix, reasoning vs not)."""
    total = sum(c for _, c in parts)
    if not total:
        return '<p class="empty">{tr("no data")}</p>'
    h = 22
    legend_rows = (len(parts) + 3) // 4
    height = h + 8 + 16 * legend_rows
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" {_FONT}>']
    x = 0.0
    for i, (label, c) in enumerate(parts):
        w = width * c / total
        color = PALETTE[i % len(PALETTE)]
        out.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{h}" fill="{color}">'
                   f'<title>{escape(str(label))}: {c} ({c / total:.1%})</title></rect>')
        x += w
    for i, (label, c) in enumerate(parts):
        lx, ly = (i % 4) * (width / 4), h + 8 + (i // 4) * 16
        out.append(f'<rect x="{lx:.0f}" y="{ly}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>')
        text = str(label) if len(str(label)) <= 18 else str(label)[:17] + "…"
        out.append(f'<text x="{lx + 14:.0f}" y="{ly + 9}" fill="#333">{escape(text)} {c / total:.1%}</text>')
    out.append("</svg>")
    return "".join(out)
