"""Contact tracing standards: BlueTrace (TraceTogether), Exposure Notification, proximity.

TraceTogether is Singapore's contact-tracing app and token. Phones exchange short-lived
encrypted *TempIDs* over Bluetooth and keep what they hear for 25 days; when a person is a
confirmed case, a health officer gives them an upload code, the phone uploads its encounter log,
and the health authority decrypts the TempIDs back to user ids and reaches close contacts.
The protocol is *BlueTrace*; its reference server is OpenTrace. SafeEntry is the companion
check-in system that records visits to venues (built on top of this library by the domain).

This package holds the parts that stand alone as a library, with no database or web import:

- `bluetrace`: the key ring, TempIDs, upload codes and tokens, and upload processing, byte for
  byte as the OpenTrace server does them.
- `gaen`, `gaen_export`: the decentralised peer, Google/Apple Exposure Notification: key
  derivation (TEK, RPIK, RPI, AEMK, AEM), diagnosis-key validation and the signed
  ``EK Export v1`` files a key server publishes.
- `proximity`: distance from RSSI calibrated per pair of phone models, exposure duration and the
  ranking of contacts against the close-contact rule.
"""
