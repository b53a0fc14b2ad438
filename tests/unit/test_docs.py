"""The README names what the code has: every configuration key, every job and every table,
and nothing the code does not have."""
import re

import yaml

from jobs.common.cli import JOBS
from jobs.common.config import PROJECT_ROOT
from schemas.tables import ALL_TABLES

README = (PROJECT_ROOT / "README.md").read_text()


def section(start: str) -> str:
    """The README's text from the line starting with `start` to the next blank line."""
    _, found, rest = README.partition("\n" + start)
    assert found, f"the README has no line starting with {start!r}"
    return (start + rest).split("\n\n", 1)[0]


def first_cells(table: str) -> set[str]:
    """The backquoted names in the first cell of each row of a Markdown table."""
    cells = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    return {name for cell in cells for name in re.findall(r"`([^`]+)`", cell)}


def leaf_keys(tree: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in tree.items():
        if isinstance(value, dict):
            keys |= leaf_keys(value, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def test_the_configuration_table_documents_every_key_of_conf_base_and_only_those():
    keys = leaf_keys(yaml.safe_load((PROJECT_ROOT / "conf" / "base.yaml").read_text()))
    documented = first_cells(section("| key | meaning |"))
    groups = {name.removesuffix("*") for name in documented if name.endswith(".*")}

    def covered(key):
        return key in documented or any(key.startswith(group) for group in groups)

    assert sorted(key for key in keys if not covered(key)) == []
    assert sorted(name for name in documented - {f"{g}*" for g in groups} if name not in keys) == []
    assert sorted(g for g in groups if not any(key.startswith(g) for key in keys)) == []


def test_the_readme_lists_every_job_the_command_line_runs():
    listed = set(re.findall(r"`([a-z_]+)`", section("Jobs: ").split(". ", 1)[0]))
    assert listed == set(JOBS)


def test_the_table_of_tables_names_every_table_and_only_those():
    documented = {name for name in first_cells(section("| table |")) if "." in name}
    assert documented == {spec.full_name for spec in ALL_TABLES}
