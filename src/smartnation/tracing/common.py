"""Small helpers shared by the tracing services: secrets, references, notification texts."""

from __future__ import annotations

import hashlib
import secrets

from smartnation.messaging import service as messaging

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def secret_hash(secret: str) -> str:
    """What is stored instead of a secret (device tokens, one-time codes)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_reference(prefix: str, length: int = 8) -> str:
    """A readable random reference such as CASE-7KQ2M9XA (no 0/O/1/I: read over the phone)."""
    return prefix + "-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(length))


OTP_TEMPLATE = messaging.register_template(
    # messaging.service imports NotificationTemplate for its callers but does not list it.
    messaging.NotificationTemplate(  # type: ignore[attr-defined]
        name="tracing.otp",
        texts={
            "en": "Your TraceTogether verification code is {code}. It expires in {minutes} "
            "minutes. Do not share it with anyone.",
            "zh": "您的 TraceTogether 验证码是 {code}，{minutes} 分钟内有效。请勿告诉任何人。",
            "ms": "Kod pengesahan TraceTogether anda ialah {code}. Ia tamat tempoh dalam "
            "{minutes} minit. Jangan kongsikan dengan sesiapa.",
            "ta": "உங்கள் TraceTogether சரிபார்ப்புக் குறியீடு {code}. இது {minutes} "
            "நிமிடங்களில் காலாவதியாகும். இதை யாருடனும் பகிர வேண்டாம்.",
        },
    )
)

QUARANTINE_TEMPLATE = messaging.register_template(
    # messaging.service imports NotificationTemplate for its callers but does not list it.
    messaging.NotificationTemplate(  # type: ignore[attr-defined]
        name="tracing.quarantine_order",
        texts={
            "en": "MOH: You were identified as a close contact of a COVID-19 case. You are "
            "served Quarantine Order {reference}: stay at home until {ends_on} inclusive. "
            "An officer will call you. Reply is not monitored.",
            "zh": "卫生部：您被确定为一名冠病病例的密切接触者。现向您发出居家隔离令 {reference}："
            "请留在家中直至 {ends_on}（包括当天）。官员将致电联系您。本信息不接受回复。",
            "ms": "MOH: Anda dikenal pasti sebagai kontak rapat kes COVID-19. Anda diberi "
            "Perintah Kuarantin {reference}: duduk di rumah sehingga {ends_on} (termasuk hari "
            "itu). Seorang pegawai akan menghubungi anda. Balasan tidak dipantau.",
            "ta": "சுகாதார அமைச்சு: நீங்கள் ஒரு COVID-19 நோயாளியின் நெருங்கிய தொடர்பு என "
            "அடையாளம் காணப்பட்டுள்ளீர்கள். உங்களுக்குத் தனிமைப்படுத்தல் உத்தரவு {reference} "
            "வழங்கப்படுகிறது: {ends_on} வரை (அந்நாள் உட்பட) வீட்டிலேயே இருங்கள். ஓர் அதிகாரி "
            "உங்களை அழைப்பார். பதில்கள் கண்காணிக்கப்படுவதில்லை.",
        },
    )
)
