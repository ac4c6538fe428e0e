"""gammu-smsd's RunOnReceive script (sms_center/scripts/gammu_smsd_receive.py)
without Odoo: how it reads gammu-smsd's environment, its configuration and
its spool. Handing SMS over to a real Odoo is tested in the addon
(sms_center/tests/test_receive_rpc.py)."""

import importlib.util
import json
import socket
from pathlib import Path

import pytest

SCRIPT = (
    Path(__file__).resolve().parent.parent
    / "sms_center"
    / "scripts"
    / "gammu_smsd_receive.py"
)
_spec = importlib.util.spec_from_file_location("gammu_smsd_receive", SCRIPT)
receive_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(receive_script)


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "gammu.conf"
    path.write_text(
        "[odoo]\n"
        f"url = http://127.0.0.1:{closed_port()}/\n"
        "database = sms\nlogin = gammu-smsd\npassword = secret\ngateway = smsd1\n"
        f"timeout = 5\nretry_for = 0\nspool = {tmp_path / 'spool'}\n",
        encoding="utf-8",
    )
    return receive_script.load_config(str(path))


def sms(env, ids=(), config=None):
    config = config or {"recipient": "", "gateway": "smsd1"}
    return receive_script.sms_from_environment(env, list(ids), config)


def test_single_sms():
    found = sms(
        {
            "SMS_MESSAGES": "1",
            "SMS_1_NUMBER": "+6281298765432",
            "SMS_1_TEXT": "DINKES obat habis",
            "SMS_1_CLASS": "1",
            # what Debian's gammu-smsd 1.42 gives for a one-part SMS
            "DECODED_PARTS": "0",
            "SMS_1_DATETIME": "2026-11-30T08:15:00+07:00",
        },
        ["42"],
    )
    assert found["sender"] == "+6281298765432"
    assert found["text"] == "DINKES obat habis"
    assert found["gateway_message_id"] == "42"
    assert found["received_at"] == "2026-11-30T08:15:00+07:00"
    assert found["sms_class"] == "1"
    assert not found["status_report"]


def test_decoded_text_wins_and_parts_are_the_fallback():
    env = {
        "SMS_MESSAGES": "2",
        "SMS_1_NUMBER": "0812",
        "SMS_1_TEXT": "DISDIK sekolah ",
        "SMS_2_TEXT": "rusak",
        "DECODED_PARTS": "1",
        "DECODED_1_TEXT": "DISDIK sekolah rusak",
    }
    assert sms(env, ["a", "b"])["text"] == "DISDIK sekolah rusak"
    assert sms(env, ["a", "b"])["gateway_message_id"] == "a b"
    # An MMS indication decodes to no text: the parts' texts are used.
    env.update(DECODED_1_TEXT="", DECODED_1_MMS_ADDRESS="http://mms")
    assert sms(env)["text"] == "DISDIK sekolah rusak"


def test_without_ids_each_run_gets_its_own_key_and_a_reception_time():
    env = {"SMS_MESSAGES": "1", "SMS_1_NUMBER": "0812", "SMS_1_TEXT": "x"}
    first, second = sms(env), sms(env)
    assert first["gateway_message_id"].startswith("run-")
    assert first["gateway_message_id"] != second["gateway_message_id"]
    assert first["received_at"].endswith("+00:00")


@pytest.mark.parametrize(
    "extra, text, report",
    [
        ({}, "Delivered", True),
        ({}, "Pending", True),
        ({}, "DINKES Delivered", False),
        ({"SMS_1_SMSC_DATETIME": "2026-11-30T08:00:00+07:00"}, "whatever", True),
        ({"SMS_1_SENT_ID": "1234"}, "Failed", True),
    ],
)
def test_delivery_reports(extra, text, report):
    env = {"SMS_MESSAGES": "1", "SMS_1_NUMBER": "0812", "SMS_1_TEXT": text}
    env.update(extra)
    assert sms(env)["status_report"] is report


def test_no_sms_in_the_environment():
    assert sms({}) is None
    assert sms({"SMS_MESSAGES": "0"}) is None
    assert sms({"SMS_MESSAGES": "x"}) is None


def test_configuration_errors(tmp_path):
    with pytest.raises(receive_script.ConfigError, match="cannot read"):
        receive_script.load_config(str(tmp_path / "missing.conf"))
    path = tmp_path / "partial.conf"
    path.write_text("[odoo]\nurl = http://odoo\ndatabase = sms\n", encoding="utf-8")
    with pytest.raises(
        receive_script.ConfigError, match="lacks login, password, gateway"
    ):
        receive_script.load_config(str(path))
    path.write_text("[other]\n", encoding="utf-8")
    with pytest.raises(receive_script.ConfigError, match="no \\[odoo\\] section"):
        receive_script.load_config(str(path))


def test_control_characters_travel_as_base64():
    assert receive_script._xml_safe("DINKES biasa\n") == "DINKES biasa\n"
    wrapped = receive_script._xml_safe("DINKES\x0chalaman")
    assert wrapped.data == b"DINKES\x0chalaman"


def test_spool_keeps_what_odoo_cannot_take(config):
    found = sms(
        {"SMS_MESSAGES": "1", "SMS_1_NUMBER": "0812", "SMS_1_TEXT": "TJALAN x"},
        ["7"],
        config,
    )
    path = receive_script.keep(config, found, "Odoo unreachable")
    record = json.loads(Path(path).read_text(encoding="utf-8"))
    assert record["text"] == "TJALAN x"
    assert record["gateway_message_id"] == "7"
    assert record["gateway"] == "smsd1"
    assert not list(Path(config["spool"]).glob("*.tmp"))
    # Odoo still unreachable: the flush stops and keeps the file.
    assert receive_script.flush_spool(config) == receive_script.EX_TEMPFAIL
    assert Path(path).exists()


def test_unreadable_spool_file_is_set_aside(config):
    spool = Path(config["spool"])
    spool.mkdir()
    (spool / "20261130T000000-broken.json").write_text("{not json", encoding="utf-8")
    assert receive_script.flush_spool(config) == receive_script.EX_OK
    assert (spool / "rejected" / "20261130T000000-broken.json").exists()


def test_unreachable_odoo_exit_status(config, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SMS_MESSAGES", "1")
    monkeypatch.setenv("SMS_1_NUMBER", "0812")
    monkeypatch.setenv("SMS_1_TEXT", "TJALAN y")
    conf = tmp_path / "gammu.conf"
    status = receive_script.main(["--config", str(conf), "9"])
    assert status == receive_script.EX_TEMPFAIL
    assert "not handed over" in capsys.readouterr().err
    assert len(list(Path(config["spool"]).glob("*.json"))) == 1
