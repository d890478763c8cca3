"""The blameless check's corpus: sentences people write in postmortems, each with what must be flagged.

Each entry is (sentence, expected): `expected` lists a phrase that each finding must contain —
one finding per phrase, nothing else. An empty list means the sentence is blameless and any
finding is a false positive. Blameful and blameless, English and Chinese, people named by Slack
mention, handle, the people table's names, a bare first name, a pronoun or a role.
"""

from __future__ import annotations

# The people table the corpus is checked against.
PEOPLE = [
    "Tom Becker",
    "tom",
    "Jonas Weber",
    "jonas",
    "Priya Nair",
    "priya",
    "Omar Haddad",
    "omar",
    "Lena Park",
    "王伟",
]

BLAMEFUL_EN: list[tuple[str, list[str]]] = [
    ("Bob forgot the review before merging.", ["Bob forgot"]),
    ("<@U0JONAS> failed to follow the runbook during the failover.", ["<@U0JONAS> failed to"]),
    ("Tom should have checked the dashboard before deploying.", ["Tom should have"]),
    ("The outage was caused by Jonas.", ["caused by Jonas"]),
    ("It was Priya's fault that the certificate expired.", ["Priya's fault"]),
    ("This was a simple case of human error.", ["human error"]),
    ("The on-call engineer ignored the page for 20 minutes.", ["The on-call engineer ignored"]),
    ("Jonas's deploy took down checkout for 29 minutes.", ["Jonas's deploy took down"]),
    ("A careless config change broke payments.", ["careless"]),
    ("He didn't bother to read the migration notes.", ["He didn't bother"]),
    ("Someone neglected to renew the TLS certificate.", ["Someone neglected to"]),
    ("The incident happened because of Omar.", ["because of Omar"]),
    ("It was a mistake by Priya to skip the canary.", ["mistake by Priya"]),
    ("Blame Tom for the missing alert.", ["Blame Tom"]),
    ("Tom is to blame for the 40 minutes of downtime.", ["Tom is to blame"]),
    ("I messed up the DNS change.", ["I messed up"]),
    ("Jonas deployed the change that broke login.", ["Jonas deployed the change that broke"]),
    ("Sloppy work on the rollout plan led to the outage.", ["Sloppy"]),
    ("<@U0TOM>'s mistake cost us an hour.", ["<@U0TOM>'s mistake"]),
    ("The intern ran the migration against production; he was careless.", ["he was careless"]),
    ("Priya was negligent with the access keys.", ["Priya was negligent"]),
    ("We lost data due to operator error.", ["operator error"]),
    ("Jonas made a mistake in the pool size.", ["Jonas made a mistake"]),
    ("@omar never tested the rollback.", ["@omar never tested"]),
    ("Tom should have known better than to deploy on a Friday.", ["Tom should have known better"]),
    ("Whose fault was it? Nobody wants to say.", ["Whose fault"]),
    ("Jonas ignored the warning from the linter.", ["Jonas ignored"]),
    ("The reviewer missed the pool size change.", ["The reviewer missed"]),
    ("It happened because the developer didn't test the rollback.", ["the developer didn't test"]),
    ("Lena's carelessness with the feature flag caused the outage.", ["Lena's carelessness"]),
    ("They forgot to update the status page.", ["They forgot"]),
    ("Omar didn't bother checking the logs.", ["Omar didn't bother"]),
    ("<@U0PRIYA|priya> forgot to announce the maintenance window.", ["<@U0PRIYA|priya> forgot"]),
    ("The alert fired, but Sam was careless and silenced it.", ["Sam was careless"]),
]

BLAMELESS_EN: list[tuple[str, list[str]]] = [
    ("The health check failed to detect the stuck worker.", []),
    ("The config should have been validated by CI.", []),
    ("Tom rolled back the 13:55 deploy of payments-adapter.", []),
    ("Jonas found that the connection pool size was cut to 5 in that deploy.", []),
    ("The deploy pipeline allowed an unreviewed change to reach production.", []),
    ("Alerting missed the first ten minutes because the threshold was too high.", []),
    ("We should have had an alert on connection pool saturation.", []),
    ("Priya confirmed that the pool change caused the errors.", []),
    ("This was not human error: the console accepted a destructive command without confirmation.", []),
    ("Nobody was careless; the runbook was out of date.", []),
    ("Kubernetes failed to reschedule the pods after the node died.", []),
    ("The retry logic caused duplicate charges.", []),
    ("Thanks to Tom's quick rollback, impact stayed under 30 minutes.", []),
    ("The fault injection test showed the gateway retries are unbounded.", []),
    ("Error rate back under 1% at 14:31.", []),
    ("The on-call engineer was paged at 14:05 and acknowledged within two minutes.", []),
    ("Postgres failed over to the replica as designed.", []),
    ("The migration should not have been able to run without a lock timeout.", []),
    ("Jonas is responsible for the follow-up on pool sizing.", []),
    ("The release checklist had no step for checking pool sizes.", []),
    ("Tom made the call to roll back at 14:20.", []),
    ("The monitor ignored 502s from the adapter because they were classed as retries.", []),
    ("The alert should have fired at 2% but its threshold was 10%.", []),
    ("The canary failed to catch the regression because it only tested reads.", []),
    ("Payments-adapter caused the 502s after the pool size change.", []),
    ("They failed to page anyone because the schedule was empty.", []),
    ("Declaring an incident, sev 2. Tom is incident commander.", []),
    ("The change was reviewed by Jonas and approved by Priya.", []),
]

BLAMEFUL_ZH: list[tuple[str, list[str]]] = [
    ("这次故障责任在小王。", ["责任在"]),
    ("他太粗心了，没有检查配置就上线。", ["粗心"]),
    ("小王忘了续期证书。", ["小王忘了"]),
    ("这次又让运维背锅。", ["背锅"]),
    ("Tom 没有检查回滚脚本。", ["Tom 没有检查"]),
    ("这是人为失误。", ["人为失误"]),
    ("都怪<@U0JONAS>改了连接池配置。", ["怪"]),
    ("他应该先在预发环境验证。", ["他应该"]),
    ("小李的改动导致了支付故障。", ["小李的改动导致了"]),
    ("王伟疏忽了告警。", ["疏忽"]),
    ("值班同学忽略了告警。", ["值班同学忽略了"]),
    ("他犯了低级错误。", ["他犯了低级错误"]),
    ("这是Jonas的锅。", ["Jonas的锅"]),
    ("别甩锅给测试。", ["甩锅"]),
]

BLAMELESS_ZH: list[tuple[str, list[str]]] = [
    ("健康检查未能发现卡住的进程。", []),
    ("配置应该由CI验证。", []),
    ("14:31 错误率恢复到1%以下。", []),
    ("这不是人为失误，而是缺少发布前的检查。", []),
    ("连接池配置被改成了5，导致网关返回502。", []),
    ("Tom 回滚了 13:55 的发布。", []),
    ("我们应该增加连接池饱和度的告警。", []),
    ("没有人粗心，是监控阈值设得太高。", []),
    ("Checkout 的错误率在 14:02 升到 12%。", []),
    ("发布流程允许未经评审的变更上线。", []),
]

CORPUS: list[tuple[str, list[str]]] = BLAMEFUL_EN + BLAMELESS_EN + BLAMEFUL_ZH + BLAMELESS_ZH
