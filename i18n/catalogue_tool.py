"""`make messages`: fold work-in-progress fragments into each language's catalogue and update
the catalogues from the freshly extracted template (`i18n/locale/messages.pot`).

    python -m i18n.catalogue_tool update

Entries no longer extracted are dropped (kept as obsolete by Babel, not written), new ones are
added untranslated so the completeness test names them, fuzzy matching is never used."""

from __future__ import annotations

import sys

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from i18n import FRAGMENT_DIR, LANGUAGES, LOCALE_DIR, SOURCE_LANGUAGE, read_catalogue

POT = LOCALE_DIR / "messages.pot"
KEYWORDS = "-k _ -k gettext -k ngettext:1,2 -k pgettext:1c,2 -k Text -k N_"


def update() -> None:
    with POT.open("rb") as fp:
        template = read_po(fp)
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        known = read_catalogue(language)  # catalogue + fragments
        catalogue = Catalog(locale=language, project="CICIE", fuzzy=False)
        for message in known:
            if message.id:
                catalogue[message.id] = message
        catalogue.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalogue.obsolete.clear()
        target = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as fp:
            write_po(
                fp,
                catalogue,
                width=100,
                omit_header=False,
                sort_output=False,
                no_location=True,
                include_previous=False,
            )
    for fragment in FRAGMENT_DIR.glob("*/*.po"):
        fragment.unlink()


if __name__ == "__main__":
    if sys.argv[1:] != ["update"]:
        sys.exit("usage: python -m i18n.catalogue_tool update")
    update()
