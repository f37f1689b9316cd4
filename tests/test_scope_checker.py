"""The default scope checker on small scopes of its own: bugs on items, extensions, exclusion traps, multi-part,
Chinese, cross-language, the "not sure" path, the explanation, and determinism."""

from __future__ import annotations

import pytest

from bot.domain import Example, Language, Scope, ScopeItem, Verdict, VerdictKind
from bot.scope import default_checker
from bot.scope.judge import Params, ScopeJudge
from bot.scope.text import analyse, split_parts

IN, OUT, NEW = VerdictKind.IN_SCOPE, VerdictKind.OUT_OF_SCOPE, VerdictKind.UNLISTED

GYM = Scope(
    project="gym-booking",
    name="Riverside Gym class booking website",
    language=Language.EN,
    goals=("Members book fitness classes online",),
    in_scope=(
        ScopeItem(
            "classes",
            "Class timetable and online class booking",
            "Members book a place in a class; waiting list when full.",
        ),
        ScopeItem(
            "members", "Member accounts with e-mail login", "Password reset by e-mail; members see their bookings."
        ),
        ScopeItem("reminders", "Class reminders by e-mail", "Sent 2 hours before the class. E-mail only."),
        ScopeItem("invoices", "Monthly membership invoices as PDF", "Members download invoices of the last 12 months."),
        ScopeItem("staff", "Staff view of attendance", "Trainers mark who attended; export attendance as CSV."),
        ScopeItem("languages", "Website in English and French"),
    ),
    out_of_scope=(
        ScopeItem("apps", "Native iOS and Android apps"),
        ScopeItem(
            "payments", "Online card payment or PayPal", "Members keep paying by direct debit at the front desk."
        ),
        ScopeItem("nutrition", "Nutrition plans and diet tracking"),
        ScopeItem("langs", "Website languages other than English and French"),
    ),
)

SHOP = Scope(
    project="tea-shop",
    name="清茶坊网上商城",
    language=Language.ZH,
    goals=("上线网上商城",),
    in_scope=(
        ScopeItem("catalog", "商品分类与搜索", "按茶类和产地筛选；商品详情页含多图。"),
        ScopeItem("orders", "订单列表与物流跟踪", "显示快递单号和物流状态。"),
        ScopeItem("invoice", "电子发票申请", "下单后可申请增值税电子发票。"),
        ScopeItem("login", "手机号验证码登录"),
    ),
    out_of_scope=(
        ScopeItem("live", "直播带货"),
        ScopeItem("erp", "对接金蝶、用友等ERP系统"),
    ),
)


def covered(v: Verdict, *items: str) -> bool:
    """In scope with one of `items`; or, when the learned decision is not sure enough to assert the clause
    or the kind, unlisted with one of them as the closest candidate: either way never a leak, and the PM
    sees the item. Used where a covered ask is put as a wish ("Can…?", "…want…"), which on the labelled
    projects is often new work."""
    if v.verdict is VerdictKind.IN_SCOPE:
        return v.item_id in items
    return v.verdict is VerdictKind.UNLISTED and bool(v.candidates) and v.candidates[0] in items


@pytest.fixture(scope="module")
def judge() -> ScopeJudge:
    return ScopeJudge()


@pytest.mark.parametrize(
    ("text", "kind", "item"),
    [
        # bugs, questions and small fixes on a listed item
        ("The waiting list doesn't work: a member got a place in a full class.", IN, "classes"),
        ("Members can't download their invoices from March, the PDF is empty.", IN, "invoices"),
        ("The password reset e-mail never arrives.", IN, "members"),
        ("How do trainers export the attendance list as CSV?", IN, "staff"),
        # extensions of a listed item: a new channel, time range or language
        ("Could the class reminders also go out by SMS?", NEW, None),
        ("Can members download invoices from 2019 onwards too?", NEW, None),
        # exclusions, including one phrased around an in-scope feature
        ("Could the class timetable also be in an iPhone app?", OUT, "apps"),
        ("We'd like members to pay for a class online by credit card when they book.", OUT, "payments"),
        ("Members want a diet tracker with meal plans.", OUT, "nutrition"),
        ("Our Spanish members would like the website in Spanish.", OUT, "langs"),
        # new work nobody listed
        ("Can we add a referral programme where members earn a free month for bringing a friend?", NEW, None),
    ],
)
def test_english_verdicts(judge: ScopeJudge, text: str, kind: VerdictKind, item: str | None) -> None:
    v = judge.check(GYM, text)
    assert (v.verdict, v.item_id) == (kind, item), v


def test_negated_exclusion_word_is_not_an_exclusion(judge: ScopeJudge) -> None:
    v = judge.check(
        GYM,
        "We don't need an iPhone app: members just want to book a class and join the waiting list from the browser.",
    )
    assert v.verdict is IN and v.item_id == "classes"


def test_extension_names_what_is_extra(judge: ScopeJudge) -> None:
    v = judge.check(GYM, "Could the class reminders also go out by SMS?")
    assert v.verdict is NEW
    assert any(e.startswith("SMS") and "email" in e for e in v.extras), v.extras
    assert v.clause.startswith("Class reminders by e-mail")
    # What is extra is named in the request's own words, in either language, not by the concept's name.
    v = judge.check(GYM, "Could the class reminders also go out by text message?")
    assert any(e.startswith("text message:") for e in v.extras), v.extras
    v = judge.check(GUQIN, "学员约课以后能不能也在抖音上约？")
    assert v.extras and all("douyin" not in e for e in v.extras), v.extras
    assert any(e.startswith("抖音") for e in v.extras), v.extras


def test_clause_quotes_title_and_deciding_note_sentence(judge: ScopeJudge) -> None:
    v = judge.check(GYM, "Members can't download their invoices from March, the PDF is empty.")
    assert v.clause == "Monthly membership invoices as PDF: Members download invoices of the last 12 months."


def test_multi_part_riskiest_part_decides_and_parts_are_listed(judge: ScopeJudge) -> None:
    v = judge.check(GYM, "Two things: 1. the waiting list is broken; 2. can we get a diet tracker with meal plans?")
    assert v.verdict is OUT and v.item_id == "nutrition"
    assert [(p.verdict, p.item_id) for p in v.parts] == [(IN, "classes"), (OUT, "nutrition")]


def test_split_parts() -> None:
    assert split_parts("两个问题：1. 搜索很慢；2. 想加直播") == ["搜索很慢", "想加直播"]
    assert split_parts("The export is broken. Also, could we get SMS reminders?") == [
        "The export is broken.",
        "Also, could we get SMS reminders?",
    ]
    assert split_parts("Just one question about the invoices.") == ["Just one question about the invoices."]


@pytest.mark.parametrize(
    ("text", "kind", "item"),
    [
        ("搜索“龙井”什么都搜不出来，可商品明明已经上架了。", IN, "catalog"),
        ("物流状态一直不更新，顾客说已经收到货了。", IN, "orders"),
        ("能不能加个直播功能，边播边卖？", OUT, "live"),
        ("订单能不能自动同步到金蝶？", OUT, "erp"),
        ("想做一个积分兑换商城。", NEW, None),
    ],
)
def test_chinese_verdicts(judge: ScopeJudge, text: str, kind: VerdictKind, item: str | None) -> None:
    v = judge.check(SHOP, text)
    assert (v.verdict, v.item_id) == (kind, item), v


def test_cross_language_both_ways(judge: ScopeJudge) -> None:
    # A Chinese request on an English project, and an English request on a Chinese project.
    v = judge.check(GYM, "会员找不到下载发票的地方。")
    assert (v.verdict, v.item_id) == (IN, "invoices")
    v = judge.check(GYM, "能不能用信用卡在线付款？")
    assert (v.verdict, v.item_id) == (OUT, "payments")
    v = judge.check(SHOP, "Can customers ask for an electronic invoice after they order?")
    assert (v.verdict, v.item_id) == (IN, "invoice")


def test_weak_evidence_is_unlisted_not_a_guess(judge: ScopeJudge) -> None:
    v = judge.check(GYM, "Something about the thing we talked about on Tuesday.")
    assert v.verdict is NEW and v.item_id is None
    v = judge.check(GYM, "")
    assert v.verdict is NEW


def test_examples_decide_similar_requests(judge: ScopeJudge) -> None:
    text = "Members want to bring a friend to a class for free once a month."
    similar = "Could a member bring a friend along to one class a month for free?"
    assert judge.check(GYM, similar).verdict is not IN
    learned = Scope(**{**GYM.__dict__, "examples": (Example(text, IN, "classes"),)})
    v = judge.check(learned, similar)
    assert (v.verdict, v.item_id) == (IN, "classes")
    assert "corrected" in v.explanation
    # ...and the other way: a PM marks as new work what looked like an item.
    looked_in = "Can trainers see a member's injury notes before class?"
    if judge.check(GYM, looked_in).verdict is IN:
        learned = Scope(**{**GYM.__dict__, "examples": (Example(looked_in, NEW, None),)})
        v = judge.check(learned, "Could trainers see the injury notes of a member before the class?")
        assert (v.verdict, v.item_id) == (NEW, None)
    # An unrelated request is not pulled along by the example.
    assert judge.check(learned, "Members want a diet tracker with meal plans.").verdict is OUT


def test_an_example_does_not_decide_a_request_that_asks_for_more_than_it(judge: ScopeJudge) -> None:
    # The PM said a guest pass is part of class booking. The same ask again takes that verdict; the same ask
    # with more on top is judged on its own: the correction said nothing about the rest.
    text = "Members want to bring a friend to a class for free once a month."
    learned = Scope(**{**GYM.__dict__, "examples": (Example(text, IN, "classes"),)})
    again = judge.check(learned, "Could a member bring a friend to a class for free, once a month?")
    assert (again.verdict, again.item_id) == (IN, "classes") and "corrected" in again.explanation
    # Said with the item's own words ("book a place in a class"), it is still the same ask.
    in_item_words = judge.check(
        learned, "Once a month, members want to book a place in a class for a friend, for free."
    )
    assert (in_item_words.verdict, in_item_words.item_id) == (IN, "classes")
    assert "corrected" in in_item_words.explanation
    for more in (
        "Members want to bring a friend to a massage or sauna session for free once a month.",
        "Members want to bring a friend to a class for free once a month, with a referral bonus.",
        "Members want to bring a friend to a class for free once a month; the friend then gets a loyalty card.",
    ):
        v = judge.check(learned, more)
        assert "corrected" not in v.explanation, more
        # Without the limit the example decides it: the test bites.
        assert "corrected" in ScopeJudge(Params(example_new=1.0)).check(learned, more).explanation, more
        assert v.verdict is not IN, more


def test_an_example_does_not_decide_a_request_that_states_another_amount(judge: ScopeJudge) -> None:
    # The PM approved a guest pass once a month. Once a week, or three friends, is not what the PM said yes to.
    text = "Members want to bring a friend to a class for free once a month."
    learned = Scope(**{**GYM.__dict__, "examples": (Example(text, IN, "classes"),)})
    assert (
        "corrected"
        in judge.check(learned, "Could members bring a friend to a class for free once a month?").explanation
    )
    # A count said in words, of something the example does not count, is how the message is put.
    said = judge.check(learned, "Two points: members want to bring a friend to a class for free once a month.")
    assert "corrected" in said.explanation
    for other in (
        "Could members bring a friend to a class for free once a week?",
        "Could members bring 3 friends to a class for free once a month?",
    ):
        v = judge.check(learned, other)
        assert "corrected" not in v.explanation, other
        assert v.verdict is not IN, other
    # The same with a count: the example's 2 sessions decide 2 sessions, not 5.
    learned = Scope(
        **{
            **GYM.__dict__,
            "examples": (Example("Add 2 sessions of personal training to the class timetable.", IN, "classes"),),
        }
    )
    assert (
        "corrected"
        in judge.check(learned, "Add 2 sessions of personal training to the class timetable, please.").explanation
    )
    assert (
        "corrected"
        not in judge.check(learned, "Add 5 sessions of personal training to the class timetable, please.").explanation
    )


def test_deterministic_and_default(judge: ScopeJudge) -> None:
    assert isinstance(default_checker(), ScopeJudge)
    text = "Could the class reminders also go out by SMS? And the export is broken."
    assert judge.check(GYM, text) == ScopeJudge().check(GYM, text)


def test_a_large_scope_still_finds_its_item(judge: ScopeJudge) -> None:
    # How fast this is, is measured by `python -m bench.scope`, not asserted here (timings flake on a busy machine).
    items = tuple(
        ScopeItem(f"i{n}", f"Feature {n} report export for team {n}", f"Note about module {n}.") for n in range(1000)
    )
    big = Scope("big", "Big", Language.EN, (), items, GYM.out_of_scope)
    v = judge.check(big, "The report export of feature 512 is broken")
    assert v.verdict is not VerdictKind.OUT_OF_SCOPE


@pytest.mark.parametrize("text", ["", "   ", "???", "🙂🙂", "1. 2. 3.", "x" * 4000, "中" * 4000])
def test_odd_input_is_unlisted_not_an_error(judge: ScopeJudge, text: str) -> None:
    v = judge.check(GYM, text)
    assert v.verdict is NEW and v.item_id is None


def test_a_wall_of_parts_is_capped(judge: ScopeJudge) -> None:
    text = " ".join(f"{n}. the waiting list is broken for class {n}." for n in range(1, 40))
    v = judge.check(GYM, text)
    assert 2 <= len(v.parts) <= 12


def test_a_specific_thing_no_item_names_is_new_work_without_also(judge: ScopeJudge) -> None:
    # No "also / another": the ask names something (ratings) that neither an item nor an exclusion has.
    v = judge.check(GYM, "Can members rate the trainer after a class?")
    assert v.verdict is NEW, v
    assert any(e.startswith("rate:") for e in v.extras), v.extras  # the request's word, not the concept's
    v = judge.check(SHOP, "能不能让顾客给买过的茶写评价、打分？")
    assert v.verdict is NEW, v
    # A request its item explains well keeps a detail no item names (a column in an export it already has).
    v = judge.check(GYM, "Could trainers export the attendance of each class as CSV by department?")
    assert (v.verdict, v.item_id) == (IN, "staff"), v
    # How an existing feature looks or performs is a change to that item, not new work.
    v = judge.check(GYM, "The class timetable page is really slow to load in the evening.")
    assert (v.verdict, v.item_id) == (IN, "classes"), v


def test_wrong_thing_shown_is_a_fault_not_a_request_for_more(judge: ScopeJudge) -> None:
    v = judge.check(GYM, "Member Jane Smith sees the invoices of another gym instead of her own monthly invoices.")
    assert (v.verdict, v.item_id) == (IN, "invoices"), v
    # ...while asking for something instead of what the item gives still extends it.
    v = judge.check(GYM, "Could the reminders go out by SMS instead of e-mail?")
    assert v.verdict is NEW, v


def test_everyday_business_word_alone_does_not_name_an_exclusion(judge: ScopeJudge) -> None:
    shop = Scope(
        project="parts-portal",
        name="Parts portal",
        language=Language.EN,
        goals=("Trade customers order spare parts online",),
        in_scope=(ScopeItem("orders", "Order placement for trade customers", "Quick order by part number."),),
        out_of_scope=(ScopeItem("b2c", "Sales to consumers or guest checkout"),),
    )
    # "sales" is everyday business vocabulary: the exclusion is about consumers, which is not asked.
    assert judge.check(shop, "Our sales team would like a dashboard of portal revenue per region.").verdict is not OUT
    # Naming the excluded thing itself (in other words) still hits it.
    v = judge.check(shop, "Could ordinary end users buy parts too, without a trade account?")
    assert (v.verdict, v.item_id) == (OUT, "b2c"), v


@pytest.mark.parametrize(
    ("text", "item"),
    [
        ("What's the average spend per visit in each region?", "sales"),
        ("We need the till data going back two years.", "pos"),
        ("Can staff sign in with their Microsoft work account?", "login"),
    ],
)
def test_common_business_paraphrases(judge: ScopeJudge, text: str, item: str) -> None:
    retail = Scope(
        project="retail-bi",
        name="Retail reporting",
        language=Language.EN,
        goals=("Weekly trading figures for the shops",),
        in_scope=(
            ScopeItem("pos", "Load POS transactions from all shops", "History back two years."),
            ScopeItem("sales", "Sales dashboard", "Revenue, units and basket size by shop and region."),
            ScopeItem("login", "Login with Azure AD single sign-on"),
        ),
        out_of_scope=(ScopeItem("ml", "Forecasting and machine learning"),),
    )
    v = judge.check(retail, text)
    assert (v.verdict, v.item_id) == (IN, item), v


def test_who_the_request_is_for_does_not_name_an_exclusion(judge: ScopeJudge) -> None:
    fleet = Scope(
        project="fleet",
        name="Fleet maintenance",
        language=Language.EN,
        goals=("Keep the vans serviced on time",),
        in_scope=(
            ScopeItem("alerts", "Overdue service alerts by e-mail", "Sent to the workshop manager."),
            ScopeItem("parts", "Spare parts reorder list", "Parts below their minimum stock, exported as CSV."),
        ),
        out_of_scope=(
            ScopeItem("routing", "Route planning and driver scheduling"),
            ScopeItem("buying", "Purchasing of parts from suppliers"),
        ),
    )
    # The drivers and the purchasing team are who it is for: the asks extend or use in-scope items.
    v = judge.check(fleet, "Could the overdue service alerts also go out by SMS to the drivers?")
    assert v.verdict is NEW, v
    v = judge.check(fleet, "Can the spare parts reorder list be exported as CSV so purchasing can use it?")
    assert covered(v, "parts"), v
    # Asking for the excluded work itself still hits the exclusion.
    v = judge.check(fleet, "Can the system plan the routes and schedule the drivers for each day?")
    assert (v.verdict, v.item_id) == (OUT, "routing"), v
    v = judge.check(fleet, "Could the system order parts from our suppliers automatically?")
    assert (v.verdict, v.item_id) == (OUT, "buying"), v


def test_chinese_also_on_another_device_extends_the_item(judge: ScopeJudge) -> None:
    # "同时" asks for more; a screen is a new place for the order list. "显示" alone is not a fault report.
    v = judge.check(SHOP, "订单列表能不能同时显示在门店的显示屏上？")
    assert v.verdict is NEW, v
    v = judge.check(SHOP, "物流状态显示成已签收，可顾客说没收到货。")
    assert (v.verdict, v.item_id) == (IN, "orders"), v


def test_a_month_the_item_names_matches_and_one_it_does_not_is_only_a_date(judge: ScopeJudge) -> None:
    scope = Scope(
        project="giving",
        name="Donations site",
        language=Language.EN,
        goals=("Take donations online",),
        in_scope=(
            ScopeItem(
                "receipts",
                "Donation receipts by e-mail",
                "A receipt after each gift, and a yearly summary every April.",
            ),
            ScopeItem("history", "Donation history for donors", "Donors see their gifts back to 2020."),
        ),
        out_of_scope=(ScopeItem("events", "Event ticketing"),),
    )
    v = judge.check(scope, "Donors say they never got their April summary.")
    assert (v.verdict, v.item_id) == (IN, "receipts"), v
    v = judge.check(scope, "Donors want to see their gift history back to January 2020, not just this year.")
    assert covered(v, "history"), v


def test_an_everyday_word_is_not_corrected_into_a_scope_word(judge: ScopeJudge) -> None:
    scope = Scope(
        project="appeals",
        name="Appeals site",
        language=Language.EN,
        goals=("Raise money online",),
        in_scope=(
            ScopeItem(
                "appeals", "Appeal pages with a progress bar", "Staff set a target; the bar shows the share raised."
            ),
        ),
        out_of_scope=(ScopeItem("stock", "Warehouse stock management"),),
    )
    v = judge.check(scope, "The progress bar is stuck at 40% although we passed the target.")
    assert (v.verdict, v.item_id) == (IN, "appeals"), v
    # A real typo of a scope word is still corrected.
    assert judge.check(scope, "Can we manage the warehouse stokc too?").verdict is OUT


FLORIST = Scope(
    project="bloom",
    name="Bloom & Stem online florist",
    language=Language.EN,
    goals=("Sell bouquets online for same-day delivery",),
    in_scope=(
        ScopeItem("shop", "Responsive web shop", "Bouquets, add-on cards and vases; works in phone browsers."),
        ScopeItem("checkout", "Checkout and payment", "Card payments and Apple Pay; discount codes."),
        ScopeItem("delivery", "Delivery slots", "Same-day delivery slots in the city, chosen at checkout."),
    ),
    out_of_scope=(ScopeItem("apps", "Native iOS and Android apps"),),
)
GUQIN = Scope(
    project="qinfang",
    name="琴坊 课程预约小程序",
    language=Language.ZH,
    goals=("学员在微信小程序里约课",),
    in_scope=(
        ScopeItem("booking", "学员约课", "学员在微信小程序中选老师、选时段、取消预约。"),
        ScopeItem("pay", "课时包购买", "微信支付购买课时包。"),
    ),
    out_of_scope=(ScopeItem("apps", "独立 iOS / Android App"),),
)


@pytest.mark.parametrize(
    ("scope", "text", "item"),
    [
        (FLORIST, "On my iPhone the Apple Pay button never shows up when I pay.", "checkout"),
        (FLORIST, "Does the shop work in Safari on an iPhone? Our older customers don't want an app.", "shop"),
        (GUQIN, "约课页面在安卓手机上一直白屏，苹果的倒是正常。", "booking"),
    ],
)
def test_a_phone_named_where_something_happens_is_not_an_ask_for_an_app(
    judge: ScopeJudge, scope: Scope, text: str, item: str
) -> None:
    # The scope delivers through a browser or a mini-program: the phone is where the request comes from.
    v = judge.check(scope, text)
    assert v.verdict is not OUT, v
    assert v.item_id == item or item in v.candidates, v


@pytest.mark.parametrize(
    ("scope", "text"),
    [
        (FLORIST, "Could the shop also be an app on my iPhone?"),
        (FLORIST, "Customers keep asking for an Android app so they can reorder on their phones."),
        (GUQIN, "能不能做个安卓版的App？学员说小程序老是找不到。"),
    ],
)
def test_asking_for_an_app_on_a_phone_still_names_the_exclusion(judge: ScopeJudge, scope: Scope, text: str) -> None:
    assert judge.check(scope, text).verdict is OUT


def test_a_phone_is_not_only_context_when_no_item_is_a_browser_or_mini_program(judge: ScopeJudge) -> None:
    scope = Scope(
        project="tally",
        name="Tally field app",
        language=Language.EN,
        goals=("Field staff log visits on their iPhones",),
        in_scope=(ScopeItem("visits", "iPhone app for logging site visits", "Offline capture, photos, sync."),),
        out_of_scope=(ScopeItem("android", "Android version"),),
    )
    assert judge.check(scope, "Half the crew are on Android phones, can they log visits too?").verdict is not IN


def test_an_iphone_app_names_ios_even_when_an_item_mentions_some_app(judge: ScopeJudge) -> None:
    scope = Scope(
        project="portal",
        name="Client portal",
        language=Language.EN,
        goals=("Clients follow their cases online",),
        in_scope=(ScopeItem("login", "Client sign-in with two-factor codes", "A code from an authenticator app."),),
        out_of_scope=(),
    )
    v = judge.check(scope, "Clients keep asking for an iPhone app so they can check their case on the go.")
    assert v.verdict is not IN, v


def test_sending_by_a_channel_no_item_names_is_new_work(judge: ScopeJudge) -> None:
    # The order list names no channel: texting customers about their parcels is more than the item.
    v = judge.check(SHOP, "物流状态更新的时候，能不能给顾客发个短信？")
    assert v.verdict is NEW, v
    assert any(e.startswith("短信") for e in v.extras), v.extras  # in the request's words


POINTS = Scope(
    project="cafe-points",
    name="小麦咖啡会员小程序",
    language=Language.ZH,
    goals=("让顾客在小程序里累积和使用积分",),
    in_scope=(
        ScopeItem("points", "会员积分", "顾客每消费一元累计一分，结账时积分可以抵扣现金。"),
        ScopeItem("menu", "饮品菜单", "按类别展示饮品、价格和图片。"),
    ),
    out_of_scope=(ScopeItem("delivery", "外卖配送"),),
)


def test_chinese_also_with_words_no_item_has_is_not_taken_for_the_item(judge: ScopeJudge) -> None:
    # Unknown Chinese bigrams weigh little when finding the item, but they are still something the item
    # does not name: "还要 … 航空里程" asks for more than points that pay for drinks.
    v = judge.check(POINTS, "会员积分还要能换成航空里程。")
    assert v.verdict is NEW, v
    # The explanation says what is extra: the run of characters no item has, not the 能 before it.
    assert [e.split(":")[0] for e in v.extras] == ["换成航空里程"], v.extras
    v = judge.check(POINTS, "结账的时候积分抵扣的金额算错了。")
    assert (v.verdict, v.item_id) == (IN, "points"), v


CLUB = Scope(
    project="tennis-club",
    name="Larkfield Tennis Club members' site",
    language=Language.EN,
    goals=("Members manage their club membership on the web",),
    in_scope=(
        ScopeItem(
            "renewals",
            "Membership renewals and fees overview",
            "Members see their renewal date and the yearly fee; fees are paid at reception.",
        ),
        ScopeItem("courts", "Online court booking", "Members book a court online up to 7 days ahead."),
    ),
    out_of_scope=(ScopeItem("payments", "Online payment of membership fees"),),
)


def test_a_request_restating_an_exclusion_title_is_excluded_though_an_item_shares_its_words(judge: ScopeJudge) -> None:
    v = judge.check(CLUB, "Could members pay their membership fee online when they renew?")
    assert (v.verdict, v.item_id) == (OUT, "payments"), v
    # A fault report on the item that happens to use the same words stays with the item.
    v = judge.check(CLUB, "The renewal page shows the wrong membership fee for juniors.")
    assert (v.verdict, v.item_id) == (IN, "renewals"), v


SOAP = Scope(
    project="soap-shop",
    name="Fernhill Soap online shop",
    language=Language.EN,
    goals=("Sell handmade soap online",),
    in_scope=(
        ScopeItem("checkout", "Checkout and payment", "Customers pay by card through Stripe; receipts by e-mail."),
        ScopeItem("catalogue", "Product pages", "Photos, ingredients and prices of each soap."),
    ),
    out_of_scope=(ScopeItem("wholesale", "Wholesale accounts for shops"),),
)

FACTORY = Scope(
    project="press-shop",
    name="东岭冲压车间报工",
    language=Language.ZH,
    goals=("车间报工无纸化",),
    in_scope=(
        ScopeItem("sync", "与金蝶对接", "每天从金蝶同步生产订单，完工数量回写金蝶。"),
        ScopeItem("report", "扫码报工", "工人扫码报完工数量。"),
    ),
    out_of_scope=(ScopeItem("wms", "仓库管理"),),
)


def test_a_payment_method_beside_the_one_the_item_names_is_an_extension(judge: ScopeJudge) -> None:
    v = judge.check(SOAP, "Can customers pay with PayPal at checkout?")
    assert v.verdict is NEW, v
    assert any(e.startswith("PayPal") for e in v.extras), v.extras
    v = judge.check(SOAP, "Card payments at checkout fail with an error since this morning.")
    assert (v.verdict, v.item_id) == (IN, "checkout"), v


def test_another_business_system_beside_the_one_the_item_names_is_an_extension(judge: ScopeJudge) -> None:
    v = judge.check(FACTORY, "分厂用的是用友，生产订单也从用友同步过来吧。")
    assert v.verdict is NEW, v
    v = judge.check(FACTORY, "金蝶里的生产订单今天没有同步过来。")
    assert (v.verdict, v.item_id) == (IN, "sync"), v


BANK = Scope(
    project="credit-union",
    name="Millbrook Credit Union member portal",
    language=Language.EN,
    goals=("Members manage their savings online",),
    in_scope=(
        ScopeItem("savings", "Savings accounts overview", "Balances and statements as PDF."),
        ScopeItem("transfers", "Transfers between a member's own accounts"),
    ),
    out_of_scope=(
        ScopeItem("insurance", "Travel and pet insurance sales"),
        ScopeItem("payouts", "Paying dividends out to other banks"),
    ),
)


def test_each_coordinated_modifier_goes_with_its_head(judge: ScopeJudge) -> None:
    # "Travel and pet insurance" excludes travel insurance too, which a request names in other words.
    v = judge.check(BANK, "Could members buy cover for lost luggage on their holidays here?")
    assert (v.verdict, v.item_id) == (OUT, "insurance"), v


def test_a_phrasal_verb_split_by_its_object_is_one_verb() -> None:
    # "Paying dividends out" is a payout, like "send the money to their bank account"; "out of" is not.
    assert "payout" in analyse("Paying dividends out to other banks").concepts
    assert "payout" not in analyse("Members paid it out of their savings").concepts


TRUCK_SCHOOL = Scope(
    project="truck-school",
    name="Northgate driving school",
    language=Language.EN,
    goals=("Learners enrol online",),
    in_scope=(
        ScopeItem("enrol", "Online enrolment", "Learners enrol for a B or C1 licence course and upload their ID."),
        ScopeItem("lessons", "Lesson booking", "Learners book driving lessons with their instructor."),
    ),
    out_of_scope=(ScopeItem("theory", "Theory test practice"),),
)


def test_a_code_of_the_same_shape_as_the_items_is_a_sibling(judge: ScopeJudge) -> None:
    v = judge.check(TRUCK_SCHOOL, "Please open online enrolment for the C2 licence course.")
    assert v.verdict is NEW, v
    assert any(e.startswith("C2") for e in v.extras), v.extras
    v = judge.check(TRUCK_SCHOOL, "Enrolment for the C1 licence course fails when learners upload their ID.")
    assert (v.verdict, v.item_id) == (IN, "enrol"), v


COWORK = Scope(
    project="cowork",
    name="Hive coworking members' site",
    language=Language.EN,
    goals=("Members manage their desk online",),
    in_scope=(
        ScopeItem("desks", "Desk reservations", "Members see the desks they hold for the week."),
        ScopeItem("invoices", "Monthly invoices", "PDF invoices for each member company."),
    ),
    out_of_scope=(ScopeItem("events", "Event ticketing"),),
)


def test_a_word_that_differs_from_a_scope_word_only_in_its_ending_meets_it(judge: ScopeJudge) -> None:
    # "reserved" and "reservations" stem apart ("reserv", "reservat") but are one word to a reader.
    v = judge.check(COWORK, "Where do I find the desk I reserved?")
    assert (v.verdict, v.item_id) == (IN, "desks"), v


def test_chinese_ordinal_parts_are_split_and_the_riskiest_decides(judge: ScopeJudge) -> None:
    text = "两件事：一是订单列表加载很慢，二是想做直播带货。"
    assert len(split_parts(text)) == 2
    v = judge.check(SHOP, text)
    assert (v.verdict, v.item_id) == (OUT, "live"), v
    assert [p.verdict for p in v.parts] == [IN, OUT], v.parts


MUSEUM = Scope(
    project="museum",
    name="Ashcombe Museum tickets",
    language=Language.EN,
    goals=("Visitors buy tickets online",),
    in_scope=(
        ScopeItem("tickets", "Timed entry tickets", "Visitors pick a time slot and get an e-ticket by e-mail."),
        ScopeItem("members", "Friends membership", "Friends get free entry and a yearly card."),
    ),
    out_of_scope=(
        ScopeItem("cms", "Replacing the collections database", "The site reads from the existing collections API."),
    ),
)


def test_an_everyday_word_in_an_exclusions_notes_does_not_name_it(judge: ScopeJudge) -> None:
    # "site" is how any client speaks of the product; only the exclusion's notes happen to say it.
    v = judge.check(MUSEUM, "We want a gift shop on the site selling prints and mugs.")
    assert v.verdict is NEW, v


VAULT = Scope(
    project="vault",
    name="Keystone accountants' client portal",
    language=Language.EN,
    goals=("Clients share their tax papers securely",),
    in_scope=(
        ScopeItem("signin", "Client sign-in", "Password plus a code from an authenticator app."),
        ScopeItem("papers", "Tax paper upload", "Clients upload receipts and statements as PDF."),
    ),
    out_of_scope=(ScopeItem("apps", "Native mobile apps"),),
)


def test_a_platform_an_exclusion_titles_is_excluded_though_an_items_notes_mention_it(judge: ScopeJudge) -> None:
    # The sign-in item mentions an authenticator app in passing; the exclusion is about apps.
    v = judge.check(VAULT, "Clients keep asking for an Android app to upload their receipts from their phone.")
    assert (v.verdict, v.item_id) == (OUT, "apps"), v
    v = judge.check(VAULT, "The code from the authenticator app is rejected at sign-in.")
    assert (v.verdict, v.item_id) == (IN, "signin"), v


DENTIST = Scope(
    project="dentist",
    name="白鹭口腔预约",
    language=Language.ZH,
    goals=("患者在线预约",),
    in_scope=(
        ScopeItem("booking", "在线预约", "患者选择医生和时间。"),
        ScopeItem("remind", "短信提醒", "就诊前一天发短信提醒。"),
    ),
    out_of_scope=(ScopeItem("mini", "独立App和微信小程序"),),
)


def test_a_chinese_phrase_inside_a_longer_one_is_part_of_it(judge: ScopeJudge) -> None:
    # "微信消息" is a message channel; the "微信" inside it is not the mini-program the exclusion names.
    v = judge.check(DENTIST, "提醒除了短信，能不能再发一条微信消息？")
    assert v.verdict is NEW, v
    assert "wechat" not in analyse("再发一条微信消息").concepts


def test_a_negation_describing_someone_is_not_a_fault_report(judge: ScopeJudge) -> None:
    # "who isn't a client" says who; the request asks for more (someone else uploading), not a fix.
    assert not analyse("Could her bookkeeper, who isn't a client, upload the receipts too?").bug
    v = judge.check(VAULT, "Could her bookkeeper, who isn't a client, upload the receipts too?")
    assert v.verdict is NEW, v
    assert analyse("The upload isn't working for PDF receipts.").bug


def test_access_for_people_no_item_names_is_a_new_audience(judge: ScopeJudge) -> None:
    v = judge.check(VAULT, "Bookkeepers want their own sign-in to see the receipts.")
    assert v.verdict is NEW, v
    assert any(e.startswith("bookkeeper") for e in v.extras), v.extras
    v = judge.check(VAULT, "Clients want to sign in with the code from their authenticator app, where is it?")
    assert (v.verdict, v.item_id) == (IN, "signin"), v


def test_another_language_than_the_projects_own_extends_an_item_that_names_none(judge: ScopeJudge) -> None:
    v = judge.check(POINTS, "Some customers ask for an English drinks menu.")
    assert v.verdict is NEW, v
    v = judge.check(POINTS, "饮品菜单里的图片显示不出来。")
    assert (v.verdict, v.item_id) == (IN, "menu"), v


LETTINGS = Scope(
    project="lettings",
    name="Oakfield Lettings tenant portal",
    language=Language.EN,
    goals=("Tenants manage their tenancy online",),
    in_scope=(
        ScopeItem("repairs", "Repair requests", "Tenants report a repair with photos and follow its status."),
        ScopeItem("documents", "Tenancy documents", "Tenants download their tenancy agreement and inventory as PDF."),
    ),
    out_of_scope=(ScopeItem("esign", "Electronic signatures"),),
)


def test_signing_a_document_in_the_portal_is_an_electronic_signature(judge: ScopeJudge) -> None:
    v = judge.check(LETTINGS, "Could tenants sign the renewed agreement in the portal instead of printing it?")
    assert (v.verdict, v.item_id) == (OUT, "esign"), v
    v = judge.check(LETTINGS, "Tenants can't download their tenancy agreement, the PDF link is broken.")
    assert (v.verdict, v.item_id) == (IN, "documents"), v


def test_asking_whether_the_items_behaviour_is_normal_is_a_question_on_the_item(judge: ScopeJudge) -> None:
    assert analyse("It now asks me for a code on my new laptop. Is that normal?").bug
    assert analyse("Sign-in rejects my password since Monday.").bug
    assert analyse("取消以后钱退回来要三天，这正常吗？").bug
    assert not analyse("Could clients also sign in with a passkey?").bug
    v = judge.check(VAULT, "Since I got a new laptop sign-in wants a code from the authenticator app. Is that normal?")
    assert (v.verdict, v.item_id) == (IN, "signin"), v


PARCELS = Scope(
    project="parcels",
    name="Brightside Candles order desk",
    language=Language.EN,
    goals=("Ship candle orders faster",),
    in_scope=(
        ScopeItem("labels", "Shipping labels", "Print DHL labels for each paid order."),
        ScopeItem("leads", "Wholesale enquiries", "Enquiries go to HubSpot as new contacts."),
    ),
    out_of_scope=(ScopeItem("returns", "Returns handling"),),
)


def test_another_named_service_of_the_same_kind_is_an_extension(judge: ScopeJudge) -> None:
    v = judge.check(PARCELS, "Can we print Royal Mail labels for the small orders?")
    assert v.verdict is NEW, v
    assert any(e.startswith("Royal Mail") for e in v.extras), v.extras
    v = judge.check(PARCELS, "Wholesale enquiries should go to Salesforce, where our sales team works.")
    assert v.verdict is NEW, v
    v = judge.check(PARCELS, "The DHL label for order 5512 printed blank.")
    assert (v.verdict, v.item_id) == (IN, "labels"), v


LAB = Scope(
    project="lab-portal",
    name="Lab results portal",
    language=Language.EN,
    goals=("Clients get results online",),
    in_scope=(
        ScopeItem(
            "accounts",
            "Client companies and users",
            "Each client company has several users; a user sees only their own company's results.",
        ),
        ScopeItem("results", "Result reports", "PDF reports signed off by the lab manager; results also as CSV."),
        ScopeItem(
            "subs", "Subscriber account", "Change e-mail, update card details, cancel the subscription at the end."
        ),
        ScopeItem(
            "prices", "Test menu and price list", "Clients see the tests offered, the turnaround time and price."
        ),
    ),
    out_of_scope=(
        ScopeItem("courier", "Booking couriers or sample pickup"),
        ScopeItem("insurance", "Insurance for samplers"),
        ScopeItem("repair", "Instrument repair"),
    ),
)


def test_news_is_not_the_plural_of_new() -> None:
    assert "article" not in analyse("A new colleague joined").concepts
    assert "article" in analyse("The news page is empty").concepts


def test_a_new_person_or_a_replaced_detail_is_not_more_work(judge: ScopeJudge) -> None:
    assert not analyse("A new colleague at our firm needs her own login.").additive
    assert not analyse("My bank sent me a new card.").additive
    assert analyse("Can we have a new report of samples per week?").additive
    v = judge.check(LAB, "A new colleague at our firm needs her own login.")
    assert (v.verdict, v.item_id) == (IN, "accounts")


def test_a_question_on_how_something_works_needs_less_explained(judge: ScopeJudge) -> None:
    assert analyse("What's the turnaround for a metals panel?").question
    assert analyse("为什么扫码进不去？").question
    assert not analyse("Could you add a metals panel?").question
    v = judge.check(LAB, "What's the turnaround for a metals panel?")
    assert (v.verdict, v.item_id) == (IN, "prices")
    # ...but a question may still ask for more: another way to sign in is new work.
    assert judge.check(LAB, "Could a client company's users also sign in with Google?").verdict is NEW


def test_a_concept_that_goes_with_the_items_answers_a_report_on_it(judge: ScopeJudge) -> None:
    # The item names users, not passwords; resetting a user's password is still that item.
    v = judge.check(LAB, "Where does a client company's user reset the password?")
    assert (v.verdict, v.item_id) == (IN, "accounts")
    assert "login" not in " ".join(judge.check(LAB, "Could a client company's users also sign in with Google?").extras)


def test_a_related_concept_does_not_carry_an_ask(judge: ScopeJudge) -> None:
    # Passwords go with users, but asking for password rules the item does not have is not a report on it.
    assert judge.check(LAB, "Could password rules be stricter for users?").verdict is NEW


def test_should_be_able_to_asks_and_reports_no_fault() -> None:
    assert not analyse("Members should be able to renew online.").bug
    assert analyse("The total should be 40, not 38.").bug


def test_please_fix_reports_a_fault() -> None:
    assert analyse("Someone could see another client's samples. Please fix this urgently.").bug


def test_people_who_should_be_able_to_log_in_are_an_audience(judge: ScopeJudge) -> None:
    v = judge.check(LAB, "Auditors should be able to log in and see every company's results.")
    assert v.verdict is NEW
    assert any("auditor" in e for e in v.extras)


def test_chinese_words_meet_across_a_particle() -> None:
    terms = analyse("买了20次的卡，扣了钱").terms
    assert "次卡" in terms and "扣钱" in terms


@pytest.mark.parametrize(
    ("text", "item"),
    [
        ("能不能在系统里约快递上门取样品？", "courier"),  # 快递 is a courier service
        ("能不能给采样员买份意外险？", "insurance"),  # 意外险 is an insurance policy
        ("The instrument needs repairing, can the portal do that?", "repair"),
    ],
)
def test_everyday_words_name_an_exclusion_across_languages(judge: ScopeJudge, text: str, item: str) -> None:
    v = judge.check(LAB, text)
    assert (v.verdict, v.item_id) == (OUT, item)


def test_too_with_an_adjective_is_a_degree_and_reports_a_fault() -> None:
    a = analyse("The barcode labels print too small to scan.")
    assert a.bug and not a.additive
    assert analyse("Can we have the labels in colour too?").additive


def test_the_second_of_something_is_not_another() -> None:
    assert not analyse("Where can she see the hours for her second test?").additive
    assert analyse("Can we add a second warehouse?").additive


MES = Scope(
    project="mes",
    name="车间报工系统",
    language=Language.ZH,
    goals=("车间报工无纸化",),
    in_scope=(
        ScopeItem("reporting", "扫码报工", "工人扫工单二维码，报完工数量；一个工单可以分多次报工。"),
        ScopeItem("downtime", "停机记录", "机台停机时选择原因并记录起止时间。"),
    ),
    out_of_scope=(ScopeItem("warehouse", "仓库出入库"),),
)


def test_zai_before_the_items_own_action_means_again(judge: ScopeJudge) -> None:
    assert analyse("第二天再报工会不会覆盖数量？").again == frozenset({"报工"})
    v = judge.check(MES, "一个工单做了两天，第二天再报工会不会把第一天的数量覆盖掉？")
    assert (v.verdict, v.item_id) == (IN, "reporting")
    # ...but 再 before something the item does not have still asks for more.
    assert judge.check(MES, "报工以后能不能再发一条短信给班长？").verdict is NEW


def test_an_ordinal_day_is_not_a_second_part() -> None:
    assert split_parts("一个工单做了两天，第二天再报工会不会覆盖？") == ["一个工单做了两天，第二天再报工会不会覆盖？"]
    assert len(split_parts("一是报表很慢，第二是能不能加个导出")) == 2


def test_an_everyday_word_no_item_has_does_not_outweigh_the_item(judge: ScopeJudge) -> None:
    # "house" is a concept (房子 meets "house"), but naming one no item has asks for nothing specific.
    v = judge.check(GYM, "Where do members see their bookings after moving house?")
    assert covered(v, "classes", "members"), v
