"""How the record's JSON is stored: the same values, less what reading them back restores.

A request's verdict, a person (`Actor`) and a request's source are always read back through their
`from_dict`, which fills in what a value leaves out, so they are stored without their empty or default
fields (`{"platform": "slack", "user_id": "U1"}` rather than the same with `"email": null, "name": null`);
the person who did an event also without the platform, which the event's own column holds.
A letter's tone check is stored without the English `detail` of each rule where that is exactly its
phrase (`why`) rendered in English, and without an empty `offending` list; `tone_out` puts both back.

Some events repeat what another row of the record holds: a new request's first two events (its text,
source and verdict, in the request's row) and a decline's event (its reason and form, in the decision).
They are stored as one short row that refers to the other (`SUBMISSION`, `DECISION` below).

Each encoding is checked when it is written: a value that would not read back exactly as given is stored
as given. Values written before these encodings are read as they always were.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain import Actor, Event, Language, Source, Verdict
from bot.phrase import Phrase

# What `Verdict.from_dict` assumes for a key left out.
_VERDICT_DEFAULTS: dict[str, Any] = {
    "item": None,
    "clause": "",
    "parts": [],
    "extras": [],
    "explanation": "",
    "candidates": [],
}


def _checked(full: dict[str, Any], short: dict[str, Any], kind: Any) -> dict[str, Any]:
    """`short` if it reads back (`kind.from_dict`) as `full` does, else `full`."""
    try:
        return short if kind.from_dict(short).to_dict() == kind.from_dict(full).to_dict() else full
    except (KeyError, TypeError, ValueError):
        return full


def verdict_in(d: dict[str, Any]) -> dict[str, Any]:
    short = {k: v for k, v in d.items() if k not in _VERDICT_DEFAULTS or v != _VERDICT_DEFAULTS[k]}
    return _checked(d, short, Verdict)


def actor_in(d: dict[str, Any]) -> dict[str, Any]:
    return _checked(d, {k: v for k, v in d.items() if v is not None}, Actor)


def event_actor_in(d: dict[str, Any]) -> dict[str, Any]:
    """Who did an event, as stored beside the event's `platform` column: without the platform too."""
    short = {k: v for k, v in d.items() if v is not None and k != "platform"}
    try:
        same = Actor.from_dict({"platform": d["platform"], **short}).to_dict() == Actor.from_dict(d).to_dict()
    except (KeyError, TypeError, ValueError):
        same = False
    return short if same else d


def event_actor_out(stored: dict[str, Any], platform: str) -> Actor:
    return Actor.from_dict({"platform": platform, **stored})


def source_in(d: dict[str, Any] | None) -> dict[str, Any] | None:
    if not d:
        return d
    return _checked(d, {k: v for k, v in d.items() if v is not None}, Source)


def tone_in(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A tone check as stored: each rule's English detail left out where its phrase renders it."""
    out = []
    for r in results:
        short = dict(r)
        if not short.get("offending") and "offending" in short:
            del short["offending"]
        why = short.get("why")
        if why and "detail" in short and _english(why) == short["detail"]:
            del short["detail"]
        out.append(short if _tone_out_one(short) == r else r)
    return out


def tone_out(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A stored tone check as it was given to `tone_in` (values written before it come back unchanged)."""
    return [_tone_out_one(r) for r in stored]


def _tone_out_one(r: dict[str, Any]) -> dict[str, Any]:
    if "detail" in r and "offending" in r:
        return r
    out = {"rule": r["rule"], "passed": r["passed"]}
    out["detail"] = r["detail"] if "detail" in r else (_english(r["why"]) if r.get("why") else "")
    out["offending"] = r.get("offending", [])
    out |= {k: v for k, v in r.items() if k not in out}
    return out


def _english(why: dict[str, Any]) -> str:
    return Phrase.from_dict(why).render("en")


# A request's first event, `submitted`, repeats what its row holds (the text and where it came from), and
# the `scope_checked` written with it holds the verdict the request is recorded with and a line made from
# it. Written together, the two are stored as one row of kind `submitted`, with an empty text and the data
# {SUBMISSION: 1, "check": {"scope_version": n}}; `submission_out` reads the two events back from it and
# the request's row: its text, its source, and its verdict (`recorded_verdict` once the verdict has
# changed, which `SqlTransaction.set_verdict` keeps). A check whose verdict differs from the request's
# keeps it: "check": {"verdict": <as stored by verdict_in>, "scope_version": n}. (Rows written before
# keep their own text and data.)
SUBMISSION = "from_request"


def submission_in(
    submitted: Event,
    checked: Event | None,
    request_text: str,
    request_source: dict[str, Any] | None,
    request_verdict: dict[str, Any],
) -> dict[str, Any] | None:
    """The data of the one row standing for `submitted` (and `checked`, its scope check, when given), or
    None when they do not read back exactly so: they are then stored as they are."""
    if submitted.kind != "submitted" or submitted.text != request_text:
        return None
    source = Source.from_dict(request_source)
    if submitted.data != {"source": source.to_dict() if source else None}:
        return None
    data: dict[str, Any] = {SUBMISSION: 1}
    if checked is not None:
        if checked.kind != "scope_checked" or (checked.at, checked.actor) != (submitted.at, submitted.actor):
            return None
        verdict, version = checked.data.get("verdict"), checked.data.get("scope_version")
        if (
            not isinstance(verdict, dict)
            or not isinstance(version, int)
            or set(checked.data) != {"verdict", "scope_version"}
        ):
            return None
        stored = verdict_in(verdict)
        data["check"] = (
            {"scope_version": version} if stored == request_verdict else {"verdict": stored, "scope_version": version}
        )
    given = [submitted] if checked is None else [submitted, checked]
    read = submission_out(submitted.at, submitted.actor, data, request_text, request_source, request_verdict)
    return data if read == given else None


def refers_to_verdict(data: dict[str, Any] | None) -> bool:
    """Whether a stored first event reads its verdict from the request's row."""
    check = (data or {}).get("check") if SUBMISSION in (data or {}) else None
    return isinstance(check, dict) and "verdict" not in check


def submission_out(
    at: datetime,
    actor: Actor,
    data: dict[str, Any],
    request_text: str,
    request_source: dict[str, Any] | None,
    recorded_verdict: dict[str, Any],
) -> list[Event]:
    """The events one stored first event stands for. `recorded_verdict`: the verdict the request was
    recorded with (its `recorded_verdict`, or while that is NULL its `verdict`)."""
    source = Source.from_dict(request_source)
    events = [Event("submitted", at, actor, request_text, {"source": source.to_dict() if source else None})]
    check = data.get("check")
    if check:
        from bot.review import verdict_line  # the reviews' wording, loaded where a record is read

        verdict = Verdict.from_dict(check.get("verdict", recorded_verdict))
        line = verdict_line(verdict, Language.EN)
        events.append(
            Event(
                "scope_checked",
                at,
                actor,
                line,
                {"verdict": verdict.to_dict(), "scope_version": check["scope_version"]},
            )
        )
    return events


# A `declined` event repeats the decision written with it: its text is the decision's note and its data the
# decline form. Stored with an empty text and the data {DECISION: n}, n the decision's place among the
# request's decisions (1 for its first), it is read back from that row of `decisions`. (A delegate's
# decline, whose event also names the PM, keeps its own copy.)
DECISION = "from_decision"
DECISION_EVENTS = {"declined": "decline"}


def decision_in(event: Event, place: int, kind: str, actor: Actor, note: str, form: Any) -> dict[str, Any] | None:
    """The data of a decision's event that refers to the decision, or None when it would not read back."""
    if DECISION_EVENTS.get(event.kind) != kind or not isinstance(form, dict):
        return None
    if event.actor.to_dict() != actor.to_dict():
        return None
    return {DECISION: place} if (event.text, event.data) == (note, form) else None
