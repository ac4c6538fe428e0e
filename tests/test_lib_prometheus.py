"""sms_center/lib/prometheus.py: the text exposition format, checked with
Prometheus's own Python parser."""

import pytest
from prometheus_client.parser import text_string_to_metric_families
from smslib import prometheus


def test_rendered_text_parses_with_help_type_and_labels():
    healthy = prometheus.Family("sms_center_healthy", "1 when all is well.").add(True)
    state = prometheus.Family("sms_center_gateway_state", "State per gateway.")
    state.add(1, gateway="kannel-1", state="ok").add(
        0, gateway="kannel-1", state="down"
    )
    age = prometheus.Family(
        "sms_center_age_seconds", 'Age, with "quotes" \\ and\nlines.'
    )
    age.add(12.5, action='odd "label" \\ value\n')
    text = prometheus.render([healthy, state, age])
    assert text.endswith("\n")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert set(families) == {
        "sms_center_healthy",
        "sms_center_gateway_state",
        "sms_center_age_seconds",
    }
    assert families["sms_center_healthy"].type == "gauge"
    assert families["sms_center_healthy"].samples[0].value == 1
    assert [s.labels for s in families["sms_center_gateway_state"].samples] == [
        {"gateway": "kannel-1", "state": "ok"},
        {"gateway": "kannel-1", "state": "down"},
    ]
    (sample,) = families["sms_center_age_seconds"].samples
    assert sample.labels == {"action": 'odd "label" \\ value\n'}
    assert sample.value == 12.5
    assert families["sms_center_age_seconds"].documentation == (
        'Age, with "quotes" \\ and\nlines.'
    )


@pytest.mark.parametrize(
    "value, text",
    [
        (True, "1"),
        (False, "0"),
        (3, "3"),
        (2.0, "2"),
        (0.25, "0.25"),
        (float("nan"), "NaN"),
        (float("inf"), "+Inf"),
    ],
)
def test_values(value, text):
    assert prometheus.format_value(value) == text


def test_duplicate_series_and_bad_names_are_refused():
    family = prometheus.Family("a_b", "x").add(1, gateway="g")
    with pytest.raises(ValueError, match="duplicate"):
        family.add(2, gateway="g")
    with pytest.raises(ValueError):
        prometheus.Family("1abc", "x")
    with pytest.raises(ValueError):
        prometheus.Family("a", "x").add(1, **{"bad-label": "v"})
    with pytest.raises(ValueError, match="twice"):
        prometheus.render([prometheus.Family("a", "x"), prometheus.Family("a", "y")])
