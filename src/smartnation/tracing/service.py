"""What the tracing domain does for the platform: TraceTogether, SafeEntry, exposure keys.

The only module other domains import. The work is split by concept into `users` (registration,
TempIDs), `cases` (upload codes, tokens, uploads), `contacts` (resolution, review, notification),
`safeentry`, `exposure` (the GAEN key server) and `retention`; this module gathers their public
functions. Every function takes a session, flushes and never commits; library errors leave as
`core.errors.DomainError`s (see `problems`).
"""

from __future__ import annotations

from smartnation.tracing.cases import (
    IssuedUploadCode,
    UploadReceipt,
    exchange_upload_code,
    get_case,
    issue_upload_code,
    list_cases,
    open_case,
    receive_upload,
    record_refused_upload,
    upload_codes_of,
    uploads_of,
)
from smartnation.tracing.contacts import (
    ContactPage,
    NotificationReport,
    ResolutionSummary,
    export_contacts_csv,
    notify_confirmed_contacts,
    quarantine_orders,
    rank_case_encounters,
    resolve_case,
    review_contacts,
    view_contacts,
)
from smartnation.tracing.exposure import (
    export_archive,
    export_days,
    issue_verification_code,
    public_key_pem,
    publish_keys,
)
from smartnation.tracing.limits import record_refused_code
from smartnation.tracing.retention import PurgeReport, ensure_partitions, purge_expired
from smartnation.tracing.safeentry import (
    PublicVisit,
    Visit,
    check_in,
    check_in_tracetogether,
    check_out,
    get_checkin,
    get_venue,
    history,
    list_venues,
    overlaps_for_case,
    public_case_visits,
    publish_case_visits,
    qr_image,
    qr_svg_inline,
    register_venue,
    venue_code,
    venue_url,
)
from smartnation.tracing.users import (
    RegisteredUser,
    RegistrationStarted,
    VerificationResult,
    authenticate_device,
    get_user_by_uid,
    issue_tempids,
    start_registration,
    verify_registration,
)

HEALTH_OFFICER = "health.officer"
SAFEENTRY_ADMIN = "safeentry.admin"
SAFEENTRY_STAFF = "safeentry.staff"
SAFEENTRY_GATEWAY = "safeentry.gateway"

__all__ = [
    "HEALTH_OFFICER",
    "SAFEENTRY_ADMIN",
    "SAFEENTRY_GATEWAY",
    "SAFEENTRY_STAFF",
    "ContactPage",
    "IssuedUploadCode",
    "NotificationReport",
    "PublicVisit",
    "PurgeReport",
    "RegisteredUser",
    "RegistrationStarted",
    "ResolutionSummary",
    "UploadReceipt",
    "VerificationResult",
    "Visit",
    "authenticate_device",
    "check_in",
    "check_in_tracetogether",
    "check_out",
    "ensure_partitions",
    "exchange_upload_code",
    "export_archive",
    "export_contacts_csv",
    "export_days",
    "get_case",
    "get_checkin",
    "get_user_by_uid",
    "get_venue",
    "history",
    "issue_tempids",
    "issue_upload_code",
    "issue_verification_code",
    "list_cases",
    "list_venues",
    "notify_confirmed_contacts",
    "open_case",
    "overlaps_for_case",
    "public_case_visits",
    "public_key_pem",
    "publish_case_visits",
    "publish_keys",
    "purge_expired",
    "qr_image",
    "qr_svg_inline",
    "quarantine_orders",
    "rank_case_encounters",
    "receive_upload",
    "record_refused_code",
    "record_refused_upload",
    "register_venue",
    "resolve_case",
    "review_contacts",
    "start_registration",
    "upload_codes_of",
    "uploads_of",
    "venue_code",
    "venue_url",
    "verify_registration",
    "view_contacts",
]
