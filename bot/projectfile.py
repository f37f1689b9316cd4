"""Read and validate a project file (YAML). Every problem names the file, the line and the field.

The loader walks PyYAML's node tree rather than the loaded dict, so that each value still knows its
line, duplicate keys are caught (PyYAML keeps the last one silently), and all problems are reported
at once: a PM fixing a file should not have to run the command once per mistake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .domain import Client, Language, Milestone, Project, ScopeItem, Timing
from .errors import ProjectFileError

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
PREFIX_RE = re.compile(r"^[A-Z][A-Z0-9]{0,11}$")
ITEM_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
EMAIL_RE = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
SLACK_CHANNEL_RE = re.compile(r"^[CGD][A-Z0-9]{2,}$")
SLACK_USER_RE = re.compile(r"^[UW][A-Z0-9]{2,}$")
DIGEST_RE = re.compile(
    r"^(monday|tuesday|wednesday|thursday|friday|saturday|sunday|daily|weekdays)\s+([01]?\d|2[0-3]):([0-5]\d)$",
    re.IGNORECASE,
)

TOP_KEYS = {
    "project": True,
    "name": True,
    "language": True,
    "team_language": False,
    "client": True,
    "goals": True,
    "in_scope": True,
    "out_of_scope": False,
    "milestones": False,
    "capacity": False,
    "pms": True,
    "ref_prefix": False,
    "timezone": False,
    "cc": False,
    "slack": False,
    "teams": False,
    "digest": False,
    # time: due dates, reminders, escalation, follow-up and the daily summary
    "response_days": False,
    "working_days": False,
    "holidays": False,
    "escalate_to": False,
    "escalate_after_days": False,
    "needs_info_expires_days": False,
    "follow_up_days": False,
    "daily_summary": False,
}
CLIENT_KEYS = {"name": True, "contact": True, "email": True}
ITEM_KEYS = {"id": True, "title": True, "notes": False}
MILESTONE_KEYS = {"name": True, "due": True}
SLACK_KEYS = {"intake_channels": False, "review_channel": False, "pms": False}
TEAMS_KEYS = {"intake_channels": False, "review_channel": False, "pms": False}
DIGEST_KEYS = {"every": True, "timezone": False}


def is_email(value: str) -> bool:
    return bool(EMAIL_RE.match(value)) and not CONTROL_RE.search(value)


def default_prefix(slug: str) -> str:
    """Derive a request-number prefix from a slug: `acme-portal` gives `ACME`."""
    head = re.split(r"[-_]", slug)[0]
    prefix = re.sub(r"[^A-Za-z0-9]", "", head).upper()[:12]
    if not prefix or not prefix[0].isalpha():
        prefix = "R" + prefix[:11]
    return prefix


@dataclass
class _Ctx:
    source: str
    problems: list[tuple[int | None, str, str]]

    def add(self, node: yaml.Node | None, field: str, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        self.problems.append((line, field, message))


MAX_NESTING = 32  # levels of lists and mappings; a project file uses four


def _too_deep(text: str) -> int | None:
    """The line where lists and mappings nest past `MAX_NESTING`, or None. Reads YAML's event stream,
    which PyYAML produces without recursion (composing the document recurses once per level, and a
    file nested thousands of levels deep would exhaust the stack)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                depth += 1
                if depth > MAX_NESTING:
                    return int(event.start_mark.line) + 1 if event.start_mark else None
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                depth -= 1
    except (yaml.YAMLError, RecursionError):
        return None  # not valid YAML: composing it says where
    return None


def load_project_text(text: str, source: str = "<project>") -> Project:
    """Parse and validate a project file's text. Raise `ProjectFileError` listing every problem."""
    ctx = _Ctx(source, [])
    deep = _too_deep(text)
    if deep is not None:
        raise ProjectFileError(
            source, [(deep, "", f"lists and mappings are nested more than {MAX_NESTING} levels deep")]
        )
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:  # _too_deep should have caught it; never a traceback for a bad file
        raise ProjectFileError(source, [(None, "", "the file is nested too deeply to read")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProjectFileError(source, [(line, "", f"not valid YAML: {problem}")]) from None
    if root is None:
        raise ProjectFileError(source, [(None, "", "the file is empty")])
    if not isinstance(root, yaml.MappingNode):
        raise ProjectFileError(source, [(root.start_mark.line + 1, "", "the file must be a mapping of keys")])

    top = _mapping(ctx, root, "", TOP_KEYS)
    slug = _str(ctx, top.get("project"), "project")
    if slug is not None and not SLUG_RE.match(slug):
        ctx.add(top["project"], "project", f"'{slug}' is not a valid slug (lowercase letters, digits and hyphens)")
    name = _str(ctx, top.get("name"), "name")
    language = None
    lang_text = _str(ctx, top.get("language"), "language")
    if lang_text is not None:
        try:
            language = Language(lang_text)
        except ValueError:
            ctx.add(top["language"], "language", f"unknown language '{lang_text}' (use en or zh)")

    team_language = None
    if "team_language" in top:
        team_text = _str(ctx, top["team_language"], "team_language")
        if team_text is not None:
            try:
                team_language = Language(team_text)
            except ValueError:
                ctx.add(top["team_language"], "team_language", f"unknown language '{team_text}' (use en or zh)")

    client = None
    if "client" in top:
        c = _mapping(ctx, top["client"], "client", CLIENT_KEYS)
        cname = _str(ctx, c.get("name"), "client.name")
        contact = _str(ctx, c.get("contact"), "client.contact")
        email = _email(ctx, c.get("email"), "client.email")
        if cname and contact and email:
            client = Client(cname, contact, email)

    goals = tuple(_str_list(ctx, top.get("goals"), "goals", min_items=1))
    in_scope = _items(ctx, top.get("in_scope"), "in_scope", min_items=1)
    out_of_scope = _items(ctx, top.get("out_of_scope"), "out_of_scope", min_items=0)
    seen: dict[str, str] = {}
    for list_name, items in (("in_scope", in_scope), ("out_of_scope", out_of_scope)):
        for item, node in items:
            if item.id in seen:
                if seen[item.id] == list_name:
                    ctx.add(node, f"{list_name}.id", f"duplicate item id '{item.id}'")
                else:
                    ctx.add(node, f"{list_name}.id", f"id '{item.id}' is in both in_scope and out_of_scope")
            else:
                seen[item.id] = list_name

    milestones = _milestones(ctx, top.get("milestones"))
    capacity = _str(ctx, top.get("capacity"), "capacity", required=False) or ""
    pms = _pms(ctx, top.get("pms"), "pms", min_items=1)

    ref_prefix = None
    if "ref_prefix" in top:
        ref_prefix = _str(ctx, top["ref_prefix"], "ref_prefix")
        if ref_prefix is not None and not PREFIX_RE.match(ref_prefix):
            ctx.add(top["ref_prefix"], "ref_prefix", "must be 1-12 capital letters or digits, starting with a letter")
            ref_prefix = None
    timezone = "UTC"
    if "timezone" in top:
        timezone = _timezone(ctx, top["timezone"], "timezone") or "UTC"
    cc = tuple(e for e in (_email(ctx, n, "cc") for n in _seq(ctx, top.get("cc"), "cc")) if e)

    platforms: dict[str, dict[str, Any]] = {}
    if "slack" in top:
        platforms["slack"] = _slack(ctx, top["slack"])
    if "teams" in top:
        platforms["teams"] = _teams(ctx, top["teams"])
    if "digest" in top:
        platforms["digest"] = _digest(ctx, top["digest"], timezone)
    timing = _timing(ctx, top)

    if ctx.problems:
        raise ProjectFileError(source, ctx.problems)
    assert slug and name and language and client  # guaranteed when no problem was found
    return Project(
        slug=slug,
        name=name,
        language=language,
        client=client,
        goals=goals,
        in_scope=tuple(i for i, _ in in_scope),
        out_of_scope=tuple(i for i, _ in out_of_scope),
        milestones=milestones,
        capacity=capacity,
        pms=tuple(pms),
        ref_prefix=ref_prefix or default_prefix(slug),
        timezone=timezone,
        cc=cc,
        platforms=platforms,
        team_language=team_language,
        timing=timing,
    )


def load_project_file(path: str) -> Project:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise ProjectFileError(path, [(None, "", f"cannot read the file: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise ProjectFileError(path, [(None, "", "the file is not UTF-8 text")]) from None
    return load_project_text(text, source=path)


# --- node helpers -------------------------------------------------------------------------------


def _mapping(ctx: _Ctx, node: yaml.Node, where: str, keys: dict[str, bool]) -> dict[str, yaml.Node]:
    """Return a mapping node's children by key, reporting unknown, duplicate and missing keys."""
    if not isinstance(node, yaml.MappingNode):
        ctx.add(node, where or "(top)", "must be a mapping of keys")
        return {}
    out: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        path = f"{where}.{key}" if where else str(key)
        if key is None or key not in keys:
            allowed = ", ".join(sorted(keys))
            ctx.add(key_node, path, f"unknown key '{key}' (allowed here: {allowed})")
            continue
        if key in out:
            ctx.add(key_node, path, f"key '{key}' appears twice")
            continue
        out[key] = value_node
    for key, required in keys.items():
        if required and key not in out:
            path = f"{where}.{key}" if where else key
            ctx.add(node, path, "missing required field")
    return out


def _str(ctx: _Ctx, node: yaml.Node | None, field: str, *, required: bool = True) -> str | None:
    if node is None:
        return None
    if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
        if required or not (isinstance(node, yaml.ScalarNode)):
            ctx.add(node, field, "must be a text value")
        return None
    value = str(node.value).strip()
    if not value:
        ctx.add(node, field, "must not be empty")
        return None
    if CONTROL_RE.search(value.replace("\n", "").replace("\t", "")):
        ctx.add(node, field, "contains control characters")
        return None
    return value


def _email(ctx: _Ctx, node: yaml.Node | None, field: str) -> str | None:
    value = _str(ctx, node, field)
    if value is not None and not is_email(value):
        ctx.add(node, field, f"'{value}' is not a valid e-mail address")
        return None
    return value


def _seq(ctx: _Ctx, node: yaml.Node | None, field: str) -> list[yaml.Node]:
    if node is None:
        return []
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return []
    if not isinstance(node, yaml.SequenceNode):
        ctx.add(node, field, "must be a list")
        return []
    return list(node.value)


def _str_list(ctx: _Ctx, node: yaml.Node | None, field: str, *, min_items: int = 0) -> list[str]:
    items = _seq(ctx, node, field)
    if node is not None and len(items) < min_items:
        ctx.add(node, field, f"needs at least {min_items} entry")
    return [v for v in (_str(ctx, n, field) for n in items) if v is not None]


def _items(ctx: _Ctx, node: yaml.Node | None, field: str, *, min_items: int) -> list[tuple[ScopeItem, yaml.Node]]:
    nodes = _seq(ctx, node, field)
    if node is not None and len(nodes) < min_items:
        ctx.add(node, field, f"needs at least {min_items} item")
    out = []
    for n in nodes:
        m = _mapping(ctx, n, field, ITEM_KEYS)
        item_id = _str(ctx, m.get("id"), f"{field}.id")
        if item_id is not None and not ITEM_ID_RE.match(item_id):
            ctx.add(m["id"], f"{field}.id", f"'{item_id}' is not a valid id (letters, digits, - _ .)")
            item_id = None
        title = _str(ctx, m.get("title"), f"{field}.title")
        notes = _str(ctx, m.get("notes"), f"{field}.notes", required=False) or ""
        if item_id and title:
            out.append((ScopeItem(item_id, title, notes), m.get("id", n)))
    return out


def _milestones(ctx: _Ctx, node: yaml.Node | None) -> tuple[Milestone, ...]:
    out = []
    for n in _seq(ctx, node, "milestones"):
        m = _mapping(ctx, n, "milestones", MILESTONE_KEYS)
        name = _str(ctx, m.get("name"), "milestones.name")
        due_text = _str(ctx, m.get("due"), "milestones.due")
        due = None
        if due_text is not None:
            try:
                due = date.fromisoformat(due_text)
            except ValueError:
                ctx.add(m["due"], "milestones.due", f"'{due_text}' is not a date (use YYYY-MM-DD)")
        if name and due:
            out.append(Milestone(name, due))
    return tuple(out)


def _pms(ctx: _Ctx, node: yaml.Node | None, field: str, *, min_items: int = 0) -> list[str]:
    nodes = _seq(ctx, node, field)
    if node is not None and len(nodes) < min_items:
        ctx.add(node, field, "needs at least one PM (an e-mail address or a platform user id)")
    out = []
    for n in nodes:
        value = _str(ctx, n, field)
        if value is None:
            continue
        if "@" in value and not is_email(value):
            ctx.add(n, field, f"'{value}' is not a valid e-mail address")
            continue
        out.append(value)
    return out


def _timezone(ctx: _Ctx, node: yaml.Node, field: str) -> str | None:
    value = _str(ctx, node, field)
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        ctx.add(node, field, f"unknown time zone '{value}' (use an IANA name such as Europe/Berlin or Asia/Shanghai)")
        return None
    return value


def _slack(ctx: _Ctx, node: yaml.Node) -> dict[str, Any]:
    m = _mapping(ctx, node, "slack", SLACK_KEYS)
    out: dict[str, Any] = {}
    channels = []
    for n in _seq(ctx, m.get("intake_channels"), "slack.intake_channels"):
        value = _str(ctx, n, "slack.intake_channels")
        if value is not None and not SLACK_CHANNEL_RE.match(value):
            ctx.add(n, "slack.intake_channels", f"'{value}' is not a Slack channel id (like C0123ABCD)")
        elif value is not None:
            channels.append(value)
    out["intake_channels"] = channels
    if "review_channel" in m:
        value = _str(ctx, m["review_channel"], "slack.review_channel")
        if value is not None and not SLACK_CHANNEL_RE.match(value):
            ctx.add(
                m["review_channel"], "slack.review_channel", f"'{value}' is not a Slack channel id (like C0123ABCD)"
            )
        out["review_channel"] = value
    pms = []
    for n in _seq(ctx, m.get("pms"), "slack.pms"):
        value = _str(ctx, n, "slack.pms")
        if value is not None and not SLACK_USER_RE.match(value):
            ctx.add(n, "slack.pms", f"'{value}' is not a Slack user id (like U0123ABCD)")
        elif value is not None:
            pms.append(value)
    out["pms"] = pms
    return out


def _teams(ctx: _Ctx, node: yaml.Node) -> dict[str, Any]:
    m = _mapping(ctx, node, "teams", TEAMS_KEYS)
    out: dict[str, Any] = {
        "intake_channels": _str_list(ctx, m.get("intake_channels"), "teams.intake_channels"),
        "pms": _str_list(ctx, m.get("pms"), "teams.pms"),
    }
    if "review_channel" in m:
        out["review_channel"] = _str(ctx, m["review_channel"], "teams.review_channel")
    return out


def _digest(ctx: _Ctx, node: yaml.Node, default_tz: str) -> dict[str, Any]:
    m = _mapping(ctx, node, "digest", DIGEST_KEYS)
    out: dict[str, Any] = {"timezone": default_tz}
    every = _str(ctx, m.get("every"), "digest.every")
    if every is not None:
        if not DIGEST_RE.match(every):
            ctx.add(
                m["every"], "digest.every", f"'{every}' is not a schedule (use e.g. 'monday 09:00' or 'daily 08:30')"
            )
        else:
            out["every"] = every.lower()
    if "timezone" in m:
        out["timezone"] = _timezone(ctx, m["timezone"], "digest.timezone") or default_tz
    return out


# --- time ---------------------------------------------------------------------------------------

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_DAYS = 90  # a day count beyond a quarter is a typo, not a process
CLOCK_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _weekday(value: str) -> int | None:
    v = value.strip().lower()
    if v in WEEKDAYS:
        return WEEKDAYS.index(v)
    if v in WEEKDAY_NAMES:
        return WEEKDAY_NAMES.index(v)
    return None


def _days(ctx: _Ctx, node: yaml.Node, field: str, *, minimum: int = 1) -> int | None:
    """A whole number of working days between `minimum` and MAX_DAYS."""
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip().isdigit():
        ctx.add(node, field, f"must be a whole number of working days ({minimum} to {MAX_DAYS})")
        return None
    n = int(str(node.value).strip())
    if not minimum <= n <= MAX_DAYS:
        ctx.add(node, field, f"{n} is out of range: use {minimum} to {MAX_DAYS} working days")
        return None
    return n


def _working_days(ctx: _Ctx, node: yaml.Node) -> tuple[int, ...] | None:
    """`[mon, tue, wed, thu, fri]`, or a range as text: `mon-fri`, `sun-thu`."""
    field = "working_days"
    hint = "use day names such as [mon, tue, wed, thu, fri], or a range such as mon-fri"
    if isinstance(node, yaml.ScalarNode) and node.tag != "tag:yaml.org,2002:null":
        first, sep, last = str(node.value).partition("-")
        a, b = _weekday(first), _weekday(last)
        if not sep or a is None or b is None:
            ctx.add(node, field, f"'{node.value}' is not a list of days ({hint})")
            return None
        return tuple(sorted({(a + i) % 7 for i in range((b - a) % 7 + 1)}))
    days: list[int] = []
    for n in _seq(ctx, node, field):
        value = _str(ctx, n, field)
        if value is None:
            continue
        day = _weekday(value)
        if day is None:
            ctx.add(n, field, f"'{value}' is not a day of the week ({hint})")
        elif day in days:
            ctx.add(n, field, f"'{value}' is listed twice")
        else:
            days.append(day)
    if isinstance(node, yaml.SequenceNode) and not node.value:
        ctx.add(node, field, "needs at least one working day")
        return None
    return tuple(sorted(days)) if days else None


def _holidays(ctx: _Ctx, node: yaml.Node) -> tuple[date, ...]:
    out: list[date] = []
    for n in _seq(ctx, node, "holidays"):
        value = _str(ctx, n, "holidays")
        if value is None:
            continue
        try:
            day = date.fromisoformat(value)
        except ValueError:
            ctx.add(n, "holidays", f"'{value}' is not a date (use YYYY-MM-DD)")
            continue
        if day in out:
            ctx.add(n, "holidays", f"{value} is listed twice")
            continue
        out.append(day)
    return tuple(sorted(out))


def _daily_summary(ctx: _Ctx, node: yaml.Node) -> str | None:
    """`09:00` (local time in the project's time zone), or `off`."""
    value = str(node.value).strip() if isinstance(node, yaml.ScalarNode) else ""
    if value.lower() in ("off", "false", "no", "none"):
        return None
    m = CLOCK_RE.match(value)
    if m is None:
        ctx.add(node, "daily_summary", f"'{value}' is not a time of day (use e.g. 09:00, or off)")
        return Timing().daily_summary
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def _timing(ctx: _Ctx, top: dict[str, yaml.Node]) -> Timing:
    """The file's time keys, each optional, with the defaults of `Timing`."""
    base = Timing()
    values: dict[str, Any] = {}
    for key in ("response_days", "escalate_after_days", "needs_info_expires_days", "follow_up_days"):
        if key in top:
            n = _days(ctx, top[key], key)
            if n is not None:
                values[key] = n
    if "working_days" in top:
        days = _working_days(ctx, top["working_days"])
        if days is not None:
            values["working_days"] = days
    if "holidays" in top:
        values["holidays"] = _holidays(ctx, top["holidays"])
    if "escalate_to" in top:
        values["escalate_to"] = tuple(_pms(ctx, top["escalate_to"], "escalate_to"))
    if "daily_summary" in top:
        values["daily_summary"] = _daily_summary(ctx, top["daily_summary"])
    return Timing(**{**base.__dict__, **values})
