"""Which doors of the web application open without a person or a staff member (公開の入口).

Every route of the built app is one of:

* on :data:`PUBLIC`: anyone may call it — what the real system publishes
  (corporate-number look-ups, certificates, CRLs and OCSP, the exchange log's
  signed tree heads and proofs, the permitted-exchange table and the agencies'
  public keys), the pages where a person or a staff member logs in, the card
  reader software, static files and the API documentation;
* on :data:`SIGNED`: machine-to-machine hops whose message itself carries the
  credential (an agency's signature, a MAC under a channel key); a message
  without a good one is refused and nothing happens;
* guarded: a staff door (a role, checked by :mod:`kojin.staff.guard`), a
  person's card session (the portal), or a clinic's key. An anonymous call is
  refused with 401 — or, for a page a browser opens, sent (303) to the public
  page where one logs in.

``tests/entrypoints/http/test_doors.py`` enumerates every route and holds each
to this; a new route that is on neither list and does not refuse an anonymous
caller fails it.
"""

from __future__ import annotations

Door = tuple[str, str]  # (method, path as declared)

PUBLIC: frozenset[Door] = frozenset(
    {
        # The site, its language toggle, health, documentation and static files.
        ("GET", "/"),
        ("GET", "/lang"),
        ("GET", "/healthz"),
        ("GET", "/docs"),
        ("GET", "/docs/oauth2-redirect"),
        ("GET", "/redoc"),
        ("GET", "/openapi.json"),
        ("GET", "/static"),
        ("GET", "/static-offline-docs"),
        # 法人番号: published by law, looked up by anyone.
        ("GET", "/corporate/corporations/{corporate_number}"),
        ("GET", "/corporate/num"),
        ("GET", "/corporate/search"),
        ("POST", "/numbering/validate-corporate"),
        # JPKI: CA certificates, CRLs, OCSP.
        ("GET", "/pki/ca/{name}.cer"),
        ("GET", "/pki/ca/{name}.pem"),
        ("GET", "/pki/crl/{name}.crl"),
        ("POST", "/pki/ocsp"),
        ("GET", "/pki/ocsp/{encoded:path}"),
        # The exchange log: signed tree heads, proofs and bundles (hashes, and one leaf each).
        ("GET", "/audit/key"),
        ("GET", "/audit/sth"),
        ("GET", "/audit/sth/{size}"),
        ("GET", "/audit/proof/inclusion"),
        ("GET", "/audit/proof/consistency"),
        ("GET", "/audit/bundle/{index}"),
        # The law's table and the agencies' public keys.
        ("GET", "/hub/permitted"),
        ("GET", "/hub/agencies"),
        ("GET", "/hub/agencies/{agency_id}"),
        # Logging in: the card-login API of relying parties, the portal's, the clinic's and staff's login pages.
        ("POST", "/auth/{rp_id}/challenge"),
        ("POST", "/auth/{rp_id}/verify"),
        ("GET", "/portal/"),
        ("GET", "/portal/login"),
        ("POST", "/portal/login"),
        ("GET", "/clinic/"),
        ("POST", "/clinic/login"),
        ("GET", "/staff/login"),
        ("POST", "/staff/login"),
        ("POST", "/staff/token/challenge"),
        ("POST", "/staff/token"),
        # The card reader software runs beside the person's own card.
        ("GET", "/reader/"),
        ("POST", "/reader/insert"),
        ("POST", "/reader/remove"),
        ("POST", "/reader/sign"),
    }
)

SIGNED: frozenset[Door] = frozenset(
    {
        ("POST", "/hub/exchange"),  # signed by the requesting agency
        ("POST", "/hub/exchange/batch"),
        ("POST", "/hub/agencies/{agency_id}/codes"),  # MAC under the J-LIS ↔ hub channel key
        ("POST", "/agency/{agency_id}/intermediate/answer"),  # MAC under the hub ↔ agency channel key
        ("POST", "/agency/{agency_id}/intermediate/answer-batch"),
    }
)
