"""wizard.widgets.breakable: text wraps at spaces and breaks a long token only at a boundary."""

from __future__ import annotations

import pytest

from wizard.widgets.breakable import Breakable, break_points

TEXT = (
    "all 2 instances: role fx-ec2 may not s3:GetObject "
    "s3://fx-codedeploy-123456789012-us-east-1/releases/fx-nogit-20261130T015818002Z.zip "
    "(arn:aws:iam::123456789012:role/fx-ec2, i-0123456789abcdef0,i-0fedcba9876543210)"
)


@pytest.mark.parametrize("width", [12, 20, 38, 41, 60, 80, 160])
def test_lines_fit_keep_every_character_and_break_at_boundaries(width: int) -> None:
    lines = [line.plain for line in Breakable(TEXT).lines(width)]
    assert all(len(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == TEXT.replace(" ", "")  # nothing lost or added
    pos = 0
    for line in lines:
        i = TEXT.index(line, pos)
        j = i + len(line)
        # every line ends at a space, the end, or after '/', '-', ',' … unless the run between
        # two boundaries is itself wider than the line (the last resort: cut at the edge)
        if j < len(TEXT) and TEXT[j] != " " and TEXT[j - 1] not in "/-,:=&?;_|@":
            # the last resort only: a run with no boundary, as wide as the whole line
            assert " " not in line and not break_points(line) and len(line) == width, line
        pos = j


def test_runs_of_boundaries_stay_whole_and_a_cut_ends_at_a_boundary() -> None:
    assert 3 not in break_points("s3://bucket")  # never 's3:' / '//bucket'
    assert break_points("--flag-x") == [7]
    lines = [line.plain for line in Breakable(TEXT, max_lines=3).lines(38)]
    assert len(lines) == 3 and lines[-1].endswith("…")
    kept = lines[-1][:-1].rstrip()
    end = TEXT.index(kept) + len(kept)
    assert kept[-1] in "/-,:=&?;_|@" or TEXT[end] == " ", lines


def test_indentation_and_empty_lines_are_kept() -> None:
    lines = [ln.plain for ln in Breakable('{\n  "key": "value"\n\n}').lines(40)]
    assert lines == ["{", '  "key": "value"', "", "}"]
    assert str(Breakable("a b")) == "a b"
