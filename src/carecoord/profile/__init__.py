"""Unified patient profile."""
