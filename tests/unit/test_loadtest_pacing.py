"""Open-model pacing: a user's visit schedule follows the target rate and the profile, and the
arrivals bookkeeping adds up across processes."""

import pytest

from loadtests.pacing import Arrivals, slots
from loadtests.profiles import profile


def test_users_of_a_journey_share_its_rate():
    # 4 users sharing 2 visits a second: each starts a visit every 2 s.
    times = slots(profile("peak", duration=60), users=4, rate=2.0, phase=0.0)
    assert times[:3] == [0.0, 2.0, 4.0] and len(times) == 30


def test_the_phase_spreads_users_over_the_first_interval():
    assert slots(profile("peak", duration=10), users=4, rate=2.0, phase=0.5)[0] == pytest.approx(1.0)


def test_a_spike_shortens_the_pacing_by_its_factor():
    spike = profile("spike", duration=100, spike_factor=4)  # x4 from 20 s to 60 s
    times = slots(spike, users=1, rate=0.5, phase=0.0)
    gaps = {round(b - a, 3) for a, b in zip(times, times[1:]) if 20 <= a < 59}
    assert gaps == {0.5}
    assert {round(b - a, 3) for a, b in zip(times, times[1:]) if a < 18} == {2.0}


def test_the_schedule_holds_the_profiles_offered_load():
    spike = profile("spike", duration=300, spike_factor=3)
    users, rate = 10, 1.0
    total = sum(len(slots(spike, users, rate, phase=i / users)) for i in range(users))
    assert total == pytest.approx(rate * spike.offered(0, 300), rel=0.02)


def test_no_users_or_no_rate_means_no_visits():
    assert slots(profile("peak"), users=0, rate=1.0, phase=0) == []
    assert slots(profile("peak"), users=3, rate=0.0, phase=0) == []


def test_arrivals_from_workers_add_up_on_the_master_and_are_sent_once():
    master, worker = Arrivals(), Arrivals()
    worker.plan("applicant", 5)
    worker.start("applicant", lateness=0.0)
    worker.start("applicant", lateness=3.0)
    master.add(worker.take())
    master.add(worker.take())  # nothing new: a second report adds nothing
    assert master.as_dict() == {"planned": {"applicant": 5}, "started": {"applicant": 2}, "late": {"applicant": 1}}
