"""The operator's tools, as OpenAI function schemas. The agent executes them against a
`BusinessBackend` (voice/agent/business.py); the caller's phone number comes from the session,
never from the model, so a model cannot read another customer's account.
"""

from __future__ import annotations

TOOL_SCHEMAS: list[dict] = [
    {
        "type": "function",
        "function": {
            "name": "get_balance",
            "description": "The caller's airtime balance (FCFA) and remaining data (MB).",
            "parameters": {"type": "object", "properties": {}, "required": []},
        },
    },
    {
        "type": "function",
        "function": {
            "name": "list_offers",
            "description": "The bundles (passes) on sale: id, name, price in FCFA, data volume, validity.",
            "parameters": {"type": "object", "properties": {}, "required": []},
        },
    },
    {
        "type": "function",
        "function": {
            "name": "buy_offer",
            "description": (
                "Buy a bundle for the caller, paid from airtime. Only call with confirmed=true after the "
                "caller explicitly said yes to the offer name and price in the previous turn."
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "offer_id": {"type": "string", "description": "id from list_offers"},
                    "confirmed": {"type": "boolean", "description": "the caller explicitly confirmed"},
                },
                "required": ["offer_id", "confirmed"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "mobile_money_status",
            "description": "Status of one of the caller's mobile-money transfers, by its reference.",
            "parameters": {
                "type": "object",
                "properties": {
                    "reference": {"type": "string", "description": "transfer reference, e.g. MM-2026-0042"}
                },
                "required": ["reference"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "report_lost_sim",
            "description": "Block the caller's SIM card at once because it was lost or stolen.",
            "parameters": {"type": "object", "properties": {}, "required": []},
        },
    },
    {
        "type": "function",
        "function": {
            "name": "create_ticket",
            "description": "Open a support ticket (network problem, money problem, other) for follow-up.",
            "parameters": {
                "type": "object",
                "properties": {
                    "category": {"type": "string", "enum": ["network", "money", "other"]},
                    "description": {"type": "string", "description": "what the caller reported, short"},
                },
                "required": ["category", "description"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "transfer_to_human",
            "description": "Hand the conversation to a human agent.",
            "parameters": {
                "type": "object",
                "properties": {"reason": {"type": "string", "description": "why, short"}},
                "required": ["reason"],
            },
        },
    },
]
TOOL_NAMES = tuple(t["function"]["name"] for t in TOOL_SCHEMAS)
