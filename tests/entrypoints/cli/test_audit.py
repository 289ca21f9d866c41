"""``kojin audit verify``: valid, tampered, wrong key, garbage and missing files."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from kojin.audit.service import PASSPHRASE_ENV, ExchangeLog
from kojin.audit.tree_head import public_key_to_pem
from kojin.entrypoints.cli.audit import audit_app
from tests.audit.test_store_service import audit_database, audit_settings, record


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], str, str]]:
    """A bundle with a consistency proof from a real log, its key PEM and key id."""
    tmp = tmp_path_factory.mktemp("audit-cli")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(PASSPHRASE_ENV, raising=False)
        with audit_database(audit_settings("sqlite", tmp)) as db, ExchangeLog(db.engine("audit")) as log:
            log.append_many([record(i) for i in range(11)])
            old = log.sign_tree_head()
            log.append_many([record(i) for i in range(11, 30)])
            yield log.proof_bundle(4, consistency_from=old.tree_size), log.public_key_pem(), log.key_id


@pytest.fixture
def bundle(made: tuple[dict[str, Any], str, str]) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(made[0]))
    return copied


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("KOJIN_LANG", "ja")
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(audit_app, list(args), catch_exceptions=False)

    return invoke


def write(path: Path, content: dict[str, Any] | str | bytes) -> str:
    if isinstance(content, dict):
        content = json.dumps(content)
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return str(path)


def test_a_valid_bundle(run: Any, bundle: dict[str, Any], made: tuple[Any, str, str], tmp_path: Path) -> None:
    result = run("verify", write(tmp_path / "proof.json", bundle))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "[合格] tree_head.signature: 署名は正しいです。" in out
    assert "[合格] inclusion_proof:" in out
    assert "[合格] consistency_proof:" in out
    assert made[2] in out
    assert "公表している鍵ID" in out
    assert "検証成功" in out
    assert result.stderr == ""


def test_a_pinned_key(run: Any, bundle: dict[str, Any], made: tuple[Any, str, str], tmp_path: Path) -> None:
    key = write(tmp_path / "log.pem", made[1])
    result = run("verify", write(tmp_path / "proof.json", bundle), "--key", key)
    assert result.exit_code == 0
    assert "[合格] public_key:" in result.stdout
    assert "照合済み" in result.stdout

    other = write(tmp_path / "other.pem", public_key_to_pem(Ed25519PrivateKey.generate().public_key()))
    result = run("verify", write(tmp_path / "proof.json", bundle), "--key", other)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("error audit.untrusted_key [public_key]:")


def test_a_tampered_record(run: Any, bundle: dict[str, Any], tmp_path: Path) -> None:
    bundle["leaf_data"] = base64.b64encode(record(5)).decode()
    bundle.pop("leaf_hash")
    result = run("verify", write(tmp_path / "proof.json", bundle))
    assert result.exit_code == 2
    assert "[不合格] inclusion_proof:" in result.stdout
    assert "[合格] tree_head.signature:" in result.stdout
    line = result.stderr.strip()
    assert "\n" not in line
    assert line.startswith("error audit.bad_inclusion_proof [inclusion_proof]: 検証失敗 (inclusion_proof):")


def test_a_tampered_tree_head(run: Any, bundle: dict[str, Any], tmp_path: Path) -> None:
    bundle["tree_head"]["tree_size"] += 1
    result = run("verify", write(tmp_path / "proof.json", bundle))
    assert result.exit_code == 2
    assert result.stderr.startswith("error audit.bad_signature [tree_head.signature]:")


@pytest.mark.parametrize(
    "content",
    [b"", b"not json at all", b"\xff\xfe\x00garbage", b"[1, 2, 3]", b'{"format": "something else"}', b"{" * 100_000],
    ids=["empty", "text", "binary", "array", "wrong-format", "deep-nesting"],
)
def test_garbage_is_one_line_not_a_traceback(run: Any, content: bytes, tmp_path: Path) -> None:
    result = run("verify", write(tmp_path / "proof.json", content))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    line = result.stderr.strip()
    assert "\n" not in line
    assert line.startswith("error audit.malformed [bundle]:")


def test_missing_files(run: Any, bundle: dict[str, Any], tmp_path: Path) -> None:
    result = run("verify", str(tmp_path / "nowhere.json"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error audit.file_unreadable [PROOF]: 証跡ファイルを読めません")
    assert "\n" not in result.stderr.strip()

    result = run("verify", str(tmp_path))  # a directory
    assert result.exit_code == 2
    assert result.stderr.startswith("error audit.file_unreadable [PROOF]:")

    proof = write(tmp_path / "proof.json", bundle)
    result = run("verify", proof, "--key", str(tmp_path / "nokey.pem"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error audit.file_unreadable [--key]:")

    result = run("verify", proof, "--key", write(tmp_path / "bad.pem", b"\x00\x01 not a key"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error tree_head.bad_public_key [--key]:")


def test_english(run: Any, bundle: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOJIN_LANG", "en")
    proof = write(tmp_path / "proof.json", bundle)
    result = run("verify", proof)
    assert result.exit_code == 0
    assert "[PASS] tree_head.signature: Signature is valid." in result.stdout
    assert "Compare this key id" in result.stdout
    assert "Valid:" in result.stdout

    bundle["inclusion_proof"] = bundle["inclusion_proof"][1:]
    result = run("verify", write(tmp_path / "bad.json", bundle))
    assert result.exit_code == 2
    assert "[FAIL] inclusion_proof:" in result.stdout
    assert result.stderr.startswith("error audit.bad_inclusion_proof [inclusion_proof]: Verification failed")


def test_json_output(run: Any, bundle: dict[str, Any], tmp_path: Path) -> None:
    result = run("verify", write(tmp_path / "proof.json", bundle), "--json")
    assert result.exit_code == 0
    summary = json.loads(result.stdout[: result.stdout.rindex("}") + 1])
    assert summary["ok"] is True
    assert summary["leaf_index"] == 4
