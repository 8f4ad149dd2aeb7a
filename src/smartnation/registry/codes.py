"""Code tables the registry stores, in MyInfo's codes, with the descriptions shown to people."""

from __future__ import annotations

SEX = {"M": "MALE", "F": "FEMALE", "U": "UNKNOWN"}
RACE = {"CN": "CHINESE", "MY": "MALAY", "IN": "INDIAN", "EU": "EURASIAN", "XX": "OTHERS"}
RESIDENTIAL_STATUS = {
    "C": "CITIZEN",
    "P": "PR",
    "A": "ALIEN",
    "U": "UNKNOWN",
    "N": "NOT APPLICABLE",
}
MARITAL_STATUS = {"1": "SINGLE", "2": "MARRIED", "3": "WIDOWED", "5": "DIVORCED"}
HOUSING_TYPE = {
    "111": "1-ROOM FLAT (HDB)",
    "112": "2-ROOM FLAT (HDB)",
    "113": "3-ROOM FLAT (HDB)",
    "114": "4-ROOM FLAT (HDB)",
    "115": "5-ROOM FLAT (HDB)",
    "116": "EXECUTIVE FLAT (HDB)",
    "121": "DETACHED HOUSE",
    "122": "SEMI-DETACHED HOUSE",
    "123": "TERRACE HOUSE",
    "131": "CONDOMINIUM",
    "132": "EXECUTIVE CONDOMINIUM",
    "139": "APARTMENT",
    "199": "WORKER DORMITORY",
}
HDB_TYPES = frozenset({"111", "112", "113", "114", "115", "116"})
COUNTRY = {
    "SG": "SINGAPORE CITIZEN",
    "MY": "MALAYSIAN",
    "CN": "CHINESE",
    "IN": "INDIAN",
    "PH": "FILIPINO",
    "ID": "INDONESIAN",
    "BD": "BANGLADESHI",
    "MM": "MYANMAR",
    "GB": "BRITISH",
    "US": "AMERICAN",
    "AU": "AUSTRALIAN",
    "JP": "JAPANESE",
    "KR": "KOREAN",
    "VN": "VIETNAMESE",
    "TH": "THAI",
    "LK": "SRI LANKAN",
}
BUSINESS_ENTITY_TYPE = {
    "LC": "LOCAL COMPANY",
    "BN": "SOLE PROPRIETORSHIP / PARTNERSHIP",
    "LL": "LIMITED LIABILITY PARTNERSHIP",
    "SS": "SOCIETY",
}
OFFICER_ROLES = ("director", "secretary", "owner", "partner", "authorised_officer")
