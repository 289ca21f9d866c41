"""J-LIS certificate authority (公的個人認証サービス, JPKI).

A root CA and two issuing CAs (署名用 signature, 利用者証明用 user
authentication) issue end-entity certificates for public keys generated on the
card, keep revocation state, publish CRLs and answer OCSP. Relying parties
check a certificate with :mod:`kojin.pki.verify`, which needs only the CA
certificates and an OCSP lookup, never this party's store.

Modules: ``domain`` (profiles, validity, reason codes; pure), ``keys`` (CA
private keys), ``store`` (tables), ``service`` (the CA, over ``hierarchy``,
``issuing``, ``certificate_rows``, ``revocation``, ``crl``, ``serial_links``,
``extensions`` and ``errors``), ``card_records`` (the cards J-LIS issued, for
the counter), ``linkage`` (serials to persons for relying parties), ``ocsp``
(RFC 6960 responder), ``verify`` (relying-party checks, over ``trust``,
``chain``, ``ocsp_client`` and ``ocsp_cache``), ``api`` (HTTP endpoints).
"""
