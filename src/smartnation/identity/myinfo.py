"""MyInfo: a person's registry record in MyInfo's item format.

Each item is ``{lastupdated, source, classification, value}`` or, for coded items,
``{lastupdated, source, classification, code, desc}``; an item the registry does not hold is
``{lastupdated: "", source: "1", classification: "C", unavailable: true}``. Source "1" is
government-verified (the registry), "2" user-provided (contact details people keep up to date).
"""

from __future__ import annotations

from typing import Any, Final

from smartnation.core.i18n import N_
from smartnation.identity.oidc.tokens import myinfo_item
from smartnation.registry import service as registry

# The items the registry can answer, with the sentence shown on the consent page.
ITEM_LABELS: Final = {
    "uinfin": N_("NRIC or FIN"),
    "name": N_("Name"),
    "sex": N_("Sex"),
    "race": N_("Race"),
    "dob": N_("Date of birth"),
    "nationality": N_("Nationality"),
    "birthcountry": N_("Country of birth"),
    "residentialstatus": N_("Residential status"),
    "regadd": N_("Registered address"),
    "mobileno": N_("Mobile number"),
    "email": N_("Email address"),
    "marital": N_("Marital status"),
    "hdbtype": N_("HDB flat type"),
    "housingtype": N_("Housing type"),
}
OTHER_ITEM_LABEL: Final = N_("Other MyInfo data (not held here; shared as unavailable)")


def label_of(item: str) -> str:
    return ITEM_LABELS.get(item, item)


def _coded(code: str, desc: str, lastupdated: str, source: str = "1") -> dict[str, Any]:
    item = myinfo_item(None, source=source, lastupdated=lastupdated)  # type: ignore[arg-type]
    del item["value"]
    item["code"] = code
    item["desc"] = desc
    return item


def _unavailable() -> dict[str, Any]:
    return {"lastupdated": "", "source": "1", "classification": "C", "unavailable": True}


def person_info(resident: Any, items: list[str]) -> dict[str, Any]:
    """The MyInfo person data for ``items`` from a registry resident record."""
    updated = resident.updated_at.date().isoformat()
    out: dict[str, Any] = {}
    for item in items:
        out[item] = _item(resident, item, updated)
    return out


def _item(r: Any, item: str, updated: str) -> dict[str, Any]:
    desc = registry.describe_code
    if item == "uinfin":
        return myinfo_item(r.nric, lastupdated=updated)
    if item == "name":
        return myinfo_item(r.name, lastupdated=updated)
    if item == "sex":
        return _coded(r.sex, desc("sex", r.sex), updated)
    if item == "race":
        return _coded(r.race, desc("race", r.race), updated)
    if item == "dob":
        return myinfo_item(r.date_of_birth.isoformat(), lastupdated=updated)
    if item == "nationality":
        return _coded(r.nationality, desc("country", r.nationality), updated)
    if item == "birthcountry":
        return _coded(r.birth_country, desc("country", r.birth_country), updated)
    if item == "residentialstatus":
        return _coded(
            r.residential_status, desc("residential_status", r.residential_status), updated
        )
    if item == "marital":
        return _coded(r.marital_status, desc("marital_status", r.marital_status), updated)
    if item == "hdbtype":
        if not registry.is_hdb_flat(r.housing_type):
            return _unavailable()
        return _coded(r.housing_type, desc("housing_type", r.housing_type), updated)
    if item == "housingtype":
        if registry.is_hdb_flat(r.housing_type):
            return _unavailable()
        return _coded(r.housing_type, desc("housing_type", r.housing_type), updated)
    if item == "mobileno":
        if not r.mobile:
            return _unavailable()
        number = r.mobile
        prefix_code = "65" if number.startswith("+65") else number[1:3]
        item_value = {
            "lastupdated": updated,
            "source": "2",
            "classification": "C",
            "prefix": {"value": "+"},
            "areacode": {"value": prefix_code},
            "nbr": {"value": number[1 + len(prefix_code) :]},
        }
        return item_value
    if item == "email":
        if not r.email:
            return _unavailable()
        return myinfo_item(r.email, source="2", lastupdated=updated)
    if item == "regadd":
        return _address(r, updated)
    return _unavailable()


def _address(r: Any, updated: str) -> dict[str, Any]:
    address = r.address
    if address is None:
        return _unavailable()
    return {
        "lastupdated": updated,
        "source": "1",
        "classification": "C",
        "type": "SG",
        "block": {"value": address.block},
        "building": {"value": address.building or ""},
        "floor": {"value": r.floor or ""},
        "unit": {"value": r.unit or ""},
        "street": {"value": address.street},
        "postal": {"value": address.postal_code},
        "country": {"code": "SG", "desc": "SINGAPORE"},
    }
