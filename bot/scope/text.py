"""Text analysis for the scope checker: words, Chinese bigrams, concepts, negation and multi-part splitting.

Pure functions, no I/O. English words are lower-cased and stemmed with a small suffix stripper; Chinese
runs become character bigrams (no dictionary to load, so the first verdict is fast). Concepts from the
bilingual lexicon are added as extra terms (`#invoice`), which is how 发票 meets "invoice".
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from functools import lru_cache

from . import lexicon

_CJK = "\u3400-\u9fff"
_RUN = re.compile(rf"[a-z0-9][a-z0-9'&+\-]*|[{_CJK}]+")
_YEAR = re.compile(r"(?<![\d.,])(19[5-9]\d|20\d\d)(?![\d.,])")
# A count of things ("120 store managers", "3,000 user accounts", "€10,000"), not a time, a percentage or an id.
_AMOUNT = re.compile(
    r"(?:[€$£¥]\s?\d[\d,.]*\d"
    r"|(?<![\w.,-])\d{1,3}(?:,\d{3})+(?![\w.,-])"
    r"|(?<![\w.,-])\d{2,}(?=\s+(?!(?:minutes?|hours?|days?|weeks?|months?|years?|am|pm|percent|per|of"
    r"|jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|sep|sept|september"
    r"|oct|october|nov|november|dec|december)\b)[a-z]))"
)

STOP_EN = frozenset(
    """a an and are as at be been being but by can could do does did doing for from had has have having he her his
    i if in into is it its it's me my myself no nor not of off on once only or our ours ourselves out over own same
    she so some such than that that's the their theirs them then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you your yours just also
    please pls thanks thank hi hello dear team guys anyone someone something anything everything all any each
    every few more most other need needs needed want wants wanted like would'd we'd we'll i'd i'm i've we're they're
    it's can't don't doesn't isn't aren't won't let lets make made get gets got see sees seen show shows able way
    now today yesterday tomorrow still already yet again even really actually maybe perhaps quite bit lot lots
    one two three four five six seven eight nine ten first well sure right thing things stuff kind sort via per
    should shall must might may go going come coming know think thought look looks looking possible possibly
    add added adding use used using work works working put set give take keep say said tell ask asked asking
    help here how about there's where's what's who's okay ok yes etc e.g i.e""".split()
)
# Function characters: an unknown bigram with one of them is most likely two words' edges.
ZH_FUNCTION = frozenset(
    "的了吗呢吧啊呀嘛么着过和与及或是在把被给让就都还很太更最这那我你他她它们个之其要会能可以想请帮一不有没也到从又哪谁怎什时候自己该得地"
)
# Particles that never carry meaning in a bigram.
_ZH_PARTICLES = frozenset("的了吗呢吧啊呀嘛么着过地得哦哈啦")
# Particles a phrase can carry in its middle ("买了卡", "次的卡") without changing what it names.
_ZH_JOINABLE = frozenset("了的")
_ZH_STOP = frozenset(
    "的了吗呢吧啊呀嘛么着过和与及或是在把被给让就都还很太更最这那我你他她它们个之其要会能可以想请帮下上里后前时一不有没也"
)
_ZH_STOP_BIGRAMS = frozenset(
    """能不 不能 可以 我们 你们 他们 一下 一个 这个 那个 什么 怎么 是不 不是 时候 已经 现在 麻烦 帮忙 需要 想要 希望 能否
    是否 有没 有个 一些 这些 那些 如果 或者 还是 因为 所以 但是 可是 然后 之后 以后 之前 自己 大家 他们 有些 有点 好像 应该
    觉得 感觉 看看 看下 一起 直接 还有 另外 问题 功能 能够 支持 帮我 给我 为什么 的话 就是 还要 再做 一下 能做""".split()
)


# Words that end in -s without being plurals: "news" is not "new".
_NOT_PLURAL = frozenset(("news", "series", "species", "mathematics", "physics", "economics"))

# Weight of a word that is part of a concept phrase: the concept carries most of that evidence.
CONSUMED = 0.5


def stem(word: str) -> str:
    """A small English suffix stripper: enough to join invoice/invoices/invoicing, order/ordered/ordering."""
    w = word.strip("'")
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) <= 3 or not w.isalpha() or w in _NOT_PLURAL:
        return w
    for suf, rep in (
        ("ational", "ate"),
        ("ization", "ize"),
        ("isation", "ize"),
        ("ations", "ate"),
        ("ation", "ate"),
        ("ments", ""),
        ("ment", ""),
        ("ings", ""),
        ("ing", ""),
        ("ies", "y"),
        ("ied", "y"),
        ("sses", "ss"),
        ("ness", ""),
        ("ed", ""),
        ("ers", "er"),
        ("als", ""),
        ("al", ""),
        ("es", ""),
        ("s", ""),
    ):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            if suf == "s" and w.endswith(("ss", "us", "is")):
                continue
            if suf in ("al", "als") and len(w) - len(suf) < 5:
                continue  # renewal -> renew, approval -> approv, but not portal, signal, total
            if suf == "es" and not w.endswith(("ses", "xes", "ches", "shes", "zes")):
                w = w[:-1]
                break
            w = w[: -len(suf)] + rep
            break
    if len(w) > 5 and w.endswith("e"):
        w = w[:-1]
    if len(w) > 4 and w[-1] == w[-2] and w[-1] not in "lsz":
        w = w[:-1]
    return w


@dataclass(frozen=True)
class Concept:
    id: str
    category: str
    label: str  # a readable name for explanations ("SMS", "Android")


@dataclass
class _Lexicon:
    en: dict[tuple[str, ...], list[Concept]] = field(default_factory=dict)
    en_first: dict[str, int] = field(default_factory=dict)  # first stem -> longest phrase length
    zh: list[tuple[str, Concept]] = field(default_factory=list)
    zh_first: dict[str, list[tuple[str, Concept]]] = field(default_factory=dict)  # by first character
    by_id: dict[str, Concept] = field(default_factory=dict)
    words: set[str] = field(default_factory=set)  # one-word English forms of six letters or more


def _label(concept_id: str, en_forms: str, zh_forms: str) -> str:
    first = (en_forms.split("|")[0] or zh_forms.split("|")[0]).strip()
    return first.upper() if len(first) <= 3 else first


@lru_cache(maxsize=1)
def _lex() -> _Lexicon:
    lex = _Lexicon()
    for category, concepts in lexicon.CONCEPTS.items():
        for cid, (en_forms, zh_forms) in concepts.items():
            concept = Concept(cid, category, _label(cid, en_forms, zh_forms))
            lex.by_id[cid] = concept
            forms = [f.strip() for f in en_forms.split("|") if f.strip()]
            forms += [f.strip() for f in zh_forms.split("|") if f.strip() and f.strip().isascii()]
            for form in forms:
                key = tuple(stem(w) for w in _RUN.findall(form.lower()))
                if not key:
                    continue
                lex.en.setdefault(key, []).append(concept)
                lex.en_first[key[0]] = max(lex.en_first.get(key[0], 0), len(key))
                if len(key) == 1 and form.isalpha() and len(form) >= 6:
                    lex.words.add(form.lower())
            for form in zh_forms.split("|"):
                form = form.strip()
                if form and not form.isascii():
                    lex.zh.append((form, concept))
    lex.zh.sort(key=lambda fc: -len(fc[0]))
    for form, c in lex.zh:
        lex.zh_first.setdefault(form[0], []).append((form, c))
    return lex


def _respell(word: str, lex: _Lexicon) -> str:
    """A word the lexicon knows, typed with two letters swapped ("polsih" for "polish"), as it was meant.
    Only words of six letters or more that are neither everyday English nor a phrase's start already."""
    if len(word) < 6 or not word.isalpha() or not word.isascii() or word in lex.words:
        return word
    if word in STOP_EN or word in lexicon.COMMON_EN or stem(word) in lex.en_first:
        return word
    for i in range(len(word) - 1):
        w = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if w in lex.words:
            return w
    return word


def concept(concept_id: str) -> Concept:
    return _lex().by_id[concept_id]


@dataclass
class Analysis:
    """What the checker needs to know about a text."""

    terms: dict[str, float]  # term -> weight in the text (concepts are '#id')
    negated: set[str]
    concepts: set[str]
    years: set[str]
    amounts: set[str]
    additive: bool
    bug: bool
    cjk_share: float
    # Terms naming who wants or uses the result ("so purchasing can use it", "Finance says…",
    # "…by SMS to the drivers"), not what is asked for.
    audience: frozenset[str] = frozenset()
    # A question about how something already works ("how many…", "when will…", "为什么…"): like a bug
    # report, it needs less of its wording explained by the item, but unlike one it may still ask for more.
    question: bool = False
    # When "再" is the only word that asks for more: the words right after it ("再报工"). Said of an action
    # the item already has, 再 means "again", not "as well".
    again: frozenset[str] = frozenset()
    # "Besides the glossary, we'd like a style guide", "除了首件检验，还要巡检": what is asked on top of a thing
    # already named (the style guide, 巡检). The named thing is usually the item; the rest must be too.
    added: str = ""
    # "Move the newsletter from Mailchimp to Substack", "从微信支付换成云闪付": (the thing left, the thing
    # taken up instead). When the item names the first, the second is a change of provider or tool.
    switch: tuple[str, ...] = ()
    # Stems of a product or service the request names ("their Ariba system", "sync from our Dropbox",
    # "接入Shopify"): a scope that never names it cannot be sure it covers it.
    products: frozenset[str] = frozenset()
    # "Let holders renew it themselves", "让车主自己续费，不用跑物业": the people the result is for would do
    # the work, not staff.
    self_service: bool = False
    # The request's own words behind each term, as typed ("fish" and "gear" → "fishing-gear", "#package_deal"
    # → "bundles"): what an explanation shows, never a stem or a concept's name the client did not use.
    words: dict[str, str] = field(default_factory=dict)
    # Terms that are people's names ("a quick one from Tom", "王总说"): who asks, never what is asked for.
    names: frozenset[str] = frozenset()
    source: str = ""  # the text analysed, as it was written

    def word(self, term: str) -> str:
        """The request's words for `term`, as typed (the term itself when the request has no such words)."""
        said = self.words.get(term)
        return _as_typed(said, self.source) if said else term


_WHO = r"(?:the |our |their |all )?([a-z&]+(?: (?:and|&) [a-z&]+)?)(?: team| teams| department| people| staff)?"
_AUDIENCE = (
    # "…so purchasing can use it", "so that the drivers could…"
    re.compile(rf"\bso (?:that )?{_WHO} (?:can|could|will|would|are able|is able)\b"),
    # "Finance and ops calculate it differently", "Head office wants…" (at the start of a sentence)
    re.compile(
        rf"(?:^|[.;!?:]\s*){_WHO} (?:wants?|would like|would love|asks?|asked|needs?|says?|said|complains?|"
        r"uses?|calculates?|prefers?|keeps? asking|is asking|are asking|should be able to|must be able to)\b"
    ),
)
# "…by SMS to the drivers": only a person can be the one something goes to.
_TO_WHOM = re.compile(r"\b(?:to|for) (?:the |our |their |all |all the |each )?([a-z]+)\b")


@lru_cache(maxsize=64)
def _phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    # English phrases as whole words; Chinese phrases anywhere (there are no spaces to find words by).
    alts = [rf"(?<![a-z]){re.escape(p)}(?![a-z])" if p.isascii() else re.escape(p) for p in phrases]
    return re.compile("|".join(alts))


def _has_phrase(text: str, phrases: tuple[str, ...]) -> bool:
    return _phrase_pattern(phrases).search(text) is not None


# "The search returns nothing": the verb, not a product return.
_RETURNS_VERB = re.compile(
    r"\breturn(s|ed|ing)?\b(?=\s+(?:nothing|no\b|none|an? error|empty|zero|0\b|the wrong|wrong|null|blank))"
)


# "Every 4 hours" and "every few hours" say the same about timing.
_EVERY_N = re.compile(r"\bevery (?:\d+|two|three|four|five|six|few|couple of) (minutes|hours|days|weeks)\b")
# "Shows the list price instead of the discount": what is on screen is wrong, nothing more is asked.
_SEES_INSTEAD = re.compile(
    r"\b(?:sees?|seeing|shows?|showing|shown|displays?|displaying|gets?|getting|prints?|printing)\b[^.;!?]{0,60}\binstead of\b"
)


_ASK = re.compile(r"\b(?:could|can|would|please|want|wants|like|need|needs|let)\b")


# Phrasal verbs split by their object ("walk our analysts through", "hand the project over"): join them.
_SPLIT_VERB = re.compile(
    r"\b(walk|talk)\s+((?:[a-z'-]+\s+){1,3}?)(through)\b"
    r"|\b(hand)\s+((?:[a-z'-]+\s+){1,3}?)(over)\b"
    r"|\b(log|sign)\s+((?:[a-z'-]+\s+){1,2}?)(in|out)\b"
    r"|\b(set)\s+((?:[a-z'-]+\s+){1,2}?)(up)\b"
    r"|\b(mark)\s+((?:[a-z'-]+\s+){1,2}?)(down)\b"
    r"|\b(pay|pays|paying|paid)\s+((?:[a-z'-]+\s+){1,2}?)(out)\b(?! of)"
)
# "Home, travel and pet insurance": each modifier also goes with the head ("travel insurance").
_COORDINATED = re.compile(r"\b([a-z]+)((?:, [a-z]+)*),? (?:and|or|&) ([a-z]+) ([a-z]+)\b")


def _distribute(t: str) -> str:
    extra: list[str] = []
    for m in _COORDINATED.finditer(t):
        mods = [m.group(1), *(x for x in m.group(2).split(", ") if x), m.group(3)]
        if all(w not in STOP_EN for w in mods) and m.group(4) not in STOP_EN:
            extra.extend(f"{w} {m.group(4)}" for w in mods)
    return t + " ; " + " ; ".join(extra) if extra else t


def _join_verb(m: re.Match[str]) -> str:
    verb, obj, particle = (g for g in m.groups() if g is not None)
    return f"{verb} {particle} {obj.strip()}"


_DESCRIBING_NOT = re.compile(
    r"\b(?:who|which|whom) (?:isn't|aren't|doesn't|don't|is not|are not|does not|do not|has not|hasn't|have not|haven't)\b"
)


# "A new colleague needs a login", "my new card": a new person or a replaced detail, not more work.
_NEW_SAME = re.compile(
    r"\bnew (?:colleague|starter|joiner|hire|employee|member|customer|client|user|student|pupil|patient|tenant|"
    r"resident|driver|worker|subscriber|owner|manager|teacher|staff|team member|person|"
    r"password|address|card|bank card|credit card|phone|phone number|mobile number|number|email|email address|"
    r"surname|name)s?\b"
)
# "Too small to scan", "too many emails": a degree, not "as well".
_TOO_MUCH = re.compile(r"\btoo (?!please\b)(?=[a-z])")
# "Her second test", "the third day": one of those there already are, not another.
_NTH_OF = re.compile(r"\b(?:the|my|her|his|their|our|your|its) (?:second|third)\b")
_AGAIN = re.compile(rf"再([{_CJK}]{{2}})")
_ADDITIVE_ZH_NOT_AGAIN = tuple(w for w in lexicon.ADDITIVE_ZH if w != "再")
# Taking one service, tool or provider up in place of another.
_SWITCH = (
    # "move/switch/migrate (the newsletter) from X to Y"
    re.compile(
        r"\b(?:mov|switch|migrat|chang|transfer|port|go|going|shift)[a-z]*\b[^.;!?]{0,40}?\bfrom\s+"
        r"([^,.;!?]{1,40}?)\s+(?:to|onto|over to|into)\s+([^,.;!?]{1,40})"
    ),
    # "replace X with Y"
    re.compile(r"\breplac(?:e|ing)\s+([^,.;!?]{1,40}?)\s+(?:with|by)\s+([^,.;!?]{1,40})"),
    # "use Y instead of X", "Y rather than X"
    re.compile(r"\b(?:use|using)\s+([^,.;!?]{1,40}?)\s+(?:instead of|rather than)\s+([^,.;!?]{1,40})"),
    # "off X … use Y": "wants us off DocuSign. Please use Adobe Sign"
    re.compile(
        r"(?<![\w-])(?:off|away from|stop using|drop|dropping|ditch|ditching)\s+([^,.;!?]{1,30}?)[,.;!?]?\s[^.;!?]{0,40}?"
        r"\b(?:use|using|switch to|move to|go with|via|through)\s+([^,.;!?]{1,40})"
    ),
    # "按次…不想按月": a unit of charging or counting exchanged for another
    re.compile(rf"(按[{_CJK}])[^。；;]{{0,14}}?不(?:想|要|再)?(按[{_CJK}])"),
    # "从X换成Y", "把X改成Y", "X换成Y"
    re.compile(
        rf"(?:从|把|由)?([{_CJK}a-z0-9 ]{{1,10}}?)(?:换成|改成|换到|改到|改为|换为|迁到|迁移到|切换到|切换成|改用)([{_CJK}a-z0-9 ]{{1,12}})"
    ),
)
# A capitalised name (not the first word of a sentence) with a word that makes it a product or service.
_NAME = r"(?<![A-Za-z0-9])([A-Z][A-Za-z0-9]*(?:[ -][A-Z][A-Za-z0-9]*)*)"
_PRODUCT = (
    re.compile(
        _NAME + r"(?:'s)?\s+(?:system|systems|app|apps|software|platform|account|accounts|api|integration|feed|"
        r"plugin|tool|portal|device|devices|module|data|database|server|workspace|login)\b"
    ),
    re.compile(r"\b(?:via|through|using|into|onto|from our|on our|from their|in our|in their)\s+" + _NAME),
    re.compile(r"(?:接入|对接|通过|同步到|导入到|导到|用)\s*([A-Za-z][A-Za-z0-9]*(?: [A-Z][A-Za-z0-9]*)*)"),
)


def _products(text: str) -> frozenset[str]:
    out: set[str] = set()
    for rx in _PRODUCT:
        for m in rx.finditer(text):
            before = text[: m.start(1)].rstrip()
            if not before or before.endswith((".", "?", "!", ":", "\n")):
                continue  # the first word of a sentence is capitalised anyway
            out.update(stem(w.lower()) for w in re.findall(r"[A-Za-z0-9]+", m.group(1)))
    return frozenset(out)


SELF_SERVICE = re.compile(
    r"\b(?:themselves|himself|herself|yourself|ourselves|on their own|self[- ]service|self[- ]serve)\b(?<!for themselves)"
    r"|\bwithout (?:having to )?(?:calling|ringing|phoning|emailing|going to|coming in|coming to|visiting|queu)"
    r"|自助|自行|自己(?![去来拿算的])|不用跑|不用去|不用找|不必跑|不用再跑|不用到"
)
# Words that say staff do the work: the office, the front desk, back-office screens.
STAFF = re.compile(
    r"\b(?:staff|office|admin|admins|back[- ]office|reception|receptionist|front desk|team|teams|clerk|clerks|"
    r"operator|operators|agent|agents|managers?)\b"
    r"|后台|前台|物业|员工|工作人员|管理员|客服|营业厅|门店|店长|门市|调度|办理"
)
_ZH_MORE = "(?:还|也|再|另外)(?:要|想|需要|得|能|可以)?(?:加上|加个|加一个|加|增加|支持|能|有)?"
# "Besides X, (also) Y", "apart from X, Y", "除了X，还要Y", "X以外，还要Y": Y is what is asked for.
_BESIDES = (
    re.compile(
        r"\b(?:besides|apart from|aside from|as well as|in addition to|on top of)\s+[^,.;!?]{1,60},\s*([^.;!?]+)"
    ),
    re.compile(rf"除了[^，,。；;！？]{{1,24}}[，,]\s*[^，,。；;！？]{{0,6}}?{_ZH_MORE}([^。；;！？]+)"),
    re.compile(rf"[{_CJK}]{{2,}}(?:以外|之外)[，,]\s*[^，,。；;！？]{{0,6}}?{_ZH_MORE}([^。；;！？]+)"),
)
# "Members should be able to renew online" asks for something; "the total should be 40" reports a fault.
_ABLE_TO = re.compile(r"\b(?:should|must|need to|needs to) be (?:able|allowed|possible)\b")


def _wrong_shown(t: str) -> bool:
    """'Brenner sees the list price instead of their discount' reports a fault; 'could it show weekly
    instead of monthly' asks for a change."""
    m = _SEES_INSTEAD.search(t)
    if not m:
        return False
    start = max(t.rfind(c, 0, m.start()) for c in ".;!?")
    return not _ASK.search(t[start + 1 : m.start()])


# Slack writes emoji as their names (":fishing_pole_and_fish:", ":+1::skin-tone-2:"): pictures, not words.
_EMOJI_NAME = re.compile(r":(?=[a-z0-9_+\-]*[a-z])[a-z0-9_+\-]+:")
# A person named in passing, greeting, signing or passing a request on: "Hi Tom,", "Thanks Priya", "a quick
# one from Tom:", "Tom here", "raised by Ana", "@Sam". ("From Mailchimp to Substack" names no one.)
_PERSON_BEFORE = re.compile(
    r"(?:\b(?i:hi|hey|hello|dear|thanks|thank you|cheers|regards|cc|(?:requested|asked|raised|sent|reported) by)"
    r"[,:]?\s+|@)([A-Z][a-z]+)(?![A-Za-z'-])"
    r"|\b(?i:from)\s+([A-Z][a-z]+)(?=\s*[:,;!—–\u2600-\u27bf\U0001f300-\U0001faff]|\s+(?i:here|again)\b|\s*$)"
)
_PERSON_AFTER = re.compile(r"(?<![A-Za-z])([A-Z][a-z]+)\s+(?:here|says|said|asked|mentioned|suggested|thinks|wrote)\b")
# "王总说", "李经理提到": a surname with a title is a person.
_PERSON_ZH = re.compile(
    "[王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪"
    "范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤]"
    "(?:总|经理|老师|主任|处长|科长|部长|局长|工)"
)


def _names(text: str) -> frozenset[str]:
    """Terms of the people a request names in passing (stems, and Chinese bigrams)."""
    out: set[str] = set()
    for rx in (_PERSON_BEFORE, _PERSON_AFTER):
        for m in rx.finditer(text):
            out.update(stem(g.lower()) for g in m.groups() if g)
    for m in _PERSON_ZH.finditer(text):
        out.add(m.group()[:2])
    return frozenset(out)


def _as_typed(words: str, text: str) -> str:
    """`words` (lower-cased, as analysed) as the request wrote them: "Dropbox", "fishing-gear". A capital
    that only starts a sentence ("Bookkeepers want…") is not kept."""
    pattern = r"[\W_]+".join(re.escape(w) for w in words.split())
    found = list(re.finditer(rf"(?<![A-Za-z0-9]){pattern}(?![A-Za-z0-9])", text, re.IGNORECASE))
    if not found:
        return words
    for m in found:
        if text[: m.start()].rstrip()[-1:] not in ("", ".", "!", "?", ":", "\n"):
            return m.group()  # inside a sentence: as written
    typed = found[0].group()
    return typed[:1].lower() + typed[1:] if typed[1:2].islower() or len(typed) == 1 else typed


def normalise(text: str) -> str:
    t = _EMOJI_NAME.sub(" ", text.lower()).replace("’", "'").replace("e-mail", "email")
    t = _RETURNS_VERB.sub("gives", t)
    t = _EVERY_N.sub(lambda m: "every few " + m.group(1), t)
    t = _SPLIT_VERB.sub(_join_verb, t)
    return re.sub(r"\s+", " ", t)


@lru_cache(maxsize=2048)
def analyse(text: str, *, concepts_weight: float = 1.0) -> Analysis:
    """Analyse a text (cached: callers must not change the result)."""
    return _analyse(text, concepts_weight)


def _analyse(text: str, concepts_weight: float) -> Analysis:
    t = _distribute(normalise(text))
    lex = _lex()
    terms: dict[str, float] = {}
    negated: set[str] = set()
    found: set[str] = set()
    # Negated stretches: from a cue to the end of its clause (at most a few words).
    neg_spans: list[tuple[int, int]] = []
    for cue in lexicon.NEGATION_EN + lexicon.NEGATION_ZH:
        for m in re.finditer(re.escape(cue), t):
            end = m.end()
            stop = re.search(r"[,.;!?，。；！？]| but | just |只|就", t[end:])
            limit = end + (stop.start() if stop else len(t) - end)
            neg_spans.append((m.start(), min(limit, end + 40)))

    def is_negated(pos: int) -> bool:
        return any(a <= pos < b for a, b in neg_spans)

    cjk_chars = 0
    zh_typed: dict[str, str] = {}
    for m in _RUN.finditer(t):
        run = m.group()
        if "\u3400" <= run[0] <= "\u9fff":
            cjk_chars += len(run)
            consumed: set[int] = set()
            found_spans: set[tuple[int, int]] = set()
            reach = 0  # end of the longest phrase found so far: a phrase inside it is part of it
            for start, ch in enumerate(run):
                for form, c in lex.zh_first.get(ch, ()):
                    if not run.startswith(form, start):
                        continue
                    if start + len(form) <= reach and (start, len(form)) not in found_spans:
                        continue  # "微信" inside "微信消息": the message channel, not the platform
                    found_spans.add((start, len(form)))
                    reach = max(reach, start + len(form))
                    consumed.update(range(start, start + len(form) - 1))
                    key = "#" + c.id
                    found.add(c.id)
                    terms[key] = concepts_weight
                    zh_typed.setdefault(key, form)
                    if is_negated(m.start() + start):
                        negated.add(key)
            for i in range(len(run) - 1):
                bg = run[i : i + 2]
                if bg in _ZH_STOP_BIGRAMS or bg[0] in _ZH_PARTICLES or bg[1] in _ZH_PARTICLES:
                    continue
                if bg[0] in _ZH_STOP and bg[1] in _ZH_STOP:
                    continue
                terms[bg] = max(terms.get(bg, 0.0), CONSUMED if i in consumed else 1.0)
                if is_negated(m.start() + i):
                    negated.add(bg)
            # "次的卡" is "次卡", "扣了钱" is "扣钱": the words on either side of a particle meet too.
            for i in range(1, len(run) - 1):
                if run[i] in _ZH_JOINABLE and run[i - 1] not in _ZH_STOP and run[i + 1] not in _ZH_STOP:
                    bg = run[i - 1] + run[i + 1]
                    if bg not in terms and bg not in _ZH_STOP_BIGRAMS:
                        terms[bg] = CONSUMED
                        if is_negated(m.start() + i):
                            negated.add(bg)
    # English: phrase matching on the stems of every word (stop words included), then content terms.
    words = [(m.start(), m.group().strip("'-")) for m in _RUN.finditer(t) if not ("\u3400" <= m.group()[0] <= "\u9fff")]
    typed: dict[str, str] = {}  # term -> the words it came from, lower-cased
    words = [(pos, _respell(w, lex)) for pos, w in words]
    stems = [stem(w) for _, w in words]
    consumed_words: set[int] = set()
    word_concepts: dict[int, set[str]] = {}
    i = 0
    reach = 0  # end of the longest phrase found so far: a phrase inside it is part of it ("app" in "web app")
    while i < len(stems):
        longest = lex.en_first.get(stems[i], 0)
        matched = 0
        for n in range(min(longest, len(stems) - i), 0, -1):
            if i + n <= reach:
                break
            for c in lex.en.get(tuple(stems[i : i + n]), ()):
                key = "#" + c.id
                found.add(c.id)
                terms[key] = concepts_weight
                if is_negated(words[i][0]):
                    negated.add(key)
                for k in range(i, i + n):
                    word_concepts.setdefault(k, set()).add(key)
                said = [w for _, w in words[i : i + n]]
                while len(said) > 1 and said[-1] in STOP_EN:
                    said.pop()  # "rate the" → "rate"
                typed.setdefault(key, " ".join(said))
                matched = n
            if matched:
                consumed_words.update(range(i, i + n))
                reach = max(reach, i + n)
                break
        i += 1
    for k, ((pos, w), s) in enumerate(zip(words, stems, strict=True)):
        parts = [s] if "-" not in w or k in consumed_words else [stem(p) for p in w.split("-") if p]
        for p in parts:
            if p in STOP_EN or w in STOP_EN or len(p) < 2 or p.isdigit() or w.endswith("n't"):
                continue
            terms[p] = max(terms.get(p, 0.0), CONSUMED if k in consumed_words else 1.0)
            typed.setdefault(p, w)
            if is_negated(pos):
                negated.add(p)
    for cid in list(found):
        parent = lexicon.IMPLIES.get(cid)
        while parent and parent not in found:
            found.add(parent)
            key = "#" + parent
            terms.setdefault(key, concepts_weight * CONSUMED)
            if "#" + cid in negated:
                negated.add(key)
            parent = lexicon.IMPLIES.get(parent)
    audience: set[str] = set()
    spans = [m.span(1) for rx in _AUDIENCE for m in rx.finditer(t)]
    to_whom = [m.span(1) for m in _TO_WHOM.finditer(t)]
    for k, ((pos, _w), s) in enumerate(zip(words, stems, strict=True)):
        keys = word_concepts.get(k, set())
        if any(a <= pos < b for a, b in spans):
            audience.add(s)
            audience.update(keys)
        elif any(a <= pos < b for a, b in to_whom) and any(c[1:] in lexicon.PEOPLE for c in keys):
            audience.add(s)
            audience.update(keys)
    wrong_shown = _wrong_shown(t)
    additive_en = _has_phrase(_NTH_OF.sub(" ", _TOO_MUCH.sub(" ", _NEW_SAME.sub(" ", t))), lexicon.ADDITIVE_EN)
    additive_zh = _has_phrase(t, lexicon.ADDITIVE_ZH)
    additive = (additive_en and not wrong_shown) or additive_zh
    again: frozenset[str] = frozenset()
    if additive_zh and not additive_en and not _has_phrase(t, _ADDITIVE_ZH_NOT_AGAIN):
        again = frozenset(m.group(1) for m in _AGAIN.finditer(t))
    # "the other driver, who isn't our customer": a negation that describes someone reports no fault.
    plain = _ABLE_TO.sub(" ", _DESCRIBING_NOT.sub(" ", t))
    bug = wrong_shown or _has_phrase(plain, lexicon.BUG_EN) or _has_phrase(t, lexicon.BUG_ZH)
    question = _has_phrase(t, lexicon.QUESTION_EN) or _has_phrase(t, lexicon.QUESTION_ZH)
    letters = sum(1 for ch in t if ch.isalpha())
    added = next((b.group(1).strip() for rx in _BESIDES if (b := rx.search(t))), "")
    switch: tuple[str, ...] = ()
    for k, rx in enumerate(_SWITCH):
        if sw := rx.search(t):
            old, new = sw.group(1).strip(), sw.group(2).strip()
            switch = (new, old) if k in (2, 4) else (old, new)  # "use Y instead of X", "按次…不按月"
            break
    names = _names(text)
    for name in names:
        # "A quick one from Tom": who asks is not what is asked for, and no item should have to explain it.
        terms.pop(name, None)
    return Analysis(
        terms=terms,
        negated=negated,
        concepts=found,
        years=set(_YEAR.findall(t)),
        amounts=set(_AMOUNT.findall(t)),
        additive=additive,
        bug=bug,
        cjk_share=cjk_chars / letters if letters else 0.0,
        audience=frozenset(audience),
        question=question,
        again=again,
        added=added,
        switch=switch,
        products=_products(text),
        self_service=SELF_SERVICE.search(t.replace("for themselves", "")) is not None,
        words={**zh_typed, **typed},
        names=names,
        source=text,
    )


# --- multi-part requests ----------------------------------------------------------------------

_ENUM = re.compile(r"(?:^|(?<=[\s:：;；,，.。!?！？]))[(（]?\d{1,2}\s?[.)）、](?!\d)\s*|(?:^|(?<=\s))[①②③④⑤]\s*")
_JOINERS = re.compile(
    r"(?<=[.!?。！？;；])\s*(?=(?:and|also|plus|besides|另外|此外|还有|再就是|顺便)\b)"
    r"|,\s*and\s+(?=(?:can|could|would|will|please|also|we|i)\b)"
    r"|\s+and also\s+"
    r"|[;；]"
    r"|[，,。.]\s*(?=另外|此外|还有|顺便|再就是)"
    r"|[，,。.;；]\s*(?=[二三四五]是|第[二三四五](?![天次个年月周位名期季页条件遍批轮号届章节])|其次|最后)",
    re.IGNORECASE,
)
_LEADIN = re.compile(
    r"^\s*(?:two|three|a few|several|some)\s+(?:things|questions|requests|points|issues)\s*[:：]\s*|^\s*[两二三几](?:个|件)(?:问题|事情|需求|事)[:：]\s*",
    re.IGNORECASE,
)


MAX_PARTS = 12


def split_parts(text: str) -> list[str]:
    """Split a request into its parts: '1. … 2. …', '…; …', '… and also …', '…. Also …', '另外…'."""
    body = _LEADIN.sub("", text.strip())
    pieces: list[str] = []
    enum_hits = list(_ENUM.finditer(body))
    if len(enum_hits) >= 2:
        cuts = [m.start() for m in enum_hits] + [len(body)]
        head = body[: cuts[0]]
        if head.strip():
            pieces.append(head)
        pieces.extend(body[a:b] for a, b in itertools.pairwise(cuts))
        pieces = [_ENUM.sub("", p, count=1) if i or not head.strip() else p for i, p in enumerate(pieces)]
    else:
        pieces = [body]
    out: list[str] = []
    for p in pieces:
        out.extend(s for s in _JOINERS.split(p) if s)
    cleaned = [re.sub(r"^\s*(?:and|plus)\b[\s,，:：]*", "", s, flags=re.IGNORECASE).strip(" ,，") for s in out]
    parts = [c for c in cleaned if len(c) >= 4]
    if len(parts) > MAX_PARTS:  # a wall of text: judge its last stretch as one part
        parts = [*parts[: MAX_PARTS - 1], " ".join(parts[MAX_PARTS - 1 :])]
    return parts


# --- character n-grams ------------------------------------------------------------------------


def char_grams(text: str) -> dict[str, float]:
    """Character n-grams of a text: 4-grams inside each English word ("reconcil" meets "reconciliation",
    "descripions" meets "descriptions") and single characters and pairs of Chinese ("房" of "15 间房" meets
    "房间"). A second, word-boundary-free view of what a request shares with an item."""
    counts: dict[str, int] = {}
    for m in _RUN.finditer(normalise(text)):
        run = m.group()
        if "\u3400" <= run[0] <= "\u9fff":
            grams = [ch for ch in run if ch not in ZH_FUNCTION]
            grams += [
                run[i : i + 2] for i in range(len(run) - 1) if not (run[i] in _ZH_STOP and run[i + 1] in _ZH_STOP)
            ]
        else:
            w = run.strip("'-")
            if len(w) < 3 or w in STOP_EN or w.isdigit():
                continue
            padded = f" {w} "
            grams = [padded[i : i + 4] for i in range(len(padded) - 3)]
        for g in grams:
            counts[g] = counts.get(g, 0) + 1
    return {g: 1.0 + 0.5 * (c - 1) for g, c in counts.items()}
