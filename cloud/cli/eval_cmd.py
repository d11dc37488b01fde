"""`mallflow eval stitching`: labelled tracklets (from `mallflow eval gt-tracklets`) through the real stitcher."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from shared.cli.plugins import add_json_option, write_json
from shared.config import load_site_config


def register(esub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = esub.add_parser("stitching", help="score cross-camera stitching: global IDF1 and unique-visitor error")
    s.add_argument("--config", required=True, type=Path, help="site YAML (cameras, topology)")
    s.add_argument("--tracklets", required=True, type=Path, help="labelled tracklets JSON (mallflow eval gt-tracklets)")
    s.add_argument("--similarity", type=float, default=None, help="ReID cosine threshold (default: the stitcher's)")
    s.add_argument(
        "--reentry-similarity", type=float, default=None, help="the threshold for same-camera re-entries (same default)"
    )
    add_json_option(s)
    s.set_defaults(handler=_stitching)


def _stitching(args: argparse.Namespace) -> int:
    from cloud.evaluation.stitching import evaluate_stitching
    from cloud.stitching.stitcher import StitchSettings
    from shared.evaluation.labelled_tracklets import LabelledTracklets

    site = load_site_config(args.config)
    settings = StitchSettings()
    if args.similarity is not None:
        settings = replace(settings, min_similarity=args.similarity)
    if args.reentry_similarity is not None:
        settings = replace(settings, reentry_min_similarity=args.reentry_similarity)
    report = evaluate_stitching(site, LabelledTracklets.load(args.tracklets), settings)
    lines = [
        f"{report.tracklets} tracklets of {report.identities} people → {report.visitors} visitors "
        f"(unique-visitor error {report.visitor_error_pct:+.1f} %)",
        f"global IDF1 {report.global_idf1:.1f} (without stitching {report.unstitched_idf1:.1f})",
    ]
    print("\n".join(lines), file=sys.stderr if args.json == "-" else sys.stdout)
    write_json(args.json, report.as_dict())
    return 0
