"""TwiML documents, built with twilio's own helpers."""

from __future__ import annotations

from twilio.twiml.voice_response import Connect, Dial, Hangup, Say, VoiceResponse


def connect_stream(stream_url: str, parameters: dict[str, str]) -> str:
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=stream_url)
    for name, value in parameters.items():
        stream.parameter(name=name, value=value)
    response.append(connect)
    return str(response)


def dial(number: str) -> str:
    response = VoiceResponse()
    response.append(Dial(number=number))
    return str(response)


def reject(message: str = "") -> str:
    response = VoiceResponse()
    if message:
        response.append(Say(message))
    response.append(Hangup())
    return str(response)
