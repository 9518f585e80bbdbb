"""Scenario format v1: YAML with line numbers, JSON Schema, includes, the typed model."""
