"""The Park aggregate: one industrial park's whole history, from filing to clawback.

Every public method decides (checks the rules of the measures, computes the flags and the hash)
and then records one event; event `apply` methods only assign state, so history written under an
older rule always loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from ledger.domain import rules
from ledger.domain.calendar import WorkingDayCalendar
from ledger.domain.errors import (
    DuplicateError,
    LifecycleError,
    RuleBreach,
    ValidationError,
)
from ledger.domain.hashing import GENESIS, event_hash
from ledger.domain.rules import Flag
from ledger.domain.snapshot import AnyFields, LayoutSnapshot, library_attributes

PARK_NAMESPACE = uuid5(NAMESPACE_URL, "https://park-ledger.example/parks")

FILED, UNDER_EVALUATION, EVALUATED = "filed", "under_evaluation", "evaluated"
IN_PUBLICITY, PUBLICITY_CLOSED = "in_publicity", "publicity_closed"
APPROVED, REJECTED, WITHDRAWN, REVOKED = "approved", "rejected", "withdrawn", "revoked"
PENDING = (FILED, UNDER_EVALUATION, EVALUATED, IN_PUBLICITY, PUBLICITY_CLOSED)
CLOCK_FINDINGS = "clock"  # findings time raises are named "{park_code}/clock/..."


def park_id(park_code: str) -> UUID:
    """The stream id of a park, derived from its code so the store refuses a second filing."""
    return uuid5(PARK_NAMESPACE, park_code)


@dataclass(frozen=True)
class Context:
    """What every command carries besides its own fields; recorded_at is the ledger's clock."""

    effective_on: date
    recorded_at: datetime
    actor: dict[str, str]
    reason: str = ""
    documents: tuple[dict[str, str], ...] = ()
    override_reason: str | None = None
    idempotency_key: str | None = None


class Park(Aggregate):
    """A provincial HR service industrial park (省级人力资源服务产业园)."""

    # Bump when an attribute keeps its name but changes its meaning or type: snapshots of the
    # old layout are then passed over. Added, renamed or removed attributes need no bump (their
    # names are part of the layout already). See ledger/domain/snapshot.py.
    STATE_LAYOUT = 1

    class Snapshot(LayoutSnapshot):
        """A park's state at one version, with the fingerprint of its layout."""

    class Event(Aggregate.Event):
        park_code: str
        effective_on: date
        recorded_at: datetime
        actor: dict[str, str]
        reason: str
        documents: list[dict[str, str]]
        override_reason: str | None
        idempotency_key: str | None
        flags: list[dict[str, str]]
        prev_hash: str
        hash: str

        def apply(self, park: Any) -> None:
            park.head_hash = self.hash
            park.entries[str(self.originator_version)] = [type(self).__name__, self.entry_key()]
            # every flag is a finding, whatever its severity: a breach for the auditors, a
            # shortfall or a noted (Art. 5) eligibility gap for the evaluators (DESIGN.md)
            for flag in self.flags:
                park.raised_findings.append(flag["finding_id"])
            self.apply_fields(park)

        def apply_fields(self, park: Any) -> None:
            """What this kind of event changes in the park."""

        def entry_key(self) -> Any:
            """What, besides the version, a later correction needs to find this event's state."""
            return None

    class ApplicationFiled(Aggregate.Created, Event):
        name: str
        prefecture: str
        applicant: str
        agencies_count: int
        annual_revenue_yuan: Decimal
        public_services: list[str]
        sub_parks: list[str]
        management_body: str
        full_time_staff: int
        supporting_services: list[str]
        support_policies: list[str]
        specialisation: str
        hardship_area: bool
        relaxation_reason: str

        def apply(self, park: Any) -> None:
            park.initialise(self)
            super().apply(park)

    class MaterialsSupplemented(Event):
        note: str

    class ApplicationWithdrawn(Event):
        def apply_fields(self, park: Any) -> None:
            park.status = WITHDRAWN

    class EvaluationOpened(Event):
        panel: list[str]

        def apply_fields(self, park: Any) -> None:
            park.status = UNDER_EVALUATION
            park.panel = list(self.panel)
            park.opinions = []

    class ExpertOpinionRecorded(Event):
        expert: str
        organisation: str
        scores: dict[str, int]
        recommendation: str
        remarks: str

        def apply_fields(self, park: Any) -> None:
            park.opinions.append(self.expert)

    class EvaluationConcluded(Event):
        outcome: str

        def apply_fields(self, park: Any) -> None:
            park.status = EVALUATED
            park.evaluation_outcome = self.outcome

    class PublicityStarted(Event):
        starts_on: date
        ends_on: date
        channel: str

        def apply_fields(self, park: Any) -> None:
            park.status = IN_PUBLICITY
            park.publicity = {"starts_on": self.starts_on, "ends_on": self.ends_on,
                              "closed_on": None}

    class ObjectionRaised(Event):
        objection_no: str
        received_on: date
        objector: dict[str, str]
        grounds: str

        def apply_fields(self, park: Any) -> None:
            park.objections[self.objection_no] = "open"

    class ObjectionResolved(Event):
        objection_no: str
        outcome: str
        finding: str

        def apply_fields(self, park: Any) -> None:
            park.objections[self.objection_no] = self.outcome

        def entry_key(self) -> Any:
            return self.objection_no

    class PublicityClosed(Event):
        def apply_fields(self, park: Any) -> None:
            park.status = PUBLICITY_CLOSED
            park.publicity["closed_on"] = self.effective_on

    class ParkApproved(Event):
        approval_no: str

        def apply_fields(self, park: Any) -> None:
            park.status = APPROVED
            park.approved_on = self.effective_on
            park.approval_no = self.approval_no

    class PlaqueAwarded(Event):
        plaque_no: str

        def apply_fields(self, park: Any) -> None:
            park.plaque_no = self.plaque_no

    class ApplicationRejected(Event):
        def apply_fields(self, park: Any) -> None:
            park.status = REJECTED

    class SubParkAdded(Event):
        name: str
        request_letter_no: str

        def apply_fields(self, park: Any) -> None:
            park.sub_parks.append(self.name)

        def entry_key(self) -> Any:
            return self.name

    class SubsidyDisbursed(Event):
        amount_yuan: Decimal
        voucher_no: str

        def apply_fields(self, park: Any) -> None:
            park.money[str(self.originator_version)] = ["disbursed", self.amount_yuan]

    class SelfEvaluationReported(Event):
        year: int
        summary: str

        def apply_fields(self, park: Any) -> None:
            park.self_evaluations.append(self.year)

        def entry_key(self) -> Any:
            return self.year

    class EvaluationGraded(Event):
        cycle: str
        grade: str
        scores: dict[str, int]

        def apply_fields(self, park: Any) -> None:
            park.grades[self.cycle] = self.grade

        def entry_key(self) -> Any:
            return self.cycle

    class CommendationIssued(Event):
        notice_no: str

    class NationalRecommendationMade(Event):
        letter_no: str

    class RectificationOrdered(Event):
        notice_no: str
        grounds: str
        deadline: date

        def apply_fields(self, park: Any) -> None:
            park.rectification = {"notice_no": self.notice_no, "deadline": self.deadline,
                                  "version": self.originator_version}

    class RectificationCompleted(Event):
        verified_by: str

        def apply_fields(self, park: Any) -> None:
            park.rectification = None

    class PlaqueRevoked(Event):
        decision_no: str
        grounds: list[str]

        def apply_fields(self, park: Any) -> None:
            park.status = REVOKED
            park.revoked_on = self.effective_on

    class RefundDemanded(Event):
        amount_yuan: Decimal
        deadline: date
        notice_no: str

        def apply_fields(self, park: Any) -> None:
            park.money[str(self.originator_version)] = ["demanded", self.amount_yuan]

    class RefundReceived(Event):
        amount_yuan: Decimal
        voucher_no: str

        def apply_fields(self, park: Any) -> None:
            park.money[str(self.originator_version)] = ["received", self.amount_yuan]

    class EntryCorrected(Event):
        corrects_version: int
        field: str
        wrong_value: str
        right_value: str

        def apply_fields(self, park: Any) -> None:
            park.apply_correction(self.corrects_version, self.field, self.right_value)

    class FindingClosed(Event):
        finding_id: str

        def apply_fields(self, park: Any) -> None:
            park.closed_findings.append(self.finding_id)

    # ----------------------------------------------------------------- state (assigned only)

    def initialise(self, filed: Park.ApplicationFiled) -> None:
        self.park_code = filed.park_code
        self.name = filed.name
        self.prefecture = filed.prefecture
        self.applicant = filed.applicant
        self.filed_on = filed.effective_on
        self.status = FILED
        self.sub_parks = list(filed.sub_parks)
        self.head_hash = GENESIS
        self.panel: list[str] = []
        self.opinions: list[str] = []
        self.evaluation_outcome: str | None = None
        self.publicity: dict[str, Any] | None = None
        self.objections: dict[str, str] = {}
        self.approved_on: date | None = None
        self.approval_no: str | None = None
        self.plaque_no: str | None = None
        self.revoked_on: date | None = None
        self.money: dict[str, list[Any]] = {}  # version -> [kind, amount]
        self.self_evaluations: list[int] = []
        self.grades: dict[str, str] = {}
        self.rectification: dict[str, Any] | None = None
        self.raised_findings: list[str] = []
        self.closed_findings: list[str] = []
        self.corrected_versions: list[int] = []
        self.entries: dict[str, list[Any]] = {}  # version -> [event type, entry key]

    @classmethod
    def state_attributes(cls) -> frozenset[str]:
        """The names of a park's state: what `initialise` assigns (read off the code itself, so
        a new or renamed attribute changes the snapshot layout unasked), and the library's own.

        Event `apply` methods only reassign these; an attribute first assigned there would make
        every snapshot unusable (tests/unit/test_snapshot_layout.py checks each event kind).
        """
        blank = object.__new__(cls)
        blank.initialise(cast("Park.ApplicationFiled", AnyFields()))
        return frozenset(vars(blank)) | library_attributes()

    def apply_correction(self, version: int, field: str, right_value: str) -> None:
        """The state follows a corrected value; fields the state does not hold change nothing.

        `right_value` is the canonical text the ledger recorded (an ISO date, a decimal string,
        an integer), so this only parses; it never decides.
        """
        self.corrected_versions.append(version)
        kind, key = self.entries.get(str(version), [None, None])
        effect = _CORRECTION_EFFECTS.get((kind, field))
        if effect is not None:
            effect(self, version, key, right_value)

    def event_kind(self, version: int) -> str | None:
        """The type of the event recorded at `version` (None if there is none)."""
        kind: str | None = self.entries.get(str(version), [None, None])[0]
        return kind

    def total(self, kind: str) -> Decimal:
        """Money of one kind (disbursed, demanded, received) over the park's history, in yuan."""
        return sum((Decimal(a) for k, a in self.money.values() if k == kind), Decimal("0"))

    @property
    def latest_grade(self) -> str | None:
        return self.grades[max(self.grades)] if self.grades else None

    # ----------------------------------------------------------------- decisions

    @classmethod
    def file_application(cls, ctx: Context, **fields: Any) -> Park:
        """Art. 6(1): a prefecture files; Art. 4 shortfalls are flagged, Art. 19 is a breach."""
        relaxed = rules.relaxation_claimed(fields["specialisation"], fields["hardship_area"],
                                           fields["relaxation_reason"])
        shortfalls = rules.eligibility_flags(
            agencies_count=fields["agencies_count"],
            annual_revenue_yuan=fields["annual_revenue_yuan"],
            public_services=fields["public_services"], sub_parks=fields["sub_parks"],
            management_body=fields["management_body"],
            full_time_staff=fields["full_time_staff"],
            supporting_services=fields["supporting_services"],
            support_policies=fields["support_policies"], relaxed=relaxed)
        breaches = rules.filing_date_flags(ctx.effective_on)
        _refuse_unless_overridden(breaches, ctx)
        code = fields["park_code"]
        originator_id = park_id(code)
        state = _event_state(code, ctx, breaches + shortfalls, GENESIS, 1, fields)
        state["originator_topic"] = get_topic(cls)
        digest = event_hash(originator_id=originator_id, version=1,
                            topic=get_topic(cls.ApplicationFiled), state=state)
        state.pop("timestamp")
        return cls._create(cls.ApplicationFiled, id=originator_id, timestamp=ctx.recorded_at,
                           hash=digest, **state)

    def supplement_materials(self, ctx: Context, note: str) -> None:
        self._require(PENDING, "supplement materials")
        self._record(self.MaterialsSupplemented, ctx, [], note=note)

    def withdraw_application(self, ctx: Context) -> None:
        self._require(PENDING, "withdraw the application")
        self._record(self.ApplicationWithdrawn, ctx, [])

    def open_evaluation(self, ctx: Context, panel: list[str]) -> None:
        """Art. 6(2): the province organises departments and experts to evaluate."""
        self._require((FILED,), "open an evaluation", "Art. 6(2)")
        if len(set(panel)) != len(panel):
            raise ValidationError("panel", "an expert is named twice")
        self._record(self.EvaluationOpened, ctx, [], panel=panel)

    def record_expert_opinion(self, ctx: Context, expert: str, organisation: str,
                              scores: dict[str, int], recommendation: str, remarks: str) -> None:
        self._require((UNDER_EVALUATION,), "record an expert opinion", "Art. 6(2)")
        if expert not in self.panel:
            raise ValidationError("expert", f"{expert!r} is not on the evaluation panel")
        if expert in self.opinions:
            raise DuplicateError(f"{expert!r} has already given an opinion", field="expert")
        self._record(self.ExpertOpinionRecorded, ctx, [], expert=expert,
                     organisation=organisation, scores=scores, recommendation=recommendation,
                     remarks=remarks)

    def conclude_evaluation(self, ctx: Context, outcome: str) -> None:
        """Art. 6(2): the evaluation ends in a recommendation or not."""
        self._require((UNDER_EVALUATION,), "conclude the evaluation", "Art. 6(2)")
        if not self.opinions:
            raise LifecycleError("no expert opinion has been recorded", field="outcome",
                                 article="Art. 6(2)")
        self._record(self.EvaluationConcluded, ctx, [], outcome=outcome)

    def start_publicity(self, ctx: Context, calendar: WorkingDayCalendar, starts_on: date,
                        ends_on: date, channel: str) -> None:
        """Art. 6(3): parks that passed evaluation are publicised for 5 working days."""
        self._require((EVALUATED,), "start publicity", "Art. 6(3)")
        if ends_on < starts_on:
            raise ValidationError("ends_on", "publicity cannot end before it starts")
        breaches = []
        if self.evaluation_outcome != "recommended":
            breaches.append(Flag("Art. 6(3)", "publicity_not_recommended",
                                 "publicity of a park the evaluation did not recommend"))
        days = calendar.working_days_between(starts_on, ends_on, "ends_on")
        if days < rules.PUBLICITY_WORKING_DAYS:
            breaches.append(Flag("Art. 6(3)", "publicity_too_short",
                                 f"publicity of {days} working days, "
                                 f"{rules.PUBLICITY_WORKING_DAYS} required"))
        self._record(self.PublicityStarted, ctx, breaches, starts_on=starts_on,
                     ends_on=ends_on, channel=channel)

    def raise_objection(self, ctx: Context, objection_no: str, received_on: date,
                        objector: dict[str, str], grounds: str) -> None:
        """Art. 6(3): objections are received during the publicity window."""
        self._require_not_withdrawn()
        if self.publicity is None:
            raise LifecycleError("the park was never in publicity", field="objection_no",
                                 article="Art. 6(3)")
        self._require((IN_PUBLICITY, PUBLICITY_CLOSED), "raise an objection", "Art. 6(3)")
        starts, ends = self.publicity["starts_on"], self.publicity["ends_on"]
        if not starts <= received_on <= ends:
            raise ValidationError("received_on",
                                  f"outside the publicity window {starts} to {ends}")
        if objection_no in self.objections:
            raise DuplicateError(f"objection {objection_no} is already recorded",
                                 field="objection_no")
        self._record(self.ObjectionRaised, ctx, [], objection_no=objection_no,
                     received_on=received_on, objector=objector, grounds=grounds)

    def resolve_objection(self, ctx: Context, objection_no: str, outcome: str,
                          finding: str) -> None:
        self._require_not_withdrawn()
        state = self.objections.get(objection_no)
        if state is None:
            raise ValidationError("objection_no", f"no objection {objection_no} on this park")
        if state != "open":
            raise DuplicateError(f"objection {objection_no} was already {state}",
                                 field="objection_no")
        self._require(PENDING, "resolve an objection", "Art. 6(3)")
        self._record(self.ObjectionResolved, ctx, [], objection_no=objection_no,
                     outcome=outcome, finding=finding)

    def close_publicity(self, ctx: Context) -> None:
        self._require((IN_PUBLICITY,), "close publicity", "Art. 6(3)")
        assert self.publicity is not None  # IN_PUBLICITY implies a publicity record
        if ctx.effective_on < self.publicity["starts_on"]:
            raise ValidationError("effective_on", "publicity cannot close before it starts")
        self._record(self.PublicityClosed, ctx, [])

    def approve_park(self, ctx: Context, calendar: WorkingDayCalendar, approval_no: str) -> None:
        """Art. 6(3): approval after 5 working days of publicity with no objection standing."""
        self._require((PUBLICITY_CLOSED,), "approve the park", "Art. 6(3)")
        assert self.publicity is not None
        breaches = []
        open_ = sorted(n for n, s in self.objections.items() if s == "open")
        upheld = sorted(n for n, s in self.objections.items() if s == "upheld")
        if open_:
            breaches.append(Flag("Art. 6(3)", "objection_unresolved",
                                 f"objections not resolved: {', '.join(open_)}"))
        if upheld:
            breaches.append(Flag("Art. 6(3)", "objection_upheld",
                                 f"objections upheld: {', '.join(upheld)}"))
        # publicity counts up to its planned end, or earlier if closed or approved earlier
        last_day = min(self.publicity["ends_on"], self.publicity["closed_on"], ctx.effective_on)
        days = calendar.working_days_between(self.publicity["starts_on"], last_day, "effective_on")
        if days < rules.PUBLICITY_WORKING_DAYS:
            breaches.append(Flag("Art. 6(3)", "publicity_too_short",
                                 f"publicity lasted {days} working days, "
                                 f"{rules.PUBLICITY_WORKING_DAYS} required"))
        self._record(self.ParkApproved, ctx, breaches, approval_no=approval_no)

    def award_plaque(self, ctx: Context, plaque_no: str) -> None:
        self._require_approved(ctx, "award a plaque", "Art. 6(3)")
        if self.plaque_no is not None:
            raise DuplicateError(f"plaque {self.plaque_no} was already awarded",
                                 field="plaque_no")
        self._record(self.PlaqueAwarded, ctx, [], plaque_no=plaque_no)

    def reject_application(self, ctx: Context) -> None:
        self._require(PENDING, "reject the application")
        self._record(self.ApplicationRejected, ctx, [])

    def add_sub_park(self, ctx: Context, name: str, request_letter_no: str) -> None:
        """Art. 7: an approved park adds a sub-park on request; Art. 4(2): at most 3."""
        self._require_approved(ctx, "add a sub-park", "Art. 7")
        if name in self.sub_parks:
            raise DuplicateError(f"sub-park {name!r} already exists", field="name")
        breaches = []
        if len(self.sub_parks) + 1 > rules.MAX_SUB_PARKS:
            breaches.append(Flag("Art. 4(2)", "too_many_sub_parks",
                                 f"sub-park number {len(self.sub_parks) + 1}, "
                                 f"at most {rules.MAX_SUB_PARKS} allowed"))
        self._record(self.SubParkAdded, ctx, breaches, name=name,
                     request_letter_no=request_letter_no)

    def disburse_subsidy(self, ctx: Context, amount_yuan: Decimal, voucher_no: str) -> None:
        """Art. 9: one ¥2,000,000 opening subsidy, only to an approved park."""
        self._require_not_withdrawn()
        breaches = []
        if self.status != APPROVED:
            breaches.append(Flag("Art. 9", "subsidy_not_approved",
                                 f"subsidy to a park that is {self.status}, not approved"))
        elif self.approved_on is not None and ctx.effective_on < self.approved_on:
            # recorded late is fine; paid before the approval letter is not
            breaches.append(Flag("Art. 9", "subsidy_not_approved",
                                 f"subsidy paid on {ctx.effective_on}, before the approval on "
                                 f"{self.approved_on}"))
        if any(kind == "disbursed" for kind, _ in self.money.values()):
            breaches.append(Flag("Art. 9", "subsidy_repeated",
                                 "the one-time opening subsidy was already disbursed"))
        if amount_yuan != rules.OPENING_SUBSIDY_YUAN:
            breaches.append(Flag("Art. 9", "subsidy_amount",
                                 f"¥{amount_yuan} disbursed, the subsidy is "
                                 f"¥{rules.OPENING_SUBSIDY_YUAN}"))
        self._record(self.SubsidyDisbursed, ctx, breaches, amount_yuan=amount_yuan,
                     voucher_no=voucher_no)

    def report_self_evaluation(self, ctx: Context, year: int, summary: str) -> None:
        """Art. 16: the prefecture evaluates the park every year and reports it."""
        self._require_approved(ctx, "report a self-evaluation", "Art. 16")
        assert self.approved_on is not None
        if not self.approved_on.year <= year <= ctx.effective_on.year:
            raise ValidationError("year", f"must lie between the approval year "
                                  f"{self.approved_on.year} and {ctx.effective_on.year}")
        if year in self.self_evaluations:
            raise DuplicateError(f"the self-evaluation of {year} is already reported",
                                 field="year")
        self._record(self.SelfEvaluationReported, ctx, [], year=year, summary=summary)

    def grade_evaluation(self, ctx: Context, cycle: str, grade: str,
                         scores: dict[str, int]) -> None:
        """Art. 16: the province grades the park every three years."""
        self._require_approved(ctx, "grade the park", "Art. 16")
        years = rules.cycle_years(cycle)
        if years is None or years[1] - years[0] != rules.EVALUATION_CYCLE_YEARS - 1:
            raise ValidationError("cycle", "must name three calendar years, e.g. 2022-2024")
        if years[1] > ctx.effective_on.year:
            raise ValidationError("cycle", "the cycle has not ended by the effective date")
        assert self.approved_on is not None  # APPROVED implies an approval date
        if years[1] < self.approved_on.year:
            raise ValidationError("cycle", f"ended before the park was approved in "
                                  f"{self.approved_on.year}")
        if cycle in self.grades:
            raise DuplicateError(f"cycle {cycle} is already graded", field="cycle")
        self._record(self.EvaluationGraded, ctx, [], cycle=cycle, grade=grade, scores=scores)

    def issue_commendation(self, ctx: Context, notice_no: str) -> None:
        """Art. 17: an excellent grade earns a commendation."""
        self._require_approved(ctx, "issue a commendation", "Art. 17")
        self._record(self.CommendationIssued, ctx, self._excellence_breaches("commendation"),
                     notice_no=notice_no)

    def recommend_national(self, ctx: Context, letter_no: str) -> None:
        """Art. 17: excellent parks are recommended first for national level."""
        self._require_approved(ctx, "recommend the park for national level", "Art. 17")
        self._record(self.NationalRecommendationMade, ctx,
                     self._excellence_breaches("national recommendation"), letter_no=letter_no)

    def order_rectification(self, ctx: Context, notice_no: str, grounds: str,
                            deadline: date) -> None:
        """Art. 17: rectification within a deadline."""
        self._require_approved(ctx, "order rectification", "Art. 17")
        if deadline <= ctx.effective_on:
            raise ValidationError("deadline", "must fall after the effective date")
        if self.rectification is not None:
            raise LifecycleError(f"rectification {self.rectification['notice_no']} is still open",
                                 field="notice_no")
        self._record(self.RectificationOrdered, ctx, [], notice_no=notice_no, grounds=grounds,
                     deadline=deadline)

    def complete_rectification(self, ctx: Context, verified_by: str) -> None:
        """Art. 17: the park reports the rectification done. A revocation supersedes an open
        rectification, so a revoked park has none left to complete."""
        self._require_approved(ctx, "complete a rectification", "Art. 17")
        if self.rectification is None:
            raise LifecycleError("no rectification is open", field="verified_by")
        self._record(self.RectificationCompleted, ctx, [], verified_by=verified_by)

    def revoke_plaque(self, ctx: Context, decision_no: str, grounds: list[str]) -> None:
        """Art. 17: the plaque of a badly run park is revoked."""
        self._require_approved(ctx, "revoke the plaque", "Art. 17")
        self._record(self.PlaqueRevoked, ctx, [], decision_no=decision_no, grounds=grounds)

    def demand_refund(self, ctx: Context, amount_yuan: Decimal, deadline: date,
                      notice_no: str) -> None:
        """Art. 17: a revoked park refunds its subsidy, never more than it received."""
        self._require_not_withdrawn()
        if deadline < ctx.effective_on:
            raise ValidationError("deadline", "must not fall before the effective date")
        breaches = []
        if self.status != REVOKED:
            breaches.append(Flag("Art. 17", "refund_without_revocation",
                                 f"refund demanded from a park that is {self.status}"))
        disbursed = self.total("disbursed")
        if self.total("demanded") + amount_yuan > disbursed:
            breaches.append(Flag("Art. 17", "refund_exceeds_subsidy",
                                 f"refunds demanded would exceed the ¥{disbursed} disbursed"))
        self._record(self.RefundDemanded, ctx, breaches, amount_yuan=amount_yuan,
                     deadline=deadline, notice_no=notice_no)

    def receive_refund(self, ctx: Context, amount_yuan: Decimal, voucher_no: str) -> None:
        """Art. 17: refunds come back, in parts if need be, never more than demanded."""
        self._require_not_withdrawn()
        demanded = self.total("demanded")
        breaches = []
        if self.total("received") + amount_yuan > demanded:
            breaches.append(Flag("Art. 17", "refund_exceeds_demand",
                                 f"refunds received would exceed the ¥{demanded} demanded"))
        self._record(self.RefundReceived, ctx, breaches, amount_yuan=amount_yuan,
                     voucher_no=voucher_no)

    def correct_entry(self, ctx: Context, corrects_version: int, field: str, wrong_value: str,
                      right_value: str) -> None:
        """A wrong entry is answered by a correction naming it; the original stays.

        Allowed after a withdrawal: a correction fixes the record, it does not act on the park.
        The application has checked `field` and `wrong_value` against the stored event and put
        `right_value` in canonical form; here the park refuses what would break its own state.
        """
        if not 1 <= corrects_version <= self.version:
            raise ValidationError("corrects_version",
                                  f"must name a version between 1 and {self.version}")
        kind = self.event_kind(corrects_version)
        if kind == "EntryCorrected":
            raise ValidationError("corrects_version", "names a correction; correct the original "
                                  "entry again instead")
        taken = {("SubParkAdded", "name"): self.sub_parks,
                 ("SelfEvaluationReported", "year"): [str(y) for y in self.self_evaluations],
                 ("EvaluationGraded", "cycle"): list(self.grades)}.get((kind or "", field), [])
        if right_value in taken:
            raise DuplicateError(f"{field} {right_value} is already recorded on this park",
                                 field="right_value")
        self._record(self.EntryCorrected, ctx, [], corrects_version=corrects_version,
                     field=field, wrong_value=wrong_value, right_value=right_value)

    def close_finding(self, ctx: Context, finding_id: str) -> None:
        """An auditor closes a finding this park raised, or one the clock raised on it.

        Allowed after a withdrawal: findings stay open until an auditor closes them. The clock
        (projections) raises findings named `{park_code}/clock/...`; the park cannot list those.
        """
        if not finding_id.startswith(f"{self.park_code}/"):
            raise ValidationError("finding_id", f"is not a finding of park {self.park_code}")
        clock_raised = finding_id.startswith(f"{self.park_code}/{CLOCK_FINDINGS}/")
        if finding_id not in self.raised_findings and not clock_raised:
            raise ValidationError("finding_id", f"park {self.park_code} never raised {finding_id}")
        if finding_id in self.closed_findings:
            raise DuplicateError(f"finding {finding_id} is already closed", field="finding_id")
        self._record(self.FindingClosed, ctx, [], finding_id=finding_id)

    # ----------------------------------------------------------------- helpers

    def _excellence_breaches(self, what: str) -> list[Flag]:
        if self.latest_grade == "excellent":
            return []
        return [Flag("Art. 17", "not_excellent",
                     f"{what} for a park whose latest grade is {self.latest_grade or 'none'}")]

    def _require_not_withdrawn(self) -> None:
        if self.status == WITHDRAWN:
            raise LifecycleError("the application was withdrawn; nothing more can be recorded",
                                 field="park_code")

    def _require_approved(self, ctx: Context, action: str, article: str) -> None:
        """An approved park, and a date on or after its approval (acts on the approved park)."""
        self._require((APPROVED,), action, article)
        if self.approved_on is not None and ctx.effective_on < self.approved_on:
            raise ValidationError("effective_on", f"falls before the approval on "
                                  f"{self.approved_on}; cannot {action} before it")

    def _require(self, allowed: tuple[str, ...], action: str, article: str | None = None
                 ) -> None:
        self._require_not_withdrawn()
        if self.status not in allowed:
            raise LifecycleError(f"cannot {action}: the park is {self.status}",
                                 field="park_code", article=article,
                                 details={"status": self.status, "allowed": list(allowed)})

    def _record(self, event_class: type[Park.Event], ctx: Context, breaches: list[Flag],
                **fields: Any) -> None:
        if ctx.effective_on < self.filed_on:
            raise ValidationError("effective_on", f"falls before the filing on {self.filed_on}")
        _refuse_unless_overridden(breaches, ctx)
        version = self.version + 1
        state = _event_state(self.park_code, ctx, breaches, self.head_hash, version, fields)
        digest = event_hash(originator_id=self.id, version=version,
                            topic=get_topic(event_class), state=state)
        state.pop("timestamp")
        self.trigger_event(event_class, timestamp=ctx.recorded_at, hash=digest, **state)


def _refuse_unless_overridden(flags: list[Flag], ctx: Context) -> None:
    breaches = [f for f in flags if f.severity == rules.BREACH]
    if breaches and not (ctx.override_reason or "").strip():
        raise RuleBreach([b.as_dict() for b in breaches])


def _event_state(park_code: str, ctx: Context, flags: list[Flag], prev_hash: str, version: int,
                 fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "park_code": park_code,
        "effective_on": ctx.effective_on,
        "recorded_at": ctx.recorded_at,
        "timestamp": ctx.recorded_at,
        "actor": dict(ctx.actor),
        "reason": ctx.reason,
        "documents": [dict(d) for d in ctx.documents],
        "override_reason": ctx.override_reason,
        "idempotency_key": ctx.idempotency_key,
        "flags": [{**f.as_dict(), "finding_id": f"{park_code}/v{version}/{f.rule}"}
                  for f in flags],
        "prev_hash": prev_hash,
        **fields,
    }


# ----------------------------------------------------------------- what a correction changes

def _set(attribute: str, parse: Any = str) -> Any:
    def effect(park: Park, _version: int, _key: Any, text: str) -> None:
        setattr(park, attribute, parse(text))
    return effect


def _publicity(item: str) -> Any:
    def effect(park: Park, _version: int, _key: Any, text: str) -> None:
        if park.publicity is not None:
            park.publicity[item] = date.fromisoformat(text)
    return effect


def _money(park: Park, version: int, _key: Any, text: str) -> None:
    park.money[str(version)][1] = Decimal(text)


def _objection_outcome(park: Park, _version: int, key: Any, text: str) -> None:
    park.objections[key] = text


def _sub_park_name(park: Park, version: int, key: Any, text: str) -> None:
    park.sub_parks[park.sub_parks.index(key)] = text
    park.entries[str(version)][1] = text


def _self_evaluation_year(park: Park, version: int, key: Any, text: str) -> None:
    park.self_evaluations[park.self_evaluations.index(key)] = int(text)
    park.entries[str(version)][1] = int(text)


def _grade(park: Park, _version: int, key: Any, text: str) -> None:
    park.grades[key] = text


def _grade_cycle(park: Park, version: int, key: Any, text: str) -> None:
    park.grades[text] = park.grades.pop(key)
    park.entries[str(version)][1] = text


def _rectification(item: str, parse: Any = str) -> Any:
    def effect(park: Park, version: int, _key: Any, text: str) -> None:
        if park.rectification is not None and park.rectification["version"] == version:
            park.rectification[item] = parse(text)
    return effect


_CORRECTION_EFFECTS: dict[tuple[str | None, str], Any] = {
    ("ApplicationFiled", "name"): _set("name"),
    ("ApplicationFiled", "prefecture"): _set("prefecture"),
    ("ApplicationFiled", "applicant"): _set("applicant"),
    ("ApplicationFiled", "effective_on"): _set("filed_on", date.fromisoformat),
    ("EvaluationConcluded", "outcome"): _set("evaluation_outcome"),
    ("PublicityStarted", "starts_on"): _publicity("starts_on"),
    ("PublicityStarted", "ends_on"): _publicity("ends_on"),
    ("PublicityClosed", "effective_on"): _publicity("closed_on"),
    ("ObjectionResolved", "outcome"): _objection_outcome,
    ("ParkApproved", "effective_on"): _set("approved_on", date.fromisoformat),
    ("ParkApproved", "approval_no"): _set("approval_no"),
    ("PlaqueAwarded", "plaque_no"): _set("plaque_no"),
    ("PlaqueRevoked", "effective_on"): _set("revoked_on", date.fromisoformat),
    ("SubParkAdded", "name"): _sub_park_name,
    ("SubsidyDisbursed", "amount_yuan"): _money,
    ("RefundDemanded", "amount_yuan"): _money,
    ("RefundReceived", "amount_yuan"): _money,
    ("SelfEvaluationReported", "year"): _self_evaluation_year,
    ("EvaluationGraded", "grade"): _grade,
    ("EvaluationGraded", "cycle"): _grade_cycle,
    ("RectificationOrdered", "notice_no"): _rectification("notice_no"),
    ("RectificationOrdered", "deadline"): _rectification("deadline", date.fromisoformat),
}
