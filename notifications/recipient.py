"""Who a message goes to: one validated address, a display name, a language."""

from __future__ import annotations

from dataclasses import dataclass

from workflows.definition import REQUIRED_LANGUAGES

__all__ = ["FALLBACKS", "REQUIRED_LANGUAGES", "Recipient"]

# languages a recipient may have, and what to fall back to when a template lacks one
FALLBACKS: dict[str, tuple[str, ...]] = {
    "es": ("es", "en"),
    "en": ("en", "es"),
    "fr": ("fr", "en", "es"),
    "pt": ("pt", "es", "en"),
    "ar": ("ar", "fr", "en"),
    "ru": ("ru", "en"),
}


@dataclass(frozen=True)
class Recipient:
    role: str  # founders, associate_partner, emb_contacts, coordinator, intern, …
    name: str
    address: str  # one addr-spec, validated
    language: str  # the recipient's own language; rendering may fall back

    def language_chain(self) -> tuple[str, ...]:
        return FALLBACKS.get(self.language, (self.language, "en", "es"))
