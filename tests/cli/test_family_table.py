"""``mlemap families`` lists the families from a copy that must match the family classes."""

import json

from mlemap.cli.family_table import family_rows
from mlemap.families import FAMILIES

from .helpers import run_cli


def test_the_listing_matches_the_family_classes():
    expected = [
        {
            "name": cls.name,
            "aliases": list(cls.aliases),
            "parameters": list(cls.parameters),
            "known_constants": list(cls.options + cls.optional_options),
            "support": cls().support_description,
            "discrete": cls.discrete,
        }
        for cls in FAMILIES
    ]
    assert family_rows() == expected


def test_families_json_and_table():
    listed = json.loads(run_cli("families", "--json").stdout)["families"]
    assert [r["name"] for r in listed] == [cls.name for cls in FAMILIES]
    table = run_cli("families", columns=120).stdout
    assert "negative_binomial" in table and "total_count" in table and "also called" in table
