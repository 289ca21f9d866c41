from __future__ import annotations

from kojin.registry.countries import ISO_3166_ALPHA2


def test_the_bundled_list_is_iso_3166_alpha2() -> None:
    assert len(ISO_3166_ALPHA2) == 249
    assert {"JP", "CN", "VN", "KR", "PH", "BR", "NP", "US", "SS", "BQ"} <= ISO_3166_ALPHA2
    assert not {"ZZ", "XK", "XX", "EU", "UN", "AC", "UK"} & ISO_3166_ALPHA2
