"""Live chat: conversations, messages with per-conversation sequence numbers, relay."""
