"""The public-funds account registry (公金受取口座登録簿).

One account per person. The holder must be the person: the kana name is
compared with the register's after normalisation, and a mismatch is refused
with the reason. An account number already registered to someone else is
never accepted silently: the new registration is kept with status ``review``
and the reason, for the municipality to check — the very pattern (one account,
several people) by which the 748 wrong registrations were found.

:meth:`PublicFundsAccounts.iter_accounts` is what the integrity audit (総点検)
reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert, select, update

from kojin.core.i18n import pick
from kojin.portal.domain import (
    ACCOUNT_TYPE_LABELS,
    AccountInput,
    AccountStatus,
    AccountType,
    check_holder_is_person,
)
from kojin.portal.store import public_funds_accounts as accounts
from kojin.registry.domain import Resident


@dataclass(frozen=True)
class AccountRecord:
    """A registered public-funds account (公金受取口座)."""

    resident_id: int
    bank_code: str
    branch_code: str
    account_type: AccountType
    account_number: str
    holder_kana: str
    account_key: str
    status: AccountStatus
    reason: str | None
    registered_at: datetime
    updated_at: datetime

    @property
    def type_label(self) -> str:
        ja, en = ACCOUNT_TYPE_LABELS[self.account_type]
        return pick(ja, en)

    @property
    def reason_text(self) -> str | None:
        if self.reason is None:
            return None
        ja, en = REVIEW_REASONS.get(self.reason, (self.reason, self.reason))
        return pick(ja, en)

    def as_record(self) -> dict[str, object]:
        return {
            "bank_code": self.bank_code,
            "branch_code": self.branch_code,
            "account_type": self.account_type.value,
            "account_number": self.account_number,
            "holder_kana": self.holder_kana,
            "status": self.status.value,
            "reason": self.reason,
            "reason_text": self.reason_text,
            "registered_at": self.registered_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


REVIEW_DUPLICATE = "account.registered_to_another"
REVIEW_REASONS: dict[str, tuple[str, str]] = {
    REVIEW_DUPLICATE: (
        "同じ口座が別の人の公金受取口座として登録されています。市区町村が確認するまで登録は保留されます。",
        "This account is already registered as another person's public-funds account; "
        "the registration is held until the municipality has checked it.",
    ),
}


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class PublicFundsAccounts:
    """Register, change and read public-funds accounts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def register(self, person: Resident, account: AccountInput) -> AccountRecord:
        """Register or change ``person``'s account; refused when the holder is not the person."""
        check_holder_is_person(account, person.kana)
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            others = conn.execute(
                select(accounts.c.resident_id).where(
                    accounts.c.account_key == account.account_key, accounts.c.resident_id != person.resident_id
                )
            ).first()
            status, reason = (AccountStatus.REVIEW, REVIEW_DUPLICATE) if others else (AccountStatus.REGISTERED, None)
            values = {
                "bank_code": account.bank_code,
                "branch_code": account.branch_code,
                "account_type": account.account_type.value,
                "account_number": account.account_number,
                "holder_kana": account.holder_kana,
                "account_key": account.account_key,
                "status": status.value,
                "reason": reason,
                "updated_at": now,
            }
            done = conn.execute(
                update(accounts).where(accounts.c.resident_id == person.resident_id).values(**values)
            ).rowcount
            if not done:
                conn.execute(insert(accounts).values(resident_id=person.resident_id, registered_at=now, **values))
        found = self.get(person.resident_id)
        assert found is not None
        return found

    def suspend(self, resident_id: int) -> None:
        """The person says the account is wrong: held as ``disputed`` until a supervisor decides."""
        with self.engine.begin() as conn:
            conn.execute(
                update(accounts)
                .where(accounts.c.resident_id == resident_id)
                .values(status=AccountStatus.DISPUTED.value, updated_at=datetime.now(UTC))
            )

    def restore(self, resident_id: int, account_key: str) -> None:
        """The account was right after all: registered again, or held for review if another person has it too.

        Only the account that was disputed: one the person registered since stands as registered.
        """
        with self.engine.begin() as conn:
            row = conn.execute(
                select(accounts.c.account_key).where(
                    accounts.c.resident_id == resident_id, accounts.c.account_key == account_key
                )
            ).first()
            if row is None:
                return
            others = conn.execute(
                select(accounts.c.resident_id).where(
                    accounts.c.account_key == row.account_key, accounts.c.resident_id != resident_id
                )
            ).first()
            status, reason = (AccountStatus.REVIEW, REVIEW_DUPLICATE) if others else (AccountStatus.REGISTERED, None)
            conn.execute(
                update(accounts)
                .where(accounts.c.resident_id == resident_id)
                .values(status=status.value, reason=reason, updated_at=datetime.now(UTC))
            )

    def remove(self, resident_id: int, account_key: str) -> None:
        """The account was wrongly registered to the person: gone, for them to register their own.

        Only the account that was disputed: one the person registered since is theirs.
        """
        with self.engine.begin() as conn:
            conn.execute(
                delete(accounts).where(accounts.c.resident_id == resident_id, accounts.c.account_key == account_key)
            )

    def get(self, resident_id: int) -> AccountRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.resident_id == resident_id)).first()
        if row is None:
            return None
        return AccountRecord(
            row.resident_id,
            row.bank_code,
            row.branch_code,
            AccountType(row.account_type),
            row.account_number,
            row.holder_kana,
            row.account_key,
            AccountStatus(row.status),
            row.reason,
            _utc(row.registered_at),
            _utc(row.updated_at),
        )

    def iter_accounts(self, *, batch: int = 1000) -> Iterator[tuple[str, str, int]]:
        """Every account as ``(account_key, holder_kana, resident_id)``, for the integrity audit."""
        last = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(
                        accounts.c.account_id, accounts.c.account_key, accounts.c.holder_kana, accounts.c.resident_id
                    )
                    .where(accounts.c.account_id > last)
                    .order_by(accounts.c.account_id)
                    .limit(batch)
                ).all()
            if not rows:
                return
            for row in rows:
                yield str(row.account_key), str(row.holder_kana), int(row.resident_id)
            last = int(rows[-1].account_id)
