"""The UI's two languages: Chinese first (zh-CN), English on request.

A small table of its own rather than gettext catalogues: every visible label is one entry with
both languages side by side, so a missing translation cannot exist (the tuple has two slots) and a
missing label is caught by a test that walks the domain's codes. Domain terms keep both names: the
English code is shown beside the Chinese label where a reader might need to match it.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import request, session

LANGUAGES = ("zh", "en")
DEFAULT = "zh"

UI: dict[str, tuple[str, str]] = {
    # chrome
    "app.title": ("省级人力资源服务产业园台账", "HR Service Park Ledger"),
    "app.short": ("园区台账", "Park Ledger"),
    "nav.dashboard": ("总览", "Dashboard"),
    "nav.parks": ("园区", "Parks"),
    "nav.audit": ("审计日志", "Audit log"),
    "nav.finance": ("财务", "Finance"),
    "nav.findings": ("问题", "Findings"),
    "nav.integrity": ("完整性", "Integrity"),
    "nav.forms": ("录入", "Record"),
    "nav.logout": ("退出", "Log out"),
    "nav.language": ("语言", "Language"),
    "nav.skip": ("跳到正文", "Skip to content"),
    "footer.regulation": ("依据《云南省省级人力资源服务产业园创建和评估暂行办法》（云人社通〔2021〕75号）",
                          "Under the Provisional Measures for Provincial HR Service Industrial "
                          "Parks (云人社通〔2021〕75号)"),
    "footer.clock": ("台账时间", "Ledger time"),
    # login
    "login.title": ("登录", "Log in"),
    "login.name": ("用户名", "User name"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.failed": ("用户名或密码错误，或账号已停用。", "Wrong name or password, or the account is "
                     "disabled."),
    "login.limited": ("登录尝试过多，请稍后再试。", "Too many login attempts; try again later."),
    "login.required": ("请先登录。", "Please log in first."),
    "login.intro": ("本系统记录每一项园区认定、补助与处罚事项，记录一经写入不可修改。",
                    "Every action on a park is recorded as an event that can never be changed."),
    "logout.done": ("已退出。", "Logged out."),
    # roles
    "role.clerk": ("经办人", "Clerk"),
    "role.finance": ("财政", "Finance"),
    "role.auditor": ("审计", "Auditor"),
    "role.reviewer": ("纪检监察", "Disciplinary reviewer"),
    "role.admin": ("管理员", "Administrator"),
    "role.readonly": ("只读", "read-only"),
    # generic
    "common.filter": ("筛选", "Filter"),
    "common.reset": ("清除", "Clear"),
    "common.search": ("搜索", "Search"),
    "common.all": ("全部", "All"),
    "common.yes": ("是", "Yes"),
    "common.no": ("否", "No"),
    "common.none": ("无", "None"),
    "common.total": ("合计", "Total"),
    "common.count": ("数量", "Count"),
    "common.next": ("下一页", "Next page"),
    "common.first": ("第一页", "First page"),
    "common.previous": ("上一页", "Previous page"),
    "common.export_csv": ("导出 CSV", "Export CSV"),
    "common.export_json": ("导出 JSON", "Export JSON"),
    "common.print": ("打印 / 存为 PDF", "Print / save as PDF"),
    "common.results": ("共 {n} 条", "{n} results"),
    "common.showing": ("第 {a}–{b} 条，共 {n} 条", "{a}–{b} of {n}"),
    "common.back": ("返回", "Back"),
    "common.details": ("详情", "Details"),
    "common.submit": ("提交", "Submit"),
    "common.yuan": ("元", "yuan"),
    "common.masked": ("已隐去（仅纪检监察可见）", "masked (visible to reviewers only)"),
    "common.not_found": ("未找到", "Not found"),
    "common.forbidden": ("当前角色无权访问此页面。", "Your role may not open this page."),
    "common.page_not_found": ("页面不存在。", "There is no such page."),
    "common.error": ("出错了", "Something went wrong"),
    "common.csrf": ("表单已过期或来源不明，请刷新页面后重试。",
                    "The form expired or did not come from this site; reload the page and try "
                    "again."),
    "common.none_found": ("没有符合条件的记录。", "Nothing matches."),
    "common.as_of_day": ("截至 {day}", "as of {day}"),
    "common.version": ("版本", "Version"),
    "common.position": ("序号", "Position"),
    # dashboard
    "dash.title": ("总览", "Dashboard"),
    "dash.by_status": ("按状态统计园区", "Parks by status"),
    "dash.by_prefecture": ("按州市统计园区", "Parks by prefecture"),
    "dash.subsidy": ("开办补助（第九条）与退回（第十七条）", "Opening subsidy (Art. 9) and refunds "
                     "(Art. 17)"),
    "dash.open_by_article": ("未关闭问题（按条款）", "Open findings by article"),
    "dash.due_next": ("即将到期事项", "What falls due next"),
    "dash.parks_total": ("园区总数", "Parks in total"),
    "dash.open_total": ("未关闭问题", "Open findings"),
    "dash.events_total": ("已记录事件", "Events recorded"),
    # parks list
    "parks.title": ("园区", "Parks"),
    "parks.search": ("编号、名称或申报单位", "Code, name or applicant"),
    "parks.has_open": ("有未关闭问题", "Has open findings"),
    "parks.any": ("不限", "Any"),
    "parks.grade": ("最近评估等级", "Latest grade"),
    "parks.no_grade": ("未评估", "not graded"),
    "parks.next_due": ("下一到期事项", "Next due"),
    "parks.overdue": ("已逾期", "overdue"),
    # park page
    "park.state": ("当前状态", "Current state"),
    "park.lifecycle": ("生命周期", "Lifecycle"),
    "park.events": ("事件记录", "Events"),
    "park.subsidy": ("补助台账", "Subsidy ledger"),
    "park.balance_chart": ("补助余额走势（已拨付减已退回）", "Balance over time (disbursed less "
                           "refunded)"),
    "park.findings": ("问题", "Findings"),
    "park.as_of": ("时点查询", "As of"),
    "park.as_of_help": ("“截至记录时间”只看当时台账已知的事件；“截至生效日期”只看当日及以前生效的事件。",
                        "“Known at” uses only events the ledger had recorded by then; "
                        "“effective on” uses only events in force on or before that day."),
    "park.known_at": ("截至记录时间", "As known at"),
    "park.effective_on": ("截至生效日期", "As effective on"),
    "park.show": ("查看", "Show"),
    "park.now": ("回到现在", "Back to now"),
    "park.viewing_known": ("正在查看：台账在 {t} 所知的状态（版本 {v}）",
                           "Viewing the park as the ledger knew it at {t} (version {v})"),
    "park.viewing_effective": ("正在查看：{d} 当日生效的状态（{n} 个事件）",
                               "Viewing the park as in force on {d} ({n} events)"),
    "park.not_yet": ("该时点园区尚未申报。", "The park had not been filed at that moment."),
    "park.replay": ("逐步回放", "Step-through replay"),
    "park.print": ("打印时间线", "Print timeline"),
    "park.record": ("为此园区录入", "Record for this park"),
    "park.corrected_by": ("已被版本 {v} 更正", "corrected by version {v}"),
    "park.corrects": ("更正版本 {v}", "corrects version {v}"),
    "park.more_events": ("显示更早的事件", "Show older events"),
    "park.newest_first": ("最新在前", "newest first"),
    "park.fields": ("事项内容", "Fields"),
    "park.flags": ("标记", "Flags"),
    "park.override": ("越规理由", "Override reason"),
    "park.print_title": ("园区时间线（案卷用）", "Park timeline (for a case file)"),
    "park.printed_at": ("打印时间", "Printed at"),
    "park.digest_note": ("每个事件的哈希值与前一事件链接，可用完整性页面所述方法独立核验。",
                         "Each event's hash is chained to the previous one; check them "
                         "independently as the integrity page explains."),
    "park.milestone_none": ("尚无", "not yet"),
    # replay
    "replay.title": ("逐步回放", "Step-through replay"),
    "replay.step": ("第 {i} 步，共 {n} 步", "Step {i} of {n}"),
    "replay.prev": ("上一步", "Previous"),
    "replay.next": ("下一步", "Next"),
    "replay.order": ("顺序", "Order"),
    "replay.order_recorded": ("按记录顺序", "As recorded"),
    "replay.order_effective": ("按生效日期", "By effective date"),
    "replay.event": ("本步事件", "This step's event"),
    "replay.changes": ("本步变化", "What changed"),
    "replay.state": ("本步之后的状态", "State after this step"),
    "replay.before": ("之前", "Before"),
    "replay.after": ("之后", "After"),
    "replay.no_change": ("状态字段无变化。", "No state field changed."),
    "replay.keys": ("键盘：← 上一步，→ 下一步", "Keys: ← previous, → next"),
    # audit log
    "audit.title": ("审计日志", "Audit log"),
    "audit.event_types": ("事件类型", "Event types"),
    "audit.actor": ("操作人", "Actor"),
    "audit.effective_from": ("生效日期起", "Effective from"),
    "audit.effective_to": ("生效日期止", "Effective to"),
    "audit.recorded_from": ("记录时间起", "Recorded from"),
    "audit.recorded_to": ("记录时间止", "Recorded to"),
    "audit.text": ("全文", "Text"),
    "audit.per_page": ("每页", "Per page"),
    "audit.order": ("排序", "Order"),
    "audit.newest": ("最新在前", "Newest first"),
    "audit.oldest": ("最早在前", "Oldest first"),
    "audit.export_note": ("导出内容与当前筛选条件完全一致（全部页）。",
                          "Exports hold exactly what is filtered (every page)."),
    # finance
    "finance.title": ("财务", "Finance"),
    "finance.unit": ("金额单位：元", "Amounts in yuan"),
    "finance.province": ("全省合计", "Province"),
    "finance.prefectures": ("各州市合计", "Per prefecture"),
    "finance.clawbacks": ("应追回补助（已撤牌园区）", "Clawback list (revoked parks)"),
    "finance.overdue": ("逾期未退款", "Overdue refunds"),
    "finance.parks": ("各园区", "Per park"),
    "finance.no_overdue": ("没有逾期未退的款项。", "No refund is overdue."),
    # findings
    "findings.title": ("问题", "Findings"),
    "findings.by_article": ("按条款统计", "By article"),
    "findings.close": ("关闭问题", "Close finding"),
    "findings.close_reason": ("关闭理由", "Reason for closing"),
    "findings.closed": ("已关闭问题 {id}", "Closed finding {id}"),
    "findings.reason_required": ("必须填写关闭理由。", "A reason is required."),
    "findings.source": ("来源", "Source"),
    "findings.source_event": ("事件", "event"),
    "findings.source_clock": ("时限", "clock"),
    "findings.raised_on": ("提出日期", "Raised on"),
    "findings.raised_by": ("由何提出", "Raised by"),
    "findings.closed_by": ("关闭", "Closed by"),
    "findings.due_on": ("到期日", "Due on"),
    # integrity
    "integrity.title": ("完整性", "Integrity"),
    "integrity.digest": ("当前摘要（可公开发布）", "Current digest (to publish)"),
    "integrity.events": ("事件数", "Events"),
    "integrity.head": ("链头哈希", "Head hash"),
    "integrity.last_position": ("最后序号", "Last position"),
    "integrity.verify": ("立即核验", "Verify now"),
    "integrity.press_verify": ("台账较大，摘要需重新计算全部事件：请点击“立即核验”。",
                               "The log is large and the digest reads every event: press “Verify "
                               "now” to compute it."),
    "integrity.ok": ("核验通过：全部 {n} 个事件的哈希与链接均与存储记录一致。",
                     "Verified: the hashes and links of all {n} events match the stored rows."),
    "integrity.failed": ("核验失败：第一个不一致的事件如下。", "Verification failed: the first "
                         "event that does not match is below."),
    "integrity.how": ("如何独立核验", "How to check independently"),
    "integrity.how_1": ("取得数据库副本（SQLite 文件或 PostgreSQL 连接）。",
                        "Get a copy of the database (the SQLite file or a PostgreSQL "
                        "connection)."),
    "integrity.how_2": ("运行只依赖 Python 标准库的独立核验脚本：",
                        "Run the independent checker, which uses only Python's standard "
                        "library:"),
    "integrity.how_3": ("将输出的摘要与本页及已公开发布的摘要对比：必须完全一致。",
                        "Compare its digest with this page and with the published digest: they "
                        "must be identical."),
    "integrity.spec": ("算法说明（docs/integrity.md）", "The algorithm (docs/integrity.md)"),
    "integrity.checker": ("下载独立核验脚本 check_ledger.py", "Download the checker "
                          "check_ledger.py"),
    "integrity.append_only": ("事件表由数据库触发器保护，不能更新或删除。",
                              "Database triggers keep the event table append-only: no update, "
                              "no delete."),
    # accounts
    "nav.accounts": ("账号", "Accounts"),
    "accounts.title": ("账号管理", "Accounts"),
    "accounts.note": ("与命令行 ledger user add|list|disable|token 相同；API 令牌请用命令行签发。",
                      "The same as `ledger user add|list|disable|token`; issue API tokens with the "
                      "command line."),
    "accounts.role": ("角色", "Role"),
    "accounts.organisation": ("单位", "Organisation"),
    "accounts.default_org": ("留空则用角色的默认单位", "empty: the role's default"),
    "accounts.enabled": ("启用", "enabled"),
    "accounts.disabled": ("已停用", "disabled"),
    "accounts.disable": ("停用", "Disable"),
    "accounts.add": ("新增账号", "Add an account"),
    "accounts.added": ("已新增账号 {name}", "Account {name} added"),
    "accounts.disabled_done": ("已停用账号 {name}：其密码和令牌立即失效", "Account {name} disabled: "
                               "its password and tokens stop working at once"),
    # forms
    "forms.title": ("录入事项", "Record an event"),
    "forms.choose": ("选择要录入的事项", "Choose what to record"),
    "forms.none": ("当前角色不能录入事件（只读）。", "Your role cannot record events (read-only)."),
    "forms.recorded": ("已记录：{park} 版本 {v}（{event}），哈希 {hash}",
                       "Recorded: {park} version {v} ({event}), hash {hash}"),
    "forms.replayed": ("此表单已提交过，未重复记录：{park} 版本 {v}",
                       "This form was already submitted; nothing recorded twice: {park} version "
                       "{v}"),
    "forms.errors": ("未记录任何内容，请修改标出的字段。", "Nothing was recorded; correct the "
                     "marked fields."),
    "forms.breach_title": ("违反规定：需说明越规理由", "Breach of the regulation: an override "
                           "reason is needed"),
    "forms.breach_text": ("此操作违反以下条款，尚未记录。如确需记录（例如补录历史事实），请填写越规理由后再次提交："
                          "事件将被记录并标记，同时产生一项问题，直至审计人员关闭。",
                          "This action breaches the articles below and was not recorded. To "
                          "record it anyway (for example a historical fact), give an override "
                          "reason and submit again: it will be recorded, flagged, and raise a "
                          "finding that stays until an auditor closes it."),
    "forms.override_submit": ("说明理由并记录", "Record with this override reason"),
    "forms.override_required": ("必须填写越规理由。", "An override reason is required."),
    "forms.cancel": ("放弃", "Cancel"),
    "forms.documents_help": ("每行一个文件：SHA-256 哈希（64位十六进制）+ 空格 + 标题，与 sha256sum 输出格式相同；"
                             "或上传文件，由服务器计算哈希（文件本身不保存）。",
                             "One document a line: its SHA-256 (64 hex digits), a space, its "
                             "title — the format sha256sum prints; or upload files and the server "
                             "computes their hashes (the files are not kept)."),
    "forms.upload": ("上传文件以计算哈希", "Upload files to hash"),
    "forms.list_help": ("每行一项", "One item a line"),
    "forms.stale": ("其他人已更新此园区（现为版本 {v}）。请查看最新记录后再提交。",
                    "Someone else updated this park (now version {v}). Review it, then submit "
                    "again."),
    "forms.optional": ("选填", "optional"),
    "forms.for_park": ("园区", "Park"),
    "forms.choose_park": ("请选择园区", "Choose a park"),
    "forms.common": ("通用字段", "Common fields"),
    "forms.specific": ("事项字段", "Fields of this command"),
    "forms.role_only": ("仅限：{roles}", "Only: {roles}"),
    # errors by code
    "error.invalid": ("输入有误", "Invalid input"),
    "error.unknown_field": ("未知字段", "Unknown field"),
    "error.rule_breach": ("违反规定", "Breach of the regulation"),
    "error.lifecycle": ("当前阶段不允许此操作", "Not allowed at this stage"),
    "error.duplicate": ("重复", "Duplicate"),
    "error.stale_version": ("版本已过期", "Stale version"),
    "error.park_not_found": ("园区不存在", "No such park"),
    "error.forbidden": ("无权操作", "Not allowed for your role"),
    "error.idempotency_conflict": ("重复提交的内容不同", "Idempotency conflict"),
    "error.calendar_unknown_year": ("工作日日历缺少该年份", "Working-day calendar lacks the year"),
    "error.ledger_error": ("无法记录", "Not recorded"),
    # table columns
    "col.park_code": ("园区编号", "Park code"),
    "col.name": ("名称", "Name"),
    "col.prefecture": ("州市", "Prefecture"),
    "col.status": ("状态", "Status"),
    "col.applicant": ("申报单位", "Applicant"),
    "col.event": ("事件", "Event"),
    "col.actor": ("操作人", "Actor"),
    "col.effective_on": ("生效日期", "Effective on"),
    "col.recorded_at": ("记录时间", "Recorded at"),
    "col.documents": ("文件", "Documents"),
    "col.hash": ("哈希", "Hash"),
    "col.reason": ("理由", "Reason"),
    "col.article": ("条款", "Article"),
    "col.rule": ("规则", "Rule"),
    "col.severity": ("性质", "Severity"),
    "col.state": ("状态", "State"),
    "col.message": ("说明", "Message"),
    "col.finding_id": ("问题编号", "Finding id"),
    "col.amount": ("金额（元）", "Amount (yuan)"),
    "col.kind": ("类别", "Kind"),
    "col.reference": ("凭证/文号", "Voucher / notice"),
    "col.deadline": ("期限", "Deadline"),
    "col.disbursed": ("已拨付", "Disbursed"),
    "col.refund_demanded": ("责令退回", "Refund demanded"),
    "col.refunded": ("已退回", "Refunded"),
    "col.net_retained": ("净留存", "Net retained"),
    "col.outstanding": ("待退回", "Outstanding"),
    "col.overdue": ("逾期", "Overdue"),
    "col.owed": ("应追回", "Owed"),
    "col.revoked_on": ("撤牌日期", "Revoked on"),
    "col.parks": ("园区数", "Parks"),
    "col.field": ("字段", "Field"),
    "col.version": ("版本", "Version"),
    "col.latest_grade": ("最近评估等级", "Latest grade"),
    "col.subsidy": ("补助台账", "Subsidy ledger"),
    "col.raised_findings": ("提出的问题", "Findings raised"),
    "col.closed_findings": ("关闭的问题", "Findings closed"),
    "col.corrected_versions": ("被更正的版本", "Versions corrected"),
    "col.filed_on": ("申报日期", "Filed on"),
    "col.approved_on": ("批准日期", "Approved on"),
    "col.approval_no": ("批准文号", "Approval no."),
    "col.plaque_no": ("牌匾编号", "Plaque no."),
    "col.sub_parks": ("分园区", "Sub-parks"),
    "col.grades": ("评估等级", "Grades"),
    "col.self_evaluations": ("已报自评年度", "Self-evaluations reported"),
    "col.rectification": ("整改", "Rectification"),
    "col.evaluation_outcome": ("评估结论", "Evaluation outcome"),
    "col.publicity": ("公示", "Publicity"),
    "col.objections": ("异议", "Objections"),
    "col.head_hash": ("链头哈希", "Head hash"),
    "col.due": ("到期", "Due"),
    "col.kind_due": ("事项", "Duty"),
    "col.balance": ("余额", "Balance"),
    "col.unapplied": ("未能套用的事件", "Events that did not fit"),
    # money kinds
    "money.disbursed": ("拨付", "disbursed"),
    "money.demanded": ("责令退回", "refund demanded"),
    "money.received": ("收到退款", "refund received"),
    # lifecycle picture stages
    "stage.filing": ("申报", "Filing"),
    "stage.evaluation": ("评估", "Evaluation"),
    "stage.publicity": ("公示", "Publicity"),
    "stage.decision": ("认定", "Decision"),
    "stage.grades": ("自评与三年评估", "Evaluations"),
    "legend.event": ("事件（点击跳到该事件）", "an event (click to jump to it)"),
    "legend.negative": ("不利事件：驳回、撤回、整改、撤牌、追缴", "adverse: rejection, withdrawal, "
                        "rectification, revocation, refund demand"),
    "legend.flagged": ("带标记：违规（越规记录）或不达标", "flagged: a breach recorded under override, "
                       "or a shortfall"),
    "stage.sanctions": ("整改与处理", "Sanctions"),
    "stage.money": ("补助资金", "Subsidy"),
    "stage.records": ("更正与问题", "Corrections"),
    "chart.held": ("园区持有（已拨付减已退回）", "Held (disbursed less refunded)"),
    "chart.owed": ("待退回", "Still owed"),
    # due kinds
    "due.self_evaluation": ("年度自评", "yearly self-evaluation"),
    "due.triennial_evaluation": ("三年评估", "triennial evaluation"),
    "due.rectification": ("整改期限", "rectification deadline"),
    "due.refund_demand": ("责令退回补助", "refund demand"),
    "due.refund": ("退款期限", "refund deadline"),
    # finding states, severities, sources
    "state.open": ("未关闭", "open"),
    "state.resolved": ("已补正", "resolved"),
    "state.closed": ("已关闭", "closed"),
    "severity.breach": ("违规", "breach"),
    "severity.shortfall": ("不达标", "shortfall"),
    "severity.noted": ("放宽备注", "noted"),
}

STATUS = {
    "filed": ("已申报", "filed"), "under_evaluation": ("评估中", "under evaluation"),
    "evaluated": ("已评估", "evaluated"), "in_publicity": ("公示中", "in publicity"),
    "publicity_closed": ("公示结束", "publicity closed"), "approved": ("已认定", "approved"),
    "rejected": ("不予认定", "rejected"), "withdrawn": ("已撤回", "withdrawn"),
    "revoked": ("已撤牌", "revoked"),
}

EVENTS = {
    "ApplicationFiled": ("提交申报", "Application filed"),
    "MaterialsSupplemented": ("补充材料", "Materials supplemented"),
    "ApplicationWithdrawn": ("撤回申请", "Application withdrawn"),
    "EvaluationOpened": ("启动评估", "Evaluation opened"),
    "ExpertOpinionRecorded": ("专家意见", "Expert opinion recorded"),
    "EvaluationConcluded": ("评估结论", "Evaluation concluded"),
    "PublicityStarted": ("开始公示", "Publicity started"),
    "ObjectionRaised": ("收到异议", "Objection raised"),
    "ObjectionResolved": ("异议处理", "Objection resolved"),
    "PublicityClosed": ("公示结束", "Publicity closed"),
    "ParkApproved": ("批准认定", "Park approved"),
    "PlaqueAwarded": ("授牌", "Plaque awarded"),
    "ApplicationRejected": ("不予认定", "Application rejected"),
    "SubParkAdded": ("增设分园区", "Sub-park added"),
    "SubsidyDisbursed": ("拨付开办补助", "Subsidy disbursed"),
    "SelfEvaluationReported": ("年度自评报告", "Self-evaluation reported"),
    "EvaluationGraded": ("三年评估定级", "Evaluation graded"),
    "CommendationIssued": ("通报表扬", "Commendation issued"),
    "NationalRecommendationMade": ("推荐国家级", "National recommendation made"),
    "RectificationOrdered": ("责令整改", "Rectification ordered"),
    "RectificationCompleted": ("整改完成", "Rectification completed"),
    "PlaqueRevoked": ("撤销牌匾", "Plaque revoked"),
    "RefundDemanded": ("责令退回补助", "Refund demanded"),
    "RefundReceived": ("收到退款", "Refund received"),
    "EntryCorrected": ("更正记录", "Entry corrected"),
    "FindingClosed": ("关闭问题", "Finding closed"),
}

COMMANDS = {
    "file_application": ("提交申报", "File an application"),
    "supplement_materials": ("补充材料", "Supplement materials"),
    "withdraw_application": ("撤回申请", "Withdraw the application"),
    "open_evaluation": ("启动评估", "Open the evaluation"),
    "record_expert_opinion": ("录入专家意见", "Record an expert opinion"),
    "conclude_evaluation": ("评估结论", "Conclude the evaluation"),
    "start_publicity": ("开始公示", "Start publicity"),
    "raise_objection": ("登记异议", "Raise an objection"),
    "resolve_objection": ("处理异议", "Resolve an objection"),
    "close_publicity": ("结束公示", "Close publicity"),
    "approve_park": ("批准认定", "Approve the park"),
    "award_plaque": ("授牌", "Award the plaque"),
    "reject_application": ("不予认定", "Reject the application"),
    "add_sub_park": ("增设分园区", "Add a sub-park"),
    "disburse_subsidy": ("拨付开办补助", "Disburse the subsidy"),
    "report_self_evaluation": ("报送年度自评", "Report a self-evaluation"),
    "grade_evaluation": ("三年评估定级", "Grade the evaluation"),
    "issue_commendation": ("通报表扬", "Issue a commendation"),
    "recommend_national": ("推荐国家级", "Recommend for national level"),
    "order_rectification": ("责令整改", "Order rectification"),
    "complete_rectification": ("整改完成", "Complete rectification"),
    "revoke_plaque": ("撤销牌匾", "Revoke the plaque"),
    "demand_refund": ("责令退回补助", "Demand a refund"),
    "receive_refund": ("收到退款", "Receive a refund"),
    "correct_entry": ("更正记录", "Correct an entry"),
    "close_finding": ("关闭问题", "Close a finding"),
}

FIELDS = {
    "park_code": ("园区编号", "Park code"),
    "effective_on": ("生效日期", "Effective on"),
    "reason": ("理由 / 说明", "Reason"),
    "documents": ("文件（标题 + SHA-256）", "Documents (title + SHA-256)"),
    "idempotency_key": ("幂等键", "Idempotency key"),
    "expected_version": ("所见版本", "Expected version"),
    "override_reason": ("越规理由", "Override reason"),
    "name": ("名称", "Name"),
    "prefecture": ("州市", "Prefecture"),
    "applicant": ("申报单位", "Applicant"),
    "agencies_count": ("在营人力资源服务机构数", "Operating HR service agencies"),
    "annual_revenue_yuan": ("年营业收入（元）", "Annual revenue (yuan)"),
    "public_services": ("公共服务功能", "Public-service functions"),
    "sub_parks": ("分园区", "Sub-parks"),
    "management_body": ("管理机构", "Management body"),
    "full_time_staff": ("专职工作人员数", "Full-time staff"),
    "supporting_services": ("配套服务", "Supporting services"),
    "support_policies": ("支持政策", "Support policies"),
    "specialisation": ("园区类型", "Specialisation"),
    "hardship_area": ("艰苦边远地区", "Hardship area"),
    "relaxation_reason": ("放宽条件理由（第五条）", "Relaxation reason (Art. 5)"),
    "note": ("补充说明", "Note"),
    "panel": ("评估专家", "Expert panel"),
    "expert": ("专家", "Expert"),
    "organisation": ("单位", "Organisation"),
    "scores": ("评分（0–100）", "Scores (0–100)"),
    "scores.scale": ("规模", "Scale"),
    "scores.operations": ("运营", "Operations"),
    "scores.infrastructure": ("基础设施", "Infrastructure"),
    "scores.features": ("特色", "Features"),
    "scores.public_services": ("公共服务", "Public services"),
    "scores.benefits": ("实际效益", "Benefits"),
    "scores.platform": ("平台建设", "Platform"),
    "scores.policy": ("政策落实", "Policy"),
    "scores.service": ("服务成效", "Service"),
    "recommendation": ("推荐意见", "Recommendation"),
    "remarks": ("备注", "Remarks"),
    "outcome": ("结论", "Outcome"),
    "starts_on": ("公示开始日", "Starts on"),
    "ends_on": ("公示结束日", "Ends on"),
    "closed_on": ("公示关闭日", "Closed on"),
    "channel": ("公示渠道", "Channel"),
    "objection_no": ("异议编号", "Objection no."),
    "received_on": ("收到日期", "Received on"),
    "objector": ("异议人（受保护）", "Objector (protected)"),
    "objector.name": ("异议人姓名", "Objector's name"),
    "objector.contact": ("异议人联系方式", "Objector's contact"),
    "contact": ("联系方式", "Contact"),
    "version": ("版本", "Version"),
    "grounds": ("理由 / 依据", "Grounds"),
    "finding": ("处理意见", "Finding"),
    "approval_no": ("批准文号", "Approval no."),
    "plaque_no": ("牌匾编号", "Plaque no."),
    "request_letter_no": ("申请函文号", "Request letter no."),
    "amount_yuan": ("金额（元）", "Amount (yuan)"),
    "voucher_no": ("凭证号", "Voucher no."),
    "year": ("年度", "Year"),
    "summary": ("自评摘要", "Summary"),
    "cycle": ("评估周期", "Cycle"),
    "grade": ("等级", "Grade"),
    "notice_no": ("通知文号", "Notice no."),
    "letter_no": ("推荐函文号", "Letter no."),
    "deadline": ("期限", "Deadline"),
    "verified_by": ("验收人", "Verified by"),
    "decision_no": ("决定文号", "Decision no."),
    "corrects_version": ("被更正的版本", "Version corrected"),
    "field": ("被更正的字段", "Field"),
    "wrong_value": ("错误值", "Wrong value"),
    "right_value": ("正确值", "Right value"),
    "finding_id": ("问题编号", "Finding id"),
}

CODES = {
    "employment_entrepreneurship": ("就业创业", "employment & entrepreneurship"),
    "vocational_training": ("职业培训", "vocational training"),
    "social_security": ("社会保障", "social security"),
    "personnel_talent": ("人事人才", "personnel & talent"),
    "meeting": ("会议", "meetings"), "training": ("培训", "training"),
    "finance": ("金融", "finance"), "legal": ("法律", "legal"), "catering": ("餐饮", "catering"),
    "fiscal_tax": ("财税支持", "fiscal & tax support"), "rent_subsidy": ("房租补贴", "rent subsidy"),
    "training_subsidy": ("培训补贴", "training subsidy"), "talent_reward": ("引才奖励", "talent reward"),
    "service_purchase": ("购买服务", "service purchase"),
    "none": ("综合性园区", "general"), "professional": ("专业性园区", "professional"),
    "industry": ("行业性园区", "industry"),
    "recommend": ("推荐", "recommend"), "conditional": ("有条件推荐", "conditional"),
    "not_recommend": ("不推荐", "not recommended"),
    "recommended": ("推荐", "recommended"), "not_recommended": ("不推荐", "not recommended"),
    "open": ("待处理", "open"),
    "upheld": ("异议成立", "upheld"), "dismissed": ("异议不成立", "dismissed"),
    "excellent": ("优秀", "excellent"), "qualified": ("合格", "qualified"),
    "unqualified": ("不合格", "unqualified"),
    "poor_operation": ("运营不善", "poor operation"),
    "no_clear_benefit": ("效益不明显", "no clear benefit"),
    "violation": ("违法违规", "violation"), "adverse_impact": ("造成不良影响", "adverse impact"),
}

ARTICLES = {
    "Art. 4(2)": ("第四条第（二）项", "Art. 4(2)"), "Art. 4(3)": ("第四条第（三）项", "Art. 4(3)"),
    "Art. 4(4)": ("第四条第（四）项", "Art. 4(4)"), "Art. 5": ("第五条", "Art. 5"),
    "Art. 6(3)": ("第六条第（三）项", "Art. 6(3)"), "Art. 7": ("第七条", "Art. 7"),
    "Art. 9": ("第九条", "Art. 9"), "Art. 16": ("第十六条", "Art. 16"),
    "Art. 17": ("第十七条", "Art. 17"), "Art. 19": ("第十九条", "Art. 19"),
}

RULES = {
    "agencies_count": ("在营机构不足25家", "fewer than 25 operating agencies"),
    "annual_revenue": ("年营业收入不足8亿元", "annual revenue below ¥800,000,000"),
    "public_services": ("公共服务功能不全", "public-service functions missing"),
    "sub_parks": ("分园区超过3个", "more than 3 sub-parks"),
    "management_body": ("无管理机构", "no management body"),
    "full_time_staff": ("无专职工作人员", "no full-time staff"),
    "supporting_services": ("配套服务不全", "supporting services missing"),
    "support_policies": ("支持政策缺失", "support policies missing"),
    "filed_before_measures": ("申报早于办法施行日", "filed before the measures took effect"),
    "too_many_sub_parks": ("第4个分园区", "a 4th sub-park"),
    "objection_unresolved": ("异议未处理即批准", "approved with an objection unresolved"),
    "objection_upheld": ("异议成立仍批准", "approved although an objection was upheld"),
    "publicity_not_recommended": ("未获推荐即公示", "publicity without a recommendation"),
    "publicity_too_short": ("公示不足5个工作日", "publicity shorter than 5 working days"),
    "subsidy_amount": ("补助金额不是200万元", "subsidy not ¥2,000,000"),
    "subsidy_not_approved": ("未认定即拨付补助", "subsidy before approval"),
    "subsidy_repeated": ("重复拨付补助", "subsidy paid twice"),
    "not_excellent": ("非优秀等级获表扬或推荐", "commended or recommended without excellent"),
    "refund_exceeds_demand": ("退款超过责令金额", "refund beyond the demand"),
    "refund_exceeds_subsidy": ("退款超过拨付金额", "refund beyond the subsidy"),
    "refund_without_revocation": ("未撤牌即责令退款", "refund without revocation"),
    "self_evaluation_missing": ("年度自评逾期未报", "self-evaluation not reported"),
    "triennial_evaluation_overdue": ("三年评估逾期", "triennial evaluation overdue"),
    "rectification_overdue": ("整改逾期", "rectification overdue"),
    "refund_not_demanded": ("撤牌后未责令退款", "no refund demanded after revocation"),
    "refund_overdue": ("退款逾期", "refund overdue"),
}

# marshmallow's and the ledger's most common field messages, for the Chinese page; the original
# English text is always shown beside the translation, so an unlisted one still reads.
FIELD_MESSAGES = {
    "Missing data for required field.": "必填项",
    "Not a valid integer.": "不是有效整数",
    "Not a valid date.": "不是有效日期（格式 YYYY-MM-DD）",
    "Not a valid string.": "不是有效文本",
    "Not a valid boolean.": "不是有效的是/否",
    "Shorter than minimum length 1.": "不能为空",
    "Must be one of": "必须是所列选项之一",
    "must be greater than zero": "必须大于零",
    "must be a decimal string in yuan": "金额须为以元计的十进制数，如 2000000.00",
    "must not repeat an item": "不能重复",
    "must be the SHA-256 of the file": "须为文件的 SHA-256（64 位小写十六进制）",
    "is in the future": "不能是将来的日期",
    "unknown field": "未知字段",
    "Must be greater than or equal to": "数值过小",
    "Must be less than or equal to": "数值过大",
    "Must be greater than or equal to 0 and less than or equal to 100.": "须在 0–100 之间",
    "must be two years": "须为两个年份，如 2022-2024",
    "letters, digits": "只能包含字母、数字、“-”和“_”，如 KM-2022-01",
}

PREFECTURES = {
    "530100": ("昆明市", "Kunming"), "530300": ("曲靖市", "Qujing"), "530400": ("玉溪市", "Yuxi"),
    "530500": ("保山市", "Baoshan"), "530600": ("昭通市", "Zhaotong"),
    "530700": ("丽江市", "Lijiang"), "530800": ("普洱市", "Pu'er"), "530900": ("临沧市", "Lincang"),
    "532300": ("楚雄州", "Chuxiong"), "532500": ("红河州", "Honghe"),
    "532600": ("文山州", "Wenshan"), "532800": ("西双版纳州", "Xishuangbanna"),
    "532900": ("大理州", "Dali"), "533100": ("德宏州", "Dehong"), "533300": ("怒江州", "Nujiang"),
    "533400": ("迪庆州", "Diqing"),
}

TABLES = {"ui": UI, "status": STATUS, "event": EVENTS, "command": COMMANDS, "field": FIELDS,
          "code": CODES, "article": ARTICLES, "rule": RULES, "prefecture": PREFECTURES}


def language() -> str:
    """The language of this request: the session's choice, else Chinese."""
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else DEFAULT


def choose(lang: str) -> None:
    if lang in LANGUAGES:
        session["lang"] = lang


def text(key: str, **values: object) -> str:
    """A UI label in the request's language, with `{name}` placeholders filled."""
    return TEXT[language()](key, **values)


def term(table: str, code: str | None) -> str:
    """A domain term (status, event type, field, code, article, rule) in the request's language;
    an unknown code is shown as it is."""
    return TERM[language()](table, code)


def _text_in(index: int) -> Callable[..., str]:
    def text(key: str, **values: object) -> str:
        pair = UI.get(key)
        if pair is None:
            raise KeyError(f"no UI label {key!r}")
        label = pair[index]
        return label.format(**values) if values else label

    return text


def _term_in(index: int) -> Callable[[str, str | None], str]:
    def term(table: str, code: str | None) -> str:
        if code is None:
            return ""
        pair = TABLES[table].get(code)
        return code if pair is None else pair[index]

    return term


# `text` and `term` of each language: a page's templates are given the pair of the request's
# language once, not asked for it at each of their hundreds of calls (a page of findings: ~600)
TEXT = {lang: _text_in(i) for i, lang in enumerate(LANGUAGES)}
TERM = {lang: _term_in(i) for i, lang in enumerate(LANGUAGES)}


def field_message(message: str) -> str:
    """A validation message: in Chinese, a translation followed by the API's own words."""
    if language() == "en":
        return message
    for english, chinese in FIELD_MESSAGES.items():
        if english in message:
            return f"{chinese}（{message}）"
    return message


def lang_attribute() -> str:
    return "zh-CN" if language() == "zh" else "en"


def next_language() -> str:
    return "en" if language() == "zh" else "zh"


def request_language_param() -> None:
    """`?lang=en` on any page switches the session's language."""
    lang = request.args.get("lang")
    if lang:
        choose(lang)
