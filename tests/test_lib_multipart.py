"""Reassembly of multi-part inbound SMS (pure functions, no gateway)."""

from datetime import UTC, datetime, timedelta

from smslib import dlr, multipart
from smslib.multipart import InboundPart, reassemble

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def part(key, text, ref=None, no=None, count=None, sender="+6281234", at=T0, seen=None):
    return InboundPart(
        sender=sender,
        text=text,
        received_at=at,
        concat_ref=ref,
        part_no=no,
        part_count=count,
        smsc="+628100",
        raw_key=key,
        first_seen_at=seen,
    )


def test_single_sms_is_delivered_at_once():
    messages, waiting = reassemble([part("k1", "DINKES jalan rusak")], T0, 600)
    assert waiting == []
    assert len(messages) == 1
    msg = messages[0]
    assert msg.text == "DINKES jalan rusak"
    assert msg.complete is True
    assert msg.part_keys == ["k1"]
    assert msg.message_key == multipart.message_key_for(["k1"])


def test_parts_join_in_order_whatever_the_input_order():
    parts = [
        part("c", "three", 7, 3, 3, at=T0 + timedelta(seconds=2)),
        part("a", "one ", 7, 1, 3),
        part("b", "two ", 7, 2, 3, at=T0 + timedelta(seconds=1)),
    ]
    messages, waiting = reassemble(parts, T0, 600)
    assert waiting == []
    assert [m.text for m in messages] == ["one two three"]
    assert messages[0].part_keys == ["a", "b", "c"]
    assert messages[0].received_at == T0 + timedelta(seconds=2)
    # Same parts in another order give the same idempotency key.
    again, _ = reassemble(list(reversed(parts)), T0, 600)
    assert again[0].message_key == messages[0].message_key


def test_incomplete_group_waits_then_times_out_with_marks():
    parts = [part("a", "one ", 9, 1, 3), part("c", "three", 9, 3, 3)]
    messages, waiting = reassemble(parts, T0 + timedelta(seconds=599), 600)
    assert messages == []
    assert {p.raw_key for p in waiting} == {"a", "c"}

    messages, waiting = reassemble(parts, T0 + timedelta(seconds=600), 600)
    assert waiting == []
    assert messages[0].complete is False
    assert messages[0].text == f"one {multipart.MISSING_MARK}three"
    assert messages[0].part_keys == ["a", "c"]


def test_timeout_counts_from_first_seen_when_given():
    old_clock = T0 - timedelta(days=1)  # modem clock wrong: SMSC time is old
    parts = [part("a", "one", 5, 1, 2, at=old_clock, seen=T0)]
    messages, waiting = reassemble(parts, T0 + timedelta(seconds=10), 600)
    assert messages == [] and len(waiting) == 1


def test_duplicates_are_ignored_and_reported():
    parts = [
        part("a", "one ", 3, 1, 2),
        part("a", "one ", 3, 1, 2),  # same stored SMS read twice
        part("a2", "one ", 3, 1, 2, at=T0 + timedelta(seconds=5)),  # resent copy
        part("b", "two", 3, 2, 2, at=T0 + timedelta(seconds=1)),
    ]
    messages, waiting = reassemble(parts, T0, 600)
    assert waiting == []
    assert len(messages) == 1
    assert messages[0].text == "one two"
    assert messages[0].part_keys == ["a", "b"]
    assert messages[0].duplicate_keys == ["a2"]


def test_groups_are_separated_by_sender_ref_and_count():
    parts = [
        part("a1", "A1", 1, 1, 2, sender="+621"),
        part("b1", "B1", 1, 1, 2, sender="+622"),
        part("a2", "A2", 1, 2, 2, sender="+621"),
        part("c1", "C1", 1, 1, 3, sender="+621"),
    ]
    messages, waiting = reassemble(parts, T0, 600)
    assert [(m.sender, m.text) for m in messages] == [("+621", "A1A2")]
    assert sorted(p.raw_key for p in waiting) == ["b1", "c1"]


def test_parts_split_across_polls_give_one_message():
    first_poll = [part("p1", "Halo ", 77, 1, 2)]
    messages, waiting = reassemble(first_poll, T0, 600)
    assert messages == [] and waiting == first_poll
    second_poll = waiting + [part("p2", "😀 dunia", 77, 2, 2)]
    messages, waiting = reassemble(second_poll, T0 + timedelta(seconds=30), 600)
    assert waiting == []
    assert messages[0].text == "Halo 😀 dunia"
    assert messages[0].complete


def test_dlr_helpers():
    assert dlr.merge_status(dlr.DELIVERED, dlr.PENDING) == dlr.DELIVERED
    assert dlr.merge_status(dlr.PENDING, dlr.FAILED) == dlr.FAILED
    assert dlr.merge_status(None, dlr.PENDING) == dlr.PENDING
    assert dlr.aggregate_status([dlr.DELIVERED, dlr.DELIVERED]) == dlr.DELIVERED
    assert dlr.aggregate_status([dlr.DELIVERED, dlr.PENDING]) == dlr.PENDING
    assert dlr.aggregate_status([dlr.DELIVERED, dlr.FAILED]) == dlr.FAILED
    assert dlr.aggregate_status([]) == dlr.PENDING
    assert dlr.is_gsm7("Halo {dunia} €") and not dlr.is_gsm7("Halo 😀")
    assert dlr.count_parts("x" * 161) == ("gsm7", 161, 2)
    assert dlr.count_parts("😀" * 35) == ("ucs2", 70, 1)
