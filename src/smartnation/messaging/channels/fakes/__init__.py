"""Local stand-ins for the providers, speaking each provider's wire protocol.

They serve tests, benchmarks and demos on 127.0.0.1: each is a small Starlette app around a
state object that says which recipients fail and how, and what was received. Run one with
`python -m smartnation.messaging.channels.fakes.whatsapp_server --port 0` (the WhatsApp one then
serves on `lean`, a bare server that costs a benchmark's shared cores as little as possible).
"""
