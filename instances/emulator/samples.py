"""The seed documents' own sample records, kept in each vendor's `samples/` folder and served
under their documented ids as printed (doc errors included: a connector must read what the
documents show). The tests read the same files as their recorded payloads."""

from pathlib import Path

VENDORS = Path(__file__).resolve().parent.parent / "vendors"


def sample_text(vendor: str, name: str) -> str:
    return (VENDORS / vendor / "samples" / name).read_text()
