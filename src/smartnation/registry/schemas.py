"""The JSON shapes of the registry API."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from smartnation.registry import codes
from smartnation.registry.models import Business, Resident


class AddressOut(BaseModel):
    postal_code: str
    block: str | None = None
    street: str | None = None
    building: str | None = None
    floor: str | None = None
    unit: str | None = None


class ResidentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    nric: str
    name: str
    sex: str
    date_of_birth: date
    race: str
    nationality: str
    birth_country: str
    residential_status: str
    residential_status_description: str
    mobile: str | None
    email: str | None
    marital_status: str
    housing_type: str
    housing_type_description: str
    address: AddressOut | None

    @classmethod
    def of(cls, resident: Resident) -> ResidentOut:
        address = None
        if resident.postal_code:
            building = resident.address
            address = AddressOut(
                postal_code=resident.postal_code,
                block=building.block if building else None,
                street=building.street if building else None,
                building=building.building if building else None,
                floor=resident.floor,
                unit=resident.unit,
            )
        return cls(
            nric=resident.nric,
            name=resident.name,
            sex=resident.sex,
            date_of_birth=resident.date_of_birth,
            race=resident.race,
            nationality=resident.nationality,
            birth_country=resident.birth_country,
            residential_status=resident.residential_status,
            residential_status_description=codes.RESIDENTIAL_STATUS[resident.residential_status],
            mobile=resident.mobile,
            email=resident.email,
            marital_status=resident.marital_status,
            housing_type=resident.housing_type,
            housing_type_description=codes.HOUSING_TYPE.get(resident.housing_type, ""),
            address=address,
        )


class NewResidentIn(BaseModel):
    nric: str = Field(max_length=20, examples=["S1234567D"])
    name: str = Field(max_length=300)
    sex: str = Field(max_length=1, examples=["F"])
    date_of_birth: date
    race: str = Field(max_length=2, examples=["CN"])
    nationality: str = Field(max_length=2, examples=["SG"])
    residential_status: str = Field(max_length=1, examples=["C"])
    postal_code: str | None = Field(default=None, max_length=10)
    floor: str | None = Field(default=None, max_length=3)
    unit: str | None = Field(default=None, max_length=5)
    mobile: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)
    marital_status: str = Field(default="1", max_length=1)
    housing_type: str = Field(default="114", max_length=3)


class OfficerOut(BaseModel):
    nric: str
    name: str
    role: str


class BusinessOut(BaseModel):
    uen: str
    name: str
    entity_type: str
    ssic_code: str
    ssic_description: str
    postal_code: str | None
    registered_on: date
    status: str
    officers: list[OfficerOut]

    @classmethod
    def of(cls, business: Business) -> BusinessOut:
        return cls(
            uen=business.uen,
            name=business.name,
            entity_type=business.entity_type,
            ssic_code=business.ssic_code,
            ssic_description=business.ssic_description,
            postal_code=business.postal_code,
            registered_on=business.registered_on,
            status=business.status,
            officers=[
                OfficerOut(nric=o.resident.nric, name=o.resident.name, role=o.role)
                for o in business.officers
            ],
        )
