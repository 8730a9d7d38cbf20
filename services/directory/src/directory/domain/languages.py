"""Language names as directories write them, to ISO 639-1 codes (the ones NCL hears most)."""

from __future__ import annotations

import re

CODES = {
    "albanian": "sq", "amharic": "am", "arabic": "ar", "bengali": "bn", "bangla": "bn",
    "british sign language": "bfi", "bsl": "bfi", "bulgarian": "bg", "cantonese": "yue",
    "chinese": "zh", "mandarin": "zh", "english": "en", "farsi": "fa", "persian": "fa",
    "french": "fr", "german": "de", "greek": "el", "gujarati": "gu", "hindi": "hi",
    "hungarian": "hu", "italian": "it", "kurdish": "ku", "lithuanian": "lt", "polish": "pl",
    "portuguese": "pt", "punjabi": "pa", "romanian": "ro", "russian": "ru", "somali": "so",
    "spanish": "es", "tamil": "ta", "tigrinya": "ti", "turkish": "tr", "twi": "tw",
    "ukrainian": "uk", "urdu": "ur", "vietnamese": "vi", "welsh": "cy", "yoruba": "yo",
}  # fmt: skip
_CODE = re.compile(r"^[a-z]{2,3}$")


def language_code(value: str) -> str | None:
    """'Turkish' or 'tr' → 'tr'; None for a language this table does not know."""
    text = value.strip().lower()
    if _CODE.match(text) and text not in ("bsl",):
        return text
    return CODES.get(text)
