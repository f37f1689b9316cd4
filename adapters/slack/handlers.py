"""What the bot does with each Slack payload. `HANDLERS` maps payload types to handlers in one table.

Every handler acknowledges first. Slash commands and clicks then continue in a background task (so the
ack goes out in milliseconds and modals open right after it, while the trigger id is fresh). Modal
submissions do their (fast, local) work before the ack, because that is the only way to show errors
beside the fields.

What a request offers and which form an action asks for come from the core (`IntakeService.open_form`,
`IntakeService.act`); this module only renders them (blocks.py) and carries what was typed back.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError

from bot import forms
from bot.domain import Absence, Actor, Language, Notice, RequestRecord, RequestStatus, Source
from bot.errors import FormInvalid, IntakeError, InvalidInput, StorageUnavailable
from bot.messages import letter_text, receipt, request_line, scope_summary
from bot.review import Action, Viewer, review_view
from bot.text import Day, Items, Phrase, language_for, t, t_rich

from . import blocks as bk
from .context import SLACK_FAILURES, SlackContext, log
from .intake import Accepted, accept_request
from .translate import (
    PLATFORM,
    actor_from_user,
    errors_for,
    event_key,
    load_metadata,
    message_source,
    parse_project_prefix,
    user_id_of,
    view_values,
)
from .workspace import refuse

REQUEST_COMMAND = "/request"

Ack = Callable[..., Awaitable[Any]]
Handler = Callable[[SlackContext, dict[str, Any], Ack], Awaitable[None]]


# --- slash commands -----------------------------------------------------------------------------


async def on_request_command(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
    """`/request TEXT` records a request; `/request` alone opens the intake form. (Over HTTP the route
    calls `after_request_accepted` itself, without bolt; this listener serves Socket Mode.)"""
    accepted = await accept_request(ctx, body, signature=None)
    await ack()
    after_request_accepted(ctx, body, accepted)


def after_request_accepted(ctx: SlackContext, body: dict[str, Any], accepted: Accepted) -> None:
    """What follows the acknowledgement of a `/request`: the intake form, or the apology when the
    database could not take it (recording itself is already queued)."""
    if accepted is Accepted.OPEN_FORM:
        slug, _ = parse_project_prefix(str(body.get("text") or ""))
        ctx.spawn(
            open_intake_modal(
                ctx, body["trigger_id"], user_id_of(body), channel=body.get("channel_id"), slug=slug, text=""
            ),
            name="intake-modal",
        )
    elif accepted in (Accepted.UNAVAILABLE, Accepted.FAILED):
        key = "slack.not_recorded" if accepted is Accepted.UNAVAILABLE else "slack.not_recorded_error"

        async def apologise() -> None:
            actor = await ctx.actor(user_id_of(body))
            lang = await ctx.language(actor)
            await ctx.respond(body["response_url"], text=t(lang, key))

        ctx.spawn(apologise(), name="request")


async def open_intake_modal(
    ctx: SlackContext,
    trigger_id: str,
    user_id: str,
    *,
    channel: str | None,
    slug: str | None,
    text: str,
    message_ts: str | None = None,
    thread_ts: str | None = None,
) -> None:
    actor = await ctx.actor(user_id)
    meta = {"channel": channel, "slug": slug, "ts": message_ts, "thread": thread_ts}
    lang = await ctx.language(actor)
    try:
        projects = await ctx.service.projects()
        try:
            project = await ctx.service.resolve_project(actor, slug=slug, channel=channel)
            chosen: str | None = project.slug
            lang = language_for(project, actor)
        except InvalidInput:
            chosen = None
        spec = forms.intake_form(lang, projects=projects, chosen=chosen, text=text)
        view = bk.form_modal(spec, callback_id=bk.INTAKE_VIEW, metadata=meta)
    except StorageUnavailable:
        view = bk.message_modal(t(lang, "slack.not_available"), t(lang, "slack.unavailable"), lang)
    except IntakeError as exc:
        view = bk.message_modal(t(lang, "slack.cannot_record"), exc.say(lang), lang)
    await _open(ctx, trigger_id, view, user_id, channel, lang)


async def on_scope_command(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
    """`/scope [@project]`: the project's scope, shown to the asker only."""
    await ack()

    async def work() -> None:
        actor = await ctx.actor(user_id_of(body))
        slug, _ = parse_project_prefix(body.get("text", ""))
        try:
            project = await ctx.service.resolve_project(actor, slug=slug, channel=body.get("channel_id"))
        except StorageUnavailable:
            await ctx.respond(body["response_url"], text=t(await ctx.language(actor), "slack.unavailable"))
            return
        except IntakeError as exc:
            await ctx.respond(body["response_url"], text=exc.say(await ctx.language(actor)))
            return
        lang = language_for(project, actor)
        await ctx.respond(
            body["response_url"],
            text=scope_summary(project, lang),
            blocks=bk.scope_blocks(project, lang),
        )

    ctx.spawn(work(), name="scope")


async def on_requests_command(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
    """`/requests [@project]`: the open requests of the channel's project (or of every project)."""
    await ack()

    async def work() -> None:
        actor = await ctx.actor(user_id_of(body))
        slug, _ = parse_project_prefix(body.get("text", ""))
        try:
            # Only the oldest open requests that one message shows are read, and how many there are.
            found = await ctx.service.open_requests(actor, slug=slug, channel=body.get("channel_id"), limit=LIST_SHOWN)
        except StorageUnavailable:
            await ctx.respond(body["response_url"], text=t(await ctx.language(actor), "slack.unavailable"))
            return
        except IntakeError as exc:
            await ctx.respond(body["response_url"], text=exc.say(await ctx.language(actor)))
            return
        if found.project is not None:
            lang = language_for(found.project, actor)
            title = t(lang, "list.open_in", project=found.project.name)
        else:
            lang = await ctx.language(actor, house=found.house_language)
            title = t(lang, "list.open_all")
        recs, more = found.requests, found.total - len(found.requests)
        zones = {p.slug: p.timezone for p in found.projects}
        now = ctx.service.clock.now()
        blocks = bk.request_list_blocks(title, recs, lang, now=now, zones=zones, more=more)
        lines = [request_line(r, lang, tz=zones.get(r.project, "UTC"), now=now) for r in recs]
        if more > 0:
            lines.append(t(lang, "list.more", n=more))
        text = "\n".join(lines) or t(lang, "list.none_open")
        await ctx.respond(body["response_url"], text=f"{title}\n{text}", blocks=blocks)

    ctx.spawn(work(), name="requests")


# --- /intake: away with a delegate, and back ----------------------------------------------------

INTAKE_COMMAND = "/intake"
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
AWAY_WORDS = ("away", "外出")
BACK_WORDS = ("back", "回来")


async def on_intake_command(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
    """`/intake away YYYY-MM-DD @someone`: a PM is away until that day and someone stands in for them;
    `/intake back` ends it early; `/intake` alone says whether you are away."""
    await ack()

    async def work() -> None:
        actor = await ctx.actor(user_id_of(body))
        lang = await ctx.language(actor)
        try:
            text = await intake_command(ctx, body, actor, lang)
        except StorageUnavailable:
            text = bk.escape(t(lang, "slack.unavailable"))
        except IntakeError as exc:
            text = bk.escape(exc.say(lang))
        ctx.wake()
        await ctx.respond(body["response_url"], text=text, mrkdwn=True)

    ctx.spawn(work(), name="intake")


async def intake_command(ctx: SlackContext, body: dict[str, Any], actor: Actor, lang: Language) -> str:
    """What `/intake …` does, and what to tell the person (Slack's own mrkdwn: mentions stay mentions)."""
    words = str(body.get("text") or "").split()
    verb = words[0].lower() if words else ""
    if verb in BACK_WORDS and len(words) == 1:
        absence = await ctx.service.end_away(actor)
        return await _away_text(ctx, lang, "away.back", absence)
    if verb in AWAY_WORDS:
        if len(words) != 3:
            raise InvalidInput(t(lang, "away.usage.slack"))
        until = _parse_day(words[1], lang)
        delegate = await _delegate(ctx, body, words[2], actor, lang)
        absence = await ctx.service.set_away(actor, until=until, delegate=delegate)
        hint = t(lang, "away.back_hint", command="`/intake back`")
        return await _away_text(ctx, lang, "away.set", absence) + "\n" + hint
    if not verb:
        running = await ctx.service.away(actor)
        if running is None:
            return t(lang, "away.not_away", command="`/intake away YYYY-MM-DD @someone`")
        return await _away_text(ctx, lang, "away.status", running)
    return t(lang, "slack.intake_help")


async def _away_text(ctx: SlackContext, lang: Language, key: str, absence: Absence) -> str:
    """An absence message, with the PM and their delegate mentioned."""
    projects = [p.name for p in await ctx.service.projects() if p.is_pm(absence.person)]
    segments = t_rich(
        lang, key, pm=absence.person, delegate=absence.delegate, until=Day(absence.until), projects=Items(projects)
    )
    return bk.rich(segments)


def _parse_day(text: str, lang: Language) -> date:
    try:
        if not _DATE.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(Phrase("err.away_bad_date", text=text)) from None


async def _delegate(ctx: SlackContext, body: dict[str, Any], word: str, actor: Actor, lang: Language) -> Actor:
    """The person a mention names, if Slack knows them and they are in this workspace."""
    m = _MENTION.fullmatch(word)
    if m is None:
        raise InvalidInput(Phrase("err.away_unknown_delegate", who=word))
    user_id = m.group(1)
    try:
        resp = await ctx.client.users_info(user=user_id)
    except SlackApiError as exc:
        if (exc.response.get("error") or "") in ("user_not_found", "users_not_found"):
            raise InvalidInput(Phrase("err.away_unknown_delegate", who=f"@{m.group(2) or user_id}")) from None
        raise
    user = dict(resp.get("user") or {})
    delegate = actor_from_user(user_id, user)
    team = body.get("team_id")
    if user.get("deleted") or user.get("is_bot") or (team and user.get("team_id") and user.get("team_id") != team):
        projects = [p.name for p in await ctx.service.projects() if p.is_pm(actor)]
        raise InvalidInput(Phrase("err.away_not_on_team", who=delegate.display, projects=Items(projects)))
    return delegate


# --- the message shortcut and the intake form ---------------------------------------------------


async def on_record_shortcut(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
    """ "Record as client request" on a message: the intake form, pre-filled with the message."""
    await ack()
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id")
    ctx.spawn(
        open_intake_modal(
            ctx,
            body["trigger_id"],
            user_id_of(body),
            channel=channel,
            slug=None,
            text=message.get("text", ""),
            message_ts=message.get("ts"),
            thread_ts=message.get("thread_ts"),
        ),
        name="shortcut",
    )


async def on_intake_submit(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
    view = body["view"]
    values = view_values(view)
    meta = load_metadata(view)
    user_id = user_id_of(body)
    actor = await ctx.actor(user_id)
    lang = await ctx.language(actor)
    channel = meta.get("channel")
    blocks_here = list(values)
    try:
        given = forms.parse_intake(values)
        project = await ctx.service.resolve_project(actor, slug=given.project or meta.get("slug"), channel=channel)
        lang = language_for(project, actor)
        source: Source
        if meta.get("ts"):
            permalink = await _permalink(ctx, channel, meta["ts"])
            source = message_source(channel, meta["ts"], meta.get("thread"), permalink)
        else:
            source = Source(PLATFORM, channel=channel)
        rec = await ctx.service.submit_request(
            project=project.slug,
            actor=actor,
            text=given.text,
            source=source,
            client_words=given.client_words,
            urgency=given.urgency,
            requested_date=given.requested_date,
        )
    except IntakeError as exc:
        if isinstance(exc, StorageUnavailable):
            log.error("slack: intake form not recorded: %s", exc)
        await ack(response_action="errors", errors=form_errors(exc, lang, blocks=blocks_here, default="what"))
        return
    await ack()
    ctx.wake()
    said = receipt(rec, lang)
    ctx.spawn(ctx.tell(user_id, said, channel=channel, blocks=bk.receipt_blocks(said)), name="receipt")


# Core input fields whose form field has another name.
_FIELDS = {"text": "what"}


def form_errors(exc: IntakeError, lang: Language, *, blocks: list[str], default: str) -> dict[str, str]:
    """Where a refused submission's errors show in the modal: beside their fields, else beside `default`."""
    if isinstance(exc, StorageUnavailable):
        errors = {default: t(lang, "slack.not_saved")}
    elif isinstance(exc, FormInvalid):
        errors = exc.errors_in(lang)
    elif isinstance(exc, InvalidInput) and exc.field:
        errors = {_FIELDS.get(exc.field, exc.field): exc.say(lang)}
    else:
        errors = {default: exc.say(lang)}
    return errors_for(errors, blocks=blocks, default=default)


async def _permalink(ctx: SlackContext, channel: str | None, ts: str) -> str | None:
    if not channel:
        return None
    try:
        resp = await ctx.client.chat_getPermalink(channel=channel, message_ts=ts)
        return str(resp.get("permalink")) if resp.get("permalink") else None
    except SLACK_FAILURES as exc:
        log.warning("slack: no permalink for %s/%s: %s", channel, ts, exc)
        return None


# --- buttons on a request -----------------------------------------------------------------------


def _action(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions") or [{}]
    return dict(actions[0])


def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The channel and message a click came from (None for App Home)."""
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    return channel, container.get("message_ts") or (body.get("message") or {}).get("ts")


def _from_home(body: dict[str, Any]) -> bool:
    return (body.get("view") or {}).get("type") == "home"


Work = Callable[[SlackContext, dict[str, Any], Actor, str], Awaitable[None]]


def on_click(work: Work, name: str, *, value: Callable[[dict[str, Any]], str] | None = None) -> Handler:
    """Acknowledge a button at once, then run `work(ctx, body, actor, ref)`, telling the clicker about
    refusals in their language."""

    async def handler(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
        await ack()

        async def run() -> None:
            user_id = user_id_of(body)
            channel, _ = _where(body)
            ref = value(body) if value else str(_action(body).get("value", ""))
            actor = await ctx.actor(user_id)
            try:
                await work(ctx, body, actor, ref)
            except StorageUnavailable as exc:
                log.error("slack: %s on %s failed: %s", name, ref, exc)
                await ctx.tell(user_id, t(await ctx.language(actor), "slack.not_saved"), channel=channel)
            except IntakeError as exc:
                await ctx.tell(user_id, exc.say(await _lang_for_ref(ctx, actor, ref)), channel=channel)
            except Exception:
                log.exception("slack: %s on %s failed", name, ref)
                await ctx.tell(user_id, t(await ctx.language(actor), "slack.something_failed"), channel=channel)
            if _from_home(body):
                await publish_home(ctx, user_id)

        ctx.spawn(run(), name=name)

    return handler


async def _lang_for_ref(ctx: SlackContext, actor: Actor, ref: str) -> Language:
    try:
        rec = await ctx.service.get_request(ref)
        return language_for(await ctx.service.project(rec.project), actor)
    except IntakeError:
        return await ctx.language(actor)


def action_clicked(action: Action) -> Work:
    """A request's button: the form it asks for (after the core checked the clicker may), or the action
    itself when it needs no form."""

    async def work(ctx: SlackContext, body: dict[str, Any], actor: Actor, ref: str) -> None:
        rec, spec = await ctx.service.open_form(ref, action, actor=actor)
        if spec is None:
            await ctx.service.act(rec.ref, action, actor=actor)
            ctx.wake()
            return
        view = bk.form_modal(spec, callback_id=bk.FORM_VIEW + action.value, metadata={"ref": rec.ref})
        await _open(ctx, body["trigger_id"], view, actor.user_id, _where(body)[0], spec.language)

    return work


def _more_choice(body: dict[str, Any]) -> str:
    """The overflow menu's choice: "<action>:<ref>"."""
    return str((_action(body).get("selected_option") or {}).get("value") or "")


async def more_clicked(ctx: SlackContext, body: dict[str, Any], actor: Actor, choice: str) -> None:
    verb, _, ref = choice.partition(":")
    try:
        action = Action(verb)
    except ValueError:
        raise InvalidInput(t(await ctx.language(actor), "slack.unknown_button")) from None
    await action_clicked(action)(ctx, body, actor, ref)


# --- modal submissions --------------------------------------------------------------------------


def on_form_submit(action: Action) -> Handler:
    """A request action's form, submitted: the core reads and checks it, before the ack, so its errors
    show beside the fields."""

    async def handler(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
        view = body["view"]
        values = view_values(view)
        ref = str(load_metadata(view).get("ref", ""))
        blocks_here = list(values)
        default = blocks_here[0] if blocks_here else "value"
        actor = await ctx.actor(user_id_of(body))
        lang = await _lang_for_ref(ctx, actor, ref)
        try:
            await ctx.service.act(ref, action, actor=actor, values=values)
        except IntakeError as exc:
            if isinstance(exc, StorageUnavailable):
                log.error("slack: %s for %s not saved: %s", action.value, ref, exc)
            await ack(response_action="errors", errors=form_errors(exc, lang, blocks=blocks_here, default=default))
            return
        await ack()
        ctx.wake()

    return handler


async def on_letter_edit_submit(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
    view = body["view"]
    values = view_values(view)
    meta = load_metadata(view)
    ref = str(meta.get("ref", ""))
    blocks_here = list(values)
    actor = await ctx.actor(user_id_of(body))
    lang = await _lang_for_ref(ctx, actor, ref)
    try:
        rec = await ctx.service.edit_letter(
            ref,
            actor=actor,
            body_text=forms.text_of(values, "body"),
            subject=forms.text_of(values, "subject") or None,
        )
    except IntakeError as exc:
        await ack(response_action="errors", errors=form_errors(exc, lang, blocks=blocks_here, default="body"))
        return
    await ack()
    await refresh_letter(ctx, rec, actor, channel=meta.get("channel"), ts=meta.get("ts"))


# --- the letter DM's buttons --------------------------------------------------------------------


async def _letter_for(ctx: SlackContext, actor: Actor, ref: str) -> tuple[RequestRecord, Language]:
    rec = await ctx.service.get_request(ref, actor=actor)
    project = await ctx.service.project(rec.project)
    lang = language_for(project, actor)
    if rec.letter is None:
        if not project.is_pm(actor):
            raise InvalidInput(t(lang, "letter.pms_only", project=project.name, ref=rec.ref))
        raise InvalidInput(t(lang, "letter.none"))
    return rec, lang


async def letter_edit_clicked(ctx: SlackContext, body: dict[str, Any], actor: Actor, ref: str) -> None:
    rec, lang = await _letter_for(ctx, actor, ref)
    assert rec.letter is not None
    if rec.status is not RequestStatus.LETTER_DRAFTED:
        raise InvalidInput(t(lang, "letter.already_sent_no_edit", ref=rec.ref))
    if len(rec.letter.body_text) > bk.INPUT_MAX:
        raise InvalidInput(t(lang, "slack.letter_too_long_to_edit"))
    channel, ts = _where(body)
    spec = forms.letter_edit_form(rec.ref, rec.letter.subject, rec.letter.body_text, lang)
    view = bk.form_modal(spec, callback_id=bk.LETTER_EDIT_VIEW, metadata={"ref": rec.ref, "channel": channel, "ts": ts})
    await _open(ctx, body["trigger_id"], view, actor.user_id, channel, lang)


async def letter_eml_clicked(ctx: SlackContext, body: dict[str, Any], actor: Actor, ref: str) -> None:
    """Upload the letter as an .eml file, only ever into the PM's own DM."""
    from adapters.email.actions import letter_eml
    from adapters.email.config import eml_sender

    rec, lang = await _letter_for(ctx, actor, ref)
    filename, data = await letter_eml(ctx.service, ref, actor=actor, sender=eml_sender(ctx.settings))
    channel, ts = _where(body)
    if not channel or not channel.startswith("D"):
        channel = await ctx.open_dm(actor.user_id)
        ts = None
    try:
        await ctx.client.files_upload_v2(
            channel=channel,
            thread_ts=ts,
            content=data,
            filename=filename,
            title=filename,
            initial_comment=t(lang, "letter.eml_comment", ref=rec.ref),
        )
    except SLACK_FAILURES as exc:
        log.error("slack: .eml upload for %s failed: %s", ref, exc)
        await ctx.tell(actor.user_id, t(lang, "slack.eml_upload_failed"), channel=channel)


async def letter_sent_clicked(ctx: SlackContext, body: dict[str, Any], actor: Actor, ref: str) -> None:
    rec = await ctx.service.mark_letter_sent(ref, actor=actor, via="manual")
    channel, ts = _where(body)
    await refresh_letter(ctx, rec, actor, channel=channel, ts=ts)


async def letter_send_email_clicked(ctx: SlackContext, body: dict[str, Any], actor: Actor, ref: str) -> None:
    """Show who the letter would go to; it is sent only when the PM confirms in the modal."""
    rec, lang = await _letter_for(ctx, actor, ref)
    if not ctx.can_send_email():
        raise InvalidInput(t(lang, "letter.email_not_set_up"))
    recipients = await ctx.service.letter_email_recipients(rec.ref, actor=actor)
    channel, ts = _where(body)
    meta = {"ref": rec.ref, "rcpt": recipients_digest(recipients.summary()), "channel": channel, "ts": ts}
    view = bk.send_email_modal(rec.ref, recipients.summary(), lang, metadata=meta)
    await _open(ctx, body["trigger_id"], view, actor.user_id, channel, lang)


def recipients_digest(summary: str) -> str:
    """A short fingerprint of the recipients the PM saw, to notice if they changed before the PM confirmed."""
    return hashlib.sha256(summary.encode()).hexdigest()[:16]


async def on_send_email_submit(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
    view = body["view"]
    meta = load_metadata(view)
    ref = str(meta.get("ref", ""))
    actor = await ctx.actor(user_id_of(body))
    lang = await _lang_for_ref(ctx, actor, ref)
    try:
        recipients = await ctx.service.letter_email_recipients(ref, actor=actor)
        if recipients_digest(recipients.summary()) != meta.get("rcpt"):
            problem: str | None = t(lang, "send.recipients_changed", ref=ref, summary=recipients.summary())
        else:
            rec = await ctx.service.send_letter_email(ref, actor=actor, confirmed=recipients)
            problem = None
    except StorageUnavailable:
        problem = t(lang, "slack.not_saved")
    except IntakeError as exc:
        problem = exc.say(lang)
    if problem is not None:
        await ack(response_action="update", view=bk.message_modal(t(lang, "send.not_sent_title"), problem, lang))
        return
    await ack()
    await refresh_letter(ctx, rec, actor, channel=meta.get("channel"), ts=meta.get("ts"))


async def refresh_letter(
    ctx: SlackContext, rec: RequestRecord, actor: Actor, *, channel: str | None, ts: str | None
) -> None:
    """Re-render the letter DM (after an edit or once sent) through the outbox."""
    if rec.letter is None or not channel or not ts:
        ctx.wake()
        return
    project = await ctx.service.project(rec.project)
    await ctx.queue(
        Notice(
            kind="letter_update",
            platform=PLATFORM,
            audience="person",
            text=letter_text(rec, rec.letter, language_for(project, actor), project.timezone),
            ref=rec.ref,
            project=rec.project,
            recipient=actor,
            data={
                "request": rec.snapshot(),
                "letter": rec.letter.to_dict(),
                "talking_points": rec.letter.talking_points,
                "channel": channel,
                "ts": ts,
            },
        )
    )


# --- App Home -----------------------------------------------------------------------------------

LIST_SHOWN = 100  # open requests one `/requests` answer lists (the rest are counted)
HOME_QUEUE = 20  # requests shown with their buttons in a PM's review queue
HOME_MINE = 30  # of the person's own requests


async def on_home_opened(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
    await ack()
    event = body.get("event") or {}
    if event.get("tab", "home") != "home":
        return
    ctx.spawn(publish_home(ctx, str(event.get("user", ""))), name="home")


async def publish_home(ctx: SlackContext, user_id: str) -> None:
    actor = await ctx.actor(user_id)
    try:
        # Only what the page shows is read (the oldest open ones first, the person's newest), with counts,
        # in one read that waits for no writer.
        home = await ctx.service.home(actor, queue=HOME_QUEUE, mine=HOME_MINE)
    except StorageUnavailable as exc:
        log.error("slack: App Home not refreshed: %s", exc)
        return
    lang = await ctx.language(actor, home.deciding[0] if len(home.deciding) == 1 else None)
    now = ctx.service.clock.now()
    projects = home.projects

    def views(recs: list[RequestRecord], limit: int) -> list[Any]:
        return [
            review_view(
                r,
                projects[r.project],
                # An away PM's delegate sees that PM's projects' queue, with the decide buttons.
                Viewer.of(actor, r, projects[r.project], on_behalf_of=home.standing_in.get(r.project)),
                language=lang,
                now=now,
            )
            for r in recs[:limit]
            if r.project in projects
        ]

    view = bk.home_view(
        lang,
        queue=views(home.queue, HOME_QUEUE),
        queue_total=home.queue_total,
        mine=views(home.mine, HOME_MINE),
        mine_total=home.mine_total,
        is_pm=bool(home.deciding),
    )
    try:
        await ctx.client.views_publish(user_id=user_id, view=view)
    except SLACK_FAILURES as exc:
        log.error("slack: views.publish for %s failed: %s", user_id, exc)


# --- plumbing -----------------------------------------------------------------------------------


async def _open(
    ctx: SlackContext, trigger_id: str, view: Any, user_id: str, channel: str | None, lang: Language
) -> None:
    """Open a modal; if the trigger expired or Slack refused, say so instead of failing silently."""
    try:
        await ctx.client.views_open(trigger_id=trigger_id, view=view)
    except SLACK_FAILURES as exc:
        log.warning("slack: views.open failed: %s", exc)
        await ctx.tell(user_id, t(lang, "slack.form_not_opened"), channel=channel)


# One table: (payload type, id) → handler. A new payload type is one line here.
HANDLERS: list[tuple[str, str, Handler]] = [
    ("command", REQUEST_COMMAND, on_request_command),
    ("command", "/scope", on_scope_command),
    ("command", "/requests", on_requests_command),
    ("command", INTAKE_COMMAND, on_intake_command),
    ("shortcut", bk.RECORD_SHORTCUT, on_record_shortcut),
    *(("action", bk.ACTION_IDS[a], on_click(action_clicked(a), a.value)) for a in Action),
    ("action", bk.MORE, on_click(more_clicked, "more", value=_more_choice)),
    ("action", bk.LETTER_EDIT, on_click(letter_edit_clicked, "letter-edit")),
    ("action", bk.LETTER_EML, on_click(letter_eml_clicked, "letter-eml")),
    ("action", bk.LETTER_SENT, on_click(letter_sent_clicked, "letter-sent")),
    ("action", bk.LETTER_SEND_EMAIL, on_click(letter_send_email_clicked, "letter-send")),
    ("view", bk.INTAKE_VIEW, on_intake_submit),
    *(("view", bk.FORM_VIEW + a.value, on_form_submit(a)) for a in Action),
    ("view", bk.LETTER_EDIT_VIEW, on_letter_edit_submit),
    ("view", bk.SEND_EMAIL_VIEW, on_send_email_submit),
    ("event", "app_home_opened", on_home_opened),
]


def register(ctx: SlackContext, bolt: AsyncApp) -> None:
    """Attach every handler of `HANDLERS` to the bolt app, plus the event de-duplication middleware."""

    async def dedupe_events(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        key = event_key(body)
        if key:
            try:
                fresh = await ctx.acks.claim_key_soon(key, at=ctx.service.clock.now())
            except StorageUnavailable as exc:
                log.warning("slack: cannot check %s for a retry (%s); handling it", key, exc)
                fresh = True
            if not fresh:
                log.info("slack: %s was already handled; ignoring the retry", key)
                return BoltResponse(status=200, body="")
        await next()
        return None

    async def served_workspace(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        """Socket Mode's payloads come from every workspace the app is installed in: serve only ours.
        (The HTTP route checks before bolt; this is the same check for Socket Mode.)"""
        allowed = ctx.workspace.allows(body)
        if allowed is None and body.get("command") != REQUEST_COMMAND:
            await ctx.workspace.known(within=2.0)
            allowed = ctx.workspace.allows(body)
        if allowed is False:
            await refuse(
                ctx.store,
                body,
                at=ctx.service.clock.now(),
                user_id=user_id_of(body),
                what=str(body.get("command") or body.get("type") or "a payload"),
                served=ctx.workspace.team_id,
            )
            return BoltResponse(status=403, body="")
        await next()
        return None

    bolt.middleware(served_workspace)
    bolt.middleware(dedupe_events)
    for kind, ident, handler in HANDLERS:
        listener = guard(ctx, handler)
        if kind == "command":
            bolt.command(ident)(listener)
        elif kind == "shortcut":
            bolt.shortcut(ident)(listener)
        elif kind == "action":
            bolt.action(ident)(listener)
        elif kind == "view":
            bolt.view(ident)(listener)
        elif kind == "event":
            bolt.event(ident)(listener)
        else:  # pragma: no cover - a typo in the table
            raise ValueError(f"unknown payload type {kind!r}")


def guard(ctx: SlackContext, handler: Handler) -> Callable[..., Awaitable[None]]:
    """Wrap a handler so an unexpected error is logged and still acknowledged: Slack never sees a 500."""

    async def listener(ack: Ack, body: dict[str, Any]) -> None:
        acked = False

        async def once(*args: Any, **kwargs: Any) -> Any:
            nonlocal acked
            acked = True
            return await ack(*args, **kwargs)

        try:
            await handler(ctx, body, once)
        except Exception:
            logging.getLogger("intake.slack").exception("slack: handler %s failed", handler.__name__)
            if not acked:
                lang = await ctx.service.house_language()  # never raises: English when it cannot tell
                if body.get("type") == "view_submission":
                    await ack(
                        response_action="errors", errors=_first_block_error(body, t(lang, "slack.something_failed"))
                    )
                else:
                    await ack()
                    user = user_id_of(body)
                    if user:
                        ctx.spawn(ctx.tell(user, t(lang, "slack.something_failed"), channel=_where(body)[0]))

    return listener


def _first_block_error(body: dict[str, Any], message: str) -> dict[str, str]:
    values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    first = next(iter(values), None)
    return {first: message} if first else {}


__all__ = ["HANDLERS", "after_request_accepted", "publish_home", "register"]
