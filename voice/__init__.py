"""teranga-voice: voice customer service for West African languages.

One folder per stage of the call path: audio -> asr -> agent -> tts, with telephony and
messaging as transports, packs for all language knowledge and store for persistence.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("teranga-voice")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
