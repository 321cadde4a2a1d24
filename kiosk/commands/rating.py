"""`tdp rating add --service S --score 1..4 [--reason R]`: record an anonymous satisfaction rating."""
from __future__ import annotations

from kiosk.reports import ratings


def register(cli) -> None:
    group = cli.group("rating", help="anonymous satisfaction ratings (the kiosk's face buttons)")
    p = group.command("add", _add, json=True,
                      help="record one rating: 1 Rất hài lòng, 2 Hài lòng, 3 Bình thường, 4 Chưa hài lòng")
    p.add_argument("--service", required=True, help=f"the service rated: {', '.join(ratings.SERVICES)}")
    p.add_argument("--score", required=True, help="1 to 4")
    p.add_argument("--reason", help=f"for score 4 only: {', '.join(ratings.REASONS)}")


def _add(ctx):
    a = ctx.args
    score = int(a.score) if a.score.strip().isdigit() else a.score
    stored = ratings.add(ctx.store, ctx.config, a.service, score, a.reason)
    ctx.emit(stored, f"rating recorded: {ratings.SERVICES[stored['service']]} – {stored['label']}")
