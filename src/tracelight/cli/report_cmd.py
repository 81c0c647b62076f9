"""`tracelight report cybertip CASE`: a CyberTipline-ready report (XML in NCMEC's schema, with
a summary for the web form); `--submit` sends it through the Reporting API, only when asked."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import click

from tracelight.cli.app import actor_option, cli, db_option
from tracelight.cli.common import parse_when, store_from
from tracelight.report.cybertip import DEFAULT_INCIDENT, INCIDENT_TYPES


@cli.group()
def report() -> None:
    """Reports to act on what was found (CyberTipline)."""


@report.command("cybertip")
@click.argument("case_id", type=int)
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Where the report XML goes; REPORT.summary.md and REPORT.files/ (image "
                   "fileDetails, hashes only) are written beside it.")
@click.option("--incident-type", type=click.Choice(INCIDENT_TYPES), default=DEFAULT_INCIDENT,
              show_default=True, help="NCMEC's incident type.")
@click.option("--incident-date", default=None, metavar="WHEN",
              help="When it happened (ISO 8601). [default: the earliest posting date]")
@click.option("--reporter-email", default=None,
              help="The reporting person's email. [default: TRACELIGHT_REPORTER_EMAIL]")
@click.option("--reporter-name", default=None,
              help="The reporting person's name. [default: TRACELIGHT_REPORTER_NAME]")
@click.option("--victim-first-name", default="", help="Only when the analyst knows one.")
@click.option("--victim-last-name", default="")
@click.option("--victim-age", type=click.IntRange(0, 129), default=None)
@click.option("--victim-email", default="")
@click.option("--victim-phone", default="", help="E.164, e.g. +12065550143.")
@click.option("--note", default="", help="Additional information for NCMEC.")
@click.option("--escalate", is_flag=True, help="Ask NCMEC to treat it as high priority.")
@click.option("--submit", is_flag=True,
              help="Send the report through the Reporting API (TRACELIGHT_NCMEC_URL, "
                   "TRACELIGHT_NCMEC_USER and the password variable). Without it: a dry run "
                   "that only writes files.")
@click.option("--password-env", default="TRACELIGHT_NCMEC_PASSWORD", show_default=True,
              help="Environment variable holding the Reporting API password.")
@actor_option()
@db_option
def cybertip(case_id: int, out: Path, incident_type: str, incident_date: str | None,
             reporter_email: str | None, reporter_name: str | None, victim_first_name: str,
             victim_last_name: str, victim_age: int | None, victim_email: str,
             victim_phone: str, note: str, escalate: bool, submit: bool, password_env: str,
             actor: str | None, db_url: str) -> None:
    """Write case CASE_ID as a CyberTipline report, validated against NCMEC's schema.

    The advertiser's contact identifiers are reported as the person or user reported; a
    possible victim only when given with --victim-*. Images go as hashes, never bytes.
    Nothing is sent unless --submit is given.
    """
    from tracelight import settings
    from tracelight.report.cybertip import CybertipOptions, Person
    from tracelight.services.cases import actor_name, audit
    from tracelight.services.reports import reporter_from_settings, write_report

    when: datetime | None = parse_when(incident_date, "--incident-date")
    victim = Person(victim_first_name.strip(), victim_last_name.strip(), victim_email.strip(),
                    victim_phone.strip(), victim_age)
    options = CybertipOptions(reporter=reporter_from_settings(reporter_email, reporter_name),
                              incident_type=incident_type, incident_at=when,
                              victim=None if victim.empty else victim, additional_info=note,
                              escalate=escalate)
    who = actor_name(actor)
    api = None
    if submit:  # a misconfigured submission fails before anything is written
        from tracelight.services.ncmec_api import ReportingApi

        api = ReportingApi(settings.get("ncmec_url"), settings.get("ncmec_user"),
                           os.environ.get(password_env, ""))
    with store_from(db_url) as store:
        prepared = write_report(store, case_id, who, options, out)
        for w in prepared.written:
            click.echo(f"{w.sha256}  {w.path}")
        r = prepared.report
        click.echo(f"valid against NCMEC's schema: {len(r.urls)} web page(s), "
                   f"{len(r.phones)} phone(s), {r.reported} person/user reported, "
                   f"{len(r.files)} fileDetails (hashes only), victim "
                   f"{'given by the analyst' if options.victim else 'none'}", err=True)
        if api is None:
            click.echo("dry run: nothing was sent (--submit sends it through the Reporting "
                       "API)", err=True)
            return
        from tracelight.services.ncmec_api import submit_report

        try:
            sub = submit_report(api, r.xml)
        except Exception as exc:
            audit(store, who, "report.submit_failed", f"case {case_id}",
                  {"endpoint": api.base, "error": str(exc)[:500]})
            raise
        audit(store, who, "report.submit", f"case {case_id}",
              {"endpoint": api.base, "report_id": sub.report_id, "finished": sub.finished,
               "sha256": prepared.written[0].sha256})
        for step in sub.steps:
            click.echo(step, err=True)
        click.echo(f"submitted: NCMEC report id {sub.report_id}")
