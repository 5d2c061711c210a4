"""Linton's tribe check (the seed: a strong tribe has a similar culture, frequent interaction and
a shared interest), each measured on the period's behaviour.

* similar culture: a culture written down (mission or values) and practised — the share of
  active members who attended one of the community's rituals in the last 90 days
  (``CULTURE_PRACTISED`` or more is met);
* frequent interaction: the share of active members tied to at least ``PARTNERS`` others by
  replies, mentions, reactions or answering turns — attending the same meetup is not yet an
  interaction (``INTERACTION_MET``; half of it is at risk);
* shared interest: the share of active members who took part in a conversation of three people
  or more — a subject others cared to join (``INTEREST_MET``; ``INTEREST_AT_RISK``).
"""

from __future__ import annotations

from statistics import median

from shequn.insights.checks import AT_RISK, MET, NO_DATA, NOT_MET, Check, grade, share
from shequn.insights.facts import Facts

CULTURE_PRACTISED = 0.2
PARTNERS = 3
INTERACTION_MET = 0.3
INTEREST_MET = 0.3
INTEREST_AT_RISK = 0.1


def similar_culture(facts: Facts) -> Check:
    active = len(facts.active)
    practised = share(facts.ritual_attendees, active)
    evidence = {
        "mission": facts.mission,
        "values": facts.values,
        "rituals": facts.rituals,
        "ritual_occurrences": facts.ritual_occurrences,
        "ritual_attendees": facts.ritual_attendees,
        "active": active,
        "ritual_share": practised,
    }
    if not active:
        return Check("similar_culture", NO_DATA, evidence, "no_active")
    declared = facts.mission or facts.values > 0
    practised_enough = (practised or 0) >= CULTURE_PRACTISED
    if declared and practised_enough:
        status = MET
    elif declared or facts.ritual_attendees:
        status = AT_RISK
    else:
        status = NOT_MET
    return Check("similar_culture", status, evidence)


def frequent_interaction(facts: Facts) -> Check:
    active = len(facts.active)
    if not active:
        return Check("frequent_interaction", NO_DATA, {"active": 0}, "no_active")
    connected = sum(1 for count in facts.partners.values() if count >= PARTNERS)
    value = share(connected, active)
    evidence = {
        "active": active,
        "connected": connected,
        "connected_share": value,
        "partners": PARTNERS,
        "median_partners": median(facts.partners.values()) if facts.partners else 0,
    }
    return Check(
        "frequent_interaction", grade(value, INTERACTION_MET, INTERACTION_MET / 2), evidence
    )


def shared_interest(facts: Facts) -> Check:
    active = len(facts.active)
    if not active:
        return Check("shared_interest", NO_DATA, {"active": 0}, "no_active")
    value = share(facts.thread_people, active)
    evidence = {"active": active, "thread_people": facts.thread_people, "thread_share": value}
    return Check("shared_interest", grade(value, INTEREST_MET, INTEREST_AT_RISK), evidence)


def linton_check(facts: Facts) -> list[Check]:
    return [similar_culture(facts), frequent_interaction(facts), shared_interest(facts)]
