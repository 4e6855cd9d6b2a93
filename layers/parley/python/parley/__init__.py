"""Parley shared layer."""
