"""Government messaging: the Gov.sg channel and every notification the platform sends.

The Gov.sg channel is the government's one-way broadcast service to residents over WhatsApp,
Telegram, SMS and email, each subscriber receiving messages in their preferred language
(English, Chinese, Malay or Tamil). During COVID-19 it carried over 900 million messages to
1.2 million WhatsApp subscribers. The seed services it follows are Postman (Open Government
Products' mass-messaging service) and GOV.UK Notify.

`smartnation.messaging.channels` is the layer that talks to the providers: one adapter per
channel behind a small interface, each with a real implementation and a local stand-in chosen
by configuration.
"""
