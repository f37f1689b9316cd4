"""One review contract: Slack, Teams and the terminal render the same view of a request. For every status
and every kind of viewer they offer the same actions (the core's rules) and show the same status line."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.slack import blocks as bk
from adapters.teams import cards
from bot import messages
from bot.domain import (
    Actor,
    Channel,
    Decision,
    DecisionKind,
    DeclineForm,
    Event,
    Language,
    MeetingProposal,
    ReasonCategory,
    RequestRecord,
    RequestStatus,
    ScopeItem,
    Source,
    Verdict,
    VerdictKind,
)
from bot.review import Action, Role, Viewer, offered, review_view
from bot.text import plain
from tests.support.views import PROJECT as BASE_PROJECT

AT = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
NOW = AT + timedelta(days=3)  # what every renderer is told the time is: after a two-day due date
PM = Actor("slack", "U0PM", email="pm@acme.example", name="Pat Morgan")
REQUESTER = Actor("slack", "U0SAM", email="sam@acme-team.example", name="Sam Reed")
OTHER = Actor("slack", "U0LEE", email="lee@acme-team.example", name="Lee Chen")

PROJECT = replace(BASE_PROJECT, out_of_scope=(ScopeItem("mobile", "Native apps"),), timezone="Europe/Berlin")
IN_SCOPE = Verdict(VerdictKind.IN_SCOPE, "orders", 0.9, "Order history")
OUT = Verdict(VerdictKind.OUT_OF_SCOPE, "mobile", 0.9, "Native apps")


def _decision(kind: DecisionKind, form: dict[str, Any] | None = None, minutes: int = 5) -> Decision:
    return Decision(kind, PM, AT + timedelta(minutes=minutes), "", form)


def _rec(status: RequestStatus, verdict: Verdict = OUT, **kw: Any) -> RequestRecord:
    base = RequestRecord(
        ref="ACME-7",
        project="acme-portal",
        number=7,
        status=status,
        text="Could the order history also be in an iPhone app? <!channel> **now**",
        requester=REQUESTER,
        verdict=verdict,
        scope_version=1,
        created_at=AT,
        source=Source("slack", channel="C0INTAKE"),
    )
    return replace(base, **kw)


MEETING = DeclineForm(
    ReasonCategory.BUDGET, "Over budget.", (), "", Channel.MEETING, meeting=MeetingProposal(AT + timedelta(days=2))
)

STATES: dict[str, RequestRecord] = {
    "submitted": _rec(RequestStatus.SUBMITTED),
    "in_review": _rec(RequestStatus.IN_REVIEW),
    "in_review_in_scope": _rec(RequestStatus.IN_REVIEW, IN_SCOPE),
    "needs_info": _rec(RequestStatus.NEEDS_INFO, decisions=(_decision(DecisionKind.NEEDS_INFO, {"question": "?"}),)),
    "answered": _rec(
        RequestStatus.IN_REVIEW,
        decisions=(_decision(DecisionKind.NEEDS_INFO),),
        events=(Event("answered", AT + timedelta(minutes=9), REQUESTER),),
    ),
    "approved": _rec(
        RequestStatus.APPROVED, IN_SCOPE, decisions=(_decision(DecisionKind.APPROVE, {"scope_change": False}),)
    ),
    "approved_change": _rec(
        RequestStatus.APPROVED, decisions=(_decision(DecisionKind.APPROVE, {"scope_change": True, "estimate": "3d"}),)
    ),
    "letter_drafted": _rec(
        RequestStatus.LETTER_DRAFTED, decisions=(_decision(DecisionKind.DECLINE, {"channel": "email"}),)
    ),
    "letter_sent": _rec(RequestStatus.LETTER_SENT, decisions=(_decision(DecisionKind.DECLINE, {"channel": "email"}),)),
    "meeting_invited": _rec(
        RequestStatus.LETTER_SENT,
        decisions=(_decision(DecisionKind.DECLINE, MEETING.to_dict()),),
        decline_form=MEETING,
    ),
    "meeting_held": _rec(
        RequestStatus.LETTER_SENT,
        decisions=(_decision(DecisionKind.DECLINE, MEETING.to_dict()),),
        decline_form=MEETING,
        events=(Event("outcome_recorded", AT + timedelta(days=2), PM, "Phase 2"),),
    ),
    "withdrawn": _rec(RequestStatus.WITHDRAWN, events=(Event("withdrawn", AT + timedelta(hours=1), REQUESTER),)),
    # time: due dates, overdue, escalated, expired, decided on an away PM's behalf, a letter to follow up
    "due_later": _rec(RequestStatus.IN_REVIEW, due_at=NOW + timedelta(days=3)),
    "overdue": _rec(RequestStatus.IN_REVIEW, due_at=AT + timedelta(days=2)),
    "escalated": _rec(
        RequestStatus.IN_REVIEW,
        due_at=AT + timedelta(days=2),
        events=(Event("escalated", AT + timedelta(days=2, hours=1), REQUESTER, data={"to": ["Dana Boss"]}),),
    ),
    "question_due": _rec(
        RequestStatus.NEEDS_INFO,
        decisions=(_decision(DecisionKind.NEEDS_INFO, {"question": "?"}),),
        due_at=NOW + timedelta(days=5),
    ),
    "expired": _rec(
        RequestStatus.EXPIRED,
        decisions=(_decision(DecisionKind.NEEDS_INFO, {"question": "?"}),),
        events=(Event("expired", AT + timedelta(days=14), REQUESTER),),
    ),
    "approved_on_behalf": _rec(
        RequestStatus.APPROVED,
        IN_SCOPE,
        decisions=(Decision(DecisionKind.APPROVE, OTHER, AT, "", {"scope_change": False}, PM),),
    ),
    "letter_sent_follow_up": _rec(
        RequestStatus.LETTER_SENT,
        decisions=(_decision(DecisionKind.DECLINE, {"channel": "email"}),),
        due_at=AT + timedelta(days=2),
    ),
    "letter_replied": _rec(
        RequestStatus.LETTER_SENT,
        decisions=(_decision(DecisionKind.DECLINE, {"channel": "email"}),),
        events=(Event("outcome_recorded", AT + timedelta(days=2), PM, "Phase 2"),),
    ),
}

VIEWERS = {
    "review_channel": Viewer.review_channel(),
    "pm": Viewer.of(PM, STATES["submitted"], PROJECT),
    "requester": Viewer.of(REQUESTER, STATES["submitted"], PROJECT),
    "other_member": Viewer.of(OTHER, STATES["submitted"], PROJECT),
    "pm_who_recorded_it": Viewer(frozenset({Role.PM, Role.REQUESTER}), PM),
    # Lee stands in for Pat, who is away: Lee decides on Pat's behalf.
    "delegate": Viewer.of(OTHER, STATES["submitted"], PROJECT, on_behalf_of=PM),
}


# --- what each renderer offers and says --------------------------------------------------------


def slack_rendering(blocks: list[dict[str, Any]]) -> tuple[set[Action], str]:
    actions: set[Action] = set()
    status = ""
    for b in blocks:
        if b["type"] == "actions":
            for e in b["elements"]:
                if e["type"] == "overflow":
                    actions |= {Action(o["value"].split(":", 1)[0]) for o in e["options"]}
                else:
                    actions.add(bk.ACTIONS_BY_ID[e["action_id"]])
    status_blocks = [b for b in blocks if b["type"] == "context"] or [
        b for b in blocks if b["type"] == "section" and b["text"]["text"].startswith("*")
    ]
    if status_blocks:
        b = status_blocks[-1]
        status = (b["elements"][0] if b["type"] == "context" else b["text"])["text"]
    mentions = {f"<@{a.user_id}>": a.display for a in (PM, REQUESTER, OTHER)}
    for tag, name in mentions.items():
        status = status.replace(tag, name)
    return actions, html.unescape(status.strip("*"))


def teams_rendering(card: dict[str, Any]) -> tuple[set[Action], str]:
    actions = {Action(a["data"]["intake"]) for a in card.get("actions", [])}
    texts = [b.get("text", "") for b in card["body"] if b["type"] == "TextBlock"]
    texts += [i["text"] for b in card["body"] for i in _inlines(b)]
    status = next(x for x in texts if x.startswith("Status: "))
    return actions, status.removeprefix("Status: ")


def terminal_rendering(text: str) -> tuple[set[Action], str]:
    status = next(line for line in text.splitlines() if line.startswith("Status: ")).removeprefix("Status: ")
    actions = {Action(m) for m in re.findall(r"/([a-z]+) ACME-7", text)}
    return actions, status


@pytest.mark.parametrize("viewer", list(VIEWERS))
@pytest.mark.parametrize("state", list(STATES))
def test_slack_teams_and_the_terminal_offer_the_same_actions_and_say_the_same_status(state: str, viewer: str) -> None:
    rec = STATES[state]
    v = VIEWERS[viewer]
    view = review_view(rec, PROJECT, v, language=Language.EN, now=NOW)
    expected_actions = set(offered(rec, v.roles))
    expected_status = plain(view.status)

    slack = slack_rendering([b.to_dict() for b in bk.request_blocks(view)])
    teams = teams_rendering(cards.request_card(view))
    terminal = terminal_rendering(messages.view_text(view, commands=True))

    assert slack == teams == terminal == (expected_actions, expected_status)


def test_the_rules_themselves() -> None:
    """The table the renderers follow, stated once in words."""
    pm, req, other = frozenset({Role.PM}), frozenset({Role.REQUESTER}), frozenset({Role.MEMBER})
    assert offered(STATES["in_review"], pm) == [
        Action.APPROVE,
        Action.DECLINE,
        Action.ASK,
        Action.CORRECT,
        Action.WITHDRAW,
    ]
    # Waiting for details: the PM may still decide (no second question), the requester may answer.
    assert offered(STATES["needs_info"], pm) == [Action.APPROVE, Action.DECLINE, Action.CORRECT, Action.WITHDRAW]
    assert offered(STATES["needs_info"], req) == [Action.ANSWER, Action.WITHDRAW]
    assert offered(STATES["approved"], req) == [] and offered(STATES["approved"], pm) == [Action.CORRECT]
    assert offered(STATES["meeting_invited"], pm) == [Action.OUTCOME, Action.CORRECT]
    assert offered(STATES["meeting_held"], pm) == [Action.CORRECT]
    assert offered(STATES["withdrawn"], pm) == []
    assert all(offered(rec, other) == [] for rec in STATES.values())
    # A sent letter: what the client replied may be recorded at once (the follow-up only reminds).
    assert offered(STATES["letter_sent"], pm) == [Action.OUTCOME, Action.CORRECT]
    assert offered(STATES["letter_replied"], pm) == [Action.CORRECT]
    # Expired: the requester may still answer, which reopens it (or let it go); nobody decides until then.
    assert offered(STATES["expired"], req) == [Action.ANSWER, Action.WITHDRAW]
    assert offered(STATES["expired"], pm) == [Action.CORRECT, Action.WITHDRAW]
    # A delegate decides (and records outcomes) for the away PM, and does nothing else a PM does.
    delegate = frozenset({Role.DELEGATE})
    assert VIEWERS["delegate"].roles == delegate
    assert offered(STATES["in_review"], delegate) == [Action.APPROVE, Action.DECLINE, Action.ASK]
    assert offered(STATES["meeting_invited"], delegate) == [Action.OUTCOME]
    assert offered(STATES["withdrawn"], delegate) == []
    # Standing in for someone who is not a PM of the project gives no role.
    assert Viewer.of(OTHER, STATES["in_review"], PROJECT, on_behalf_of=REQUESTER).roles == {Role.MEMBER}


def test_approving_out_of_scope_work_opens_the_scope_change_form_everywhere() -> None:
    for state, opens in (("in_review", True), ("in_review_in_scope", False)):
        view = review_view(STATES[state], PROJECT, Viewer.review_channel())
        approve = view.action(Action.APPROVE)
        assert approve is not None and approve.opens_form is opens


def test_user_text_never_becomes_markup() -> None:
    view = review_view(STATES["in_review"], PROJECT, Viewer.review_channel())
    slack = str([b.to_dict() for b in bk.request_blocks(view)])
    assert "<!channel>" not in slack and "&lt;!channel&gt;" in slack
    card = cards.request_card(view)
    runs = [i for b in card["body"] for i in _inlines(b)]
    assert any("**now**" in r["text"] for r in runs)  # in a TextRun: shown literally, never bold
    assert all("**now**" not in b.get("text", "") for b in card["body"] if b["type"] == "TextBlock")


def _inlines(block: dict[str, Any]) -> list[dict[str, Any]]:
    if block["type"] == "RichTextBlock":
        return list(block["inlines"])
    return [i for item in block.get("items", []) for i in _inlines(item)]


def test_times_are_shown_in_the_projects_time_zone_with_the_zone_named() -> None:
    view = review_view(STATES["approved"], PROJECT, Viewer.review_channel())
    assert plain(view.status) == "Approved by Pat Morgan at 2026-11-03 10:35 CET"
    zh = review_view(STATES["approved"], replace(PROJECT, team_language=Language.ZH), Viewer.review_channel())
    assert plain(zh.status) == "Pat Morgan 于 2026年11月3日 10:35（CET） 批准"


def test_every_platform_shows_the_confidence_and_for_unlisted_the_closest_candidates() -> None:
    sure = Verdict(VerdictKind.OUT_OF_SCOPE, "mobile", 0.9, "Native apps", confidence=0.87)
    unsure = Verdict(VerdictKind.UNLISTED, None, 0.3, "", confidence=0.62, candidates=("mobile", "orders"))
    named = review_view(_rec(RequestStatus.IN_REVIEW, sure), PROJECT, Viewer.review_channel())
    view = review_view(_rec(RequestStatus.IN_REVIEW, unsure), PROJECT, Viewer.review_channel())
    assert named.verdict.confidence == "Confidence 87%" and named.verdict.candidates == ""
    assert view.verdict.confidence == "Confidence 62%"  # how sure it is that this is new work
    assert view.verdict.candidates == "Closest in the scope: mobile: Native apps, orders: Order history"
    for v, line in (
        (named, "Confidence 87%"),
        (view, "Confidence 62%"),
        (view, "Closest in the scope: mobile: Native apps"),
    ):
        slack = str([b.to_dict() for b in bk.request_blocks(v)])
        teams = str(cards.request_card(v))
        terminal = messages.view_text(v)
        for rendering in (slack, teams, terminal):
            assert line in rendering
    zh = review_view(
        _rec(RequestStatus.IN_REVIEW, unsure), replace(PROJECT, team_language=Language.ZH), Viewer.review_channel()
    )
    assert zh.verdict.candidates == "范围中最接近的：mobile: Native apps、orders: Order history"


# --- time: the due date and an escalation, the same everywhere ------------------------------------


def _slack_facts(view: Any) -> str:
    return str(bk.request_blocks(view)[1].to_dict()["text"]["text"])


def _teams_facts(view: Any) -> dict[str, tuple[str, bool]]:
    """The labelled values of a Teams card (label: (value, whether it stands out))."""
    card = cards.request_card(view)
    rows = [
        b["inlines"]
        for b in _walk(card)
        if b.get("type") == "RichTextBlock" and len(b.get("inlines", [])) == 2 and b["inlines"][0].get("weight")
    ]
    return {label["text"].removesuffix(": "): (value["text"], value.get("weight") == "bolder") for label, value in rows}


def _walk(node: Any) -> list[dict[str, Any]]:
    from tests.support.views import walk

    return list(walk(node))


def _terminal_facts(view: Any) -> str:
    return messages.view_text(view).splitlines()[1]


@pytest.mark.parametrize(
    ("state", "label", "value", "strong"),
    [
        ("due_later", "Decision due", "Mon 9 Nov", False),
        ("overdue", "Decision due", "Thu 5 Nov, overdue", True),
        ("question_due", "Answer due", "Wed 11 Nov", False),
        ("letter_sent_follow_up", "Follow-up due", "Thu 5 Nov, overdue", True),
    ],
)
def test_the_due_date_reads_the_same_everywhere_and_is_bold_once_overdue(
    state: str, label: str, value: str, strong: bool
) -> None:
    view = review_view(STATES[state], PROJECT, Viewer.review_channel(), now=NOW)
    due = view.fact("due")
    assert due is not None and (due.label, plain(due.value), due.strong) == (label, value, strong)
    assert (f"*{label}* *{value}*" if strong else f"*{label}* {value}") in _slack_facts(view)
    assert _teams_facts(view)[label] == (value, strong)
    assert f"{label}: {value}" in _terminal_facts(view)


def test_without_the_time_a_due_date_is_shown_but_never_called_overdue() -> None:
    view = review_view(STATES["overdue"], PROJECT, Viewer.review_channel())
    due = view.fact("due")
    assert due is not None and plain(due.value) == "Thu 5 Nov" and not due.strong


def test_an_escalation_is_a_line_on_the_card_everywhere_and_only_for_the_current_due_date() -> None:
    view = review_view(STATES["escalated"], PROJECT, Viewer.review_channel(), now=NOW)
    escalated = view.fact("escalated")
    assert escalated is not None and escalated.strong
    assert plain(escalated.value) == "to Dana Boss at 2026-11-05 11:30 CET"
    assert "*Escalated* *to Dana Boss at 2026-11-05 11:30 CET*" in _slack_facts(view)
    assert _teams_facts(view)["Escalated"] == ("to Dana Boss at 2026-11-05 11:30 CET", True)
    assert "Escalated: to Dana Boss at 2026-11-05 11:30 CET" in _terminal_facts(view)
    # Answered and back in review with a later due date: the old escalation is history, not a line.
    later = replace(STATES["escalated"], due_at=NOW + timedelta(days=2))
    assert review_view(later, PROJECT, Viewer.review_channel(), now=NOW).fact("escalated") is None


def test_due_dates_and_their_days_in_chinese() -> None:
    zh = replace(PROJECT, team_language=Language.ZH)
    view = review_view(STATES["overdue"], zh, Viewer.review_channel(), now=NOW)
    due = view.fact("due")
    assert due is not None and (due.label, plain(due.value)) == ("决定期限", "11月5日（周四），已逾期")
    line = plain(review_view(STATES["approved_on_behalf"], zh, Viewer.review_channel()).status)
    assert line == "Lee Chen 于 2026年11月3日 10:30（CET） 批准（代 Pat Morgan 处理）"


def test_a_quoted_clause_does_not_end_the_sentence_twice() -> None:
    """A clause quoted from the scope's notes keeps its words but not its own full stop, in either language:
    the receipt goes on after it."""
    from bot.domain import Language, Verdict, VerdictKind
    from bot.review import verdict_line

    en = verdict_line(Verdict(VerdictKind.IN_SCOPE, "reminders", 0.9, "Reminders by e-mail: E-mail only."), Language.EN)
    assert en == "in scope (reminders): “Reminders by e-mail: E-mail only”"
    zh = verdict_line(Verdict(VerdictKind.OUT_OF_SCOPE, "app", 0.9, "独立App：只做小程序。"), Language.ZH)
    assert zh.endswith("“独立App：只做小程序”")
