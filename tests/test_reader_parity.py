"""The pypdfium2/lxml readers give byte-identical records to main's pdfplumber/python-docx readers.

Two checks: the stored fingerprints of main's outputs (``tests/data/reader_parity.json``, see
:mod:`tests.parity`) against today's, for every rendered PDF/DOCX, seed and corpus file; and,
live, every page of every rendered PDF read by pdfium against the same page read by pdfplumber.
"""

from __future__ import annotations

import io
import json

import pdfplumber
import pytest

from extractor.read import pdf_layout, pdfium

from . import parity

#: pdfminer decodes reportlab's MSung-Light (UniCNS-UCS2-H) text partly as mojibake, pdfium
#: reads it right: for these renderings the fingerprints were taken from the pdfium reader.
PDFMINER_MOJIBAKE = "_msung.pdf"

_INPUTS = dict(parity.inputs())
_RENDERS = {n: d for n, d in _INPUTS.items() if n.endswith((".pdf", ".docx")) and "_" in n}


@pytest.mark.parametrize("name", sorted(json.loads(parity.FINGERPRINTS.read_text(encoding="utf-8"))))
def test_records_match_main(name: str) -> None:
    want = json.loads(parity.FINGERPRINTS.read_text(encoding="utf-8"))[name]
    text, record = parity.outputs(name, _INPUTS[name])
    assert {"text": parity._sha(text), "record": parity._sha(record)} == want


_PDFS = sorted(n for n in _RENDERS if n.endswith(".pdf") and PDFMINER_MOJIBAKE not in n)


@pytest.mark.parametrize("name", _PDFS)
def test_pdfium_pages_equal_pdfplumber_pages(name: str) -> None:
    data = _RENDERS[name]
    doc = pdfium.open_document(data)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        doctop = 0.0
        for i, page in enumerate(pdf.pages):
            objects = pdfium.read_page(doc, i, doctop)
            assert objects is not None, f"{name} page {i + 1} fell back to pdfplumber"
            assert pdf_layout.page_text(objects) == pdf_layout.plumber_page_text(page), f"{name} p{i + 1}"
            doctop += page.height
    doc.close()
