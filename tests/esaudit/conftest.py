from __future__ import annotations

from collections.abc import Iterator

import pytest

from esaudit.bootstrap import Services, bootstrap


@pytest.fixture
def services(store_target: str) -> Iterator[Services]:
    svc = bootstrap(store_target, snapshot_every=3, actor="tester")
    yield svc
    svc.close()


@pytest.fixture
def sqlite_services(sqlite_target: str) -> Iterator[Services]:
    svc = bootstrap(sqlite_target, snapshot_every=3, actor="tester")
    yield svc
    svc.close()
