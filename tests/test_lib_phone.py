"""Number lists written by administrators (the simulator's test numbers)."""

import pytest
from smslib.phone import NumberList


def test_numbers_and_blocks_in_any_indonesian_form():
    numbers = NumberList.parse(
        "0812-9999-0001, +62 812 9999 0002;6281299990003\n08127777*, +62856 12*"
    )
    assert numbers.numbers == {"+6281299990001", "+6281299990002", "+6281299990003"}
    assert numbers.prefixes == ("+628127777", "+6285612")
    assert "+6281299990002" in numbers
    assert "+6281277771234" in numbers
    assert "+6285612345678" in numbers
    assert "+6281299990004" not in numbers
    assert "+6281377771234" not in numbers
    assert None not in numbers
    assert bool(numbers)


def test_empty_list_holds_nothing():
    numbers = NumberList.parse("  ,\n ")
    assert not numbers
    assert "+6281299990001" not in numbers


@pytest.mark.parametrize("bad", ["hello", "0812*9*", "+62*", "0812-99", "62 8*"])
def test_bad_entries_are_named(bad):
    with pytest.raises(ValueError) as info:
        NumberList.parse(f"0812-9999-0001, {bad}")
    assert info.value.args[0] == bad


def test_union_of_lists():
    first = NumberList.parse("0812-9999-0001")
    second = NumberList.parse("08127777*")
    both = first | second
    assert "+6281299990001" in both
    assert "+6281277770000" in both
