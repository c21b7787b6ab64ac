"""Widgets of the mixing view: each binds one concern and only lays out and draws."""
