"""What the National Appointment System does: the only module other domains import.

The work is split by concept (`supply`, `demand`, `booking`, `onsite`, `reminders`); this module
gathers the functions other domains and the web layer call. For HealthCerts:
`vaccination_records(session, resident_id)` lists the doses a person was given.
"""

from __future__ import annotations

from smartnation.appointments.booking import (
    BookingView,
    active_booking,
    book_two_doses,
    booking_for_invitation,
    cancel,
    get_booking,
    reschedule,
    view,
)
from smartnation.appointments.catalogue import (
    Question,
    Vaccine,
    questions,
    screen,
    vaccine,
    vaccines,
)
from smartnation.appointments.demand import (
    OCCUPATIONS,
    SentInvitation,
    create_cohort,
    find_invitation,
    get_cohort,
    get_registration,
    invite_cohort,
    list_cohorts,
    open_cohort,
    open_cohort_for,
    places_to_invite,
    register_interest,
    registration_by_nric,
)
from smartnation.appointments.onsite import (
    CheckInView,
    Observed,
    VaccinationRecord,
    check_in,
    observation_list,
    record_dose,
    vaccination_records,
    walk_in,
)
from smartnation.appointments.reminders import send_due as send_reminders
from smartnation.appointments.supply import (
    NewCentre,
    SlotView,
    availability,
    create_centre,
    get_centre,
    list_centres,
    open_days,
    record_delivery,
    release_slots,
)

__all__ = [
    "OCCUPATIONS",
    "BookingView",
    "CheckInView",
    "NewCentre",
    "Observed",
    "Question",
    "SentInvitation",
    "SlotView",
    "VaccinationRecord",
    "Vaccine",
    "active_booking",
    "availability",
    "book_two_doses",
    "booking_for_invitation",
    "cancel",
    "check_in",
    "create_centre",
    "create_cohort",
    "find_invitation",
    "get_booking",
    "get_centre",
    "get_cohort",
    "get_registration",
    "invite_cohort",
    "list_centres",
    "list_cohorts",
    "observation_list",
    "open_cohort",
    "open_cohort_for",
    "open_days",
    "places_to_invite",
    "questions",
    "record_delivery",
    "record_dose",
    "register_interest",
    "registration_by_nric",
    "release_slots",
    "reschedule",
    "screen",
    "send_reminders",
    "vaccination_records",
    "vaccine",
    "vaccines",
    "view",
    "walk_in",
]
