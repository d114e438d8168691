"""The two Twilio REST calls a live call needs: redirect it (hand-off) and hang it up.

The base URL comes from TWILIO_API_BASE_URL, so a compatible or local server can stand in.
"""

from __future__ import annotations

import logging

import httpx

from voice.telephony.twiml import dial

log = logging.getLogger(__name__)


class TwilioRestError(Exception):
    pass


class TwilioRest:
    def __init__(self, base_url: str, account_sid: str, auth_token: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.account_sid = account_sid
        self._auth = (account_sid, auth_token)
        self.timeout = timeout

    def _call_url(self, call_sid: str) -> str:
        return f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Calls/{call_sid}.json"

    async def update_call(self, call_sid: str, data: dict[str, str]) -> dict:
        if not self.account_sid:  # never reach out to Twilio unless the operator configured it
            raise TwilioRestError("Twilio REST is not configured (TWILIO_ACCOUNT_SID is empty)")
        async with httpx.AsyncClient(timeout=self.timeout, auth=self._auth) as client:
            try:
                response = await client.post(self._call_url(call_sid), data=data)
            except httpx.HTTPError as exc:
                raise TwilioRestError(f"Twilio REST unreachable: {exc}") from exc
        if response.status_code >= 400:
            raise TwilioRestError(f"Twilio REST {response.status_code}: {response.text[:200]}")
        return response.json()

    async def hand_off(self, call_sid: str, number: str) -> dict:
        log.info("handing call off to a human")
        return await self.update_call(call_sid, {"Twiml": dial(number)})

    async def hang_up(self, call_sid: str) -> dict:
        return await self.update_call(call_sid, {"Status": "completed"})
