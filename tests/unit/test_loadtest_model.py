"""The volume model and the load profiles: rates from the province's numbers, users from
Little's law, and the profiles' shapes."""

import math

import pytest

from loadtests import model
from loadtests.model import Volume
from loadtests.profiles import parse_duration, profile


def test_peak_hour_rates_follow_from_the_days_dossiers():
    rates = model.rates(Volume(dossiers_per_day=7200, peak_hour_share=0.2, online_share=0.9,
                               lookups_per_dossier=3, browsing_per_dossier=4, officer_actions_per_dossier=4,
                               actions_per_officer_visit=5))
    peak = 7200 * 0.2 / 3600  # 0.4 dossiers a second
    assert rates["applicant"] == pytest.approx(peak * 0.9)
    assert rates["onestop_sync"] == pytest.approx(peak * 0.1)
    assert rates["status_lookup"] == pytest.approx(peak * 3)
    assert rates["catalogue"] == pytest.approx(peak * 4)
    assert rates["officer"] == pytest.approx(peak * 4 / 5)


def test_users_follow_littles_law_with_headroom_and_the_profiles_highest_multiplier():
    volume = Volume(headroom=1.5)
    plans = model.plan(volume, multiplier=3.0)
    for name, plan in plans.items():
        think, requests = model.JOURNEY_SHAPES[name]
        visit = think + requests * model.REQUEST_BUDGET_SECONDS
        assert plan.users == math.ceil(plan.rate_per_second * 3.0 * visit * 1.5)
        # Each user's pacing at the highest multiplier leaves the visit its planned length and more.
        assert plan.pacing_seconds / 3.0 >= visit


def test_doubling_the_dossiers_doubles_every_rate():
    single, double = model.rates(Volume(dossiers_per_day=3000)), model.rates(Volume(dossiers_per_day=6000))
    assert {k: 2 * v for k, v in single.items()} == pytest.approx(double)


@pytest.mark.parametrize("settings, problem", [
    ({"dossiers_per_day": "lots"}, "not a number"),
    ({"online_share": "1.5"}, "share"),
    ({"headroom": "0.5"}, "headroom"),
    ({"dossiers_per_day": "-1"}, ">= 0"),
    ({"dossier_per_day": "5000"}, "unknown volume setting"),
])
def test_bad_volume_settings_are_named(settings, problem):
    with pytest.raises(ValueError, match=problem):
        Volume.from_settings(settings)


def test_volume_settings_override_only_what_they_name():
    volume = Volume.from_settings({"dossiers_per_day": "5000"})
    assert volume.dossiers_per_day == 5000 and volume.online_share == Volume().online_share


def test_the_spike_profile_holds_the_peak_then_the_spike_then_the_peak():
    spike = profile("spike", duration=100, spike_factor=3)
    assert [spike.multiplier(t) for t in (0, 19, 20, 59, 60, 99, 150)] == [1, 1, 3, 3, 1, 1, 1]
    assert spike.highest == 3
    assert spike.offered(0, 100) == pytest.approx(20 * 1 + 40 * 3 + 40 * 1)
    assert spike.offered(10, 30) == pytest.approx(10 * 1 + 10 * 3)


def test_profiles_have_their_default_lengths_and_scale_with_the_duration():
    assert profile("peak").duration == 600 and profile("soak").multiplier(0) == 0.6
    assert profile("smoke", duration=30).phases == ((30.0, 0.25),)


@pytest.mark.parametrize("name, duration, problem", [("flood", None, "no load profile"), ("peak", 0, "more than 0")])
def test_bad_profiles_are_named(name, duration, problem):
    with pytest.raises(ValueError, match=problem):
        profile(name, duration)


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("10m", 600), ("2h", 7200), ("1.5m", 90)])
def test_durations_read_as_people_write_them(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["ten minutes", "-5m", "0", "m"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)
