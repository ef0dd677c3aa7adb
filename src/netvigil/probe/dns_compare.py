"""How the answers of several resolvers for one name compare (dnscheck's ``x_comparison``).

Pure: views in, a :class:`Comparison` out.  The reference view follows the same
trust rule as the analysis (:mod:`netvigil.analysis.observations`): DNS over HTTPS
is encrypted, so an on-path injector cannot forge it, and what DoH resolvers
answered is the reference; plain DNS (UDP, the system resolver) never is.  Only
when no DoH resolver gave an answer does the majority of all resolvers stand in.

"Consistent with the reference" means sharing at least one address with it, not
equal sets: CDNs hand different resolvers different (all legitimate) edges, so
set equality would call most large sites inconsistent.  A resolver that fails
where the reference has addresses, or answers where the reference says NXDOMAIN,
is inconsistent.  Grouping into agreeing resolvers, by contrast, uses exact
equality, so a reader sees precisely who said the same thing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from netvigil.model.addresses import is_bogon
from netvigil.failures import Failure

TRUSTED_ENGINE = "doh"


@dataclass(frozen=True, slots=True)
class View:
    """What one resolver said: addresses (sorted, unique), or the failure when it gave none."""

    addresses: tuple[str, ...] = ()
    failure: str | None = None

    def overlaps(self, other: View) -> bool:
        if self.addresses or other.addresses:
            return bool(set(self.addresses) & set(other.addresses))
        return self.failure == other.failure


@dataclass(frozen=True, slots=True)
class ResolverView:
    resolver: str  # the resolver as keyed in ``lookups`` ("system:///", "udp://...", "https://...")
    engine: str    # "getaddrinfo", "udp" or "doh"
    view: View


@dataclass(frozen=True, slots=True)
class Group:
    """Resolvers that said exactly the same thing."""

    view: View
    resolvers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Comparison:
    groups: tuple[Group, ...]
    bogons: tuple[tuple[str, tuple[str, ...]], ...]  # resolver -> the bogon addresses it returned
    reference_kind: str | None                     # "doh", "majority", or None when there is none
    reference: View | None
    consistent: tuple[str, ...]
    inconsistent: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "groups": [{**_view_dict(g.view), "resolvers": list(g.resolvers)} for g in self.groups],
            "bogons": {resolver: list(addresses) for resolver, addresses in self.bogons},
            "reference": None if self.reference is None else {"kind": self.reference_kind,
                                                              **_view_dict(self.reference)},
            "consistent": list(self.consistent),
            "inconsistent": list(self.inconsistent),
        }


def compare(views: Sequence[ResolverView]) -> Comparison:
    reference_kind, reference = _reference(views)
    judged = [] if reference is None else [(v.resolver, v.view.overlaps(reference)) for v in views]
    bogons = tuple((v.resolver, found) for v in views
                   if (found := tuple(a for a in v.view.addresses if is_bogon(a))))
    return Comparison(
        groups=_groups(views), bogons=bogons, reference_kind=reference_kind, reference=reference,
        consistent=tuple(r for r, ok in judged if ok), inconsistent=tuple(r for r, ok in judged if not ok))


def _reference(views: Sequence[ResolverView]) -> tuple[str | None, View | None]:
    """DoH's answers (their union), or DoH's NXDOMAIN; else the view of a strict majority."""
    trusted = [v.view for v in views if v.engine == TRUSTED_ENGINE]
    addresses = sorted({a for view in trusted for a in view.addresses})
    if addresses:
        return TRUSTED_ENGINE, View(tuple(addresses))
    if any(view.failure == Failure.DNS_NXDOMAIN_ERROR.value for view in trusted):
        return TRUSTED_ENGINE, View(failure=Failure.DNS_NXDOMAIN_ERROR.value)
    counted = Counter(v.view for v in views)
    if counted:
        view, votes = counted.most_common(1)[0]
        if votes * 2 > len(views):
            return "majority", view
    return None, None


def _groups(views: Sequence[ResolverView]) -> tuple[Group, ...]:
    by_view: dict[View, list[str]] = defaultdict(list)
    for v in views:
        by_view[v.view].append(v.resolver)
    ordered = sorted(by_view.items(), key=lambda item: -len(item[1]))  # stable: first seen wins ties
    return tuple(Group(view, tuple(resolvers)) for view, resolvers in ordered)


def _view_dict(view: View) -> dict[str, Any]:
    return {"addresses": list(view.addresses), "failure": view.failure}
