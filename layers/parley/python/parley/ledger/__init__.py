"""The ledger: the authoritative record of what each client owes (DynamoDB), and the
services that apply the billing rules (`parley.billing`) to it and carry it out through Stripe."""
