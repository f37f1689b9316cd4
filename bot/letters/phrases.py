"""The sentences a letter is built from, one table per language.

Each language is written natively: the Chinese is not a translation of the English, and either may
say a thing differently when that is how a careful writer would say it in that language.
"""

from __future__ import annotations

from ..domain import AlternativeKind, Language, ReasonCategory

SUBJECT = {
    Language.EN: {
        "decline": "Your request {ref} ({project})",
        "meeting_invite": "Invitation: a short meeting about your request {ref} ({project})",
    },
    Language.ZH: {
        "decline": "关于您提出的需求 {ref} 的回复（{project}）",
        "meeting_invite": "会议邀请：沟通需求 {ref}（{project}）",
    },
}

DEFAULT_EMPATHY = {
    Language.EN: "We understand how much this matters to you and your team, and we appreciate you taking the time to explain it to us.",
    Language.ZH: "我们理解这项需求对贵方团队的重要性，也非常感谢您花时间向我们详细说明。",
}

# Default reason text, pre-filled in the decline form from the scope verdict.
DEFAULT_REASON = {
    Language.EN: {
        "excluded": "The agreed scope lists “{title}” as outside this project.",
        "item": "It goes beyond what the agreed scope covers for “{title}”.",
        "unlisted": "It is not part of the work we agreed for this project.",
    },
    Language.ZH: {
        "excluded": "双方确认的项目范围已明确将“{title}”列为本期不包含的内容。",
        "item": "这项需求超出了双方确认的“{title}”的范围。",
        "unlisted": "这项工作不在双方确认的本期项目范围之内。",
    },
}


def _lower_first(text: str) -> str:
    """Lower-case a goal's first letter unless it starts an acronym or a name like 'SAP' or 'iOS'."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def framing(language: Language, category: ReasonCategory, *, goal: str, milestone: str, due: str) -> str:
    """The sentence that ties a reason category to this project's own goals or dates.

    The team's capacity is deliberately not quoted to the client (it is internal: "PM at 50%"); it
    goes into the PM's talking points instead.
    """
    if language is Language.ZH:
        return {
            ReasonCategory.PROJECT_GOALS: (
                f"本期项目的共同目标是“{goal}”。为确保这一目标按期实现，我们需要把团队的精力集中在已确认的工作上。"
                if goal
                else "为确保本期目标按期实现，我们需要把团队的精力集中在已确认的工作上。"
            ),
            ReasonCategory.RESOURCE_LIMITS: "目前项目团队已全部投入到既定工作中，如再增加新的需求，势必影响项目的整体进度。",
            ReasonCategory.TIMELINE: (
                f"如果现在加入这项工作，“{milestone}”（{due}）这一节点将难以按期完成，而按期交付对双方都十分重要。"
                if milestone
                else "如果现在加入这项工作，项目将难以按计划交付，而按期交付对双方都十分重要。"
            ),
            ReasonCategory.BUDGET: "这项工作不在本期已确认的预算范围之内。",
            ReasonCategory.TECHNICAL: "这项需求在技术上存在一定的限制，我们希望坦诚地向您说明。",
            ReasonCategory.OTHER: "",
        }[category]
    return {
        ReasonCategory.PROJECT_GOALS: (
            f"Our shared goal for this phase is to {_lower_first(goal).rstrip('.')}, and to reach it on time "
            "we need to keep the team focused on the work we agreed together."
            if goal
            else "To reach this phase's goals on time, we need to keep the team focused on the work we agreed together."
        ),
        ReasonCategory.RESOURCE_LIMITS: (
            "Our team is fully committed to the work we agreed, and taking on more now would put the agreed delivery at risk."
        ),
        ReasonCategory.TIMELINE: (
            f"Adding this work now would put the {milestone} milestone on {due} at risk, and keeping to that "
            "date matters to both of us."
            if milestone
            else "Adding this work now would put the agreed delivery dates at risk, and keeping to them matters to both of us."
        ),
        ReasonCategory.BUDGET: "This work is not covered by the budget agreed for the current phase.",
        ReasonCategory.TECHNICAL: "There is a technical constraint here that we want to be open with you about.",
        ReasonCategory.OTHER: "",
    }[category]


def alternative(language: Language, kind: AlternativeKind, detail: str) -> str:
    """One alternative as a full sentence, with the PM's detail line worked in."""
    detail = detail.strip().rstrip(".。")
    if language is Language.ZH:
        return {
            AlternativeKind.PHASED: f"分阶段实现：{detail or '本期先实现其中一部分，其余部分在后续版本中完成'}。",
            AlternativeKind.CHANGE_REQUEST: (
                f"走变更流程：我们可以提供工作量评估（{detail}）及其对进度的影响，供贵方决定是否纳入项目。"
                if detail
                else "走变更流程：我们可以提供书面的工作量评估及其对进度的影响，供贵方决定是否纳入项目。"
            ),
            AlternativeKind.THIRD_PARTY: (
                f"借助第三方工具或服务：{detail or '现成的产品或许能更快满足这一需要'}，我们也乐意协助贵方评估。"
            ),
            AlternativeKind.REVISIT_LATER: f"稍后再议：{detail or '待本期交付完成后，我们再一起讨论这项需求'}。",
        }[kind]
    return {
        AlternativeKind.PHASED: (
            f"Delivering it in stages: {detail or 'a first part in this version, and the rest in a later version'}."
        ),
        AlternativeKind.CHANGE_REQUEST: (
            f"Handling it as a change request: we will send you an estimate ({detail}) and its effect on the "
            "schedule, so you can decide whether to add it to the project."
            if detail
            else "Handling it as a change request: we will send you a written estimate of the effort and its "
            "effect on the schedule, so you can decide whether to add it to the project."
        ),
        AlternativeKind.THIRD_PARTY: (
            f"Using a third-party tool or provider: {detail or 'a ready-made product may meet this need sooner than custom work'}. "
            "We are happy to help you evaluate it."
        ),
        AlternativeKind.REVISIT_LATER: (
            f"Revisiting it later: {detail or 'we can look at it again together once the current phase is delivered'}."
        ),
    }[kind]


CATEGORY_LABEL = {
    Language.EN: {c: c.label for c in ReasonCategory},
    Language.ZH: {
        ReasonCategory.PROJECT_GOALS: "项目目标",
        ReasonCategory.RESOURCE_LIMITS: "资源限制",
        ReasonCategory.TIMELINE: "时间进度",
        ReasonCategory.BUDGET: "预算",
        ReasonCategory.TECHNICAL: "技术限制",
        ReasonCategory.OTHER: "其他",
    },
}
