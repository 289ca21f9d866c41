"""``/staff/disputes``: the supervisor of the deciding office decides over HTTP; anyone else is refused."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kojin.entrypoints.http.app import create_app
from kojin.staff.domain import Role
from tests.clinic.world import World
from tests.portal.helpers import Browser
from tests.portal.test_disputes import dispute
from tests.staff.support import clerk_headers, staff_headers


def test_a_jlis_supervisor_decides_over_http_and_others_are_refused(world: World) -> None:
    kojin = world.kojin
    app = create_app(kojin)
    taro = world.people["taro"]
    assert taro.card_id is not None
    person = Browser(app)
    person.login(taro.card_id)
    dispute(person, kojin.eligibility.insurer("kyokai").name)
    (pending,) = kojin.portal.disputes.pending()
    url = f"/staff/disputes/{pending.dispute_id}"
    body = {"outcome": "wrong", "note": "別の方の資格でした"}
    with TestClient(app, raise_server_exceptions=False) as client:
        clerk = client.post(url, json=body, headers=clerk_headers(kojin))
        assert clerk.status_code == 403 and clerk.json()["error"]["code"] == "staff.wrong_role"
        town = staff_headers(kojin, Role.SUPERVISOR, "municipality:13105")
        assert client.get("/staff/disputes", headers=town).json() == {"disputes": []}
        other = client.post(url, json=body, headers=town)
        assert other.status_code == 403 and other.json()["error"]["code"] == "staff.other_organisation"
        jlis = staff_headers(kojin, Role.SUPERVISOR, "jlis", staff_id="s.jlis")
        listed = client.get("/staff/disputes", headers=jlis).json()["disputes"]
        assert [d["dispute_id"] for d in listed] == [pending.dispute_id]
        bad = client.post(url, json={"outcome": "perhaps"}, headers=jlis)
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "portal.dispute_bad_outcome"
        done = client.post(url, json=body, headers=jlis)
        assert done.status_code == 200, done.text
        assert done.json()["state"] == "wrong" and done.json()["resolved_by"] == "s.jlis"
        again = client.post(url, json=body, headers=jlis)
        assert again.status_code == 409 and again.json()["error"]["code"] == "portal.dispute_closed"
    refused = {r.code for r in kojin.staff.refusals.recent(limit=100)}
    assert {"staff.wrong_role", "staff.other_organisation"} <= refused
    # Wrong: the membership is gone from the person's page and the card check.
    page = person.get("/portal/links").text
    assert 'data-state="wrong"' in page and "別の方の資格でした" in page
    assert kojin.eligibility.insurer("kyokai").name not in page.split('id="links-membership"')[1].split("</section>")[0]
