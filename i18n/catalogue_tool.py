"""`make messages`: fold work-in-progress fragments into each language's catalogue and update
the catalogues from the freshly extracted template (`i18n/locale/messages.pot`).

    python -m i18n.catalogue_tool update

Entries no longer extracted are dropped (kept as obsolete by Babel, not written), new ones are
added untranslated so the completeness test names them, fuzzy matching is never used."""

from __future__ import annotations

import sys

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from i18n import FRAGMENT_DIR, LANGUAGES, LOCALE_DIR, SOURCE_LANGUAGE, UI_LANGUAGES, read_catalogue

POT = LOCALE_DIR / "messages.pot"
KEYWORDS = "-k _ -k gettext -k ngettext:1,2 -k pgettext:1c,2 -k Text -k N_"


def update() -> None:
    from i18n.completeness import sentences

    with POT.open("rb") as fp:
        template = read_po(fp)
    public = {(s.key, s.context) for s in sentences() if s.public}
    public_template = Catalog(fuzzy=False)
    for message in template:
        if (
            message.id
            and ((message.id if isinstance(message.id, str) else message.id[0]), message.context)
            in public
        ):
            public_template[message.id] = message
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        # mail and public pages only, for languages the signed-in interface does not speak
        wanted = template if language in UI_LANGUAGES else public_template
        known = read_catalogue(language)  # catalogue + fragments
        catalogue = Catalog(locale=language, project="CICIE", fuzzy=False)
        for message in known:
            if message.id:
                catalogue[message.id] = message
        catalogue.update(wanted, no_fuzzy_matching=True, update_header_comment=False)
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
