"""fcot's errors open with their message in a notebook (fcot.errors), other errors are left as IPython shows them."""

from __future__ import annotations

import pytest

from fcot import errors


@pytest.fixture()
def shell(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    shown = []
    monkeypatch.setattr(ip, "_showtraceback", lambda etype, value, stb: shown.append(stb))
    ip._fcot_errors = False
    assert errors.install()
    yield ip, shown
    ip.set_custom_exc((), None)
    ip._fcot_errors = False


def test_an_fcot_error_opens_with_its_message_and_keeps_the_full_traceback(shell):
    ip, shown = shell
    ip.run_cell("from fcot import data\ndata.DataConfig(task='nope')")
    stb = shown[-1]
    assert "fcot: ValueError: DataConfig.task: unknown task 'nope'; accepted:" in stb[0]
    assert any("Traceback" in line or "DataConfig" in line for line in stb[2:])  # the full traceback stays


def test_an_error_from_user_code_is_shown_as_usual(shell):
    ip, shown = shell
    ip.run_cell("raise ValueError('mine')")
    assert not any("fcot:" in line for line in shown[-1])
