"""The vocabulary sections published as ORUK taxonomies, their terms, and a record's terms as
ORUK attributes; the rest of a service is built elsewhere (services)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aop_map.oruk.ids import oruk_id, taxonomy_id, term_id
from aop_map.oruk.optional import terms_of
from aop_map.records import Record
from aop_map.vocabulary import Term, Vocabulary


@dataclass(frozen=True)
class Taxonomy:
    """A vocabulary section published as an ORUK taxonomy, and what its terms describe."""

    field: str  # the record field (its vocabulary section names the ids)
    name: str
    description: str
    link_type: str  # the attribute's link_type: a local code (ORUK's list is open)


TAXONOMIES: tuple[Taxonomy, ...] = (
    # ORUK's status says only active; this keeps whether it is established or emerging.
    Taxonomy(
        "status",
        "Stage",
        "Whether an activity is established (running or "
        "commissioned) or emerging (new, a pilot, or looking for its first commission).",
        "status",
    ),
    Taxonomy(
        "conditions",
        "Health conditions",
        "Health conditions and needs an arts-and-health activity is for.",
        "audience",
    ),
    Taxonomy("art_forms", "Art forms", "The art forms an activity uses.", "activity"),
    Taxonomy("age_groups", "Age groups", "The age groups an activity is for.", "audience"),
    Taxonomy(
        "delivery", "Delivery", "How sessions are held: in person, online or both.", "delivery"
    ),
    Taxonomy(
        "referral_routes", "Referral routes", "How people can be referred or join.", "referral"
    ),
)


@dataclass
class Taxonomies:
    """The published taxonomies and their terms, with each term's ORUK object by section."""

    taxonomies: list[dict[str, Any]]
    terms: list[dict[str, Any]]
    by_term: dict[tuple[str, str], dict[str, Any]]  # (field, term id) -> taxonomy_term

    @classmethod
    def build(cls, vocabulary: Vocabulary) -> Taxonomies:
        """Every taxonomy of :data:`TAXONOMIES` and its terms, in vocabulary order."""
        taxonomies, terms, by_term = [], [], {}
        for tax in TAXONOMIES:
            section = vocabulary.section(tax.field)
            tax_id = taxonomy_id(section)
            taxonomies.append({"id": tax_id, "name": tax.name, "description": tax.description})
            for term in vocabulary.terms(tax.field):
                item = _term_object(section, term, tax_id, tax.name)
                terms.append(item)
                by_term[(tax.field, term.id)] = item
        return cls(taxonomies, terms, by_term)


def _term_object(section: str, term: Term, tax_id: str, tax_name: str) -> dict[str, Any]:
    return {
        "id": term_id(section, term.id),
        "code": term.id,  # HSDS 3.0's code: the id the app's URLs and exports use
        "name": term.label,
        "term": term.label,
        "description": term.description,
        "taxonomy": tax_name,
        "taxonomy_id": tax_id,
    }


def attributes(record: Record, link_id: str, taxonomies: Taxonomies) -> list[dict[str, Any]]:
    """A record's terms of every taxonomy as ORUK attributes linking it to the terms."""
    out = []
    for tax in TAXONOMIES:
        for term in terms_of(record, tax.field):
            item = taxonomies.by_term.get((tax.field, term))
            if item is None:
                continue
            out.append(
                {
                    "id": oruk_id(f"attribute:{record.id}:{tax.field}:{term}"),
                    "link_id": link_id,
                    "taxonomy_term_id": item["id"],
                    "link_type": tax.link_type,
                    "link_entity": "service",
                    "taxonomy_term": item,
                }
            )
    return out
