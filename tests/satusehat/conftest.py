"""Shared fixtures for the SATUSEHAT tests (the functions behind them are in `factories`)."""

import pytest

from tests.satusehat.factories import FinishedVisit, make_finished_visit


@pytest.fixture
def finished_visit(alpha) -> FinishedVisit:
    """Siti Rahmawati's finished visit at clinic alpha (see `factories.make_finished_visit`)."""
    return make_finished_visit(alpha)
