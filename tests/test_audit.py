"""The audit of the seed's seven iron rules, four misconceptions, Linton's tribe and the top
line: each check judged on hand-made facts, with its status, its numbers and its words."""

from __future__ import annotations

import pytest
from django.utils import translation
from insights_facts import both_ways, dynamics, facts, ladder

from shequn.insights import audit, linton, texts
from shequn.insights.checks import AT_RISK, MET, NO_DATA, NOT_MET


def star(centre: int, others: range) -> dict[tuple[int, int], float]:
    return both_ways([(centre, other) for other in others])


def test_one_person_at_the_centre_of_everything_is_not_multi_centre():
    check = audit.multi_centre(facts(star(1, range(2, 21))))
    assert check.status == NOT_MET and check.reason == "one_centre"
    assert check.evidence["top_share"] == 1.0
    assert check.evidence["split_without_top"] == pytest.approx(1 - 1 / 19, abs=1e-3)


def test_a_small_group_is_at_risk_unless_one_person_carries_it():
    ring = both_ways([(n, n % 8 + 1) for n in range(1, 9)])
    check = audit.multi_centre(facts(ring))
    assert (check.status, check.reason) == (AT_RISK, "small_group")
    assert audit.multi_centre(facts(star(1, range(2, 9)))).status == NOT_MET


def four_centres() -> dict[tuple[int, int], float]:
    ties = {}
    for centre in (1, 2, 3, 4):
        ties.update(star(centre, range(10 * centre, 10 * centre + 6)))
    ties.update(both_ways([(1, 2), (2, 3), (3, 4), (4, 1)]))
    return ties


def test_four_linked_centres_each_with_a_following_are_multi_centre():
    ties = four_centres()
    check = audit.multi_centre(facts(ties))
    assert check.status == MET, check.evidence
    assert check.evidence["hubs"] == 4 and check.evidence["top_share"] < 0.3


def test_nobody_standing_out_is_no_centre_at_all():
    ring = both_ways([(n, n % 60 + 1) for n in range(1, 61)])
    check = audit.multi_centre(facts(ring))
    assert (check.status, check.reason) == (NOT_MET, "no_centre")


def test_multi_centre_needs_a_network():
    check = audit.multi_centre(facts(both_ways([(1, 2)])))
    assert (check.status, check.reason) == (NO_DATA, "no_network")


def test_deep_links_and_altruism_grade_their_shares():
    deep = audit.deep_links(
        facts(dynamics=dynamics(deep_links=(0.25, {"members": 40, "deep": 10})))
    )
    assert deep.status == MET and deep.evidence["deep_members"] == 10
    shallow = audit.deep_links(facts(dynamics=dynamics(deep_links=(0.15, {"members": 40}))))
    assert shallow.status == AT_RISK
    assert audit.deep_links(facts()).status == NO_DATA
    twenty = set(range(1, 21))
    assert audit.altruism(facts(helpers=1, active=twenty)).status == AT_RISK  # 5 %
    assert audit.altruism(facts(helpers=0, active=twenty)).status == NOT_MET
    assert audit.altruism(facts(helpers=2, active=twenty)).status == MET  # 10 %
    blind = audit.altruism(facts(helpers=0, has_reply_data=False))
    assert (blind.status, blind.reason) == (NO_DATA, "no_reply_data")


def test_falling_participation_without_a_stated_purpose_fades():
    fading = audit.beyond_interest(facts(monthly_active=[30, 28, 25, 15, 12, 10]))
    assert fading.status == NOT_MET and fading.evidence["trend"] == pytest.approx(
        (37 - 83) / 83, 1e-3
    )
    held = audit.beyond_interest(facts(monthly_active=[30, 28, 25, 15, 12, 10], mission=True))
    assert held.status == AT_RISK
    growing = audit.beyond_interest(facts(monthly_active=[5, 6, 8, 9, 9, 12], positioning=True))
    assert growing.status == MET
    assert audit.beyond_interest(facts(monthly_active=[0] * 6)).status == NO_DATA


def test_much_talk_with_little_cooperation_and_few_talkers_is_not_health():
    busy = facts(
        ladder=ladder(5000, cooperation=(0.02, False)),
        dynamics=dynamics(concentration=(0.8, {})),
    )
    check = audit.activity_not_health(busy)
    assert check.status == NOT_MET
    assert check.evidence["problems"] == ["low_cooperation", "concentrated"]
    healthy = facts(
        ladder=ladder(5000, cooperation=(0.4, True)), dynamics=dynamics(concentration=(0.3, {}))
    )
    assert audit.activity_not_health(healthy).status == MET
    assert audit.activity_not_health(facts(ladder=ladder(0))).status == NO_DATA


def test_culture_and_misconceptions_about_purpose():
    assert audit.culture(facts(mission=True, values=3, ritual_attendees=4)).status == MET
    assert audit.culture(facts(mission=True, values=3)).status == AT_RISK
    assert audit.culture(facts()).status == NOT_MET
    assert audit.not_crowd(facts(mission=True, values=2)).status == MET
    assert audit.not_crowd(facts(positioning=True)).status == AT_RISK
    chat = audit.not_chat_group(
        facts(mission=True, ladder=ladder(cooperation=(0.3, True), collective_action=(0.2, True)))
    )
    assert chat.status == MET
    assert audit.not_chat_group(facts()).status == NOT_MET
    assert audit.not_chat_group(facts(goals=1)).status == NOT_MET  # a goal, nothing done yet
    assert audit.not_crowd(facts(goals=2)).status == AT_RISK  # goals but no mission


def test_a_charter_must_be_written_down_and_enforced():
    written = {"has_text": True, "version": 2, "acknowledged": 40}
    enforced = audit.charter(facts(charter={**written, "rules_enabled": 3, "violations_30d": 4}))
    assert enforced.status == MET and enforced.evidence["rules_enabled"] == 3
    decided = audit.charter(facts(charter={**written, "decided_30d": 2}))
    assert decided.status == MET
    idle = audit.charter(facts(charter=written))
    assert (idle.status, idle.reason) == (AT_RISK, "not_enforced")
    moderated = audit.charter(facts(moderation_events=4))
    assert (moderated.status, moderated.reason) == (AT_RISK, "unwritten")
    assert (audit.charter(facts()).status, audit.charter(facts()).reason) == (
        NOT_MET,
        "no_charter",
    )
    words = texts.describe(enforced.as_dict())
    assert "version 2" in words["evidence_text"] and "3 rules" in words["evidence_text"]


def test_connections_made_are_value_created():
    made = audit.creates_value(facts(connections={"connections": 3, "helped": 1, "deals": 1}))
    assert made.evidence["connections"] is True and made.evidence["connections_made"] == 3
    # No help, cooperation or activity in the period: the connections alone are at risk.
    assert made.status == AT_RISK
    assert audit.creates_value(facts()).status == NOT_MET


def test_a_fan_club_runs_through_its_leader():
    club = facts(star(1, range(2, 11)), staff={1})
    check = audit.not_fan_club(club)
    assert check.status == NOT_MET and check.evidence["ordinary_share"] == 0.0
    # Members who talk among themselves as much as with the leader.
    ties = {**star(1, range(2, 6)), **both_ways([(2, 3), (3, 4), (4, 5), (5, 2), (2, 4)])}
    assert audit.not_fan_club(facts(ties, staff={1})).status == MET
    # A venue: people speak but nobody answers back.
    one_way = {(n, 1): 1.0 for n in range(2, 11)}
    assert audit.not_venue(facts(one_way)).status == NOT_MET


def test_the_top_line_weighs_value_and_sustainability():
    giving = facts(
        helpers=3,
        ladder=ladder(cooperation=(0.3, True)),
        dynamics=dynamics({"cohesion": 60, "dissipative": 30}, net_inflow=(0.1, {})),
        operators=1,
    )
    ties = four_centres()
    giving.ties, giving.network = ties, facts(ties).network
    value, lasting = audit.top_line(giving, audit.iron_rules(giving))
    assert value.status == MET and value.evidence["help"] and value.evidence["cooperation"]
    assert lasting.status == MET, lasting.evidence
    # The founder alone runs it, more leave than arrive and dissipation wins.
    alone = facts(
        star(1, range(2, 11)),
        dynamics=dynamics({"cohesion": 20, "dissipative": 60}, net_inflow=(-0.2, {})),
    )
    value, lasting = audit.top_line(alone, audit.iron_rules(alone))
    assert value.status == NOT_MET and lasting.status == NOT_MET
    assert lasting.evidence["operated"] is False and lasting.evidence["cohesion_holds"] is False


def test_linton_tribe_check():
    tribe = facts(
        both_ways([(a, b) for a in range(1, 6) for b in range(a + 1, 6)]),
        mission=True,
        ritual_attendees=3,
        thread_people=4,
    )
    tribe.partners = {member: 4 if member <= 5 else 0 for member in tribe.active}
    checks = {check.code: check for check in linton.linton_check(tribe)}
    assert checks["similar_culture"].status == MET  # 3 of 10 attended a ritual, mission stated
    assert checks["frequent_interaction"].status == MET  # 5 of 10 with 3+ partners
    assert checks["frequent_interaction"].evidence["median_partners"] == 2
    assert checks["shared_interest"].status == MET
    lonely = facts(partners=dict.fromkeys(range(1, 11), 1))
    assert linton.frequent_interaction(lonely).status == NOT_MET
    assert linton.similar_culture(lonely).status == NOT_MET
    assert linton.similar_culture(facts(active=set())).status == NO_DATA


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_check_reads_as_a_sentence_with_its_numbers(language):
    club = facts(star(1, range(2, 11)), staff={1}, monthly_active=[9, 9, 9, 9, 9, 9])
    checks = [
        *audit.iron_rules(club),
        *audit.misconceptions(club),
        *linton.linton_check(club),
        *audit.top_line(club, audit.iron_rules(club)),
    ]
    with translation.override(language):
        for check in checks:
            words = texts.describe(check.as_dict())
            assert words["title"] and words["title"] != check.code
            assert words["evidence_text"], check.code
            assert "%(" not in words["evidence_text"]
            if check.status in (NOT_MET, AT_RISK):
                assert words["action_text"], check.code
        multi = texts.describe(audit.multi_centre(club).as_dict())
    assert "100%" in multi["evidence_text"]
    if language == "zh-hans":
        assert multi["status_label"] == "未达标"


def test_a_report_kept_before_a_sentence_named_more_numbers_still_reads():
    # Kept before goals counted: its evidence has a mission but no "common_goal".
    kept = {"code": "not_chat_group", "status": NOT_MET, "reason": "", "evidence": {"mission": 1}}
    with translation.override("en"):
        assert "Common goal (a mission or goals): –" in texts.evidence(kept)
