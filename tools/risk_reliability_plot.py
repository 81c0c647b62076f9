"""Draw the reliability plot of docs/risk.md (an SVG) from `tracelight bench score
--network-labels` runs, and print the figures as Markdown.

    python tools/risk_reliability_plot.py                       # 3,000 and 30,000 ads
    python tools/risk_reliability_plot.py --ads 3000 --out /tmp/r.svg

For each corpus size it generates the demo corpus with network labels (the "evidence" label
rule: about 20% of positive ads carry no indicator of their own), scores it ad-only and
network-aware, calibrates both out of fold (isotonic, tracelight.score.calibration) and plots
mean calibrated score against the observed share of positives per tenth of the score, one
panel per size, a point's area by its number of ads (bins of fewer than MIN_LINE ads hollow,
outside the line); a calibrated score lies on the diagonal.

Plain SVG written here (no plotting library): the chart is a few lines and dots, and text
output keeps the committed figure reviewable in a diff and identical for identical figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from html import escape
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PANEL, PAD, GAP = 300, 46, 30
MIN_LINE = 25  # bins with fewer ads are drawn hollow and left out of the line
SERIES = (("reliability_ad_only", "ad-only, isotonic", "#b45309",
           "ad-only, isotonic (out of fold)"),
          ("reliability", "network-aware, isotonic", "#1d4ed8",
           "network-aware, isotonic (out of fold)"))


def panel_svg(x0: float, run: dict[str, Any]) -> list[str]:
    """One panel: axes, the diagonal, one curve per series, the title and legend."""
    y0 = PAD
    out = [f'<rect x="{x0}" y="{y0}" width="{PANEL}" height="{PANEL}" class="frame"/>']

    def px(v: float) -> float:
        return round(x0 + v * PANEL, 1)

    def py(v: float) -> float:
        return round(y0 + PANEL - v * PANEL, 1)

    for t in range(0, 11, 2):
        v = t / 10
        out.append(f'<line x1="{px(v)}" y1="{py(0)}" x2="{px(v)}" y2="{py(0) + 4}" '
                   'class="tick"/>')
        out.append(f'<text x="{px(v)}" y="{py(0) + 16}" class="lab" '
                   f'text-anchor="middle">{v:.1f}</text>')
        out.append(f'<line x1="{px(0) - 4}" y1="{py(v)}" x2="{px(0)}" y2="{py(v)}" '
                   'class="tick"/>')
        out.append(f'<text x="{px(0) - 7}" y="{py(v) + 4}" class="lab" '
                   f'text-anchor="end">{v:.1f}</text>')
        out.append(f'<line x1="{px(0)}" y1="{py(v)}" x2="{px(1)}" y2="{py(v)}" class="grid"/>')
    out.append(f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(1)}" y2="{py(1)}" class="diag"/>')
    total = max(1, sum(r["ads"] for r in run["reliability"]))
    rows = {r["scorer"]: r for r in run["rows"]}
    for i, (key, label, colour, row_name) in enumerate(SERIES):
        pts = [(r["mean_score"], r["observed"], r["ads"]) for r in run[key] if r["ads"]]
        path = " ".join(f"{px(m)},{py(o)}" for m, o, n in pts if n >= MIN_LINE)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                   'stroke-width="1.5"/>')
        for m, o, n in pts:
            r = round(2 + 10 * (n / total) ** 0.5, 1)
            fill = (f'fill="{colour}" fill-opacity="0.55"' if n >= MIN_LINE
                    else f'fill="none" stroke="{colour}"')
            out.append(f'<circle cx="{px(m)}" cy="{py(o)}" r="{r}" {fill}><title>'
                       f'{escape(label)}: {n} ads, mean score {m:.3f}, observed {o:.3f}'
                       '</title></circle>')
        b = rows.get(row_name, {}).get("brier")
        ly = y0 + PANEL - 40 + 16 * i
        out.append(f'<circle cx="{x0 + PANEL - 190}" cy="{ly - 4}" r="4" fill="{colour}"/>')
        out.append(f'<text x="{x0 + PANEL - 182}" y="{ly}" class="leg">{escape(label)}'
                   + (f", Brier {b:.3f}" if b is not None else "") + "</text>")
    out.append(f'<text x="{x0 + PANEL / 2}" y="{y0 - 10}" class="title" text-anchor="middle">'
               f'{run["ads"]:,} demo ads ({run["labelled"]:,} labelled, '
               f'{run["positive"]:,} positive)</text>')
    out.append(f'<text x="{x0 + PANEL / 2}" y="{y0 + PANEL + 34}" class="lab" '
               'text-anchor="middle">mean calibrated score in the bin</text>')
    return out


def svg(runs: list[dict[str, Any]]) -> str:
    width = PAD + len(runs) * (PANEL + GAP + PAD) - GAP
    height = PAD + PANEL + 66
    body: list[str] = []
    for k, run in enumerate(runs):
        body += panel_svg(PAD + k * (PANEL + GAP + PAD), run)
    body.append(f'<text x="{PAD}" y="{height - 8}" class="lab">Points: tenths of the score '
                f'(area by ads; hollow: under {MIN_LINE} ads). Dashed: 0.7 means 7 in 10. '
                'Out of fold, demo labels.</text>')
    body.append(f'<text x="14" y="{PAD + PANEL / 2}" class="lab" text-anchor="middle" '
                f'transform="rotate(-90 14 {PAD + PANEL / 2})">observed share of positive '
                'ads</text>')
    style = ("<style>.frame{fill:#fff;stroke:#555}.grid{stroke:#e5e7eb}.tick{stroke:#555}"
             ".diag{stroke:#9ca3af;stroke-dasharray:4 3}"
             ".lab{font:11px sans-serif;fill:#333}.leg{font:11px sans-serif;fill:#111}"
             ".title{font:bold 12px sans-serif;fill:#111}</style>")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="Reliability of the '
            f'calibrated risk scores">\n<title>Reliability of the calibrated risk scores on '
            f'the demo labels (out of fold)</title>\n{style}\n'
            f'<rect width="{width}" height="{height}" fill="#fff"/>\n'
            + "\n".join(body) + "\n</svg>\n")


def markdown(runs: list[dict[str, Any]]) -> str:
    cols = ["roc_auc", "precision@50", "precision@200", "precision@1000", "brier"]
    out = []
    for run in runs:
        out.append(f"\n{run['ads']:,} ads: labelled {run['labelled']:,}, positive "
                   f"{run['positive']:,}; positive ads with no indicator of their own "
                   f"{run['positive_no_own_indicator']:,} "
                   f"({run['positive_no_own_indicator'] / max(1, run['positive']):.1%})\n")
        out.append("| scorer | " + " | ".join(cols) + " |")
        out.append("|---|" + "---|" * len(cols))
        for r in run["rows"]:
            out.append(f"| {r['scorer']} | " + " | ".join(f"{r[c]:.3f}" for c in cols) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    from tracelight.bench.score import run_network

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ads", type=int, action="append",
                    help="corpus size (repeatable; default 3000 and 30000)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--label-rule", default="evidence", choices=["drawn", "evidence"])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "risk-reliability.svg")
    ap.add_argument("--json", type=Path, default=None,
                    help="also write the figures (rows and reliability tables) as JSON")
    args = ap.parse_args(argv)
    runs = []
    for n in args.ads or [3000, 30000]:
        runs.append(run_network(n_ads=n, seed=args.seed, label_rule=args.label_rule))
    args.out.write_text(svg(runs), encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1) + "\n", encoding="utf-8")
    print(markdown(runs))
    print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
