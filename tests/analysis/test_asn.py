"""IP-to-ASN lookups: the pure range table, and the database readers in store/asn.py.

The ``.mmdb`` files are built in the test with a MaxMind-format writer, in both
vendors' field conventions (MaxMind GeoLite2-ASN and IPinfo); range files are
written in the ip-location-db and iptoasn layouts.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netvigil.analysis.asn import UNKNOWN, AsnInfo, AsnRange, ChainLookup, RangeTable, org_key
from netvigil.store.asn import AsnDataError, load_range_file, mmdb_record_info, open_asn_lookup


def write_mmdb(path: Path, networks: dict[str, dict], ip_version: int = 6) -> Path:
    """A real MaxMind DB file holding ``networks`` (CIDR -> record)."""
    mmdb_writer = pytest.importorskip("mmdb_writer")
    from netaddr import IPSet

    writer = mmdb_writer.MMDBWriter(ip_version=ip_version, ipv4_compatible=ip_version == 6,
                                    database_type="GeoLite2-ASN", description="netvigil test")
    for cidr, record in networks.items():
        writer.insert_network(IPSet([cidr]), record)
    writer.to_db_file(str(path))
    return path


def test_maxmind_asn_mmdb(tmp_path):
    pytest.importorskip("maxminddb")
    db = write_mmdb(tmp_path / "GeoLite2-ASN.mmdb", {
        "192.0.2.0/24": {"autonomous_system_number": 64500, "autonomous_system_organization": "Example CDN, Inc."},
        "2001:db8::/32": {"autonomous_system_number": 64501, "autonomous_system_organization": "Example v6"},
    })
    lookup = open_asn_lookup(str(db))
    assert lookup.lookup("192.0.2.77") == AsnInfo(64500, "Example CDN, Inc.")
    assert lookup.lookup("2001:db8::1") == AsnInfo(64501, "Example v6")
    assert lookup.lookup("[2001:db8::1]") == AsnInfo(64501, "Example v6")
    assert lookup.lookup("198.51.100.1") == UNKNOWN
    assert lookup.lookup("not an ip") == UNKNOWN


def test_ipinfo_mmdb_fields(tmp_path):
    pytest.importorskip("maxminddb")
    db = write_mmdb(tmp_path / "ipinfo_lite.mmdb", {
        "203.0.113.0/24": {"asn": "AS64502", "as_name": "Example Telecom", "country_code": "ZZ"}}, ip_version=4)
    assert open_asn_lookup(str(db)).lookup("203.0.113.9") == AsnInfo(64502, "Example Telecom")


@pytest.mark.parametrize("record, expected", [
    ({"autonomous_system_number": 15169, "autonomous_system_organization": "Google LLC"}, AsnInfo(15169, "Google LLC")),
    ({"asn": "AS13335", "name": "Cloudflare, Inc."}, AsnInfo(13335, "Cloudflare, Inc.")),
    ({"asn": "AS0"}, UNKNOWN),
    ({"country": {"iso_code": "IT"}}, UNKNOWN),
    (None, UNKNOWN),
    ("junk", UNKNOWN),
])
def test_mmdb_record_shapes(record, expected):
    assert mmdb_record_info(record) == expected


def test_not_a_database_is_a_clear_error(tmp_path):
    pytest.importorskip("maxminddb")
    bad = tmp_path / "broken.mmdb"
    bad.write_bytes(b"not a maxmind database")
    with pytest.raises(AsnDataError, match="broken.mmdb"):
        open_asn_lookup(str(bad))
    with pytest.raises(AsnDataError, match="does not exist"):
        open_asn_lookup(str(tmp_path / "missing.csv"))
    with pytest.raises(AsnDataError):
        open_asn_lookup("")


def test_ip_location_db_csv_and_bad_rows(tmp_path):
    csv_file = tmp_path / "asn-ipv4.csv"
    csv_file.write_text('1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."\n'
                        "8.8.8.0,8.8.8.255,15169,Google LLC\n"
                        "8.8.9.0,8.8.9.255,notanumber,Broken\n"
                        "9.9.9.9\n"
                        "8.8.8.128,8.8.8.200,64999,Overlap loses\n")
    skipped: list[str] = []
    table = load_range_file(csv_file, skipped=skipped)
    assert table.lookup("1.0.0.1") == AsnInfo(13335, "Cloudflare, Inc.")
    assert table.lookup("8.8.8.150") == AsnInfo(15169, "Google LLC")  # the first listed range wins
    assert table.lookup("8.8.9.1") == UNKNOWN
    assert len(skipped) == 2 and "asn-ipv4.csv:3" in skipped[0] and "asn-ipv4.csv:4" in skipped[1]


def test_numeric_ipv6_csv_and_iptoasn_tsv(tmp_path):
    v6 = tmp_path / "asn-ipv6-num.csv"
    first = int(ipaddress.ip_address("2001:db8::"))
    v6.write_text(f"{first},{first + 2**96 - 1},64510,Example Six\n")
    assert load_range_file(v6).lookup("2001:db8::5") == AsnInfo(64510, "Example Six")
    tsv = tmp_path / "ip2asn-v4.tsv"
    tsv.write_text("1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n1.0.1.0\t1.0.3.255\t0\tNone\tNot routed\n")
    table = load_range_file(tsv)
    assert table.lookup("1.0.0.9") == AsnInfo(13335, "CLOUDFLARENET")
    assert table.lookup("1.0.2.1") == UNKNOWN


def test_chain_completes_number_and_name():
    numbers = RangeTable([(4, AsnRange(0, 2**32 - 1, 64500, None))])
    names = RangeTable([(4, AsnRange(0, 2**32 - 1, None, "Example Org"))])
    assert ChainLookup([numbers, names]).lookup("192.0.2.1") == AsnInfo(64500, "Example Org")
    assert ChainLookup([names]).lookup("192.0.2.1") == AsnInfo(None, "Example Org")


def test_geoip2fast_gives_organisations_only():
    pytest.importorskip("geoip2fast")
    lookup = open_asn_lookup("geoip2fast")
    google = lookup.lookup("8.8.8.8")
    assert google.asn is None and org_key(google.org) == "google"
    assert lookup.lookup("10.1.2.3") == UNKNOWN  # private ranges are nobody's network


@pytest.mark.parametrize("a, b, same", [
    ("Akamai Technologies, Inc.", "AKAMAI TECHNOLOGIES INC", True),
    ("Google LLC", "GOOGLE", True),
    ("Apple Inc.", "Akamai Technologies, Inc.", False),
    ("AS", "as", None),  # nothing left to compare
])
def test_org_key(a, b, same):
    ka, kb = org_key(a), org_key(b)
    assert (None if ka is None or kb is None else ka == kb) is same


_ranges = st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 4096), st.integers(1, 99)), max_size=30)


@settings(max_examples=200, deadline=None)
@given(_ranges, st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=20))
def test_range_table_agrees_with_a_linear_scan(ranges, probes):
    rows = [AsnRange(start, min(start + size, 2**32 - 1), asn, None) for start, size, asn in ranges]
    table = RangeTable((4, r) for r in rows)
    kept: list[AsnRange] = []
    for r in sorted(rows, key=lambda r: r.first):  # the documented rule: overlaps of earlier ranges drop
        if not kept or r.first > kept[-1].last:
            kept.append(r)
    for value in probes + [r.first for r in rows] + [r.last for r in rows]:
        expected = next((AsnInfo(r.asn, None) for r in kept if r.first <= value <= r.last), UNKNOWN)
        assert table.lookup(str(ipaddress.IPv4Address(value))) == expected
