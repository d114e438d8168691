"""One turn for every channel: recognise -> agent -> synthesise, as a stream of typed events.

A phone call and a WhatsApp message differ in how audio arrives and leaves; the turn between is
the same and lives here once: `pipeline.TurnPipeline` (the turn), `events` (what it yields),
`store` (where a turn is written), `lanes` (where its model work runs).
"""
