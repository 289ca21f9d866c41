"""資格情報のお知らせ: what the insurer holds, and the last four digits J-LIS links to the member's code."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

from kojin.core.errors import KojinError
from kojin.eligibility.insurer.service import MemberDraft
from kojin.eligibility.notice import NoticeView
from tests.clinic.world import World


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    # pdftotext lays an ideographic space out as several spaces: compare without blanks.
    return "".join(out.split())


def _number(world: World, key: str) -> str:
    return world.kojin.numbering.number_for(world.people[key].juminhyo_code)


def test_the_notice_shows_the_membership_and_only_the_last_four_digits(world: World, tmp_path: Path) -> None:
    kojin = world.kojin
    taro = world.people["taro"]
    service = kojin.insurers.get("kyokai")
    text = _text(service.notice_pdf(taro.local_id, today=kojin.eligibility.today()), tmp_path)
    number = _number(world, "taro")
    for expected in ("資格情報のお知らせ", "保険太郎", "全国健康保険協会東京支部", "01130012", "50110037", "3割"):
        assert expected in text, expected
    assert "********" + number[-4:] in text
    assert number not in text and number[:8] not in text
    # The look is an exchange the person can see: who asked, for what.
    looks = [r for r in kojin.hub.records() if r["item"] == "個人番号の下4桁"]
    assert [(r["requester_id"], r["provider_id"]) for r in looks] == [("kyokai", "jlis")]


def test_a_family_members_number_keyed_by_mistake_shows(world: World, tmp_path: Path) -> None:
    kojin = world.kojin
    taro, hanako = world.people["taro"], world.people["hanako"]
    service = kojin.insurers.get("kenpo_kojin")
    # Hanako's enrolment form, with her husband's 住民票コード keyed in by mistake.
    draft = MemberDraft(
        juminhyo_code=taro.juminhyo_code,
        name=hanako.name,
        kana="ホケン　ハナコ",
        sex="2",
        birth_date=date(1981, 9, 3),
        address="東京都文京区本郷1-2",
        postal_code="1130033",
        qualified_on=date(2025, 4, 1),
        ratio=30,
        symbol="1201",
    )
    service.enrol([draft], today=kojin.eligibility.today())
    local_id = next(m["local_id"] for m in service.members() if m["name"] == hanako.name)
    text = _text(service.notice_pdf(local_id, today=kojin.eligibility.today()), tmp_path)
    assert "保険花子" in text
    assert "********" + _number(world, "taro")[-4:] in text
    assert "********" + _number(world, "hanako")[-4:] not in text


def test_the_insurer_never_holds_the_number_and_follows_a_change(world: World, tmp_path: Path) -> None:
    kojin = world.kojin
    taro = world.people["taro"]
    service = kojin.insurers.get("kyokai")
    before = _number(world, "taro")
    service.notice_pdf(taro.local_id, today=kojin.eligibility.today())
    kojin.register.change_number(taro.resident_id, reason="漏えい")
    after = _number(world, "taro")
    text = _text(service.notice_pdf(taro.local_id, today=kojin.eligibility.today()), tmp_path)
    assert "********" + after[-4:] in text
    stored = MetaData()
    stored.reflect(service.engine)
    with service.engine.connect() as conn:
        for table in stored.sorted_tables:
            for row in conn.execute(select(table)):
                for value in row:
                    assert before not in str(value) and after not in str(value), table.name


def test_no_notice_for_a_lost_member_nor_an_unknown_one(world: World) -> None:
    kojin = world.kojin
    service = kojin.insurers.get("kyokai")
    with pytest.raises(KojinError) as err:
        service.notice_pdf("M999999999", today=kojin.eligibility.today())
    assert err.value.code == "insurer.unknown_member"
    from kojin.eligibility.domain import LossReason

    taro = world.people["taro"]
    service.lose_qualification(taro.local_id, lost_on=date(2024, 1, 1), reason=LossReason.RETIREMENT)
    with pytest.raises(KojinError) as err:
        service.notice_pdf(taro.local_id, today=kojin.eligibility.today())
    assert err.value.code == "insurer.qualification_lost"
    assert not [r for r in kojin.hub.records() if r["item"] == "個人番号の下4桁"]


def test_the_view_takes_four_digits_and_nothing_more() -> None:
    fields = {
        "insurer_number": "01130012",
        "insurer_name": "協会",
        "symbol": "1",
        "number": "2",
        "branch": "00",
        "family": False,
        "name": "保険　太郎",
        "kana": "ホケン　タロウ",
        "birth_date": date(1978, 5, 12),
        "qualified_on": date(2015, 4, 1),
        "ratio": 30,
        "issued_on": date(2026, 1, 1),
    }
    assert NoticeView(**fields, number_tail="0123").masked_number == "********0123"  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        NoticeView(**fields, number_tail="123456789012")  # type: ignore[arg-type]
