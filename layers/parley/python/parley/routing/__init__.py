"""Presence and routing: agent status, the choice of an agent for a chat, the queue, transfers
and the timers that keep chats moving (no-answer, presence grace, idle close)."""
