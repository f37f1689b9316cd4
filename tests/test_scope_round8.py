"""General reading fixes of the scope checker: a phrase inside a longer one is part of it ("app" in "web app"),
a date is not a quantity, a number exceeds only a limit the item sets, a swapped pair of letters in a word the
lexicon knows, currencies by their codes, and an ordinal ("第二天") that is neither a count nor a span. Examples
written for these tests."""

from __future__ import annotations

from bot.domain import Language, Scope, ScopeItem, VerdictKind
from bot.scope.judge import ScopeJudge
from bot.scope.limits import item_limits
from bot.scope.text import analyse

IN, OUT, NEW = VerdictKind.IN_SCOPE, VerdictKind.OUT_OF_SCOPE, VerdictKind.UNLISTED

# A web app whose scope says so in its own words, with the store apps excluded.
CLINIC = Scope(
    project="pet-clinic",
    name="Paws & Claws appointment booking",
    language=Language.EN,
    goals=("Pet owners book vet appointments online",),
    in_scope=(
        ScopeItem("booking", "Online appointment booking for pet owners", "Owners pick a vet, a day and a slot."),
        ScopeItem("pets", "Pet profiles", "Species, breed, date of birth and vaccination dates."),
        ScopeItem("reminders", "Vaccination reminders by e-mail", "Sent 2 weeks before a vaccination is due."),
        ScopeItem("web", "Responsive web app", "Runs in phone, tablet and desktop browsers."),
        ScopeItem("reports", "Monthly booking report for the practice manager", "No-shows and bookings per vet."),
    ),
    out_of_scope=(
        ScopeItem(
            "apps", "Native iOS and Android apps", "The clinic is a web app only; nothing goes in the App Store."
        ),
        ScopeItem("billing", "Online payment of vet bills"),
    ),
)


def test_web_app_is_not_a_store_app() -> None:
    # "app" inside "web app" is the web app itself, not the concept of a native app.
    assert "web_app" in analyse("Responsive web app").concepts
    assert "native_app" not in analyse("Responsive web app").concepts
    assert "native_app" in analyse("a proper app in the App Store").concepts
    # ...while a longer phrase that goes past the shorter one's end still counts on its own.
    assert {"native_app", "ios"} <= analyse("an iphone app for owners").concepts


def test_a_store_app_on_a_web_app_project_is_the_excluded_apps() -> None:
    v = ScopeJudge().check(CLINIC, "Could owners download the booking as a proper app from the App Store instead?")
    assert v.verdict is OUT and v.item_id == "apps"


def test_a_date_is_not_a_quantity() -> None:
    assert analyse("move the 27 December deliveries to the 23rd").amounts == set()
    assert analyse("bring the 14 March deadline forward").amounts == set()
    assert analyse("we need 120 double sheets").amounts == {"120"}


def test_a_number_exceeds_only_a_limit_the_item_sets() -> None:
    judge = ScopeJudge()
    # The booking report counts nothing: "40 bookings" says how many there were, not that it asks for more.
    v = judge.check(CLINIC, "The monthly booking report for March shows 40 bookings for Dr Lee but she had 52, why?")
    assert "40" not in " ".join(v.extras) and "52" not in " ".join(v.extras)
    # Reminders go 2 weeks ahead: "6 weeks" is past what the item says (a period), and a count past a stated
    # count is still read as one.
    limited = Scope(
        project="dash",
        name="Dashboards",
        language=Language.EN,
        goals=("Dashboards",),
        in_scope=(ScopeItem("dash", "Up to 3 sales dashboards", "Built in the client's BI tool."),),
        out_of_scope=(),
    )
    v = judge.check(limited, "Can we have 12 sales dashboards instead?")
    assert v.verdict is not IN
    assert any("12" in e for e in v.extras)


def test_two_swapped_letters_in_a_known_word() -> None:
    a = analyse("can we get the site in polsih as well?")
    assert "lang_pl" in a.concepts
    # Everyday words and short words are left as typed ("trail" is not "trial").
    assert "trail" in analyse("the audit trail of a booking").terms


def test_currencies_by_their_codes_and_names() -> None:
    for text in ("pay in SGD", "prices in Hong Kong dollars", "settle in Swiss francs", "用港币付款"):
        assert "currency" in analyse(text).concepts, text


def test_an_ordinal_is_not_a_count_or_a_span() -> None:
    # "第二天" is the next day and "第3张" the third sheet: neither is two days or three sheets.
    assert item_limits("她想前一天晚上把第二天的菜换掉").spans == (1.0,)
    assert item_limits("第3张报表打不开").counts == {}
    assert item_limits("十二天内").spans == (12.0,)
    assert item_limits("每月3张报表").counts == {"张": 3.0}
