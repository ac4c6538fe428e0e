"""GammuModem against Gammu's real ``dummy`` driver (no mocks)."""

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

gammu = pytest.importorskip("gammu", reason="python-gammu is not installed")

from smscenter_addon.tests.gammu_dummy import PHONE_INBOX, DummyPhone  # noqa: E402
from smslib import dlr  # noqa: E402
from smslib.gammu_modem import (  # noqa: E402
    GammuModem,
    ModemBusy,
    ModemError,
    map_delivery_status,
)
from smslib.multipart import reassemble  # noqa: E402

AT = datetime(2024, 5, 1, 3, 0, 5, tzinfo=UTC)
LIB = Path(__file__).resolve().parent.parent / "sms_center" / "lib"


@pytest.fixture
def phone(tmp_path):
    return DummyPhone(tmp_path)


def modem_for(phone, **extra):
    return GammuModem(phone.config(**extra), phone.lock_path)


def test_single_sms_read_and_delete(phone):
    path = phone.inject_sms("+6281234567", "DINKES jalan rusak", at=AT)
    with modem_for(phone) as modem:
        parts = modem.read_inbound()
        assert len(parts) == 1
        location, part = parts[0]
        assert part.sender == "+6281234567"
        assert part.text == "DINKES jalan rusak"
        assert part.received_at == AT
        assert part.received_at.tzinfo is not None
        assert part.concat_ref is None and part.part_count is None
        assert part.smsc == "+6281100000"
        assert modem.delete(location, raw_key=part.raw_key) is True
        assert not path.exists()
        assert modem.read_inbound() == []
        # Deleting again is harmless.
        assert modem.delete(location) is False


def test_multipart_is_reassembled(phone):
    texts = [
        "Jalan di desa kami rusak ",
        "parah sejak bulan lalu, ",
        "mohon diperbaiki.",
    ]
    phone.inject_multipart("+6281234567", texts, ref=42, at=AT)
    with modem_for(phone) as modem:
        parts = [part for _location, part in modem.read_inbound()]
    assert sorted((p.part_no, p.part_count, p.concat_ref) for p in parts) == [
        (1, 3, 42),
        (2, 3, 42),
        (3, 3, 42),
    ]
    messages, waiting = reassemble(parts, AT, 600)
    assert waiting == []
    assert [m.text for m in messages] == ["".join(texts)]
    assert messages[0].complete


def test_multipart_16bit_reference(phone):
    phone.inject_multipart("+6281234567", ["abc", "def"], ref=0x1234, ref16=True)
    with modem_for(phone) as modem:
        parts = [part for _location, part in modem.read_inbound()]
    assert {p.concat_ref for p in parts} == {0x1234}
    messages, _ = reassemble(parts, AT, 600)
    assert messages[0].text == "abcdef"


def test_multipart_split_across_two_polls(phone):
    texts = ["Halo pak, ", "lampu jalan mati."]
    phone.inject_multipart("+6281234567", texts, ref=7, at=AT, only={1})
    stored = {}  # what the poller persisted between polls

    with modem_for(phone) as modem:
        for location, part in modem.read_inbound():
            stored[part.raw_key] = part
            modem.delete(location, raw_key=part.raw_key)
    messages, waiting = reassemble(stored.values(), AT + timedelta(seconds=60), 600)
    assert messages == [] and len(waiting) == 1

    phone.inject_multipart("+6281234567", texts, ref=7, at=AT, only={2}, folder=3)
    with modem_for(phone) as modem:
        for location, part in modem.read_inbound():
            stored[part.raw_key] = part
            modem.delete(location, raw_key=part.raw_key)
    messages, waiting = reassemble(stored.values(), AT + timedelta(seconds=120), 600)
    assert waiting == []
    assert [m.text for m in messages] == ["Halo pak, lampu jalan mati."]
    assert phone.stored_files() == []


def test_unicode_and_emoji_inbound(phone):
    text = "Terima kasih 🙏😀 — ñ ü 中文"
    phone.inject_sms("+6281234567", text, at=AT, folder=PHONE_INBOX)
    with modem_for(phone) as modem:
        [(_location, part)] = modem.read_inbound()
    assert part.text == text


def test_send_short_gsm7_requests_report(phone):
    with modem_for(phone) as modem:
        messages = modem.build_messages("+6281234567", "Terima kasih {ok}")
        assert len(messages) == 1
        assert messages[0]["Type"] == "Status_Report"  # TP-SRR requested
        assert messages[0]["Coding"] == "Default_No_Compression"
        refs = modem.send("+6281234567", "Terima kasih {ok}")
        no_report = modem.build_messages("+6281234567", "x", False)
        assert no_report[0]["Type"] == "Submit"
    assert refs == [255]  # the dummy driver always answers TP-MR 255
    [sent] = phone.sent_parts()
    assert sent.recipient == "+6281234567"
    assert sent.smsc == "123456"  # read from the phone (GetSMSC location 1)
    assert sent.coding == "gsm7"
    assert sent.udh == b""
    assert sent.text == "Terima kasih {ok}"


def test_send_long_unicode_creates_parts_with_udh(phone):
    text = "Laporan diterima 🙏 " * 12  # 228 UTF-16 units -> 4 UCS-2 parts
    expected = dlr.count_parts(text)
    assert expected[0] == "ucs2"
    with modem_for(phone, smsc="+6281199999") as modem:
        refs = modem.send("+6281234567", text)
    assert len(refs) == expected[2] == 4
    sent = phone.sent_parts()
    assert len(sent) == 4
    assert {p.coding for p in sent} == {"ucs2"}
    assert {p.smsc for p in sent} == {"+6281199999"}
    concat = [p.concat for p in sent]
    assert [c[1] for c in concat] == [1, 2, 3, 4]
    assert {c[2] for c in concat} == {4}
    assert len({c[0] for c in concat}) == 1
    assert "".join(p.text for p in sent) == text


def test_send_long_gsm7_and_distinct_references(phone):
    text = "Jawaban petugas: " + "x" * 300
    with modem_for(phone) as modem:
        refs = modem.send("+6281234567", text)
        refs2 = modem.send("+6281234568", text)
    assert len(refs) == len(refs2) == 3
    sent = phone.sent_parts()
    assert {p.coding for p in sent} == {"gsm7"}
    assert "".join(p.text for p in sent[:3]) == text
    # Two long messages sent in the same second get different concat refs.
    assert sent[0].concat[0] != sent[3].concat[0]


def test_invalid_number_is_permanent(phone):
    with modem_for(phone) as modem, pytest.raises(ModemError) as info:
        modem.send("not a number", "hello")
    assert info.value.temporary is False


def test_status_reports_read_mapped_and_deleted(phone):
    phone.inject_sms("+6281234567", "DINKES info", at=AT)
    phone.inject_status_report("+6281234567", 255, 0x00, at=AT)
    phone.inject_status_report("+6281234568", 17, 0x46, at=AT)
    phone.inject_status_report("+6281234569", 18, 0x21, at=AT, folder=PHONE_INBOX)
    with modem_for(phone) as modem:
        parts, reports = modem.read_all()
        assert [p.text for _l, p in parts] == ["DINKES info"]
        by_ref = {r.reference: r for r in reports}
        assert by_ref[255].status == dlr.DELIVERED
        assert by_ref[255].recipient == "+6281234567"
        assert by_ref[17].status == dlr.FAILED
        assert by_ref[17].reason == "validity period expired"
        assert by_ref[18].status == dlr.PENDING
        for report in reports:
            assert modem.delete_status_report(report) is True
        assert modem.read_status_reports() == []
    assert len(phone.stored_files()) == 1


def test_delivery_status_mapping_table():
    assert map_delivery_status(0)[0] == dlr.DELIVERED
    assert map_delivery_status(2)[0] == dlr.DELIVERED
    assert map_delivery_status(0x20) == (dlr.PENDING, "congestion")
    assert map_delivery_status(0x41)[0] == dlr.FAILED
    assert map_delivery_status(0x62) == (dlr.FAILED, "no response from SME")
    status, reason = map_delivery_status(0x9A)
    assert status == dlr.PENDING and "0x9A" in reason


def test_crash_between_read_and_delete_keeps_the_same_key(phone):
    phone.inject_sms("+6281234567", "DINKES jalan rusak", at=AT)
    phone.inject_multipart("+6281234567", ["a" * 10, "b" * 10], ref=9, at=AT)
    with modem_for(phone) as modem:
        first = [part.raw_key for _l, part in modem.read_inbound()]
    # "crash": nothing deleted; a new process reads again.
    with modem_for(phone) as modem:
        second = [part.raw_key for _l, part in modem.read_inbound()]
        messages_1, _ = reassemble([p for _l, p in modem.read_inbound()], AT, 600)
    assert first == second and len(set(first)) == 3
    messages_2, _ = reassemble([p for _l, p in modem_read(phone)], AT, 600)
    assert [m.message_key for m in messages_1] == [m.message_key for m in messages_2]


def modem_read(phone):
    with modem_for(phone) as modem:
        return modem.read_inbound()


def test_delete_refuses_a_reused_location(phone):
    phone.inject_sms("+6281234567", "first", at=AT)
    with modem_for(phone) as modem:
        [(location, part)] = modem.read_inbound()
        assert modem.delete(location, raw_key=part.raw_key)
    # The phone stores a newer SMS at the same location.
    phone.inject_sms("+6281234567", "second", at=AT + timedelta(minutes=1))
    with modem_for(phone) as modem:
        assert modem.delete(location, raw_key=part.raw_key) is False
        [(location2, part2)] = modem.read_inbound()
    assert location2 == location and part2.text == "second"


def test_status_figures(phone):
    with modem_for(phone) as modem:
        status = modem.status()
    assert status["signal_percent"] == 42
    assert status["battery_percent"] == 100
    assert status["network"] == "GammuT3l"
    assert status["imei"] == "999999999999999"
    assert status["manufacturer"] == "Gammu"
    assert status["model"] == "Dummy"


def test_second_process_gets_modem_busy(phone):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import fcntl, sys, time
                f = open({phone.lock_path!r}, "a")
                fcntl.flock(f, fcntl.LOCK_EX)
                print("locked", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ModemBusy) as info, modem_for(phone):
            pass
        assert info.value.temporary is True
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    # Released: the modem opens again.
    with modem_for(phone) as modem:
        assert modem.read_inbound() == []


def test_lock_is_released_when_init_fails(tmp_path):
    config = {"Device": str(tmp_path / "missing" / "dir"), "Connection": "none"}
    config["Model"] = "dummy"
    lock = str(tmp_path / "lock")
    with pytest.raises(ModemError) as info, GammuModem(config, lock):
        pass
    assert info.value.code
    phone = DummyPhone(tmp_path / "ok")
    with GammuModem(phone.config(), lock) as modem:
        assert modem.status()["imei"]


def test_raw_keys_are_stable_across_processes(phone):
    phone.inject_sms("+6281234567", "Halo 😀", at=AT)
    phone.inject_status_report("+6281234567", 12, 0x00, at=AT)
    with modem_for(phone) as modem:
        parts, reports = modem.read_all()
    here = sorted([p.raw_key for _l, p in parts] + [r.raw_key for r in reports])
    script = textwrap.dedent(
        f"""
        import importlib.util, json, sys
        lib = {str(LIB)!r}
        spec = importlib.util.spec_from_file_location(
            "smslib", lib + "/__init__.py", submodule_search_locations=[lib]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["smslib"] = module
        spec.loader.exec_module(module)
        from smslib.gammu_modem import GammuModem
        with GammuModem({phone.config()!r}, {phone.lock_path!r}) as modem:
            parts, reports = modem.read_all()
        keys = [p.raw_key for _l, p in parts] + [r.raw_key for r in reports]
        print(json.dumps(sorted(keys)))
        """
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(output) == here
