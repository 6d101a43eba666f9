"""The Chinese catalogue is whole and speaks as the vendors' consoles do: every message the
code and templates mark has a translation, with the same placeholders, held to the glossary
(docs/glossary-zh.md); a page asked for in Chinese comes in Chinese."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"
GLOSSARY = ROOT / "docs/glossary-zh.md"
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w*\}")


def entries() -> list[polib.POEntry]:
    return [e for e in polib.pofile(str(CATALOGUE)) if not e.obsolete]


def translations(entry: polib.POEntry) -> list[str]:
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


def test_every_marked_message_of_the_code_is_in_the_catalogue(tmp_path):
    """makemessages over a copy of the sources finds no message the catalogue lacks."""
    for folder in ("dashboard", "instances", "templates", "locale"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("*.mo"))
    shutil.copy(ROOT / "manage.py", tmp_path)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location", "-v0"],
        cwd=tmp_path,
        check=True,
        env={"PATH": "/usr/bin:/bin", "SECRET_KEY": "x", "PYTHONPATH": str(tmp_path)},
    )
    extracted = polib.pofile(str(tmp_path / "locale/zh_Hans/LC_MESSAGES/django.po"))
    found = {(e.msgctxt, e.msgid) for e in extracted if not e.obsolete}
    kept = {(e.msgctxt, e.msgid) for e in entries()}
    assert len(found) > 400  # the copy was read whole
    assert found - kept == set(), "run makemessages and translate these"
    assert kept - found == set(), "no longer in the code: run makemessages --no-obsolete"


def test_every_message_is_translated_and_none_is_fuzzy():
    missing = [e.msgid for e in entries() if not all(translations(e)) or e.fuzzy]
    assert missing == []


def test_translations_keep_their_placeholders():
    wrong = [
        (e.msgid, text)
        for e in entries()
        for text in translations(e)
        if sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(e.msgid))
    ]
    assert wrong == []


def glossary() -> list[tuple[str, str, str]]:
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in GLOSSARY.read_text().splitlines()
        if line.startswith("| ") and not line.startswith("| English")
    ]
    return [(english, chinese, match) for english, chinese, match, _note in rows]


def test_the_catalogue_follows_the_glossary():
    terms = glossary()
    assert len(terms) >= 25
    broken = []
    for entry in entries():
        words = PLACEHOLDER.sub(" ", entry.msgid)
        for english, chinese, match in terms:
            if match == "whole":
                applies = entry.msgid == english
            else:
                applies = re.search(rf"\b{re.escape(english)}\w*", words, re.IGNORECASE)
            if applies and not all(chinese in text for text in translations(entry)):
                broken.append(f"{entry.msgid!r} → {translations(entry)}: wants {chinese}")
    assert broken == [], "\n".join(broken)


@pytest.mark.django_db
def test_a_page_asked_for_in_chinese_comes_in_chinese(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_superuser=True))
    body = client.get("/runs/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert '<html lang="zh-hans"' in body and "<h1>实例</h1>" in body and "清除筛选" in body
    english = client.get("/runs/", HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert '<html lang="en"' in english and "<h1>Runs</h1>" in english


@pytest.mark.django_db
def test_the_chosen_language_outlasts_the_browsers(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_superuser=True))
    chosen = client.post("/preferences/", {"language": "zh-hans", "next": "/runs/"})
    assert chosen.status_code == 302
    body = client.get("/runs/", HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert "<h1>实例</h1>" in body
    client.post("/preferences/", {"language": "tlh", "next": "/runs/"})  # no such language
    assert "<h1>实例</h1>" in client.get("/runs/").content.decode()
