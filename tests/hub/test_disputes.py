"""Disputed links at the hub: a suspended code is refused on either side, singly and in a batch, logged; a
lifted one works again; a retired one is refused for good and names the person no more."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from kojin.app import Kojin
from kojin.core.crypto import b64
from kojin.core.errors import KojinError
from kojin.hub.disputes import DisputedCodes, LinkState
from kojin.hub.domain import batch_signing_input
from tests.hub.helpers import CHILD_ALLOWANCE, LOCAL_TAX, Person


def refused(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(KojinError) as err:
        call(*args, **kwargs)
    return err.value.code


def test_either_sides_disputed_code_is_refused_after_the_signature_and_logged(
    kojin: Kojin, people: list[Person]
) -> None:
    alice, bob = people
    asker = kojin.agencies.client("13105")
    ask = asker.request
    kojin.hub.suspend_link("13104", alice.codes["13104"])  # the provider's side
    kojin.hub.suspend_link("13105", bob.codes["13105"])  # the requester's own
    size = kojin.exchange_log.size()
    for person in (alice, bob):
        assert refused(ask, "13104", CHILD_ALLOWANCE, LOCAL_TAX, code=person.codes["13105"]) == "hub.link_disputed"
    for index in (size, size + 1):
        leaf = json.loads(kojin.exchange_log.leaf_data(index))
        assert (leaf["outcome"], leaf["reason"]) == ("refused", "hub.link_disputed") and leaf["subject"]
    # The async path and a batch refuse alike, each request on its own.
    with pytest.raises(KojinError) as err:
        asyncio.run(
            kojin.hub.exchange_async(
                asker.sign(asker.new_request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"]))
            )
        )
    assert err.value.code == "hub.link_disputed"
    requests = [asker.new_request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"]).as_dict()]
    signed = {"requests": requests, "signature": b64(asker.agency.keys.sign.sign(batch_signing_input(requests)))}
    (result,) = kojin.hub.exchange_batch(signed)["results"]
    assert result["error"]["code"] == "hub.link_disputed"
    # A forged signature is refused as such, before anything about the link is said.
    bad = asker.sign(asker.new_request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"]))
    bad["signature"] = b64(bytes(64))
    assert refused(kojin.hub.exchange, bad) == "hub.bad_signature"

    kojin.hub.lift_link(alice.codes["13104"])
    ask("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"])
    kojin.hub.retire_link(bob.codes["13105"])
    assert refused(ask, "13104", CHILD_ALLOWANCE, LOCAL_TAX, code=bob.codes["13105"]) == "hub.link_disputed"
    link_id = kojin.numbering.link_id_for_code(bob.juminhyo_code)
    assert kojin.hub.find_code("13105", link_id) is None
    assert kojin.hub.find_code("13104", link_id) == bob.codes["13104"]
    kojin.hub.lift_link(bob.codes["13105"])  # retired stays retired
    assert kojin.hub.link_state(bob.codes["13105"]) is LinkState.RETIRED


def test_only_the_codes_own_agency_can_be_named_and_another_process_is_seen_within_the_second(
    kojin: Kojin, people: list[Person]
) -> None:
    alice = people[0]
    assert refused(kojin.hub.suspend_link, "13105", alice.codes["13104"]) == "hub.unknown_code"
    assert refused(kojin.hub.suspend_link, "13105", "A" * 26) == "hub.unknown_code"
    now = [0.0]
    other = DisputedCodes(kojin.hub.engine, clock=lambda: now[0])
    assert not other.disputed(alice.codes["13104"])
    kojin.hub.suspend_link("13104", alice.codes["13104"])
    assert not other.disputed(alice.codes["13104"])  # its copy is younger than a second
    now[0] += 1.5
    assert other.disputed(alice.codes["13104"])
