"""KannelClient and the Kannel webhook parsers against a real Kannel.

bearerbox + smsbox + fakesmsc run on 127.0.0.1 (see the addon's
``sms_center/tests/kannel_process.py``); nothing of Kannel is mocked.
Skipped only when the binaries are absent.
"""

import urllib.parse
from datetime import UTC, datetime

import pytest
from smscenter_addon.tests.kannel_process import (
    GATEWAY_TOKEN,
    SENDSMS_PASSWORD,
    SENDSMS_USER,
    SERVICE_NUMBER,
    KannelProcess,
    free_port,
    missing_binaries,
)
from smslib import dlr
from smslib.kannel import (
    KannelClient,
    PayloadError,
    admin_status,
    dlr_base_url_for,
    dlr_url_for,
    parse_dlr,
    parse_inbound,
)

pytestmark = pytest.mark.skipif(
    missing_binaries() is not None, reason=missing_binaries() or ""
)

CITIZEN = "+6281234567890"


@pytest.fixture(scope="module")
def kannel(tmp_path_factory):
    harness = KannelProcess(workdir=tmp_path_factory.mktemp("kannel"))
    harness.start()
    try:
        yield harness
    finally:
        harness.stop()


@pytest.fixture
def client(kannel):
    kannel.capture.drain()
    with KannelClient(
        kannel.base_url,
        SENDSMS_USER,
        SENDSMS_PASSWORD,
        default_sender=SERVICE_NUMBER,
    ) as client:
        yield client


def args_of(request):
    """Query decoded the way a web framework does (UTF-8, lists of str)."""
    return urllib.parse.parse_qs(request.raw_query, keep_blank_values=True)


def test_send_gsm7_text(kannel, client):
    result = client.send(CITIZEN, "DINKES: jalan sudah diperbaiki {ok} €")
    assert result.accepted and not result.temporary
    assert result.detail == "0: Accepted for delivery"
    assert result.gateway_ref is None
    [line] = kannel.outbound(1)
    assert line.kind == "text"
    assert line.receiver == CITIZEN
    assert line.sender == SERVICE_NUMBER
    assert line.text == "DINKES: jalan sudah diperbaiki {ok} €"


def test_send_unicode_emoji_uses_ucs2(kannel, client):
    text = "Terima kasih 🙏 laporan Anda — ñ 中文"
    assert client.build_params(CITIZEN, text)["coding"] == 2
    result = client.send(CITIZEN, text, sender="DINKES")
    assert result.accepted
    [line] = kannel.outbound(1)
    assert line.kind in ("ucs-2", "ucs2")
    assert line.sender == "DINKES"
    assert line.text == text


def test_send_long_text_is_split_with_udh(kannel, client):
    text = "Jawaban: " + " ".join(f"kalimat{i}" for i in range(60))
    encoding, _units, parts = dlr.count_parts(text)
    assert encoding == "gsm7" and parts == 4
    assert client.send(CITIZEN, text).accepted
    lines = kannel.outbound(parts)
    assert {line.kind for line in lines} == {"udh"}
    concat = [line.concat for line in lines]
    assert sorted(c[1] for c in concat) == list(range(1, parts + 1))
    assert {c[2] for c in concat} == {parts}
    assert len({c[0] for c in concat}) == 1
    ordered = sorted(lines, key=lambda line: line.concat[1])
    assert b"".join(line.data for line in ordered).decode() == text


def test_send_long_unicode_is_split(kannel, client):
    text = "Mohon maaf 🙏 " * 12
    encoding, _units, parts = dlr.count_parts(text)
    assert encoding == "ucs2" and parts > 1
    assert client.send(CITIZEN, text).accepted
    lines = sorted(kannel.outbound(parts), key=lambda line: line.concat[1])
    payload = b"".join(line.data for line in lines)
    assert payload.decode("utf-16-be") == text


def test_too_many_parts_is_refused_before_sending(client):
    result = client.send(CITIZEN, "x" * 2000)
    assert not result.accepted and not result.temporary
    assert "parts" in result.detail


def test_delivery_reports_reach_the_dlr_url(kannel, client):
    base = dlr_base_url_for(kannel.capture.base_url, GATEWAY_TOKEN)
    url = dlr_url_for(base, "sms-42")
    assert url.startswith(f"{kannel.capture.base_url}/sms_center/kannel/")
    assert client.send(CITIZEN, "Balasan dengan laporan", dlr_url=url).accepted
    kannel.outbound(1)
    events = []
    for _ in range(2):
        request = kannel.capture.wait_for(lambda r: r.path.endswith("/dlr"))
        events.append(parse_dlr(args_of(request)))
    by_type = {event.raw_status: event for event in events}
    assert by_type["8"].status == dlr.PENDING  # SMSC accepted
    assert by_type["8"].extra == {"reply": "ACK/"}
    assert by_type["1"].status == dlr.DELIVERED  # handset received it
    assert {event.ref for event in events} == {"sms-42"}
    assert all(event.at and event.at.tzinfo for event in events)
    assert dlr.merge_status(by_type["1"].status, by_type["8"].status) == dlr.DELIVERED


def test_dlr_mapping_table():
    def event(kind, reply=""):
        return parse_dlr({"ref": "r1", "type": str(kind), "reply": reply})

    assert event(1).status == dlr.DELIVERED and event(1).reason is None
    assert event(2, "stat:UNDELIV err:001").status == dlr.FAILED
    assert event(2, "stat:UNDELIV err:001").reason.endswith("stat:UNDELIV err:001")
    assert event(4).status == dlr.PENDING
    assert event(8).status == dlr.PENDING
    assert event(16).status == dlr.FAILED
    with pytest.raises(PayloadError):
        event(3)
    with pytest.raises(PayloadError):
        parse_dlr({"type": "1"})
    with pytest.raises(ValueError):
        dlr_url_for("http://x/dlr", "bad ref%")


def test_wrong_password_is_permanent(kannel):
    with KannelClient(kannel.base_url, SENDSMS_USER, "wrong") as client:
        result = client.send(CITIZEN, "hello")
    assert not result.accepted
    assert not result.temporary
    assert result.http_status == 403
    assert "Authorization failed" in result.detail


def test_missing_sender_is_permanent(kannel):
    with KannelClient(kannel.base_url, SENDSMS_USER, SENDSMS_PASSWORD) as client:
        result = client.send(CITIZEN, "hello")
    assert not result.accepted and not result.temporary
    assert result.http_status == 400 and "Sender missing" in result.detail


def test_kannel_down_is_temporary_and_certain():
    with KannelClient(f"http://127.0.0.1:{free_port()}", "u", "p") as client:
        result = client.send(CITIZEN, "hello")
    assert not result.accepted and result.temporary and not result.uncertain


def test_inbound_gsm_text(kannel):
    kannel.capture.drain()
    kannel.inject(f"{CITIZEN} {SERVICE_NUMBER} text DINKES jalan rusak {{€}} ñ")
    request = kannel.capture.wait_for(lambda r: r.path.endswith("/inbound"))
    assert request.path == f"/sms_center/kannel/{GATEWAY_TOKEN}/inbound"
    sender, text, recipient, received_at, message_id = parse_inbound(args_of(request))
    assert sender == CITIZEN
    assert recipient == SERVICE_NUMBER
    assert text == "DINKES jalan rusak {€} ñ"
    assert received_at.tzinfo is UTC
    assert abs((datetime.now(UTC) - received_at).total_seconds()) < 60
    assert message_id and len(message_id) == 36  # Kannel's UUID
    # max-messages = 0: Kannel sends no reply SMS to the citizen.
    with pytest.raises(TimeoutError):
        kannel.outbound(1, timeout=2)


def test_inbound_unicode_emoji(kannel):
    kannel.capture.drain()
    text = "Halo 😀 ñ"
    hex_ucs2 = "".join(f"%{b:02X}" for b in text.encode("utf-16-be"))
    kannel.inject(f"{CITIZEN} {SERVICE_NUMBER} ucs2 {hex_ucs2}")
    request = kannel.capture.wait_for(lambda r: r.path.endswith("/inbound"))
    params = {key: values[0] for key, values in args_of(request).items()}
    inbound = parse_inbound(params)
    assert inbound.text == text
    assert params["charset"] == "UTF-8"  # mo-recode = true did its job


def test_inbound_concatenated_is_joined_by_kannel(kannel):
    kannel.capture.drain()
    udh = "%05%00%03%2A%02{}"
    kannel.inject(
        f"{CITIZEN} {SERVICE_NUMBER} udh-text {udh.format('%01')} DINKES jalan "
    )
    kannel.inject(
        f"{CITIZEN} {SERVICE_NUMBER} udh-text {udh.format('%02')} rusak parah"
    )
    request = kannel.capture.wait_for(lambda r: r.path.endswith("/inbound"))
    assert parse_inbound(args_of(request)).text == "DINKES jalan rusak parah"


def test_inbound_parse_errors():
    with pytest.raises(PayloadError):
        parse_inbound({"text": "hi"})
    with pytest.raises(PayloadError):
        parse_inbound({"from": "+62812", "hex": "zz"})
    with pytest.raises(PayloadError):
        parse_inbound({"from": "+62812", "text": "??", "coding": "2"})
    with pytest.raises(PayloadError):
        parse_inbound({"from": "+62812", "text": "x", "ts": "soon"})
    now = datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_inbound({"from": "+62812", "text": "x"}, now=now).received_at == now


def test_admin_status(kannel):
    status = admin_status(f"http://127.0.0.1:{kannel.admin_port}", "admin-pass")
    assert status["running"] is True
    assert status["smscs"] == {"fake": "online"}
    assert isinstance(status["sms_queued"], int)


def test_inbound_without_mo_recode_and_retry_after_failure(tmp_path):
    """UTF-16BE payload decoded from %e; a failed call is retried by smsbox
    with the same Kannel message id (idempotency key)."""
    answers = iter([503])

    def status(_request):
        return next(answers, 200)

    harness = KannelProcess(workdir=tmp_path, mo_recode=False, inbound_status=status)
    with harness:
        text = "Banjir 🌊 di desa"
        hex_ucs2 = "".join(f"%{b:02X}" for b in text.encode("utf-16-be"))
        harness.inject(f"{CITIZEN} {SERVICE_NUMBER} ucs2 {hex_ucs2}")
        first = harness.capture.wait_for(lambda r: r.path.endswith("/inbound"))
        second = harness.capture.wait_for(
            lambda r: r.path.endswith("/inbound"), timeout=20
        )
    assert args_of(first)["charset"] == ["UTF-16BE"]
    assert args_of(first)["coding"] == ["2"]
    one, two = parse_inbound(args_of(first)), parse_inbound(args_of(second))
    assert one.text == two.text == text
    assert one.gateway_message_id == two.gateway_message_id


def test_documented_configuration():
    from smslib.kannel import INBOUND_QUERY, KANNEL_CONF_EXAMPLE, inbound_url_for

    assert "max-messages = 0" in KANNEL_CONF_EXAMPLE
    assert "http-request-retry = 100" in KANNEL_CONF_EXAMPLE
    assert INBOUND_QUERY in KANNEL_CONF_EXAMPLE
    assert inbound_url_for("https://odoo.example/", "tok-1") == (
        "https://odoo.example/sms_center/kannel/tok-1/inbound"
    )
    with pytest.raises(ValueError):
        inbound_url_for("https://odoo.example", "bad/token%")
