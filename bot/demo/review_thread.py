"""The demo's product-review threads, as data: a long English one in #product-review and a
Chinese one (with the English product words Chinese teams use) in #product-review-zh.

A review of the one-page checkout, the way such threads really go: a proposal, data, pushback,
tangents, decisions (one of them reversed later), questions that get answered and some that do
not, and action items with owners and dates. `@name` mentions are encoded by the simulator as
Slack's client would. The offline summarizer's tests read it too, so the decisions and action
items in it are the ones a reader must come away with.
"""

from __future__ import annotations

KENJI = "U0KENJI"
MAYA = "U0MAYA"
LENA = "U0LENA"
OMAR = "U0OMAR"
PRIYA = "U0PRIYA"
JONAS = "U0JONAS"
SOFIA = "U0SOFIA"
NINA = "U0NINA"

_THREAD: tuple[tuple[str, str], ...] = (
    (
        LENA,
        "Product review: one-page checkout (v2). Proposal: collapse the 3-step checkout into one page "
        "with address, shipping and payment together, and add Apple Pay and Google Pay. "
        "Spec and Figma are in the canvas. Please review by Thursday.",
    ),
    (MAYA, "Thanks Lena. What problem are we solving first: conversion or support tickets?"),
    (
        LENA,
        "Conversion. Step 2 (shipping) loses 18% of sessions today, and mobile is twice as bad as desktop.",
    ),
    (SOFIA, "Confirming the 18% from the funnel dashboard. Mobile drop-off at step 2 is 24%, desktop 11%."),
    (
        OMAR,
        "From the session recordings, people bounce when shipping costs appear late. That's the real pain.",
    ),
    (NINA, "Matches the interviews: 6 of 9 people said surprise shipping costs made them leave."),
    (PRIYA, "Payments side: Apple Pay and Google Pay need the new tokenization flow, which is not live yet."),
    (LENA, "How long until tokenization is live?"),
    (JONAS, "Tokenization is in staging; production rollout is planned for the 14th if the PCI scan passes."),
    (
        MAYA,
        "What does a one-page layout do to the PCI scope? "
        "Are we adding card fields to a page we don't control?",
    ),
    (
        PRIYA,
        "No change in scope: card fields stay in the hosted iframe from the provider. "
        "The page around it is ours.",
    ),
    (OMAR, "Proposal for rollout: ship behind a flag to 10% of mobile traffic first, then widen."),
    (SOFIA, "10% gives us significance on conversion in about 9 days at current traffic."),
    (LENA, "Sounds right. Agreed: we ship behind a flag to 10% of mobile first."),
    (MAYA, "LGTM on the staged rollout."),
    (NINA, "Can we run a quick usability test on the Figma prototype before we build?"),
    (LENA, "Yes please. @nina can you run 5 usability sessions on the prototype by Wednesday?"),
    (NINA, "On it. I'll share the highlights reel in this thread."),
    (JONAS, "Question on address autocomplete: do we keep the current provider or switch to the maps API?"),
    (OMAR, "Maps API is cheaper at our volume and has better coverage in Asia."),
    (PRIYA, "Legal needs to check the maps API terms for storing addresses though."),
    (LENA, "@amara could legal look at the maps API terms this week?"),
    (PRIYA, "Amara isn't in this channel, I'll forward it to the legal intake."),
    (OMAR, "Another thing: guest checkout. Do we keep it on the one-page version?"),
    (MAYA, "Guest checkout stays. Half our first orders are guests."),
    (SOFIA, "52% of first orders last month were guest checkouts, so yes."),
    (
        LENA,
        "Decision: guest checkout stays on the one-page flow, with an optional account creation at the end.",
    ),
    (JONAS, "What happens to saved cards for logged-in users? Same iframe?"),
    (PRIYA, "Same iframe, it shows saved cards when the customer token is passed. No extra work."),
    (OMAR, "Performance budget: the current checkout JS is 410 KB. One page could get heavier."),
    (LENA, "What's a sane budget?"),
    (OMAR, "I'd say 250 KB gzipped for the whole page, including the payment iframe loader."),
    (MAYA, "Agreed on 250 KB. Let's make it a release criterion, not a goal."),
    (OMAR, "I'll add a bundle-size check to CI that fails above 250 KB."),
    (SOFIA, "For the experiment I need a clean event schema. Who owns the tracking plan?"),
    (LENA, "@omar owns it. @omar can you write the tracking plan for the new events by Friday?"),
    (OMAR, "Will do, I'll pair with Sofia on the naming."),
    (SOFIA, "Great. I'll build the experiment dashboard once the events land in staging."),
    (JONAS, "Do we need a fallback if Apple Pay fails mid-payment? Today we just show a generic error."),
    (PRIYA, "We should fall back to card entry with the address prefilled. Jonas, can you take that?"),
    (JONAS, "Yes, I'll build the fallback to card entry and add it to the test plan."),
    (NINA, "Accessibility: the one-page form is long. Are we doing a screen-reader pass?"),
    (LENA, "Good point. TODO: accessibility audit with the design system team before the 10% rollout."),
    (MAYA, "Who's the owner on that audit?"),
    (LENA, "I'll own the accessibility audit and book the design system team."),
    (OMAR, "Small one: do we show the order summary collapsed on mobile?"),
    (
        NINA,
        "In the prototype tests people kept opening it to check shipping, so expanded by default is better.",
    ),
    (LENA, "OK, order summary expanded by default on mobile."),
    (JONAS, "What about promo codes? The current field sits in step 3."),
    (SOFIA, "Promo code fields lower conversion when they are prominent; people leave to hunt for codes."),
    (LENA, "Let's go with a collapsed 'Have a code?' link under the total."),
    (MAYA, "Fine by me."),
    (
        PRIYA,
        "Timeline check: can we still hit the 28th for the 10% rollout if tokenization lands on the 14th?",
    ),
    (OMAR, "Tight but doable if the tracking plan is done this week."),
    (JONAS, "Risk: the PCI scan found an issue last quarter and took 9 days to re-run."),
    (MAYA, "Then plan for it. If tokenization slips, we launch without wallets and add them after."),
    (
        LENA,
        "Decided: the one-page checkout launches on the 28th even without Apple Pay and Google Pay; "
        "wallets follow when tokenization is live.",
    ),
    (PRIYA, "Approved from the payments side."),
    (OMAR, "Should the 10% be random users or a specific country first?"),
    (SOFIA, "Random users, stratified by platform, otherwise the experiment is biased."),
    (OMAR, "Makes sense, random stratified it is."),
    (
        NINA,
        "Highlights from 5 usability sessions: 4 of 5 finished without help; "
        "everyone found shipping costs early.",
    ),
    (NINA, "Two people missed the 'Have a code?' link. One tried to edit the address after payment."),
    (LENA, "Useful. @omar can you make the address editable until the payment is confirmed?"),
    (OMAR, "Yes, I'll handle the address edit before confirmation."),
    (JONAS, "Do we have a rollback plan if conversion drops in the 10%?"),
    (LENA, "The flag turns it off instantly. Sofia, what threshold should trigger the rollback?"),
    (SOFIA, "A drop of more than 2 points in conversion over 3 days, or checkout errors above 1%."),
    (MAYA, "Agreed. Those are the rollback criteria."),
    (PRIYA, "Are we going to support saved addresses for guests via a cookie?"),
    (JONAS, "What's the plan for the old 3-step flow? Delete it after the rollout or keep it around?"),
    (OMAR, "Also, will the new page need translations for the 6 markets at launch or only English?"),
    (LENA, "Summary of where we are coming next week. Thanks all, great review."),
)


def messages() -> list[tuple[str, str]]:
    """(user_id, text) in thread order; the first is the thread's parent message."""
    return list(_THREAD)


# 新用户引导改版评审: the same shape in Chinese — a proposal, data, a risk question that gets an
# answer, a staged rollout that is decided, asks with owners and dates (周三前 / 周五前 / 截止),
# and two questions nobody answers. Mentions are written @name, as people type them.
_CHINESE_THREAD: tuple[tuple[str, str], ...] = (
    (
        LENA,
        "产品评审：新用户引导（onboarding）改版 v2。方案：把现在的 5 步引导压缩成 3 步，去掉强制绑定手机号，"
        "首页加一个新手任务清单。PRD 和 Figma 在 canvas 里，请大家周四前看一下。",
    ),
    (MAYA, "谢谢 Lena。这次改版主要想解决什么问题？激活率还是客服工单？"),
    (LENA, "主要是激活率。现在第 2 步（绑定手机号）流失 31%，移动端比桌面端高一倍。"),
    (SOFIA, "数据我确认过：第 2 步移动端流失 38%，桌面端 19%。"),
    (NINA, "用户访谈也是这个结论：9 个人里有 6 个说强制绑定手机号让他们直接放弃注册。"),
    (PRIYA, "去掉强制绑定的话，风控那边会不会有问题？薅羊毛的账号会变多吗？"),
    (KENJI, "风控模型主要看设备指纹和支付行为，手机号不是必需的。首单前再要求验证手机号就够了。"),
    (OMAR, "建议先灰度 10% 的新用户，跑两周 A/B test 再全量。"),
    (SOFIA, "10% 的流量大概 9 天就能看到显著性。"),
    (LENA, "好，那就先灰度 10% 的新用户，两周后看数据再定全量。"),
    (MAYA, "同意。"),
    (NINA, "开发前能不能先用 Figma 原型做一轮可用性测试？"),
    (LENA, "可以。@nina 你能在周三前约 5 个用户做可用性测试吗？"),
    (NINA, "好的，周三前把测试结论发到这个讨论串。"),
    (SOFIA, "实验需要新的埋点。谁来负责埋点方案？"),
    (OMAR, "我来负责，周五前把埋点方案发出来，和 Sofia 对一下事件命名。"),
    (PRIYA, "任务清单里有「绑定支付方式」这一项，但支付 SDK 的新版本下周才能上线。"),
    (LENA, "结论：任务清单先不放支付相关的任务，等 SDK 上线后再加。"),
    (KENJI, "待办：我下周一前把风控规则改成首单前验证手机号。"),
    (MAYA, "跳过引导的用户怎么办？首页的任务清单要不要一直显示？"),
    (OMAR, "另外，老版本的 5 步引导什么时候下线？"),
    (LENA, "定了：v2 在 3 月 28 日开始灰度，3 月 21 日前完成开发和测试。"),
    (PRIYA, "法务需要看一下新的隐私说明吗？"),
    (LENA, "需要。麻烦 @amara 在 3 月 20 日前审核新的隐私说明文案。"),
    (MAYA, "好的，谢谢大家。下周同一时间再过一次进度。"),
)


def chinese_messages() -> list[tuple[str, str]]:
    """The Chinese review thread, (user_id, text) in thread order; the first is the parent."""
    return list(_CHINESE_THREAD)
