"""Freespee's signature, custom dimensions and address anonymisation, without the network."""

from __future__ import annotations

import logging

import pytest
from test_providers_setup import visitor

from proxy.providers.freespee import sign
from proxy.providers.freespee_params import anonymize_ip, parameters
from rules.config import Parameter


def test_signature_vector_from_the_document() -> None:
    body = b'{"advid":"123","numbers":"321"}'
    assert sign(body, "freespee") == "bdc98a82e1d0c873ea95c35c2e7decbd3752a2fb"


@pytest.mark.parametrize(
    ("ip", "anonymized"),
    [
        pytest.param("84.72.113.98", "84.72.113.0", id="ipv4"),
        pytest.param("10.0.0.255", "10.0.0.0", id="ipv4-private"),
        pytest.param("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::", id="ipv6"),
        pytest.param("2001:db8:85a3::1", "2001:db8:85a3::", id="ipv6-short"),
        pytest.param("::ffff:84.72.113.98", "84.72.113.0", id="ipv4-mapped"),
        pytest.param(" 84.72.113.98 ", "84.72.113.0", id="padded"),
        pytest.param("not-an-ip", "", id="garbage"),
        pytest.param("", "", id="empty"),
    ],
)
def test_anonymize_ip(ip: str, anonymized: str) -> None:
    assert anonymize_ip(ip) == anonymized


def test_dimensions_from_config_and_request() -> None:
    configured = (
        Parameter("custnr", value="C-42"),
        Parameter("campaign", query="utm_campaign"),
        Parameter("source", query="utm_source"),
        Parameter("adId", cookie="ad_id"),
        Parameter("lang", header="Accept-Language"),
        Parameter("absent", query="nope"),
        Parameter("fallback", query="nope", cookie="seg"),
    )
    who = visitor(
        query={"utm_campaign": "spring", "utm_source": "google"},
        cookies={"ad_id": "A17", "seg": "pro"},
        headers={"Accept-Language": "fr-FR"},
    )
    assert parameters(configured, who) == {
        "custnr": "C-42",
        "campaign": "spring",
        "source": "google",
        "adId": "A17",
        "lang": "fr-FR",
        "fallback": "pro",
    }


@pytest.mark.parametrize(
    ("name", "length", "kept"),
    [
        pytest.param("custnr", 45, True, id="custnr-at-limit"),
        pytest.param("custnr", 46, False, id="custnr-over"),
        pytest.param("custname", 60, True, id="custname-at-limit"),
        pytest.param("custname", 61, False, id="custname-over"),
        pytest.param("custemail", 150, True, id="custemail-at-limit"),
        pytest.param("custemail", 151, False, id="custemail-over"),
        pytest.param("adId", 1000, True, id="other-at-bound"),
        pytest.param("adId", 1001, False, id="other-over-bound"),
    ],
)
def test_over_long_request_values_are_dropped_and_logged(
    name: str, length: int, kept: bool, caplog: pytest.LogCaptureFixture
) -> None:
    value = "v" * length
    with caplog.at_level(logging.INFO):
        sent = parameters([Parameter(name, query="q")], visitor(query={"q": value}))
    assert (name in sent) is kept
    logged = [r for r in caplog.records if r.getMessage() == "freespee_parameter_dropped"]
    assert len(logged) == (0 if kept else 1)
    assert value not in caplog.text, "the value is visitor data: only its name is logged"
