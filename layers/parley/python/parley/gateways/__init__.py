"""Gateways: the only doors to the WebSocket @connections API and to Stripe."""
