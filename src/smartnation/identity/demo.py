"""Demo personas: ready accounts with test passwords and second factors, for trying every kind
of login. Listed in the README's "Demo accounts" section; keep the two in step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

import pyotp
from sqlalchemy.orm import Session

from smartnation.core.audit import current_actor
from smartnation.core.db import Database
from smartnation.identity import factors
from smartnation.identity.accounts import (
    find_account,
    issue_activation_letter,
    set_password_directly,
)
from smartnation.identity.roles import grant_role
from smartnation.registry import service as registry

PASSWORD: Final = "Demo-Pass-2026"  # noqa: S105 - published test password of the demo


@dataclass(frozen=True)
class Persona:
    nric: str
    name: str
    sex: str
    born: date
    race: str
    nationality: str
    status: str  # C citizen, P PR, A foreigner
    mobile: str | None
    email: str | None
    totp_secret: str | None = None
    roles: tuple[tuple[str, str], ...] = ()


PERSONAS: Final = (
    Persona(
        "S8012345J",
        "TAN AH KOW",
        "M",
        date(1980, 3, 14),
        "CN",
        "SG",
        "C",
        "+6591234501",
        "tan.ahkow@example.sg",
        totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",  # noqa: S106
    ),
    Persona(
        "S7512345J",
        "RAJESH S/O KUMAR",
        "M",
        date(1975, 8, 2),
        "IN",
        "IN",
        "P",
        "+6591234502",
        "rajesh.kumar@example.sg",
    ),
    Persona(
        "G5123456T",
        "MARIA SANTOS, JOY",
        "F",
        date(1992, 11, 30),
        "XX",
        "PH",
        "A",
        "+6591234503",
        None,
        totp_secret="KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU",  # noqa: S106
    ),
    Persona("S4012345H", "LIM AH MA", "F", date(1940, 1, 5), "CN", "SG", "C", None, None),
    Persona(
        "S7012345B",
        "LIM WEI MING",
        "M",
        date(1970, 6, 21),
        "CN",
        "SG",
        "C",
        "+6591234505",
        "weiming.lim@example.sg",
    ),
    Persona(
        "T0912345D",
        "NUR AISYAH BINTE AHMAD",
        "F",
        date(2009, 4, 17),
        "MY",
        "SG",
        "C",
        "+6591234506",
        None,
    ),
    Persona(
        "S8512345I",
        "NG MEI LING",
        "F",
        date(1985, 9, 9),
        "CN",
        "SG",
        "C",
        "+6591234507",
        "meiling@kopiking.example.sg",
    ),
    Persona(
        "S6512345B",
        "SITI BINTE HASSAN",
        "F",
        date(1965, 2, 28),
        "MY",
        "SG",
        "C",
        "+6591234508",
        "siti.hassan@example.gov.sg",
        totp_secret="MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK",  # noqa: S106
        roles=(("platform.admin", "GovTech"), ("identity.officer", "GovTech")),
    ),
    Persona(
        "S6012345D",
        "DR CHEN WEI",
        "M",
        date(1960, 12, 1),
        "CN",
        "SG",
        "C",
        "+6591234509",
        "chen.wei@example.gov.sg",
        roles=(("health.officer", "MOH"), ("vaccination.staff", "MOH"), ("registry.read", "MOH")),
    ),
    Persona(
        "S9012345I",
        "MUTHU S/O RAMASAMY",
        "M",
        date(1990, 7, 7),
        "IN",
        "SG",
        "C",
        "+6591234510",
        "muthu@example.gov.sg",
        roles=(("community.staff", "PA"), ("messaging.approver", "MCI")),
    ),
    # Officers with one job each, so the four-eyes rules (a broadcast's drafter cannot approve
    # it) and every officer page can be tried with a separate person.
    Persona(
        "S8212345H",
        "AMANDA TEO HUI MIN",
        "F",
        date(1982, 4, 3),
        "CN",
        "SG",
        "C",
        "+6591234512",
        "amanda.teo@example.gov.sg",
        roles=(("messaging.officer", "MCI"),),
    ),
    Persona(
        "S8312345A",
        "FARID BIN ISMAIL",
        "M",
        date(1983, 10, 19),
        "MY",
        "SG",
        "C",
        "+6591234513",
        "farid.ismail@example.gov.sg",
        roles=(("vaccination.staff", "MOH"), ("healthcerts.notarise", "MOH")),
    ),
    Persona(
        "S8412345E",
        "PRIYA D/O GOPAL",
        "F",
        date(1984, 6, 25),
        "IN",
        "SG",
        "C",
        "+6591234514",
        "priya.gopal@example.gov.sg",
        roles=(("community.staff", "PA"), ("safeentry.staff", "PA")),
    ),
    Persona(
        "S7812345A",
        "DR WONG KAI LING",
        "F",
        date(1978, 1, 30),
        "CN",
        "SG",
        "C",
        "+6591234515",
        "wong.kailing@example.gov.sg",
        roles=(("health.officer", "MOH"), ("safeentry.admin", "MOH"), ("healthcerts.admin", "MOH")),
    ),
    # The demo clinic's officer (healthcerts/demo.py registers the clinic): Notarise pages only.
    Persona(
        "S8712345F",
        "DR LEE SHU FEN",
        "F",
        date(1987, 3, 8),
        "CN",
        "SG",
        "C",
        "+6591234516",
        "shufen.lee@kampongglamclinic.example.sg",
        roles=(("healthcerts.notarise", "MOH"),),
    ),
)
# Not activated: try the activation letter with this one.
PENDING: Final = Persona(
    "S8812345Z", "GOH BEE LAY", "F", date(1988, 5, 5), "CN", "SG", "C", "+6591234511", None
)
BUSINESSES: Final = (
    ("201812345M", "KOPI KING PTE. LTD.", "LC", "56103", "Coffee shops", "director"),
    ("53012345B", "MEI LING FLORIST", "BN", "47761", "Florists", "owner"),
)


def _resident(session: Session, persona: Persona, postal: str | None) -> None:
    if registry.find_resident(session, persona.nric) is not None:
        return
    registry.register_resident(
        session,
        registry.NewResident(
            nric=persona.nric,
            name=persona.name,
            sex=persona.sex,
            date_of_birth=persona.born,
            race=persona.race,
            nationality=persona.nationality,
            residential_status=persona.status,
            postal_code=postal,
            floor="08",
            unit="123",
            mobile=persona.mobile,
            email=persona.email,
            marital_status="2" if persona.born.year < 1990 else "1",
            housing_type="114" if persona.status != "A" else "139",
        ),
    )


def _account(session: Session, persona: Persona) -> None:
    issue_activation_letter(session, persona.nric)
    account = find_account(session, persona.nric)
    assert account is not None
    set_password_directly(session, account, PASSWORD)
    factors.ensure_sms_factor(session, account)
    if persona.totp_secret:
        code = pyotp.TOTP(persona.totp_secret).now()
        factors.add_totp_factor(session, account, persona.totp_secret, code)
    for role, agency in persona.roles:
        grant_role(session, persona.nric, role, agency, granted_by="demo")


def load_demo(database: Database, seed: int) -> list[str]:
    """Persona residents, their accounts and factors, a business with officers, roles."""
    del seed  # the personas are fixed so the README can list them
    current_actor.set("demo")
    with database.transaction() as session:
        if find_account(session, PERSONAS[0].nric) is not None:
            return ["Identity demo accounts are already loaded."]
        postals: list[str | None] = [*registry.some_postal_codes(session, len(PERSONAS) + 1)]
        postals = postals or [None]
        for index, persona in enumerate((*PERSONAS, PENDING)):
            _resident(session, persona, postals[index % len(postals)])
        for persona in PERSONAS:
            _account(session, persona)
        # The senior has no phone: her son receives her codes (Multi-User SMS 2FA).
        senior, son = find_account(session, "S4012345H"), find_account(session, "S7012345B")
        assert senior is not None and son is not None
        factors.link_trusted_person(
            session, senior, son, "+6591234505", via="in person at a community centre (demo)"
        )
        for uen, name, kind, ssic, ssic_desc, role in BUSINESSES:
            registry.register_business(
                session,
                registry.NewBusiness(
                    uen=uen,
                    name=name,
                    entity_type=kind,
                    ssic_code=ssic,
                    ssic_description=ssic_desc,
                    registered_on=date(2018, 1, 2),
                ),
            )
            registry.appoint_officer(session, uen, "S8512345I", role, date(2018, 1, 2))
        letter = issue_activation_letter(session, PENDING.nric)
    return [
        f"Identity: {len(PERSONAS)} demo accounts, password [bold]{PASSWORD}[/bold] "
        "(see the README's Demo accounts). SMS codes appear in the developer inbox at /dev/inbox.",
        f"Identity: activation letter for {PENDING.nric} ({PENDING.name}): code "
        f"[bold]{letter.code}[/bold] at /identity/activate",
    ]
