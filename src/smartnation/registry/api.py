"""Registry endpoints under /api/v1/registry/, for agencies' systems holding registry roles."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends

from smartnation.core.web.auth import Public, require_role
from smartnation.core.web.deps import DbSession
from smartnation.registry import service
from smartnation.registry.schemas import BusinessOut, NewResidentIn, ResidentOut

router = APIRouter(prefix="/api/v1/registry", tags=["registry"])
READ = Depends(require_role("registry.read", "registry.write"))
WRITE = Depends(require_role("registry.write"))


@router.get("/residents/{nric}", dependencies=[READ])
def get_resident(nric: str, session: DbSession) -> ResidentOut:
    """A resident's record by NRIC/FIN."""
    return ResidentOut.of(service.get_resident(session, nric))


@router.post("/residents", status_code=201, dependencies=[WRITE])
def register_resident(body: NewResidentIn, session: DbSession) -> ResidentOut:
    """Register a person."""
    resident = service.register_resident(session, service.NewResident(**body.model_dump()))
    return ResidentOut.of(service.get_resident_by_id(session, resident.id))


@router.get("/businesses/{uen}", dependencies=[READ])
def get_business(uen: str, session: DbSession) -> BusinessOut:
    """A business by UEN, with its officers."""
    return BusinessOut.of(service.get_business(session, uen))


@router.get("/stats", dependencies=[Public])
def stats(session: DbSession) -> dict[str, int]:
    """How many residents, businesses and buildings the registry holds."""
    return asdict(service.counts(session))
