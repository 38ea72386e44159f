"""The units table is the one source of truth: good tables parse, bad ones name the row."""

import pytest
from hypothesis import given, settings, strategies as st

from inventory.units import UnitsTableError, format_units, load_units, parse_units

HEADER = "host,unit_code,name,tier,parent,address,roles\n"
PROVINCE = (
    "portal-1,000.00.00.H56,UBND tỉnh Thanh Hóa,province,,198.18.0.10,portal\n"
    "db-1,000.00.00.H56,UBND tỉnh Thanh Hóa,province,,198.18.0.11,db\n"
)
DISTRICT = "huyen-ha-trung,000.00.15.H56,Huyện Hà Trung,district,000.00.00.H56,198.18.1.1,onestop\n"
COMMUNE = "xa-ha-trung-01,000.01.15.H56,Xã số 01,commune,000.00.15.H56,198.18.2.1,onestop\n"
GOOD = HEADER + PROVINCE + DISTRICT + COMMUNE


def refusal(text: str) -> str:
    with pytest.raises(UnitsTableError) as caught:
        parse_units(text, "t.csv")
    return str(caught.value)


def test_a_good_table_gives_one_host_per_row_with_its_unit():
    hosts = parse_units(GOOD)
    assert [h.host for h in hosts] == ["portal-1", "db-1", "huyen-ha-trung", "xa-ha-trung-01"]
    commune = hosts[-1]
    assert (commune.unit_code, commune.tier, commune.parent, commune.roles) == (
        "000.01.15.H56", "commune", "000.00.15.H56", ("onestop",))


def test_writing_a_table_and_reading_it_back_gives_the_same_hosts():
    hosts = parse_units(GOOD)
    assert parse_units(format_units(hosts)) == hosts


def test_columns_may_come_in_any_order_and_parent_may_be_left_out():
    text = "roles,address,tier,name,unit_code,host\nportal,198.18.0.10,province,Tỉnh,000.00.00.H56,p\n"
    assert parse_units(text)[0].parent == ""


def test_the_province_may_have_several_hosts_under_one_unit_code():
    assert len(parse_units(HEADER + PROVINCE)) == 2


def test_a_commune_unit_code_used_twice_is_refused_naming_both_rows():
    twin = COMMUNE.replace("xa-ha-trung-01", "xa-ha-trung-02").replace("198.18.2.1", "198.18.2.2")
    message = refusal(GOOD + twin)
    assert "row 6: duplicate unit code 000.01.15.H56 (first on row 5)" in message


def test_a_host_name_used_twice_is_refused():
    twin = COMMUNE.replace("000.01.15.H56", "000.02.15.H56").replace("198.18.2.1", "198.18.2.2")
    assert "row 6: duplicate host 'xa-ha-trung-01' (first on row 5)" in refusal(GOOD + twin)


def test_an_address_used_twice_is_refused():
    twin = COMMUNE.replace("xa-ha-trung-01", "xa-2").replace("000.01.15.H56", "000.02.15.H56")
    assert "row 6: duplicate address 198.18.2.1 (first on row 5)" in refusal(GOOD + twin)


def test_a_bad_address_is_refused_naming_row_and_value():
    message = refusal(GOOD.replace("198.18.2.1", "198.18.2.300"))
    assert "row 5 (host xa-ha-trung-01): bad address '198.18.2.300'" in message


def test_an_unknown_role_is_refused_and_the_known_roles_listed():
    message = refusal(GOOD.replace("198.18.0.11,db", "198.18.0.11,database"))
    assert "row 3 (host db-1): unknown role 'database'; known roles: portal, db" in message


def test_a_missing_column_is_refused_by_name():
    message = refusal(GOOD.replace(",roles\n", "\n", 1))
    assert "header: missing column 'roles'" in message


def test_an_unknown_column_is_refused_by_name():
    assert "unknown column 'rack'" in refusal("rack," + GOOD)


def test_an_unknown_tier_is_refused():
    assert "unknown tier 'ward'" in refusal(GOOD.replace(",commune,", ",ward,"))


def test_a_malformed_unit_code_is_refused():
    assert "unit code '14.H56' is not of the form" in refusal(GOOD.replace("000.01.15.H56", "14.H56"))


def test_a_parent_missing_from_the_table_is_refused():
    assert "row 5: parent 000.00.99.H56 is not a unit in this table" in refusal(
        GOOD.replace(",000.00.15.H56,198.18.2.1", ",000.00.99.H56,198.18.2.1"))


def test_a_parent_that_is_not_above_the_unit_is_refused():
    sibling = COMMUNE.replace("xa-ha-trung-01", "xa-2").replace("000.01.15.H56", "000.02.15.H56")
    sibling = sibling.replace("000.00.15.H56", "000.01.15.H56").replace("198.18.2.1", "198.18.2.2")
    assert "parent 000.01.15.H56 is a commune, not above a commune" in refusal(GOOD + sibling)


def test_a_row_with_more_fields_than_columns_is_refused():
    assert "row 5: more fields than columns" in refusal(GOOD.replace("onestop\n", "onestop,extra\n"))


def test_every_problem_is_reported_not_only_the_first():
    message = refusal(GOOD.replace("198.18.0.11,db", "bad,db").replace("onestop\n", "web\n"))
    assert "bad address 'bad'" in message and "unknown role 'web'" in message


def test_a_table_without_a_province_is_refused():
    assert "no province-tier host" in refusal(HEADER + DISTRICT.replace("000.00.00.H56", ""))


def test_an_unreadable_file_is_refused_with_the_path(tmp_path):
    with pytest.raises(UnitsTableError, match="missing.csv: units table refused:\n  cannot read"):
        load_units(tmp_path / "missing.csv")


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(GOOD.encode("utf-16"))
    with pytest.raises(UnitsTableError, match="not UTF-8"):
        load_units(path)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(GOOD) + ['"', "\r", "\0", "ạ"]), max_size=400))
def test_any_text_either_parses_or_is_refused_with_a_units_table_error(text):
    try:
        parse_units(HEADER + text)
    except UnitsTableError as error:
        assert error.problems
