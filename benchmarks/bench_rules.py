"""Gap detection: cost of the whole default catalogue per profile, and over a population.

Usage::

    python benchmarks/bench_rules.py [--facts 100 1000 10000] [--repeats 21] [--budget 30]
                                     [--spacing-days 3] [--care-teams N] [--people 2000]
                                     [--seed 0] [--shares FACTS] [--profile FACTS] [--json]

**Single profiles.** For each size the script builds one synthetic patient whose record
holds about that many facts, made of repeated care *episodes* (one every
``--spacing-days`` days, going back from ``AS_OF``). Every episode holds one fact of
every kind: a referral (in one of several loop states) with its appointment, a hospital
stay, ED visit or observation stay with an admission notice, discharge summary and
patient call, a follow-up visit, a task, a condition, a medication, an allergy, a lab
order and its result, a care team, a care plan and its goal, a social need, a consent,
a medication reconciliation, a procedure, a CCM enrolment and a coordination activity
(21 facts). So every rule family has work at every size and all kinds scale together.
``--care-teams N`` keeps only the newest ``N`` care teams (real patients have one or
two; one per episode makes the care-team rules quadratic or worse). The profile is
built once (``profile_from_record``, not timed); ``detect_gaps`` with
``default_rules()`` is timed up to ``--repeats`` times (fewer once ``--budget`` seconds
are spent on a size, never fewer than 3) and the median kept. Linear cost means a
constant time per fact, and ratios of about 10 between sizes ten times apart.

**Population.** ``generate_population(--people, with_facts=True)`` (conditions and
medications; medication conflicts between sources) with one episode added to every
record, linked and merged with ``build_profiles`` (not timed), then
``list(detect_gaps_population(...))`` timed (median of 3).

``--shares FACTS`` times each rule alone on a ``FACTS``-fact profile (minus the as-of
view every evaluation builds) and prints the costliest; ``--profile FACTS`` prints a
cProfile of ``detect_gaps`` on one (top functions by own time).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import itertools
import json
import platform
import pstats
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

_SRC = Path(__file__).resolve().parent.parent / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))

from carecoord.domain import Acknowledgement as Ack  # noqa: E402
from carecoord.domain import (  # noqa: E402 - after the sys.path set-up
    ActivityKind,
    AppointmentId,
    AppointmentStatus,
    CareSetting,
    CareTeamMember,
    Code,
    CommunicationKind,
    Complexity,
    ConsentDecision,
    Diagnosis,
    Discipline,
    EncounterClass,
    Interpretation,
    ListKind,
    MedicationStatus,
    PartialDate,
    PatientRecord,
    Period,
    Priority,
    Quantity,
    Ref,
    Referral,
    ReferralStatus,
    SocialDomain,
    System,
    Task,
    TaskStatus,
    TransitionKind,
)
from carecoord.testing import (  # noqa: E402
    AS_OF,
    BEHAVIORAL_HEALTH,
    CARDIOLOGIST,
    COORDINATOR,
    PCP,
    make_activity,
    make_allergy,
    make_appointment,
    make_care_plan,
    make_care_team,
    make_communication,
    make_condition,
    make_consent,
    make_encounter,
    make_enrollment,
    make_goal,
    make_medication,
    make_order,
    make_patient,
    make_procedure,
    make_reconciliation,
    make_record,
    make_referral,
    make_result,
    make_social_need,
    make_task,
    make_transition,
)

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)

_CONDITIONS = (
    ("E11.9", "Type 2 diabetes mellitus without complications"),
    ("I10", "Essential hypertension"),
    ("F32.9", "Major depressive disorder, single episode, unspecified"),
    ("I50.9", "Heart failure, unspecified"),
    ("J44.9", "Chronic obstructive pulmonary disease, unspecified"),
    ("N18.3", "Chronic kidney disease, stage 3"),
)
_LABS = (
    ("4548-4", "Hemoglobin A1c"),
    ("2345-7", "Glucose"),
    ("44261-6", "PHQ-9 total score"),
    ("2160-0", "Creatinine"),
)
_SPECIALTIES = (
    Code(System.SNOMED, "394579002", "Cardiology"),
    Code(System.SNOMED, "394583002", "Endocrinology"),
    Code(System.SNOMED, "394587001", "Psychiatry"),
)
_PRINCIPAL = (
    Code(System.ICD10CM, "I50.9", "Heart failure, unspecified"),
    Code(System.ICD10CM, "F32.2", "Major depressive disorder, severe"),
    Code(System.ICD10CM, "J44.1", "COPD with acute exacerbation"),
)


def _referral(k: int, pid: str, t: dt.datetime) -> Referral:
    """A referral sent at ``t``, in one of six loop states chosen by ``k``."""
    referral = make_referral(
        id=f"referral-{k}",
        patient=pid,
        authored_on=t,
        sent_at=t,
        status=ReferralStatus.SENT,
        specialty=_SPECIALTIES[k % 3],
        priority=Priority.URGENT if k % 7 == 0 else Priority.ROUTINE,
        community=k % 6 == 5,
        history=(),
        last_modified=t,
    )
    state = k % 6
    if state == 0:
        return referral.submit_prior_authorization(at=t + HOUR)
    if state in (1, 2, 3):
        referral = referral.receive(at=t + DAY, by=CARDIOLOGIST)
        referral = referral.accept(at=t + 2 * DAY, by=CARDIOLOGIST)
        referral = referral.schedule(AppointmentId(f"appointment-{k}"), at=t + 3 * DAY)
        if state == 2:
            referral = referral.record_no_show(at=t + 10 * DAY)
        if state == 3:
            referral = referral.record_seen(at=t + 10 * DAY)
            referral = referral.receive_report(
                at=t + 20 * DAY, report=Ref("Communication", f"report-{k}")
            )
            referral = referral.close(at=t + 21 * DAY, by=PCP)
        return referral
    if state == 4:
        return referral.decline(at=t + 2 * DAY, by=CARDIOLOGIST)
    return referral  # a community referral, sent only


def _task(k: int, pid: str, t: dt.datetime) -> Task:
    """A task authored at ``t``: open and due, unassigned, or completed (by ``k``)."""
    task = make_task(
        id=f"task-{k}",
        patient=pid,
        authored_on=t,
        due=t + 5 * DAY,
        owner=None if k % 5 == 1 else COORDINATOR,
        focus=Ref("Referral", f"referral-{k}") if k % 2 else Ref("Goal", f"goal-{k}"),
    )
    if k % 3 == 0:
        task = task.transition_to(TaskStatus.IN_PROGRESS, at=t + DAY, by=COORDINATOR)
        task = task.transition_to(TaskStatus.COMPLETED, at=t + 3 * DAY, by=COORDINATOR)
    return task


def episode(k: int, pid: str, t: dt.datetime) -> dict[str, list[Any]]:
    """One care episode starting at ``t``: one fact of every kind (21 facts), by field."""
    stay_kind = (TransitionKind.INPATIENT, TransitionKind.EMERGENCY, TransitionKind.OBSERVATION)[
        k % 3
    ]
    admitted = t + 2 * DAY
    discharged = admitted + (HOUR * 6 if stay_kind is TransitionKind.EMERGENCY else 3 * DAY)
    stay = Ref("CareTransition", f"stay-{k}")
    condition = _CONDITIONS[k % len(_CONDITIONS)]
    lab = _LABS[k % len(_LABS)]
    requester = PCP if (k // 4) % 2 else CARDIOLOGIST
    visit = discharged + DAY * (3 + k % 12)
    need = (SocialDomain.FOOD_INSECURITY, SocialDomain.TRANSPORTATION_INSECURITY)[k % 2]
    facts: dict[str, list[Any]] = {
        "referrals": [_referral(k, pid, t)],
        "appointments": [
            make_appointment(
                id=f"appointment-{k}",
                patient=pid,
                start=t + 10 * DAY,
                end=t + 10 * DAY + HOUR / 2,
                status=(AppointmentStatus.NO_SHOW if k % 6 == 2 else AppointmentStatus.BOOKED),
                based_on=(Ref("Referral", f"referral-{k}"),),
                booked_at=t + 3 * DAY,
            )
        ],
        "transitions": [
            make_transition(
                id=f"stay-{k}",
                patient=pid,
                kind=stay_kind,
                admitted_at=admitted,
                discharged_at=discharged,
                to_setting=CareSetting.HOME,
                complexity=Complexity.HIGH if k % 4 == 0 else None,
                diagnoses=(Diagnosis(_PRINCIPAL[(k // 3) % 3], principal=True),),
            )
        ],
        "communications": [
            make_communication(
                id=f"notice-{k}",
                patient=pid,
                kind=(
                    CommunicationKind.ADMISSION_NOTICE
                    if k % 2
                    else CommunicationKind.DISCHARGE_SUMMARY
                ),
                sent=discharged + DAY,
                about=(stay,),
            ),
            make_communication(
                id=f"call-{k}",
                patient=pid,
                kind=CommunicationKind.PATIENT_CONTACT,
                interactive=k % 3 != 1,
                sent=discharged + DAY * (1 + k % 4),
                sender=COORDINATOR,
                recipients=(),
                about=(stay,),
            ),
        ],
        "encounters": [
            make_encounter(
                id=f"visit-{k}",
                patient=pid,
                klass=EncounterClass.AMBULATORY if k % 4 else EncounterClass.VIRTUAL,
                period=Period(visit, visit + HOUR),
                performers=(BEHAVIORAL_HEALTH if k % 3 == 1 else PCP,),
                diagnoses=(Code(System.ICD10CM, condition[0], condition[1]),),
            )
        ],
        "tasks": [_task(k, pid, t)],
        "conditions": [
            make_condition(
                id=f"condition-{k}",
                patient=pid,
                code=Code(System.ICD10CM, condition[0], condition[1]),
                onset=PartialDate(t.year, t.month, t.day),
                recorded_at=t,
            )
        ],
        "medications": [
            make_medication(
                id=f"medication-{k}",
                patient=pid,
                prescriber=PCP if k % 2 else CARDIOLOGIST,
                authored_on=t + DAY,
                period=Period(t + DAY, t + 60 * DAY if k % 4 == 0 else None),
                status=MedicationStatus.STOPPED if k % 4 == 0 else MedicationStatus.ACTIVE,
                recorded_at=t + DAY,
            )
        ],
        "allergies": [make_allergy(id=f"allergy-{k}", patient=pid, recorded_at=t)],
        "orders": [
            make_order(
                id=f"order-{k}",
                patient=pid,
                code=Code(System.LOINC, lab[0], lab[1]),
                authored_on=t + DAY,
                requester=requester,
            )
        ],
        "care_teams": [
            make_care_team(
                id=f"team-{k}",
                patient=pid,
                members=(
                    CareTeamMember(PCP, Discipline.PRIMARY_CARE, period=Period(t)),
                    CareTeamMember(
                        COORDINATOR, Discipline.CARE_COORDINATION, period=Period(t), lead=k % 5 > 0
                    ),
                ),
                period=Period(t, t + 90 * DAY),
            )
        ],
        "goals": [make_goal(id=f"goal-{k}", patient=pid, recorded_at=t)],
        "care_plans": [
            make_care_plan(
                id=f"careplan-{k}",
                patient=pid,
                created=t,
                last_reviewed=t,
                goals=(f"goal-{k}",) if k % 2 else (),
                addresses=(Ref("Condition", f"condition-{k}"),),
            )
        ],
        "social_needs": [
            make_social_need(
                id=f"need-{k}",
                patient=pid,
                domain=need,
                identified_at=t,
            )
        ],
        "consents": [
            make_consent(
                id=f"consent-{k}",
                patient=pid,
                decision=ConsentDecision.PERMIT,
                period=Period(t, t + 365 * DAY),
            )
        ],
        "reconciliations": [
            make_reconciliation(
                id=f"reconciliation-{k}",
                patient=pid,
                list=ListKind.MEDICATIONS,
                at=discharged + DAY * (2 + k % 40),
            )
        ],
        "procedures": [
            make_procedure(id=f"procedure-{k}", patient=pid, performed=discharged + 5 * DAY)
        ],
        "enrollments": [
            make_enrollment(id=f"enrollment-{k}", patient=pid, period=Period(t, t + 28 * DAY))
        ],
        "activities": [
            make_activity(
                id=f"activity-{k}",
                patient=pid,
                kind=ActivityKind.TRANSITION_MANAGEMENT,
                at=discharged + DAY,
                minutes=10 + 5 * (k % 3),
                about=(stay,),
            )
        ],
    }
    results = [
        make_result(
            id=f"result-{k}",
            patient=pid,
            code=Code(System.LOINC, lab[0], lab[1]),
            issued=t + 3 * DAY,
            value=Quantity(6.5 + k % 4, "%"),
            interpretation=Interpretation.ABNORMAL if k % 3 == 0 else Interpretation.NORMAL,
            based_on=(f"order-{k}",),
            acknowledgements=((Ack(requester, t + 4 * DAY),) if k % 2 else ()),
        )
    ]
    if k % 4 != 3:  # most orders have a result; the others stay open (result.missing)
        facts["results"] = results
    else:
        facts["results"] = []
        facts["communications"].append(
            make_communication(
                id=f"medchange-{k}",
                patient=pid,
                kind=CommunicationKind.MEDICATION_CHANGE,
                sent=t + 2 * DAY,
                sender=PCP,
                recipients=(PCP, BEHAVIORAL_HEALTH),
                about=(Ref("Medication", f"medication-{k}"),),
            )
        )
    return facts


def patient_record(
    facts: int, *, spacing_days: float, care_teams: int | None = None, pid: str = "patient-1"
) -> PatientRecord:
    """One patient's record with about ``facts`` facts (whole episodes, newest first).

    ``care_teams`` caps the number of care teams (the newest episodes keep theirs);
    ``None`` keeps one per episode, like every other kind.
    """
    record = make_record(patient=make_patient(id=pid))
    fields: dict[str, list[Any]] = {}
    count, k = 0, 0
    while count < facts:
        start = AS_OF - dt.timedelta(days=spacing_days * k + 20)
        for name, items in episode(k, pid, start).items():
            if name == "care_teams" and care_teams is not None and k >= care_teams:
                continue
            fields.setdefault(name, []).extend(items)
            count += len(items)
        k += 1
    return record.with_facts(**fields)


def _timed(func: Any, repeats: int, budget: float, minimum: int = 3) -> list[float]:
    """Each run's wall time: ``repeats`` runs, fewer once ``budget`` s are spent.

    At least ``minimum`` runs are made whatever the budget.
    """
    times: list[float] = []
    while len(times) < repeats and (len(times) < minimum or sum(times) < budget):
        gc.collect()
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return times


def bench_single(
    sizes: list[int], repeats: int, budget: float, spacing_days: float, care_teams: int | None
) -> list[dict[str, Any]]:
    """Median ``detect_gaps`` time for one profile of each size."""
    from carecoord.profile._model import profile_from_record
    from carecoord.rules import default_rules, detect_gaps

    rules = default_rules()
    rows = []
    for size in sizes:
        record = patient_record(size, spacing_days=spacing_days, care_teams=care_teams)
        profile = profile_from_record(record)
        facts = profile.fact_count()
        report = detect_gaps(profile, as_of=AS_OF, rules=rules)
        assert report.ok, report.errors
        closed = detect_gaps(profile, as_of=AS_OF, rules=rules, include_closed=True)
        times = _timed(lambda p=profile: detect_gaps(p, as_of=AS_OF, rules=rules), repeats, budget)
        median = statistics.median(times)
        fired = len({g.rule for g in closed})
        rows.append(
            {
                "facts": facts,
                "care_teams": len(profile.care_teams),
                "runs": len(times),
                "median_s": median,
                "min_s": min(times),
                "max_s": max(times),
                "per_fact_us": median / facts * 1e6,
                "gaps": len(report),
                "gaps_with_closed": len(closed),
                "rules_with_gaps": fired,
            }
        )
        print(
            f"facts={facts:>6,} (care teams {len(profile.care_teams):,})  detect_gaps "
            f"median={median * 1e3:9.2f} ms (min {min(times) * 1e3:.2f}, max "
            f"{max(times) * 1e3:.2f}, n={len(times)})  per fact={median / facts * 1e6:6.1f} µs  "
            f"gaps={len(report):,} (with closed {len(closed):,}; {fired} rules produced gaps)",
            flush=True,
        )
    return rows


def rule_shares(
    size: int, spacing_days: float, care_teams: int | None, budget: float
) -> list[tuple[str, float]]:
    """Time of each rule alone on one profile (median), minus the shared as-of view."""
    from carecoord.profile._model import profile_from_record
    from carecoord.rules import default_rules, detect_gaps, profile_as_of, resolve_timezone

    rules = default_rules()
    profile = profile_from_record(
        patient_record(size, spacing_days=spacing_days, care_teams=care_teams)
    )
    tz = resolve_timezone(profile)
    view = statistics.median(_timed(lambda: profile_as_of(profile, AS_OF, tz=tz), 5, budget))
    whole = statistics.median(
        _timed(lambda: detect_gaps(profile, as_of=AS_OF, rules=rules), 5, budget)
    )
    shares = [("(profile_as_of view, shared)", view)]
    for rule in rules:
        only = rules.only(rule.id)
        alone = statistics.median(
            _timed(lambda o=only: detect_gaps(profile, as_of=AS_OF, rules=o), 5, budget)
        )
        shares.append((rule.id, max(0.0, alone - view)))
    shares.sort(key=lambda s: -s[1])
    print(
        f"\nper rule on {profile.fact_count():,} facts (each rule run alone, minus the view); "
        f"whole catalogue {whole * 1e3:.1f} ms:"
    )
    for rule_id, seconds in shares[:12]:
        print(f"  {rule_id:<42} {seconds * 1e3:9.2f} ms  {seconds / whole:6.1%}")
    return shares


def bench_population(people: int, seed: int) -> dict[str, Any]:
    """Throughput of ``detect_gaps_population`` over a generated population."""
    from carecoord import build_profiles
    from carecoord.rules import default_rules, detect_gaps_population, summarize
    from carecoord.testing import generate_population

    population = generate_population(people, seed=seed, with_facts=True)
    records = []
    for n, record in enumerate(population.records):
        start = AS_OF - dt.timedelta(days=20 + (n * 7) % 200)
        extra = episode(100_000 + n, record.patient.id, start)  # ids unlike the generator's
        records.append(record.with_facts(**extra))
    started = time.perf_counter()
    profiles = list(build_profiles(records))
    built = time.perf_counter() - started
    facts = sum(p.fact_count() for p in profiles)
    rules = default_rules()

    def run() -> list[Any]:
        return list(detect_gaps_population(profiles, as_of=AS_OF, rules=rules))

    reports = run()
    assert all(r.ok for r in reports), [r.errors for r in reports if not r.ok][:3]
    median = statistics.median(_timed(run, 3, 0.0))
    gaps = sum(len(r) for r in reports)
    summary = summarize(reports)
    by_rule = Counter(g.rule for r in reports for g in r)
    print(
        f"population: people={people:,} records={len(records):,} profiles={len(profiles):,} "
        f"facts={facts:,} (build_profiles {built:.2f} s, not timed)\n"
        f"  detect_gaps_population median={median:.3f} s  "
        f"{len(profiles) / median:,.0f} profiles/s  {facts / median:,.0f} facts/s  "
        f"{median / len(profiles) * 1e3:.2f} ms/profile  gaps={gaps:,} "
        f"({len(by_rule)} rules)",
        flush=True,
    )
    del summary
    return {
        "people": people,
        "records": len(records),
        "profiles": len(profiles),
        "facts": facts,
        "median_s": median,
        "profiles_per_s": len(profiles) / median,
        "facts_per_s": facts / median,
        "gaps": gaps,
        "rules_with_gaps": len(by_rule),
    }


def profile_rules(size: int, spacing_days: float, care_teams: int | None, top: int) -> None:
    """Print a cProfile of ``detect_gaps`` on one profile (top functions by own time)."""
    from carecoord.profile._model import profile_from_record
    from carecoord.rules import default_rules, detect_gaps

    rules = default_rules()
    profile = profile_from_record(
        patient_record(size, spacing_days=spacing_days, care_teams=care_teams)
    )
    profiler = cProfile.Profile()
    profiler.enable()
    detect_gaps(profile, as_of=AS_OF, rules=rules)
    profiler.disable()
    print(f"\ncProfile of detect_gaps on {profile.fact_count():,} facts (top {top} by own time):")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main() -> None:
    """Parse arguments, run the single-profile and population benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--repeats", type=int, default=21, help="runs per size (at most)")
    parser.add_argument(
        "--budget", type=float, default=30.0, help="stop repeating a size after this many s"
    )
    parser.add_argument("--spacing-days", type=float, default=3.0)
    parser.add_argument(
        "--care-teams",
        type=int,
        default=None,
        help="cap the care teams per profile (default: one per episode, like other kinds)",
    )
    parser.add_argument("--people", type=int, default=2000, help="0 skips the population run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--shares", type=int, default=0, metavar="FACTS", help="time each rule alone at FACTS"
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="FACTS", help="cProfile detect_gaps at FACTS"
    )
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = parser.parse_args()

    from carecoord.rules import default_rules, family_rules

    rules = default_rules()
    families = family_rules()
    print(
        f"{platform.machine()} Python {platform.python_version()}  "
        f"default_rules(): {len(rules)} rules in {len(families)} families "
        f"({', '.join(f'{k} {len(v)}' for k, v in families.items())})",
        flush=True,
    )
    rows = bench_single(args.facts, args.repeats, args.budget, args.spacing_days, args.care_teams)
    by_facts = sorted(rows, key=lambda r: r["facts"])
    for small, large in itertools.pairwise(by_facts):
        ratio = large["median_s"] / small["median_s"]
        size_ratio = large["facts"] / small["facts"]
        print(
            f"time({large['facts']:,}) / time({small['facts']:,}) = {ratio:.2f} "
            f"for {size_ratio:.2f}× the facts (linear: {size_ratio:.2f})"
        )
    population = bench_population(args.people, args.seed) if args.people else None
    shares = (
        rule_shares(args.shares, args.spacing_days, args.care_teams, args.budget)
        if args.shares
        else None
    )
    if args.profile:
        profile_rules(args.profile, args.spacing_days, args.care_teams, top=25)
    if args.json:
        print(
            json.dumps(
                {"rules": len(rules), "single": rows, "population": population, "shares": shares}
            )
        )


if __name__ == "__main__":
    main()
