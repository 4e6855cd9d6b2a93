"""Leads: what a visitor leaves when nobody can chat (the offline form), or what an agent makes
of a chat (a ticket, PR-6 Basic) — the client's data, worked by agents in the Leads inbox and
emailed to the client's notification address. docs/leads.md."""
