"""Shared whiteboards and annotation layers on live video."""
