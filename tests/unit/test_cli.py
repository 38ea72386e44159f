"""The portalops command: help everywhere, clear refusals, tables that round-trip."""

import click
import pytest
from click.testing import CliRunner

from portalops.cli import main


def every_command(group=main, path=()):
    yield path
    if isinstance(group, click.Group):
        for name, command in group.commands.items():
            yield from every_command(command, path + (name,))


@pytest.mark.parametrize("path", list(every_command()), ids=lambda p: " ".join(p) or "portalops")
def test_every_command_has_help(path):
    result = CliRunner().invoke(main, [*path, "--help"], prog_name="portalops")
    assert result.exit_code == 0, result.output
    assert "Usage: portalops" in result.output and len(result.output.splitlines()) > 3


def test_an_exported_topology_checks_clean(tmp_path):
    table = tmp_path / "thanhhoa.csv"
    runner = CliRunner()
    assert runner.invoke(main, ["inventory", "export", "--topology", "2020", "-o", str(table)]).exit_code == 0
    result = runner.invoke(main, ["inventory", "check", str(table)])
    assert result.exit_code == 0
    assert "589 hosts, 3 province, 27 district, 559 commune" in result.output


def test_a_bad_table_fails_the_check_naming_the_row(tmp_path):
    table = tmp_path / "bad.csv"
    table.write_text("host,unit_code,name,tier,address,roles\np,000.00.00.H56,T,province,10.0.0.300,portal\n")
    result = CliRunner().invoke(main, ["inventory", "check", str(table)])
    assert result.exit_code == 1
    assert "row 2 (host p): bad address '10.0.0.300'" in result.output


def test_the_pyinfra_command_writes_an_inventory_for_a_users_own_table(tmp_path):
    table, out = tmp_path / "mine.csv", tmp_path / "mine.py"
    runner = CliRunner()
    runner.invoke(main, ["inventory", "export", "-o", str(table)])
    result = runner.invoke(main, ["inventory", "pyinfra", str(table), str(out), "--ssh-user", "admin"])
    assert result.exit_code == 0
    assert str(table) in out.read_text() and "'ssh_user': 'admin'" in out.read_text()


def test_the_lab_refuses_to_start_without_root(monkeypatch):
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    result = CliRunner().invoke(main, ["lab", "up"])
    assert result.exit_code == 1
    assert "the lab needs root" in result.output


def test_the_lab_names_a_missing_tool_and_its_package(monkeypatch):
    monkeypatch.setattr("os.geteuid", lambda: 0)
    monkeypatch.setattr("shutil.which", lambda tool, path=None: None if tool == "debootstrap" else "/bin/" + tool)
    result = CliRunner().invoke(main, ["lab", "up"])
    assert result.exit_code == 1
    assert "missing debootstrap: install with `apt-get install debootstrap`" in result.output


def test_lab_ssh_to_an_unknown_host_lists_the_lab_hosts(monkeypatch, tmp_path):
    monkeypatch.setattr("lab.settings.UNITS_FILE", tmp_path / "none.csv")
    result = CliRunner().invoke(main, ["lab", "ssh", "nowhere"])
    assert result.exit_code == 1
    assert "no lab host 'nowhere'; lab hosts: none" in result.output
