"""Fixtures for sync: reference devices signed in at clinic alpha with a role."""

import pytest

from tests.records.conftest import api  # noqa: F401  (the fixture, for these tests too)
from tests.sync.device import Device


@pytest.fixture
def device(api):  # noqa: F811
    """`device(role)` -> a new reference device of the alpha user with that role."""

    def make(role: str = "doctor", **kwargs) -> Device:
        return Device(api(role), **kwargs)

    return make
