"""The root `tracelight` command group and the options every command shares.

Command modules (cli/*_cmd.py) attach their commands to `cli` when imported. `COMMANDS` names
each top-level command's module and first help sentence, so `tracelight --help` and
`--version` import none of them (nor numpy, faiss, sklearn or sqlalchemy): a command's module
is imported when the command runs or shows its own help. tests/test_cli_lazy.py checks the
table against the real commands.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click

from tracelight import __version__, settings

F = TypeVar("F", bound=Callable[..., Any])

# name -> (module under tracelight.cli, the first sentence of the command's help)
COMMANDS: dict[str, tuple[str, str]] = {
    "ads": ("store_cmd", "List stored ads, newest first (or by risk with --sort risk)."),
    "audit": ("web_cmd", "Print the append-only, hash-chained audit log (who did what, when, "
                         "and why)."),
    "author": ("authorship_cmd", "Same-author evidence under the issue's name: `tracelight "
                                 "author train|evaluate|link|show` are `tracelight authorship "
                                 "train|evaluate|link|show`."),
    "authorship": ("authorship_cmd", "Same-author evidence: a stylometric pair model, robust "
                                     "to phone rotation."),
    "bank": ("bank_cmd", "Known-image hash banks (PDQ, MD5, SHA-1, SHA-256 lists) and the "
                         "alerts they raise."),
    "bench": ("bench_cmd", "Measure throughput and memory of each stage on generated data."),
    "btc": ("btc_cmd", "Bitcoin ad-payment tracing: match ads to payments into the ad site's "
                       "wallet, group paying addresses into owners (common-input heuristic), "
                       "and total what each owner spent."),
    "case": ("case_cmd", "Cases: gather ads, networks and identifiers for one investigation."),
    "cluster": ("cluster_cmd", "Batch stages (extract, images, score, link) on Apache Spark or "
                               "Ray, and bulk loading of what they wrote."),
    "crawl": ("crawl_cmd", "Crawl a site profile into WARC evidence, politely, and ingest "
                           "only new and changed ads (`tracelight crawl PROFILE`); `crawl "
                           "check PROFILE URL` shows what a profile reads from one page."),
    "demo": ("quickstart_cmd", "Generate a synthetic corpus, ingest it, link networks and open "
                               "the workspace."),
    "demo-generate": ("demo_cmd", "Generate a synthetic, non-explicit corpus of ads with "
                                  "planted networks into OUT."),
    "demo-site": ("demo_cmd", "Serve a demo corpus as a local ad site on 127.0.0.1, to try "
                              "`tracelight crawl` on; Ctrl-C stops it."),
    "digest": ("digest_cmd", "New ads in watched networks, networks that grew, and watchlist "
                             "hits since a time."),
    "evidence": ("evidence_cmd", "Evidence bundles for prosecutors: captures, entities, "
                                 "networks, custody, hashes."),
    "evaluate": ("score_cmd", "Print ROC AUC, PR AUC and precision@50/@200 on a held-out "
                              "split."),
    "extract": ("extract_cmd", "Read ad records (JSON Lines, CSV, HTML, WARC; - for JSON Lines "
                               "on stdin) and print the entities found in each: phones (E.164, "
                               "de-obfuscated), emails, URLs, social and payment handles, "
                               "crypto addresses, ages, prices, places and names, with spans, "
                               "in input order."),
    "hubs": ("link_cmd", "Identifiers and sentences shared by an implausible number of "
                         "unrelated ads (a site's own phone, boilerplate)."),
    "image": ("images_cmd", "Hash images: SHA-256, MD5, PDQ perceptual hash and quality."),
    "image-search": ("images_cmd", "Ads whose images match or resemble the photo in FILE, "
                                   "closest first, with distances."),
    "ingest": ("store_cmd", "Read ads from PATH... (JSON Lines, CSV, WARC, HTML pages or "
                            "folders, '-' for stdin) into the store."),
    "link": ("link_cmd", "Build or update networks: ads that share contacts, images or a "
                         "template."),
    "networks": ("link_cmd", "List networks with their risk: member ads, phones, emails, "
                             "names, the cities they moved through (first/last dates), and the "
                             "evidence that joins them."),
    "outreach": ("outreach_cmd", "Outreach to possible victims (offers of help, never "
                                 "enforcement) and buyer deterrence."),
    "queue": ("score_cmd", "Ads (and networks, once linked) by risk with their top reasons: "
                           "what to review first."),
    "report": ("report_cmd", "Reports to act on what was found (CyberTipline)."),
    "rescore": ("score_cmd", "Score every stored ad again with corpus statistics (local "
                             "prices, shared phones, movement) and the newest trained model, "
                             "if there is one."),
    "review": ("review_cmd", "Review state of ads and networks: mark, assign, list (shared, "
                             "audited)."),
    "risk": ("risk_cmd", "The risk model learns from review verdicts; an admin promotes a "
                         "better candidate."),
    "rooms": ("rooms_cmd", "Where was this photo taken: match photos against a gallery of "
                           "hotel rooms, and find ads photographed in the same room."),
    "runs": ("store_cmd", "List past ingest runs with their counts, newest first."),
    "search": ("store_cmd", "Find ads by words in their text, or by an identifier (--phone, "
                            "--email, ...)."),
    "serve": ("web_cmd", "Serve the investigator workspace (queue, search, ads, networks, "
                         "cases) in a browser."),
    "settings": ("config_cmd", "Show every setting with its environment variable, default and "
                               "value now in force."),
    "show": ("store_cmd", "Show one ad with the entities found in it (and where), its images "
                          "and revisions."),
    "signals": ("signals_cmd", "Share signals (phones, emails, handles, URLs, image and ad-text "
                               "hashes) with partners."),
    "similar": ("link_cmd", "Ads closest to AD in contacts, images and wording, each with "
                            "its reasons (strong: shared phone/email/handle/image; medium: "
                            "wording/template; weak: style, same name and city within a "
                            "week)."),
    "token": ("web_cmd", "API tokens for integrations (sent as `Authorization: Bearer "
                         "TOKEN`)."),
    "tx": ("tx_cmd", "Follow the money: FinCEN red flags over bank transactions, accounts "
                     "linked to ads, and draft SARs."),
    "train": ("score_cmd", "Train a risk model on labelled ads in the database and save it as "
                           "a new version."),
    "user": ("web_cmd", "Manage workspace users (roles: admin, analyst, viewer, advocate)."),
    "webhook": ("webhook_cmd", "Webhooks: HMAC-signed alerts (watchlist hits, bank matches, "
                               "high-risk networks) sent to a platform's URL, with retries and "
                               "a dead-letter list."),
}


class ClosedPipe(Exception):
    """The reader of stdout went away (`... | head`): click would answer it with status 1."""


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand is used."""

    def __init__(self, *args: Any, lazy: Mapping[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            importlib.import_module(f"tracelight.cli.{self.lazy[cmd_name][0]}")
            if cmd_name not in self.commands:
                raise RuntimeError(f"tracelight.cli.{self.lazy[cmd_name][0]} did not define "
                                   f"the command {cmd_name!r} that cli/app.py COMMANDS names")
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:
            raise ClosedPipe() from exc

    def load_all(self) -> dict[str, click.Command]:
        """Import every command module (docs, tests); returns every command by name."""
        ctx = click.Context(self)
        for name in self.list_commands(ctx):
            self.get_command(ctx, name)
        return dict(self.commands)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the declared help of commands not imported yet."""
        rows: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            cmd = self.commands.get(name) or click.Command(name, help=self.lazy[name][1])
            if not cmd.hidden:
                rows.append((name, cmd))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in rows])


@click.group(cls=LazyGroup, lazy=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="tracelight")
def cli() -> None:
    """tracelight: turn a firehose of ads into a short, explainable, prioritised list of
    possible victims and the networks behind them.

    Every score is a lead for human review, never a finding about a person.
    """


def db_option(func: F) -> F:
    """`--db URL`, defaulting to TRACELIGHT_DB or sqlite:///tracelight.db."""
    return click.option(
        "--db", "db_url", default=lambda: settings.get("db"), show_default="TRACELIGHT_DB or "
        + settings.SETTINGS["db"].default, metavar="URL", help=settings.SETTINGS["db"].help,
    )(func)


ACTOR_HELP = "Who is acting, for the audit log. [default: the OS user]"


def actor_option(help: str = ACTOR_HELP) -> Callable[[F], F]:
    """`--as USER`: who is acting, for the audit log (defaults to the OS user)."""

    def deco(func: F) -> F:
        return click.option("--as", "actor", default=None, metavar="USER", help=help)(func)

    return deco


def format_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    """`--format table|jsonl|csv` for commands that print records."""
    choices = choices or ("table", "jsonl", "csv")

    def deco(func: F) -> F:
        return click.option(
            "--format", "fmt", type=click.Choice(choices), default=default, show_default=True,
            help="table for people; jsonl (one JSON object per line) or csv for pipelines.",
        )(func)

    return deco
