"""`flywheel export review --cycle KEY --format md`: the whole cycle review as Markdown.

Everything the Slack message has to leave out fits here: every team, every objective with each
key result's computed and final score, and every reflection in full.
"""

from __future__ import annotations

from bot.okrs.checks import fmt_value
from bot.okrs.review import MET, Report, ReviewItem


def _md(text: str) -> str:
    """Plain text safe in Markdown: no accidental tables, headings or HTML."""
    return " ".join((text or "").split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _objective(item: ReviewItem) -> list[str]:
    s = item.state
    o = s.objective
    verdict = "met" if item.met else "missed" if s.krs else "no key results"
    out = [
        f"### {s.ref} {_md(o.title)}",
        "",
        f"Owner {o.owner_id} · team {_md(s.team.name) if s.team else '—'} · "
        f"score **{item.score:.1f}** ({verdict})" + (f" · aligned to O-{o.parent_id}" if o.parent_id else ""),
        "",
    ]
    if s.krs:
        out += [
            "| key result | start | target | current | weight | computed | final |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for k in s.krs:
            kr = k.kr
            final = f"{kr.final_score:.1f}" if kr.final_score is not None else "—"
            out.append(
                f"| {k.ref} {_md(kr.title)} | {_md(fmt_value(kr.start, kr.unit))} | "
                f"{_md(fmt_value(kr.target, kr.unit))} | {_md(fmt_value(kr.current, kr.unit))} | "
                f"{k.weight:.2f} | {k.score:.1f} | {final} |"
            )
        out.append("")
    if s.weights_warning:
        out += [f"> Weights: {_md(s.weights_warning)}", ""]
    r = item.reflection
    if r is not None and (r.worked or r.didnt or r.next):
        for label, text in (("What worked", r.worked), ("What didn't", r.didnt), ("What next", r.next)):
            if text:
                out += [f"**{label}:** {_md(text)}", ""]
    return out


def to_markdown(company: Report, teams: list[Report]) -> str:
    """The company review, then one section per team (each team's objectives in full)."""
    span = company.span
    state = "final" if company.final else "in progress (the cycle has not ended)"
    wrote, owners = company.owners
    lines = [
        f"# Cycle review {span.key}",
        "",
        f"{span.starts_on:%B %-d} – {span.last_day:%B %-d, %Y} · {state}",
        "",
        "## Company",
        "",
        f"- Objectives: {len(company.items)} · key results: {len(company.kr_scores)}",
        f"- Average objective score: {company.average:.2f}",
        f"- Met (score ≥ {MET}): {len(company.met)} · missed: {len(company.missed)}",
        f"- Owners who reviewed: {wrote} of {owners}",
        "",
        "Key result scores:",
        "",
        "| band | meaning | key results |",
        "| --- | --- | ---: |",
        *(f"| {band} | {meaning} | {n} |" for band, meaning, n in company.distribution),
        "",
    ]
    if company.teams:
        lines += ["| team | objectives | met | average |", "| --- | ---: | ---: | ---: |"]
        lines += [
            f"| {_md(t.team.name) if t.team else 'No team'} | {t.objectives} | {t.met} | {t.average:.2f} |"
            for t in company.teams
        ]
        lines.append("")
    top = [i for i in company.items if not i.state.objective.parent_id and i.state.team is None]
    if top:
        lines += ["## Objectives without a team", ""]
        for item in top:
            lines += _objective(item)
    for report in teams:
        assert report.team is not None
        lines += [
            f"## {_md(report.team.name)}",
            "",
            f"{len(report.items)} objectives · average {report.average:.2f} · {len(report.met)} met · "
            f"{len(report.missed)} missed",
            "",
        ]
        for item in report.items:
            lines += _objective(item)
    return "\n".join(lines).rstrip() + "\n"
