"""The provider's admin area: clients, agents, teams (docs/admin.md)."""
