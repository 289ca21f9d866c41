"""The privacy invariant: the individual number lives in the numbering store only.

A whole seeding runs through the CLI (as an operator would), then every other
store, every log line and every API answer is searched for every number.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select
from typer.testing import CliRunner

from kojin.app import Kojin, build
from kojin.core.config import Settings
from kojin.core.db import PARTIES
from kojin.entrypoints.cli import app
from kojin.entrypoints.http.app import create_app
from kojin.numbering.store import numbers
from tests.staff.support import clerk_headers

TODAY = date(2026, 11, 24)


def all_numbers(kojin: Kojin) -> list[str]:
    with kojin.numbering.engine.connect() as conn:
        return [str(n) for (n,) in conn.execute(select(numbers.c.number))]


def dump_store(kojin: Kojin, party: str) -> str:
    """Every value of every table of one party's store, as text."""
    engine = kojin.db.engine(party)
    meta = MetaData()
    meta.reflect(engine)
    parts: list[str] = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                parts.extend(str(v) for v in row)
    return "\n".join(parts)


def test_seeding_leaves_numbers_only_in_the_numbering_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("KOJIN_DATA_DIR", str(data))
    monkeypatch.delenv("KOJIN_DATABASE_URL", raising=False)
    caplog.set_level(logging.DEBUG)
    result = CliRunner().invoke(app, ["seed", "--residents", "600", "--seed", "7"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    kojin = build(Settings(data_dir=data))
    try:
        issued = all_numbers(kojin)
        assert len(issued) == 600
        # Raw bytes of every other party's files, WAL included.
        for path in data.iterdir():
            if path.name.startswith("numbering."):
                continue
            blob = path.read_bytes()
            leaked = [n for n in issued if n.encode() in blob]
            assert leaked == [], f"{len(leaked)} numbers found in {path.name}"
        logs = caplog.text + result.stdout + result.stderr
        assert [n for n in issued if n in logs] == []
    finally:
        kojin.close()


def test_no_number_in_any_other_store_or_api_answer(kojin: Kojin, caplog: pytest.LogCaptureFixture) -> None:
    from fastapi.testclient import TestClient

    from kojin.demo.population import generate_households

    caplog.set_level(logging.DEBUG)
    drafts = list(generate_households("13105", 300, seed=3, today=TODAY))
    kojin.register.enroll_households(drafts, municipality_code="13105")
    purpose = {"purpose": "住民票の写しの交付"}
    with TestClient(create_app(kojin), headers=clerk_headers(kojin, "13105")) as client:
        answers = [client.get("/registry/residents?limit=20", params=purpose).text]
        for rid in (1, 2, 3):
            answers.append(client.get(f"/registry/residents/{rid}", params=purpose).text)
            answers.append(client.post(f"/registry/residents/{rid}/number-change", json={"reason": "漏えい"}).text)
            answers.append(client.get(f"/registry/residents/{rid}/history", params=purpose).text)
    assert all('"error"' not in answer for answer in answers)
    issued = all_numbers(kojin)
    assert len(issued) == 303  # three changed: three more, all retired ones kept
    haystacks = {party: dump_store(kojin, party) for party in PARTIES if party != "numbering"}
    haystacks["logs"] = caplog.text
    haystacks["api"] = "\n".join(answers)
    for where, hay in haystacks.items():
        assert [n for n in issued if n in hay] == [], where


def test_no_number_in_a_batch_of_exchanges_or_anything_it_leaves(
    kojin: Kojin, caplog: pytest.LogCaptureFixture
) -> None:
    # 一括照会 over HTTP: the signed batch, the hub's message to the provider, the
    # answers, every leaf and every store but numbering hold codes, never numbers.
    from fastapi.testclient import TestClient

    from kojin.agency.client import HttpHub
    from kojin.agency.domain import Ask
    from kojin.hub.transport import IntermediateRouter, Settlement
    from tests.hub.helpers import CHILD_ALLOWANCE, LOCAL_TAX, as_httpx, setup_demo

    caplog.set_level(logging.DEBUG)
    people = setup_demo(kojin, 5)
    router = kojin.hub.transport
    assert isinstance(router, IntermediateRouter)
    carried: list[str] = []
    deliver_many = router.deliver_many

    def spy(
        agency_id: str, endpoint: str | None, message: dict[str, Any], mac: str
    ) -> tuple[object, object, Settlement]:
        answer, answer_mac, settlement = deliver_many(agency_id, endpoint, message, mac)
        carried.extend((repr(message), repr(answer)))
        return answer, answer_mac, settlement

    # A spy on this router only, for this test.
    router.deliver_many = spy  # type: ignore[method-assign]
    with TestClient(create_app(kojin)) as client:
        asker = kojin.agencies.client("13105", HttpHub(client=as_httpx(client)))
        reqs = asker._batch_requests([Ask("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=p.codes["13105"]) for p in people])
        body = asker.sign_batch(reqs)
        answer = client.post("/hub/exchange/batch", json=body).text
    assert len(carried) == 2 and '"answered"' in answer
    issued = all_numbers(kojin)
    assert len(issued) == 5
    haystacks = {party: dump_store(kojin, party) for party in PARTIES if party != "numbering"}
    haystacks.update(logs=caplog.text, batch=repr(body), answer=answer, hop="\n".join(carried))
    for where, hay in haystacks.items():
        assert [n for n in issued if n in hay] == [], where
