from datetime import UTC, datetime

import pytest

from instances.connectors import normalize
from instances.status import Status
from instances.vendors.enos_batch_v21.signing import enos_encryption, enos_signature


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-08-25T15:09:31+08:00", datetime(2021, 8, 25, 7, 9, 31, tzinfo=UTC)),
        ("2021-08-25T15:09:31.74+08:00", datetime(2021, 8, 25, 7, 9, 31, 740000, tzinfo=UTC)),
        ("2021-08-25T15:09:54.067+08:00", datetime(2021, 8, 25, 7, 9, 54, 67000, tzinfo=UTC)),
        ("2021-08-25T07:09:54.123456789Z", datetime(2021, 8, 25, 7, 9, 54, 123456, tzinfo=UTC)),
        ("", None),
    ],
)
def test_iso_times_take_zero_to_nine_fraction_digits(text, expected):
    assert normalize.iso(text) == expected


def test_epoch_milliseconds_zero_means_not_yet():
    assert normalize.epoch_ms(0) is None
    assert normalize.epoch_ms(1704934916000) == datetime(2024, 1, 11, 1, 1, 56, tzinfo=UTC)


def test_naive_enos_times_are_read_in_the_backend_zone():
    assert normalize.naive_local("2019-08-08 09:32:12", "Asia/Shanghai") == datetime(
        2019, 8, 8, 1, 32, 12, tzinfo=UTC
    )
    assert normalize.naive_local("2019-07-26 12:38:30.0", "UTC") == datetime(
        2019, 7, 26, 12, 38, 30, tzinfo=UTC
    )


def test_java_date_cst_meaning_is_configurable():
    text = "Tue Feb 02 17:35:00 CST 2021"
    assert normalize.java_date(text) == datetime(2021, 2, 2, 9, 35, tzinfo=UTC)
    assert normalize.java_date(text, "America/Chicago") == datetime(2021, 2, 2, 23, 35, tzinfo=UTC)
    assert normalize.java_date("Tue Feb 02 17:35:00 UTC 2021") == datetime(
        2021, 2, 2, 17, 35, tzinfo=UTC
    )
    assert normalize.java_date("not a date") is None


def test_status_by_code_first_then_name_and_unknown_values_logged_once(caplog):
    table = {1: Status.SUCCEEDED, "SUCCESS": Status.SUCCEEDED, 7: (Status.FAILED, "timeout")}
    assert normalize.status_from(table, "t", 7, "SUCCESS") == (Status.FAILED, ("timeout",))
    assert normalize.status_from(table, "t", None, "SUCCESS") == (Status.SUCCEEDED, ())
    assert normalize.status_from(table, "t", 42, "NEW") == (Status.UNKNOWN, ())
    normalize.status_from(table, "t", 42, "NEW")
    assert sum("unknown status" in r.message for r in caplog.records) == 1


def test_enos_signers_follow_the_documented_concatenation():
    import hashlib

    assert (
        enos_encryption("ak", "1572574909697", "sk")
        == hashlib.sha256(b"ak1572574909697sk").hexdigest()
    )
    signed = enos_signature(
        "xxxxaaaxxxx",
        {"k3": "v3", "k1": "v1", "k2": "v2"},
        "{}",
        "1572574909697",
        "xxxappSecretxxx",
    )
    expected = b"xxxxaaaxxxxk1v1k2v2k3v3{}1572574909697xxxappSecretxxx"
    assert signed == hashlib.sha256(expected).hexdigest()
