"""Composition roots, one per concern: a handler imports only the one it needs, so a chat
function never loads Stripe, the ledger or the billing rules at cold start."""
