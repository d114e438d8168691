"""WhatsApp voice notes and text (Twilio and Meta Cloud API): webhooks -> durable jobs -> a worker.

inbound   parse the providers' webhooks into one `Inbound` shape, store a job per message id
jobs      the job table's life: lease claim, state transitions, retries with backoff
providers download media and send replies over Twilio's and Meta's REST APIs
media     signed, expiring URLs for the voice notes we serve back (GET /media/{id})
language  which language a message is answered in
worker    the loop: download -> decode -> transcribe -> agent -> TTS -> send, exactly once
"""
