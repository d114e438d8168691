"""Phone calls over Twilio: webhook + TwiML, bidirectional Media Streams, the call session."""
