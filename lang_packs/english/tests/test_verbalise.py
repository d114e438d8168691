"""verbalise(): money, phone numbers, dates, times, percentages, codes; other text unchanged."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("2000 FCFA", "two thousand CFA francs"),
        ("2 000 F CFA", "two thousand CFA francs"),
        ("2.000 FCFA", "two thousand CFA francs"),
        ("2,000 FCFA", "two thousand CFA francs"),
        ("2000F", "two thousand CFA francs"),
        ("500 CFA", "five hundred CFA francs"),
        ("1 FCFA", "one CFA franc"),
        ("10000 XOF", "ten thousand CFA francs"),
        ("2 000 000 FCFA", "two million CFA francs"),
        ("2000 CFA francs", "two thousand CFA francs"),  # no "francs francs"
        ("D500", "five hundred dalasis"),
        ("GMD 1,000", "one thousand dalasis"),
        ("25 dalasis", "twenty-five dalasis"),
        ("1 dalasi", "one dalasi"),
    ],
)
def test_money(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


def test_balance_template_reads_naturally(pack) -> None:
    line = pack.template("balance", balance=1250, data_mb=350)
    assert line == "Your balance is 1250 CFA francs and you have 350 megabytes of data left."
    assert pack.verbalise(line) == (
        "Your balance is one thousand two hundred fifty CFA francs and you have "
        "three hundred fifty megabytes of data left."
    )


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("77 123 45 67", "seven seven, one two three, four five, six seven"),
        ("771234567", "seven seven, one two three, four five, six seven"),
        ("77-123-45-67", "seven seven, one two three, four five, six seven"),
        ("+221 77 123 45 67", "plus two two one, seven seven, one two three, four five, six seven"),
        ("00221 77 123 45 67", "plus two two one, seven seven, one two three, four five, six seven"),
        ("33 821 00 05", "three three, eight two one, zero zero, zero five"),
        ("+220 712 3456", "plus two two zero, seven one two, three four five six"),
        ("+2207123456", "plus two two zero, seven one two, three four five six"),
        ("712 3456", "seven one two, three four five six"),
        ("+33 6 12 34 56 78", "plus three three, six, one two, three four, five six, seven eight"),
    ],
)
def test_phone_numbers(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


def test_phone_number_in_a_sentence(pack) -> None:
    assert pack.verbalise("Please call 77 123 45 67 today.") == (
        "Please call seven seven, one two three, four five, six seven today."
    )


def test_grouped_amounts_are_not_phone_numbers(pack) -> None:
    # Nine digits grouped in threes are an amount, not a Senegalese mobile number.
    assert pack.verbalise("700 000 000 FCFA") == "seven hundred million CFA francs"


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("22/11/2026", "the twenty-second of November, twenty twenty-six"),
        ("on 22/11/2026", "on the twenty-second of November, twenty twenty-six"),
        ("The 01/03/2026", "The first of March, twenty twenty-six"),  # no "the the"
        ("22.11.2026", "the twenty-second of November, twenty twenty-six"),
        ("2026-11-22", "the twenty-second of November, twenty twenty-six"),
        ("22/11", "the twenty-second of November"),
        ("31/12/26", "the thirty-first of December, twenty twenty-six"),
        ("01/01/2000", "the first of January, two thousand"),
    ],
)
def test_dates(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


def test_invalid_date_is_not_a_date(pack) -> None:
    assert "of" not in pack.verbalise("45/13/2026")


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("08:30", "eight thirty a.m."),
        ("08:00", "eight a.m."),
        ("07:05", "seven oh five a.m."),
        ("13:45", "one forty-five p.m."),
        ("22:00", "ten p.m."),
        ("12:00", "noon"),
        ("00:00", "midnight"),
        ("07:00–22:00", "seven a.m. to ten p.m."),
        ("08:30-19:00", "eight thirty a.m. to seven p.m."),
        ("8pm", "eight p.m."),
        ("10:15 am", "ten fifteen a.m."),
    ],
)
def test_times(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


def test_time_ending_a_sentence_has_one_full_stop(pack) -> None:
    assert pack.verbalise("We close at 19:00.") == "We close at seven p.m."


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("1%", "one percent"),
        ("1 %", "one percent"),
        ("0.5%", "zero point five percent"),
        ("100%", "one hundred percent"),
    ],
)
def test_percentages(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("*123#", "star one two three hash"),
        ("*123*1#", "star one two three star one hash"),
        ("#144#", "hash one four four hash"),
        ("*100*code#", "star one zero zero star code hash"),
        ("*111*number*amount#", "star one one one star number star amount hash"),
    ],
)
def test_ussd_codes(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("1 GB", "one gigabyte"),
        ("5 GB", "five gigabytes"),
        ("200 MB", "two hundred megabytes"),
        ("1.5 GB", "one point five gigabytes"),
        ("24h", "twenty-four hours"),
        ("GB", "gigabytes"),
        ("MB", "megabytes"),
        ("FCFA", "CFA francs"),
        ("4G", "four G"),
        ("APN", "A P N"),
        ("ID card", "I D card"),
        ("24/7", "twenty-four seven"),
    ],
)
def test_units_and_abbreviations(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("Call 1400.", "Call fourteen hundred."),
        ("Call the hotline 1400.", "Call the hotline fourteen hundred."),
        ("Your ticket number is 48213.", "Your ticket number is four eight two one three."),
        ("reference 123456", "reference one two three four five six"),
        ("The PIN is 0000.", "The PIN is zero zero zero zero."),
        ("Ticket TK-2041 is open.", "Ticket T K two zero four one is open."),
        ("The 1st and the 22nd", "The first and the twenty-second"),
        ("from 100 to 10000 FCFA", "from one hundred to ten thousand CFA francs"),
        ("100-200", "one hundred to two hundred"),
    ],
)
def test_codes_ordinals_ranges(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


def test_other_text_unchanged(pack) -> None:
    text = "Hello, welcome to Teranga Telecom! How can I help you today?"
    assert pack.verbalise(text) == text
    assert pack.verbalise("It’s  fine.") == "It's fine."


def test_symbols_read_out(pack) -> None:
    assert pack.verbalise("ID card/passport") == "I D card or passport"
    assert pack.verbalise("Monday–Saturday") == "Monday to Saturday"
    assert pack.verbalise("calls & data") == "calls and data"


def test_content_verbalises_to_words_only(pack) -> None:
    """Everything the pack itself says must reach espeak without digits or telecom symbols."""
    values = dict(
        balance=1250,
        data_mb=350,
        name="Pass Semaine",
        price=2000,
        volume="5 GB",
        validity="7 days",
        offer="Pass Jour",
        ticket="48213",
        reference="TM123456",
        status="completed",
        amount=15000,
        hours=24,
        days=7,
    )
    texts = [e.answer for e in pack.content.faq]
    texts += [t.format(**values) for t in pack.content.templates.values()]
    texts += [p.format(**values) for p in pack.content.phrases.values()]
    for text in texts:
        spoken = pack.verbalise(text)
        assert not re.search(r"[0-9*#%/+&@]", spoken), (text, spoken)
