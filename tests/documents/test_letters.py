"""The delegates' documents (issue 15): an invitation letter for a visa and an agenda pack per
delegate of a confirmed event, PDF in the delegate's language, with the centre's letterhead.
The PDFs are read back with pypdf: names, dates as the language says them, the letterhead."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from config.letterhead import InvalidLetterhead, load_letterhead
from documents import service
from documents.letters import NoSuchDelegate, NotConfirmed
from engine.actor import Actor
from engine.service import Engine
from tests.documents.helpers import pdf_text, workshop


@pytest.fixture
def emb(make_emb: Callable[..., str]) -> str:
    return make_emb("TSE-HN", country="HN", language="es", name="Tribunal Supremo Electoral")


def test_a_spanish_delegate_gets_a_spanish_letter_with_her_name_dates_and_letterhead(
    engine: Engine, emb: str
) -> None:
    view = workshop(engine, emb)
    document, data = service.pdf(engine, view.id, 1, "letter")
    text = pdf_text(data)
    assert document.language == "es"  # no language of her own: the organisation's
    assert "Karla Méndez Zelaya" in text
    assert "del 6 de junio de 2016 al 10 de junio de 2016" in text
    assert "Centro Internacional de Capacitación e Investigación Electoral (CICIE)" in text
    assert "Programa de las Naciones Unidas para el Desarrollo en México" in text
    # for the consulate: nationality and passport, as the delegation gave them
    assert "hondureña" in text
    assert "E1234567" in text
    assert "Tribunal Supremo Electoral" in text
    assert "Honduras" in text
    # who pays what (the request's cost sharing), and the signatory of config/letterhead.yaml
    assert "Boletos de avión a la Ciudad de México de los delegados" in text
    assert "Autoridad electoral visitante" in text
    assert load_letterhead().signatory_name in text
    assert "2016-06-06" not in text  # never ISO


def test_a_french_delegate_reads_french_month_names(engine: Engine, emb: str) -> None:
    view = workshop(engine, emb)
    document, data = service.pdf(engine, view.id, 2, "letter")
    text = pdf_text(data)
    assert document.language == "fr"
    assert "Aminata Traoré" in text
    assert "du 6 juin 2016 au 10 juin 2016" in text
    assert "Centre international de formation et de recherche électorales" in text
    assert "Lettre d'invitation" in text
    assert "junio" not in text
    assert "June" not in text


def test_the_agenda_pack_lists_sessions_speakers_venue_and_contacts_in_portuguese(
    engine: Engine, emb: str
) -> None:
    view = workshop(engine, emb)
    document, data = service.pdf(engine, view.id, 3, "agenda")
    text = pdf_text(data)
    assert document.language == "pt"
    assert "de 6 de junho de 2016 a 10 de junho de 2016" in text
    assert "Depuración y actualización del censo electoral" in text  # a session's title
    assert "Laura Gómez Arriaga (INE - Registro Federal de Electores)" in text  # a speaker
    assert "INE, Viaducto Tlalpan 100" in text  # the venue
    assert "Karla Méndez Zelaya <karla.mendez@example.org>" in text  # the EMB's contact
    assert "cicie@example.org" in text  # CICIE's
    assert "João Pereira" in text
    assert document.filename == f"cicie-{view.id}-agenda-3-joao-pereira.pdf"


def test_an_arabic_delegate_gets_a_right_to_left_document(engine: Engine, emb: str) -> None:
    view = workshop(engine, emb)
    people = [dict(p) for p in view.data["delegates"]]
    people[0]["language"] = "ar"
    engine.update(view.id, Actor.parse("coordinator:ana"), data={"delegates": people})
    document, data = service.pdf(engine, view.id, 1, "letter")
    assert (document.language, document.rtl) == ("ar", True)
    text = pdf_text(data)
    # shaped Arabic (letters joined: presentation forms or the base letters, as pypdf reads)
    assert "CICIE" in text
    assert "Karla Méndez Zelaya" in text
    assert any("\u0600" <= ch <= "\u06ff" or "\ufe70" <= ch <= "\ufeff" for ch in text)


def test_no_documents_before_the_logistics_are_confirmed(engine: Engine, emb: str) -> None:
    view = workshop(engine, emb, state="logistics")
    with pytest.raises(NotConfirmed) as refused:
        service.pdf(engine, view.id, 1, "letter")
    assert refused.value.code == "conflict"
    assert "confirm" in refused.value.say("en")


def test_a_delegate_number_out_of_range_says_how_many_there_are(engine: Engine, emb: str) -> None:
    view = workshop(engine, emb)
    with pytest.raises(NoSuchDelegate) as refused:
        service.pdf(engine, view.id, 4, "agenda")
    assert refused.value.code == "not_found"
    assert "has 3" in refused.value.say("en")


def test_the_same_document_twice_is_the_same_bytes(engine: Engine, emb: str) -> None:
    view = workshop(engine, emb)
    assert (
        service.pdf(engine, view.id, 2, "agenda")[1] == service.pdf(engine, view.id, 2, "agenda")[1]
    )


def test_a_letterhead_with_a_mistake_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "letterhead.yaml"
    path.write_text(
        "institution: CICIE\nparent: INE\npartners: UNDP\naddress: Somewhere\ncity: Mexico\n"
        "email: a@example.org\nsignatory: {name: X, title: Head}\ncolour: red\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidLetterhead, match=r"letterhead.yaml:8: unknown key 'colour'"):
        load_letterhead(path)


def test_the_fonts_and_the_letterhead_are_shipped_with_their_licence() -> None:
    root = Path(service.__file__).parent
    assert (root / "fonts" / "DejaVuSans.ttf").is_file()
    assert "Bitstream" in (root / "fonts" / "LICENSE.txt").read_text(encoding="utf-8")
    assert load_letterhead().institution.get("fr").startswith("Centre international")
