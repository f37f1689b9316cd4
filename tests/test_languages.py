"""A team reads chat in its project's team language, on every surface: Slack (receipt, review card, forms,
errors, the letter DM, notices, /scope, App Home), Teams (the same, as cards and messages) and the
terminal. A person whose platform tells their own language reads their private messages in it."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.projectfile import load_project_text
from tests.support.slack_harness import MEMBER_ID, OTHER_ID, PM_ID, SlackHarness, payload, text_value
from tests.support.teams import (
    INTAKE_CHANNEL,
    MEMBER,
    OTHER,
    PM,
    REVIEW_CHANNEL,
    TEAMS_PROJECT_YAML,
    Harness,
    running,
)
from tests.support.views import card_inputs, texts

ZH_PROJECT = """
project: lanting-crm
name: 兰亭茶业会员管理系统
language: zh
timezone: Asia/Shanghai
client: {name: 苏州兰亭茶业有限公司, contact: 周文静, email: zhouwenjing@lanting-tea.example}
pms: ["pm@acme.example"]
goals: ["2027年4月底前上线门店会员管理系统"]
in_scope:
  - {id: points, title: "消费积分与积分兑换", notes: "每消费1元积1分，积分可在门店兑换指定茶品。"}
out_of_scope:
  - {id: shop, title: "线上商城或小程序下单"}
"""
ZH_SLACK = (
    ZH_PROJECT
    + """slack:
  intake_channels: [C0ZH]
  review_channel: C0ZHREV
  pms: [U0PMSLACK]
"""
)
ASK_SHOP = "能不能做个小程序，让会员在线下单买茶？"


def chinese(text: str) -> bool:
    """Mostly Chinese: there are Chinese characters and no English sentence of the bot's own in it."""
    return bool(re.search(r"[\u4e00-\u9fff]", text))


def texts_of(blocks: list[dict[str, Any]]) -> list[str]:
    """Every piece of text a person reads in Block Kit: headings, sections, context, buttons, menus."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
                out.append(node["text"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(blocks)
    return out


# Words of the bot's English wording that must not reach a Chinese team.
ENGLISH = re.compile(
    r"\b(Client request|Scope check|Status|Approve|Decline|Ask for details|Waiting|Recorded|From|Project|"
    r"Cancel|Reason|Letter|Tone check|Only the PMs|Subject|Withdraw|Correct the verdict)\b"
)


def no_english_wording(texts: list[str]) -> None:
    found = [t for t in texts if ENGLISH.search(t)]
    assert not found, found


# --- Slack --------------------------------------------------------------------------------------


@pytest.fixture
async def zh_slack(slack: SlackHarness) -> AsyncIterator[SlackHarness]:
    await slack.service.load_project(load_project_text(ZH_SLACK, "lanting.yaml"))
    yield slack


async def test_a_chinese_team_reads_chinese_on_every_slack_surface(zh_slack: SlackHarness) -> None:
    slack = zh_slack
    await slack.command("/request", ASK_SHOP, user=MEMBER_ID, channel="C0ZH")
    await slack.settle()
    receipt = slack.fake.responses[-1]
    assert receipt["text"].startswith("已记录 LANTING-1：超出范围（shop）")
    card = slack.posted("C0ZHREV")[-1]
    texts = texts_of(card["blocks"])
    assert texts[0] == "客户需求 LANTING-1" and "等待项目经理决定" in " ".join(texts)
    assert {"批准", "婉拒", "询问详情", "更正判定", "撤回"} <= set(texts)
    no_english_wording(texts)
    assert chinese(card["text"]) and not ENGLISH.search(card["text"])

    # Someone who is not a PM is refused, in Chinese.
    await slack.click("approve_request", "LANTING-1", user=OTHER_ID, channel="C0ZHREV")
    await slack.settle()
    refusal = slack.fake.calls_to("chat.postEphemeral")[-1]["text"]
    assert refusal.startswith("只有 兰亭茶业会员管理系统 的项目经理可以对 LANTING-1 作出决定")

    # The PM's decline form, and its inline errors.
    await slack.click("decline_request", "LANTING-1", user=PM_ID, channel="C0ZHREV")
    await slack.settle()
    form = slack.opened_view()
    assert form["title"]["text"] == "婉拒 LANTING-1" and form["submit"]["text"] == "起草回复函"
    no_english_wording([*texts_of(form["blocks"]), form["close"]["text"]])
    resp = await slack.submit(form, user=PM_ID, values={"reason_text": text_value(" ")})
    errors = (await resp.json())["errors"]
    assert errors == {"reason_text": "请用一两句话写明理由：客户应当得到清楚的解释。"}
    resp = await slack.submit(form, user=PM_ID)
    assert (await resp.text()) == ""
    await slack.settle()

    # The letter in the PM's DM, the updated card, the requester's notice.
    letter = [c for c in slack.posted() if c["channel"] == "D0PMSLACK"][-1]
    letter_texts = texts_of(letter["blocks"])
    assert letter_texts[0] == "LANTING-1 的客户回复函" and any(t.startswith("*语气检查") for t in letter_texts)
    assert {"编辑", "下载 .eml", "标记为已发送"} <= set(letter_texts)
    update = slack.fake.calls_to("chat.update")[-1]
    assert "婉拒：将通过邮件答复客户" in " ".join(texts_of(update["blocks"]))
    told = [c for c in slack.posted() if c["channel"] == "D0SAM"][-1]
    assert "婉拒了 LANTING-1，将通过邮件正式答复客户" in told["text"]

    # /scope and App Home.
    await slack.command("/scope", "", user=MEMBER_ID, channel="C0ZH")
    await slack.settle()
    scope = slack.fake.responses[-1]
    assert texts_of(scope["blocks"])[0] == "兰亭茶业会员管理系统：约定范围"
    no_english_wording(texts_of(scope["blocks"]))


async def test_an_english_team_in_the_same_workspace_still_reads_english(zh_slack: SlackHarness) -> None:
    slack = zh_slack
    await slack.command("/request", "Please build native iOS and Android apps for the portal", user=MEMBER_ID)
    await slack.settle()
    assert slack.fake.responses[-1]["text"].startswith("Recorded ACME-1: out of scope (mobile)")
    texts = texts_of(slack.posted("C0REVIEW")[-1]["blocks"])
    assert texts[0] == "Client request ACME-1" and "Approve" in texts


async def test_a_slack_user_set_to_chinese_reads_private_messages_in_chinese(zh_slack: SlackHarness) -> None:
    """On an English project, a PM whose Slack is in Chinese gets Chinese forms; the shared card stays English."""
    slack = zh_slack
    slack.fake.add_user("U0ZHPM", name="Wang Fang", email="pm@acme.example", locale="zh-CN")
    await slack.command("/request", "Please build native iOS and Android apps for the portal", user=MEMBER_ID)
    await slack.settle()
    await slack.click("decline_request", "ACME-1", user="U0ZHPM")
    await slack.settle()
    form = slack.opened_view()
    assert form["title"]["text"] == "婉拒 ACME-1"
    assert texts_of(slack.posted("C0REVIEW")[-1]["blocks"])[0] == "Client request ACME-1"


async def test_app_home_of_a_chinese_pm_is_in_chinese(zh_slack: SlackHarness) -> None:
    slack = zh_slack
    # The PM's only project here is the Chinese one: leave the English project out of their view.
    await slack.service.load_project(
        load_project_text(
            ZH_SLACK.replace('pms: ["pm@acme.example"]', 'pms: ["zhou@lanting-team.example"]'), "lanting.yaml"
        )
    )
    slack.fake.add_user("U0ZHOU", name="周明", email="zhou@lanting-team.example")
    await slack.command("/request", ASK_SHOP, user=MEMBER_ID, channel="C0ZH")
    await slack.settle()
    event = payload("app_home_opened.json")
    event["event"]["user"] = "U0ZHOU"
    await slack.event(event)
    await slack.settle()
    home = slack.fake.calls_to("views.publish")[-1]["view"]
    texts = texts_of(home["blocks"])
    assert texts[0] == "客户需求" and "等待决定（1）" in texts and "我记录的需求（0）" in texts
    no_english_wording(texts)


# --- Teams --------------------------------------------------------------------------------------

ZH_TEAMS = ZH_PROJECT + TEAMS_PROJECT_YAML


@pytest.fixture
async def zh_teams(db_url: str) -> AsyncIterator[Harness]:
    async with running(db_url, project_yaml=ZH_TEAMS) as h:
        for user in (PM, MEMBER, OTHER):
            h.locales[user["id"]] = "zh-CN"
        await h.add_to_channel(REVIEW_CHANNEL)
        await h.install_personal(PM)
        yield h


def card_texts(card: dict[str, Any]) -> list[str]:
    return texts(card)


async def test_a_chinese_team_reads_chinese_on_every_teams_surface(zh_teams: Harness) -> None:
    teams = zh_teams
    await teams.say_in_channel(MEMBER, f"request {ASK_SHOP}")
    receipt = await teams.connector.wait_for(
        lambda: [c for c in teams.connector.posts(INTAKE_CHANNEL) if c.text.startswith("已记录")]
    )
    assert receipt[0].text.startswith("已记录 LANTING-1：超出范围（shop）")
    cards = await teams.connector.wait_for(lambda: [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card])
    review = cards[0]
    assert review.card is not None
    texts = card_texts(review.card)
    assert texts[0] == "客户需求 LANTING-1" and {"批准", "婉拒", "询问详情"} <= set(texts)
    no_english_wording(texts)

    resp = await teams.click(OTHER, review, {"intake": "approve", "ref": "LANTING-1"})
    body = await resp.json()
    assert body["value"].startswith("只有 兰亭茶业会员管理系统 的项目经理可以对 LANTING-1 作出决定")

    resp = await teams.click(PM, review, {"intake": "decline", "ref": "LANTING-1"})
    form = (await resp.json())["value"]
    assert card_texts(form)[0] == "婉拒 LANTING-1"
    no_english_wording(card_texts(form))
    resp = await teams.click(
        PM,
        review,
        {"intake": "decline_submit", "ref": "LANTING-1", "reason_category": "project_goals", "reason_text": ""},
    )
    again = (await resp.json())["value"]
    assert "⚠ 请用一两句话写明理由：客户应当得到清楚的解释。" in card_texts(again)
    defaults = {i["id"]: i.get("value") for i in card_inputs(form)}
    resp = await teams.click(PM, review, {**defaults, "intake": "decline_submit", "ref": "LANTING-1"})
    decided = (await resp.json())["value"]
    assert any("婉拒：将通过邮件答复客户" in x for x in card_texts(decided))

    letters = await teams.connector.wait_for(
        lambda: [
            c
            for c in teams.connector.posts("a:personal-pm-pat")
            if c.card and "回复函" in json.dumps(c.card, ensure_ascii=False)
        ]
    )
    letter_texts = card_texts(letters[-1].card or {})
    assert letter_texts[0] == "LANTING-1 的客户回复函" and "语气检查" in letter_texts
    no_english_wording(letter_texts)
    told = await teams.connector.wait_for(
        lambda: [c for c in teams.connector.posts(INTAKE_CHANNEL) if "将通过邮件正式答复客户" in c.text]
    )
    assert told

    await teams.say_personal(MEMBER, "帮助")
    helps = [c for c in teams.connector.posts("a:personal-member-sam") if "我负责记录客户需求" in c.text]
    assert helps


async def test_a_teams_user_set_to_english_on_a_chinese_project(zh_teams: Harness) -> None:
    """Private replies follow the person's own Teams language; the shared review card keeps the team's."""
    teams = zh_teams
    teams.locales[PM["id"]] = "en-US"
    await teams.say_in_channel(MEMBER, f"request {ASK_SHOP}")
    cards = await teams.connector.wait_for(lambda: [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card])
    assert card_texts(cards[0].card or {})[0] == "客户需求 LANTING-1"
    resp = await teams.click(PM, cards[0], {"intake": "decline", "ref": "LANTING-1"})
    assert card_texts((await resp.json())["value"])[0] == "Decline LANTING-1"


# --- the terminal -------------------------------------------------------------------------------


async def test_the_terminal_speaks_the_projects_team_language(service: Any) -> None:
    from tests.conftest import MEMBER as CONSOLE_MEMBER
    from tests.conftest import PM as CONSOLE_PM
    from tests.conftest import TestBot

    await service.load_project(load_project_text(ZH_PROJECT, "lanting.yaml"))
    bot = TestBot(service, CONSOLE_MEMBER, project="lanting-crm")
    out = await bot.say(f"/request {ASK_SHOP}")
    assert "已记录 LANTING-1：超出范围（shop）" in out and "┌─ 评审频道" in out and "客户需求 LANTING-1" in out
    bot.become(CONSOLE_PM)
    out = await bot.say("/show LANTING-1")
    assert "你可以：/approve LANTING-1" in out
    out = await bot.say("/help")
    assert "命令（编号形如 ACME-12）" in out
