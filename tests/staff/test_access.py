"""The access log's leaves: public facts and a commitment to the whole row, which an auditor can check."""

from __future__ import annotations

import json

from sqlalchemy import update

from kojin.app import Kojin
from kojin.staff.access import LEAF_KIND
from kojin.staff.domain import Organisation, Role
from kojin.staff.store import access_log

CITY = Organisation.of("municipality", "13105")


def _leaves(kojin: Kojin) -> list[dict[str, object]]:
    log = kojin.exchange_log
    found = [json.loads(log.leaf_data(i)) for i in range(log.size())]
    return [leaf for leaf in found if leaf.get("kojin") == LEAF_KIND]


def test_a_leaf_says_what_anyone_may_know_and_commits_to_the_row(kojin: Kojin) -> None:
    kojin.staff.register("c.tanaka", "田中 一郎", CITY, Role.COUNTER_CLERK)
    clerk = kojin.staff.check_token(kojin.staff.issue_token("c.tanaka").access_token)
    ref = kojin.staff.record_access(clerk, "4242", "住民票の写しの交付", "read")
    [leaf] = _leaves(kojin)
    assert leaf["ref"] == ref
    assert (leaf["org"], leaf["role"], leaf["purpose"], leaf["what"], leaf["shown"]) == (
        "municipality:13105",
        "counter_clerk",
        "住民票の写しの交付",
        "read",
        1,
    )
    text = json.dumps(leaf, ensure_ascii=False)
    assert "c.tanaka" not in text and "田中" not in text and "4242" not in text
    assert leaf["row"] == kojin.staff.log.commitment_of(ref)

    # A row changed after the fact no longer matches its leaf.
    with kojin.staff.engine.begin() as conn:
        conn.execute(update(access_log).where(access_log.c.entry_ref == ref).values(purpose="転出届"))
    assert leaf["row"] != kojin.staff.log.commitment_of(ref)


def test_a_refused_look_writes_neither_row_nor_leaf(kojin: Kojin) -> None:
    kojin.staff.register("c.tanaka", "田中 一郎", CITY, Role.COUNTER_CLERK)
    clerk = kojin.staff.check_token(kojin.staff.issue_token("c.tanaka").access_token)
    before = kojin.exchange_log.size()
    for purpose in (None, "興味本位"):
        try:
            kojin.staff.record_access(clerk, "4242", purpose, "read")
        except Exception as exc:
            assert "staff." in str(getattr(exc, "code", ""))
    assert kojin.exchange_log.size() == before
    assert kojin.staff.accesses_of("4242") == []
