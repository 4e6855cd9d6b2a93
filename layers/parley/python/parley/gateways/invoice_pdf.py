"""A ledger invoice as a PDF (fpdf2): what the dashboard's "Download PDF" serves.

The figures are the ledger's own (lines, total, paid, due date); the customer block is the
billing address and tax id held on the Stripe customer. Only fpdf2's core fonts are used (no
font files in the Lambda layer), so text is reduced to Latin-1.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from fpdf import FPDF

from parley.billing.lines import InvoiceLine
from parley.gateways.stripe_models import BillingDetails

# Typography Latin-1 lacks (dashes, ellipsis, curly quotes, bullet, euro), by code point.
_LATIN1_FOR = {"\u2014": "-", "\u2013": "-", "\u2026": "...", "\u2019": "'", "\u2018": "'", "\u201c": '"',
               "\u201d": '"', "\u2022": "*", "\u20ac": "EUR"}
_KINDS = {"cycle": "Monthly invoice", "final": "Final invoice", "trial_usage": "Trial usage",
          "late_charge": "Late charge", "add_on": "Add-on"}


def _text(value: object) -> str:
    raw = "".join(_LATIN1_FOR.get(ch, ch) for ch in str(value))
    return raw.encode("latin-1", "replace").decode("latin-1")


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def _customer_lines(account_name: str, details: BillingDetails | None) -> list[str]:
    lines = [details.name if details and details.name else account_name]
    if details and details.address:
        a = details.address
        lines += [a.line1, *([a.line2] if a.line2 else []),
                  " ".join(p for p in (a.postal_code, a.city, a.state or "") if p), a.country]
    if details and details.email:
        lines.append(details.email)
    if details and details.tax_id:
        lines.append(f"Tax ID ({details.tax_id.type}): {details.tax_id.value}")
    return lines


def render_invoice_pdf(*, invoice_id: str, kind: str, issue_date: date, due_date: date,  # noqa: PLR0913 - an invoice's parts
                       lines: Sequence[InvoiceLine], total_cents: int, amount_paid_cents: int, status: str,
                       account_name: str, details: BillingDetails | None) -> bytes:
    """One page per invoice (more when it has many lines); returns the PDF bytes."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_title(_text(f"Invoice {invoice_id}"))
    pdf.set_creator("Parley")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 18)
    pdf.cell(0, 10, _text(_KINDS.get(kind, "Invoice")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 10)
    for label, value in (("Invoice", invoice_id), ("Issued", issue_date.isoformat()),
                         ("Due", due_date.isoformat()), ("Status", status)):
        pdf.cell(30, 6, _text(label))
        pdf.cell(0, 6, _text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("helvetica", "B", 10)
    pdf.cell(0, 6, "Bill to", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 10)
    for line in _customer_lines(account_name, details):
        pdf.cell(0, 5, _text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _line_table(pdf, lines)
    pdf.ln(2)
    pdf.set_font("helvetica", "B", 11)
    for label, cents in (("Total", total_cents), ("Paid", amount_paid_cents),
                         ("Amount due", max(total_cents - amount_paid_cents, 0))):
        pdf.cell(150, 7, _text(label), align="R")
        pdf.cell(0, 7, _money(cents), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 8)
    pdf.ln(4)
    pdf.multi_cell(0, 4, _text("Amounts in USD. Each line names the contract rule that makes it due."))
    return bytes(pdf.output())


def _line_table(pdf: FPDF, lines: Sequence[InvoiceLine]) -> None:
    pdf.set_font("helvetica", "B", 9)
    with pdf.table(col_widths=(92, 16, 40, 30), text_align=("LEFT", "LEFT", "RIGHT", "RIGHT"),
                   line_height=5) as table:
        table.row(["Description", "Rule", "Quantity x unit", "Amount"])
        pdf.set_font("helvetica", "", 9)
        for line in lines:
            period = f"\n{line.period_start} to {line.period_end}" if line.period_start else ""
            table.row([_text(line.description + period), _text(line.rule_id),
                       _text(f"{line.quantity.normalize():f} x {_money(line.unit_amount_cents)}"),
                       _money(line.amount_cents)])
