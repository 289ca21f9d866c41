"""Demo cards: cards for part of the demo population, and one demo card whose PIN ``kojin up`` prints.

The bulk cards use P-256 keys (fast to make); the printed demo card is RSA-2048,
as real cards are. Its details are kept in ``kojin-data/demo-card.json`` for the
next ``kojin up``, and for nothing else: a demo, not a practice.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from kojin.app import Kojin
from kojin.core import reasons as core_reasons

DEMO_PIN = "1234"
DEMO_PASSWORD = "ABC123"


def demo_cards(
    kojin: Kojin,
    share: float = 0.05,
    *,
    on_start: Callable[[int], None] | None = None,
    on_card: Callable[[], None] | None = None,
) -> dict[str, str]:
    """Issue the demo cards once (``on_start`` is told how many, ``on_card`` each one); the demo card's details."""
    record = kojin.settings.data_dir / "demo-card.json"
    if record.exists():
        return dict(json.loads(record.read_text(encoding="utf-8")))
    from kojin.pki.domain import SIGNATURE_MIN_AGE
    from kojin.registry.domain import Status

    today = kojin.ca.today()
    adults = [r for r in kojin.register.iter_residents(status=Status.RESIDENT) if r.age_on(today) >= SIGNATURE_MIN_AGE]
    if not adults:
        raise core_reasons.DEMO_EMPTY.error()
    chosen = adults[:: max(1, int(1 / share))]
    if on_start is not None:
        on_start(len(chosen))
    demo = None
    for n, resident in enumerate(chosen):
        issued = kojin.cards.issue(
            resident.resident_id,
            auth_pin=DEMO_PIN,
            signature_password=DEMO_PASSWORD,
            algorithm="rsa2048" if n == 0 else "p256",
            today=today,
        )
        demo = demo or (issued, resident)
        if on_card is not None:
            on_card()
    assert demo is not None
    data = {
        "card_id": demo[0].card_id,
        "resident_id": str(demo[1].resident_id),
        "name": demo[1].name,
        "pin": DEMO_PIN,
        "password": DEMO_PASSWORD,
    }
    record.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return data
