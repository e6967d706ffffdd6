"""Every bad input a careful user tries gets a clear answer: an error or a warning naming the file and line, the
field or the parameter, and what is accepted (the probes live in :mod:`fcot.testing.probes`)."""

from __future__ import annotations

import pytest

from fcot.testing import probes


@pytest.mark.parametrize("probe", probes.PROBES, ids=[p.name for p in probes.PROBES])
def test_a_bad_input_gets_a_clear_answer(probe, tmp_path, mirror):
    outcome = probes.run(probe, tmp_path)
    assert outcome.verdict == "clear", f"{probe.name}: {outcome.verdict}: {outcome.message}"


def test_a_raw_python_error_is_not_counted_as_clear_even_when_it_names_the_field(tmp_path):
    def raw(folder):
        raise TypeError("'<' not supported between instances of 'str' and 'int' (epochs)")

    assert probes.run(probes.Probe("raw", raw, "epochs"), tmp_path).verdict == "raw"


def test_a_call_that_answers_nothing_is_silent(tmp_path):
    assert probes.run(probes.Probe("quiet", lambda folder: None, "x", "warning"), tmp_path).verdict == "silent"
